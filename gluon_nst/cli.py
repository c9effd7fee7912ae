"""The command line: `gluon-nst train|sweep|compare|bench|upscale|quality` (and scripts/*.py).

Errors the user can fix print one line; exit codes: 0 done, 1 the run failed
(outputs kept), 2 bad input, 130 Ctrl-C, 143 SIGTERM (see errors.py).
"""
import argparse
import sys

from .errors import EXIT_BAD_INPUT, UserError
from .guard import fail, guard

COMMANDS = ('train', 'sweep', 'compare', 'bench', 'upscale', 'quality')


# ---- train -----------------------------------------------------------------

def train_parser(prog='gluon-nst train'):
    from . import methods
    p = argparse.ArgumentParser(
        prog=prog, description='Run a YAML config: its method: key picks what runs '
                               f'({", ".join(methods.names())}; default style).')
    p.add_argument('config', nargs='?', help='YAML config (see configs/)')
    p.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                   help='override a config key, e.g. --set loss.style_weight=1e4 '
                        '--set stages.0.steps=50 (repeatable)')
    p.add_argument('--output', '-o', help='run folder (default: runs/<config name>[-N])')
    p.add_argument('--overwrite', action='store_true', help='reuse a non-empty --output folder')
    p.add_argument('--quiet', '-q', action='store_true', help='log lines instead of a progress bar')
    p.add_argument('--compare', action='store_true',
                   help='style: write the reproduction report against the book after the run')
    p.add_argument('--help-config', nargs='?', const='style', metavar='METHOD',
                   help='list every config key of METHOD (default style) and exit')
    return p


def _train(args):
    from . import config, runtime
    if args.help_config:
        print(config.describe(args.help_config))
        return 0
    if not args.config:
        return fail('give a config file, e.g. python scripts/train.py configs/style/preview.yaml')
    overrides = list(args.overrides)
    if args.output:
        overrides.append(('output.dir', args.output))      # a path, not YAML
    cfg = config.load(args.config, overrides)
    runtime.configure_threads(cfg['threads'])     # before MXNet is imported
    from .run import train
    run_dir = train(cfg, quiet=args.quiet, overwrite=args.overwrite)
    print(f'done: {run_dir}/result.png (losses.csv, losses.png, sheet.png, record.json)')
    if args.compare:
        if cfg['method'] != 'style':
            return fail('--compare is for the style method (the book\'s figures)')
        from .style.compare import compare_run
        print(f'report: {compare_run(run_dir)}')
    return 0


def main_train(argv=None, prog='train.py'):
    return guard(_train, train_parser(prog).parse_args(argv))


# ---- sweep -----------------------------------------------------------------

def sweep_parser(prog='gluon-nst sweep'):
    ap = argparse.ArgumentParser(prog=prog, description='Run a sweep of config overrides '
                                 '(a grid and zipped lists) of any method\'s config.')
    ap.add_argument('sweep', help='sweep YAML (see configs/sweeps/)')
    ap.add_argument('--out', help='sweep folder (default: runs/sweeps/<name>)')
    ap.add_argument('--workers', type=int, default=0, help='runs at a time (default: fit the cores)')
    ap.add_argument('--threads', type=int, default=0, help='threads per run (default: cores / workers)')
    ap.add_argument('--executor', choices=['local', 'ray'], default='local')
    ap.add_argument('--address', default=None, help='Ray cluster address (with --executor ray)')
    ap.add_argument('--retry-failed', action='store_true', help='run failed runs again')
    ap.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                    help='override for every run (e.g. --set stages.0.steps=20)')
    return ap


def _sweep(a):
    from .sweep import sweep
    out = sweep(a.sweep, a.out, a.workers, a.threads, a.executor, a.address,
                a.retry_failed, a.overrides)
    print(f'results: {out}/results.csv, {out}/contact_sheet.png')
    return 0


def main_sweep(argv=None, prog='sweep.py'):
    return guard(_sweep, sweep_parser(prog).parse_args(argv),
                 'sweep interrupted (results.csv lists the runs so far); run the same command '
                 'again to continue')


# ---- compare ---------------------------------------------------------------

def _compare(a):
    from .style.compare import compare_run
    print(f'report: {compare_run(a.run_dir, a.book)}')
    return 0


def main_compare(argv=None, prog='compare.py'):
    ap = argparse.ArgumentParser(prog=prog, description='Compare a run of configs/rainier.yaml '
                                 'with the book\'s logged losses and figures.')
    ap.add_argument('run_dir')
    ap.add_argument('--book', help='folder with press_losses.txt and book/ (default: found '
                                   'from the run\'s content image, or $GLUON_NST_SHARED/d2l)')
    return guard(_compare, ap.parse_args(argv))


# ---- bench -----------------------------------------------------------------

def main_bench(argv=None, prog='gluon-nst bench'):
    """`bench [METHOD] [options]`: the method's own benchmark (default style)."""
    import importlib

    from . import methods
    argv = list(sys.argv[1:] if argv is None else argv)
    method = argv.pop(0) if argv and not argv[0].startswith('-') else None
    if method is None and {'-h', '--help'} & set(argv):
        print(f'{prog} [{"|".join(methods.PACKAGES)}] [options]: a method\'s benchmark (default '
              f'style; `{prog} METHOD --help` for its options). The style options:\n')
    method = method or 'style'
    try:
        methods.get(method)
        module = importlib.import_module(f'{__package__}.{methods.PACKAGES[method]}.bench')
    except UserError as e:
        return fail(str(e).replace("config key 'method': ", 'bench: '))
    except ModuleNotFoundError:
        return fail(f'the {method} method has no benchmark yet')
    try:
        return module.main(argv) or 0
    except UserError as e:
        return fail(str(e), e.exit_code)


# ---- upscale ---------------------------------------------------------------

def main_upscale(argv=None, prog='upscale.py'):
    """Enlarge an image with a trained SRCNN (the srcnn method's tool)."""
    from .sr.upscale_cli import main
    return main(argv, prog=prog)


# ---- quality ---------------------------------------------------------------

def quality_parser(prog='gluon-nst quality'):
    from .quality import CONTENT_LAYER, EVAL_SIDE, STYLE_LAYERS
    ap = argparse.ArgumentParser(
        prog=prog, description='Score a stylised image (any file, e.g. a published result): '
        f'content distance (VGG-19 {CONTENT_LAYER} feature MSE / const) and style distance '
        f'(mean relative Gram distance over {", ".join(STYLE_LAYERS)}), each image at longest '
        f'side {EVAL_SIDE}; lower is closer. The numbers every run records in record.json.')
    ap.add_argument('result', help='the stylised image')
    ap.add_argument('content', help='the content image it was made from')
    ap.add_argument('styles', nargs='+', metavar='style', help='the style image(s)')
    ap.add_argument('--blend-weights', type=float, nargs='+', metavar='W',
                    help='one weight per style image (default: equal), normalised to sum 1')
    ap.add_argument('--weights', metavar='PATH', help='the Caffe VGG-19 file or a folder holding '
                    'it (default: $GLUON_NST_WEIGHTS, then the cache)')
    ap.add_argument('--size', type=int, default=EVAL_SIDE,
                    help=f'evaluation longest side (default {EVAL_SIDE}: the runs\' size; '
                    'numbers at other sizes do not compare with them)')
    ap.add_argument('--json', action='store_true', help='print the whole record as JSON')
    return ap


def _quality(a):
    import json

    from .quality import measure
    if a.size < 16:
        raise UserError(f'--size {a.size} is too small: VGG-19 needs at least 16 pixels a side')
    q = measure(a.result, a.content, a.styles, a.blend_weights, size=a.size,
                weights_path=a.weights)
    if a.json:
        print(json.dumps(q, indent=2))
    else:
        per_layer = zip(q['layers']['style'], q['style_distance_per_layer'])
        layers = ', '.join(f'{n} {v:.4f}' for n, v in per_layer)
        print(f"content_distance {q['content_distance']:.4f}  style_distance "
              f"{q['style_distance']:.4f}  ({layers}; longest side {q['size']})")
    return 0


def main_quality(argv=None, prog='quality.py'):
    return guard(_quality, quality_parser(prog).parse_args(argv), 'interrupted')


# ---- gluon-nst -------------------------------------------------------------

def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith('-') and argv[0] not in COMMANDS:
        import difflib
        near = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        return fail(f"unknown command '{argv[0]}'" + (f"; did you mean '{near[0]}'?" if near else
                    f" (commands: {', '.join(COMMANDS)}; gluon-nst --help lists them)"))
    if not argv or argv[0] in ('-h', '--help') or argv[0] not in COMMANDS:
        print('usage: gluon-nst {train,sweep,compare,bench,upscale,quality} ...\n\n'
              '  train CONFIG [--set KEY=VALUE ...]   run any method\'s config '
              '(--help-config METHOD lists its keys)\n'
              '  sweep SWEEP                          a grid of overrides of any config\n'
              '  compare RUN                          style: a run against the book\n'
              '  bench [METHOD] [...]                 benchmarks (default: style)\n'
              '  upscale IMAGE [--scale N] [--model RUN]   enlarge an image with SRCNN\n'
              '  quality RESULT CONTENT STYLE...      content and style distances of an image',
              file=sys.stderr if argv and argv[0] not in ('-h', '--help') else sys.stdout)
        return 0 if argv and argv[0] in ('-h', '--help') else EXIT_BAD_INPUT
    command, rest = argv[0], argv[1:]
    prog = f'gluon-nst {command}'
    return {'train': main_train, 'sweep': main_sweep, 'compare': main_compare,
            'bench': main_bench, 'upscale': main_upscale,
            'quality': main_quality}[command](rest, prog=prog)
