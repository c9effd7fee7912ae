"""How every command runs: errors the user can fix print one line, SIGTERM stops a
run as Ctrl-C does (outputs kept), and the exit code says what stopped it (see
errors.py)."""
import sys

from .errors import EXIT_BAD_INPUT, Terminated, UserError, interrupt_exit_code


def fail(msg, code=EXIT_BAD_INPUT):
    print(f'error: {msg}', file=sys.stderr)
    return code


def guard(fn, args, interrupted='interrupted before the run started; nothing was written'):
    """Run a command: one-line errors, the exit code of what stopped it."""
    previous = _sigterm_as_interrupt()
    try:
        return fn(args)
    except UserError as e:
        return fail(str(e), e.exit_code)
    except KeyboardInterrupt as e:
        return fail(interrupted, interrupt_exit_code(e))
    except OSError as e:               # a file or folder the checks did not name
        where = f' {e.filename}' if e.filename else ''
        return fail(f'cannot access{where}: {e.strerror or e}')
    finally:
        if previous is not None:
            import signal
            signal.signal(signal.SIGTERM, previous)


def _sigterm_as_interrupt():
    """SIGTERM (a job scheduler, `timeout`) stops a run like Ctrl-C: outputs are kept."""
    import signal

    def handler(signum, frame):
        raise Terminated
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:                 # not the main thread (e.g. called from a worker)
        return None
