"""The `harness` command line (DESIGN.md §5).

Each sub-command lives in its own module under `harness.cli.commands` and exposes
`register(subparsers)`, which adds its parser and sets `handler(args) -> int` as the default `func`.
Modules are discovered, so adding a command never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from harness import __version__
from harness.cli import commands as _commands_pkg
from harness.cli.errors import CliError, OneLineArgumentParser

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="harness",
        description="Local mock-and-test harness for the Braze <-> Mixpanel integration.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineArgumentParser)
    modules = sorted(m.name for m in pkgutil.iter_modules(_commands_pkg.__path__) if not m.name.startswith("_"))
    for name in modules:
        module = importlib.import_module(f"{_commands_pkg.__name__}.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # named after the command they were given to, not after `harness`
        command = getattr(args, "command", None)
        parser.prog = f"harness {command}" if command else parser.prog
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C: one line, what the command left behind when it says
        detail = f" ({exc})" if str(exc) else ""
        fresh_line = "\n" if sys.stderr.isatty() else ""  # after the terminal's echoed ^C
        print(f"{fresh_line}harness {args.command}: interrupted{detail}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        try:
            # Left open on purpose: it stands in for stdout until the process exits.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    except Exception as exc:  # a bug: say so in one line, keep the traceback for those who ask
        if os.environ.get("HARNESS_DEBUG"):
            traceback.print_exc()
        print(
            f"harness {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(set HARNESS_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 70
