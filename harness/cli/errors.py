"""How a command ends with a clear one-line message instead of a traceback or a usage block."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class CliError(Exception):
    """A user-facing failure: printed as one line, then the process exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OneLineArgumentParser(argparse.ArgumentParser):
    """Bad options end in one line, `<prog>: error: <message>`, exit status 2 (argparse prints its usage
    block first). The `harness` parser is of this class and so is every sub-command's parser, nested ones
    included, since argparse builds sub-parsers with the class of their parent."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)
