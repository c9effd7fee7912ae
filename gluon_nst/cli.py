"""Command-line front ends.  Errors the user can fix print one line, exit 2."""
import argparse
import sys

from .errors import EXIT_BAD_INPUT, Terminated, UserError, interrupt_exit_code


def _fail(msg, code=EXIT_BAD_INPUT):
    print(f'error: {msg}', file=sys.stderr)
    return code


def train_parser():
    p = argparse.ArgumentParser(
        prog='train.py', description='Neural style transfer (D2L / Gatys) from a YAML config.')
    p.add_argument('config', nargs='?', help='YAML config (see configs/)')
    p.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                   help='override a config key, e.g. --set loss.style_weight=1e4 '
                        '--set stages.0.epochs=50 (repeatable)')
    p.add_argument('--output', '-o', help='run folder (default: runs/<config name>[-N])')
    p.add_argument('--overwrite', action='store_true', help='reuse a non-empty --output folder')
    p.add_argument('--quiet', '-q', action='store_true', help='log lines instead of a progress bar')
    p.add_argument('--compare', action='store_true',
                   help='write the reproduction report against the book after the run')
    p.add_argument('--help-config', action='store_true', help='list every config key and exit')
    return p


def _sigterm_as_interrupt():
    """SIGTERM (a job scheduler, `timeout`) stops a run like Ctrl-C: outputs are kept."""
    import signal

    def handler(signum, frame):
        raise Terminated
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:                 # not the main thread (e.g. called from a worker)
        return None


def main_train(argv=None):
    args = train_parser().parse_args(argv)
    previous = _sigterm_as_interrupt()
    try:
        return _train(args)
    finally:
        if previous is not None:
            import signal
            signal.signal(signal.SIGTERM, previous)


def _train(args):
    try:
        from . import config, runtime
        if args.help_config:
            print(config.describe())
            return 0
        if not args.config:
            return _fail('give a config file, e.g. python scripts/train.py configs/preview.yaml')
        overrides = list(args.overrides)
        if args.output:
            overrides.append(('output.dir', args.output))      # a path, not YAML
        cfg = config.load(args.config, overrides)
        runtime.configure_threads(cfg['threads'])     # before MXNet is imported
        from .run import train
        run_dir = train(cfg, quiet=args.quiet, overwrite=args.overwrite)
        print(f'done: {run_dir}/result.png (losses.csv, losses.png, sheet.png, record.json)')
        if args.compare:
            from .compare import compare_run
            print(f'report: {compare_run(run_dir)}')
        return 0
    except UserError as e:
        return _fail(str(e), e.exit_code)
    except KeyboardInterrupt as e:
        return _fail('interrupted before the run started; nothing was written',
                     interrupt_exit_code(e))
    except OSError as e:               # a file or folder the checks above did not name
        where = f' {e.filename}' if e.filename else ''
        return _fail(f'cannot access{where}: {e.strerror or e}')
