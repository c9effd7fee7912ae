"""One exception type for problems the user can fix.

The CLI prints these as a single line (no traceback); anything else is a bug.
"""


class UserError(Exception):
    """Bad input, config or environment: the message names the problem and the fix."""
