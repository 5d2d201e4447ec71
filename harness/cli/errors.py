"""The one error type a command raises to end with a clear message instead of a traceback."""


class CliError(Exception):
    """A user-facing failure: printed as one line, then the process exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
