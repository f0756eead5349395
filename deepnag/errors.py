"""The one exception type the command line turns into a one-line message."""


class UserError(Exception):
    """A problem the user can fix (a flag, a path, a file, a checkpoint).

    The message names the thing that is wrong and what to do about it; the CLI
    prints it on one line, without a traceback, and exits with `exit_code`.
    """

    exit_code: int = 2
    label: str = "error"
    """How the command line introduces the message: "error", or "stopped" for what the user asked for."""
