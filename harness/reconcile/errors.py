"""The one error for input a reconciliation cannot read at all: one clear line naming the file."""


class ReconcileInputError(ValueError):
    """A missing, unreadable or wrong kind of file, or an empty directory (the CLI exits with status 2)."""
