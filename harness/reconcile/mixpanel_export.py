"""Reading a Mixpanel raw export: JSON lines, plain or gzip, as Mixpanel's export API answers.

One event per line, `{"event": name, "properties": {"time": …, "distinct_id": …, "$insert_id": …, …}}`,
never deduplicated (mixpanel-ingestion.md §10). The file is streamed in blocks, never held whole. The
first non-blank line decides the kind of file: if it is not a Mixpanel event the file is the wrong kind
(`ReconcileInputError`, one line naming it). A later bad line is counted and listed (`bad_lines`) and the
rest is still read.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from harness.reconcile.errors import ReconcileInputError

GZIP_MAGIC = b"\x1f\x8b"
AVRO_MAGIC = b"Obj\x01"
BLOCK_BYTES = 1 << 22
MAX_LISTED_BAD_LINES = 20


def event_shape_problem(item: Any) -> str | None:
    """Why a parsed line is not a Mixpanel export event, or None when it is one."""
    if type(item) is not dict:
        return f"expected a JSON object, got {type(item).__name__}"
    if type(item.get("event")) is not str:
        return "no \"event\" name"
    properties = item.get("properties")
    if type(properties) is not dict:
        return "no \"properties\" object"
    time = properties.get("time")
    if type(time) not in (int, float):
        return "no numeric properties.time"
    return None


class MixpanelExportReader:
    """`(line number, event name, properties)` for each good line of one export file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bad_count = 0
        self.bad_lines: list[tuple[int, str]] = []  # the first MAX_LISTED_BAD_LINES: (line number, why)
        self.rows = 0
        try:
            with open(path, "rb") as handle:
                head = handle.read(4)
        except OSError as exc:
            raise ReconcileInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if head == AVRO_MAGIC:
            raise ReconcileInputError(f"{path}: an Avro file, not a Mixpanel raw export (give Currents files as "
                                      "CURRENTS_PATH)")
        self.compressed = head.startswith(GZIP_MAGIC)

    def _open(self) -> io.BufferedIOBase:
        if self.compressed:
            return gzip.GzipFile(self.path, "rb")
        return open(self.path, "rb")

    def _blocks(self) -> Iterator[bytes]:
        try:
            with self._open() as handle:
                while block := handle.read(BLOCK_BYTES):
                    yield block
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise ReconcileInputError(f"{self.path}: truncated or corrupt gzip data ({exc})") from None
        except OSError as exc:
            raise ReconcileInputError(f"{self.path}: cannot read ({exc.strerror or exc})") from None

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        number = 0
        rest = b""
        for block in self._blocks():
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                number += 1
                yield number, line
        if rest:
            yield number + 1, rest

    def _bad(self, number: int, why: str) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < MAX_LISTED_BAD_LINES:
            self.bad_lines.append((number, why))

    def __iter__(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        first = True
        for number, line in self._lines():
            if not line or line.isspace():
                continue
            try:
                item = loads(line)
            except decode_error as exc:
                if first:
                    raise ReconcileInputError(
                        f"{self.path}: not a Mixpanel raw export (line {number} is not JSON: {exc})") from None
                self._bad(number, f"not JSON ({exc})")
                continue
            problem = event_shape_problem(item)
            if problem is not None:
                if first:
                    raise ReconcileInputError(
                        f"{self.path}: not a Mixpanel raw export (line {number}: {problem})")
                self._bad(number, problem)
                continue
            first = False
            self.rows += 1
            yield number, item["event"], item["properties"]
