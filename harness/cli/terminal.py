"""Whether long-running commands may draw progress: only on a terminal, never in CI (DESIGN.md §5)."""

import os
from typing import TextIO


def progress_enabled(stream: TextIO) -> bool:
    if os.environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
