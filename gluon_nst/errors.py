"""Exceptions for what a user can fix or decide, each with its exit code.

The CLI prints these as a single line (no traceback); anything else is a bug.

Exit codes (documented in docs/configuration.md): 0 done, 1 the run failed (non-finite
loss, out of memory: outputs kept), 2 bad input (nothing started),
130 interrupted by SIGINT (Ctrl-C), 143 stopped by SIGTERM (outputs kept).
`timeout N gluon-nst ...` sends SIGTERM but itself exits 124 when the time ran out;
`timeout --preserve-status` passes the 143 on.
"""
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_SIGINT, EXIT_SIGTERM = 1, 2, 130, 143


class UserError(Exception):
    """Bad input, config or environment: the message names the problem and the fix."""
    exit_code = EXIT_BAD_INPUT


class RunFailed(UserError):
    """The run started and could not go on; its outputs so far are kept."""
    exit_code = EXIT_FAILED


class RunInterrupted(UserError):
    """Stopped by a signal; its outputs so far are kept."""

    def __init__(self, message, exit_code=EXIT_SIGINT):
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so both stop a run the same way."""


def interrupt_exit_code(exc):
    return EXIT_SIGTERM if isinstance(exc, Terminated) else EXIT_SIGINT
