"""Finding the input files: Braze's Currents storage layout on one side, Mixpanel export files on the other.

Braze writes a storage Current as Avro files under
`…/event_type=<type>/date=<YYYY-MM-DD-HH>/<schema-id>/<zone>/…avro`. Any subtree of that layout may be
given (the whole export, one type, one hour, one file), and directories are walked recursively in name
order. The type comes from the file's Avro schema; the `event_type=` segment names it when the schema does
not (and Custom HTTP captures name their own). Hidden and marker files (`.…`, `_SUCCESS`) are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.reconcile.errors import ReconcileInputError

_TYPE_SEGMENT = re.compile(r"^event_type=(.+)$")
_DATE_SEGMENT = re.compile(r"^date=(\d{4}-\d{2}-\d{2}(?:-\d{2})?)$")


@dataclass(frozen=True)
class CurrentsFile:
    """One input file of the Braze side, with what its path says about it."""

    path: Path
    type_from_path: str | None = None  # the `event_type=` segment, if any
    date_partition: str | None = None  # the `date=` segment (Braze's write hour, not the events' time)


def storage_path_facts(path: Path) -> tuple[str | None, str | None]:
    """(type, date partition) named by the `event_type=` and `date=` segments of a path, innermost first."""
    type_id = partition = None
    for part in reversed(path.parts):
        if type_id is None and (match := _TYPE_SEGMENT.match(part)):
            type_id = match.group(1)
        elif partition is None and (match := _DATE_SEGMENT.match(part)):
            partition = match.group(1)
    return type_id, partition


def _is_data_file(name: str) -> bool:
    return not name.startswith((".", "_"))


def walk_files(root: Path) -> list[Path]:
    """Every data file under `root`, recursively, in a stable (name) order."""
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if _is_data_file(d))
        found.extend(Path(directory) / name for name in sorted(names) if _is_data_file(name))
    return found


def expand_paths(paths: Iterable[str | os.PathLike[str]], side: str) -> list[Path]:
    """Files named or found under directories; an empty directory or a missing path is an error."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = walk_files(path)
            if not inside:
                raise ReconcileInputError(f"{path}: empty directory (no {side} files in it)")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise ReconcileInputError(f"{path}: not a file or directory")
        else:
            raise ReconcileInputError(f"{path}: no such file or directory")
    if not files:
        raise ReconcileInputError(f"no {side} input given")
    return files


def discover_currents_files(paths: Iterable[str | os.PathLike[str]]) -> list[CurrentsFile]:
    """The Braze side's files, each with the type and hour its storage path names."""
    out = []
    for path in expand_paths(paths, "Currents"):
        type_id, partition = storage_path_facts(path)
        out.append(CurrentsFile(path, type_id, partition))
    return out


def discover_export_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The Mixpanel side's files (raw export JSON lines, plain or gzip)."""
    return expand_paths(paths, "Mixpanel export")
