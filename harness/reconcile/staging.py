"""The staging file of one side: the comparable form of each event, written in chunks for the engine to load.

Each in-window event becomes one tab-separated line:

    n  file  record  event  distinct_id  time_ms  insert_id  properties

`n` orders the side's events as read, `file << 32 | record`, the same whichever process staged them;
`file` and `record` say where the event came from (index into the side's file list, and record or line
number); `event`, `distinct_id` and `insert_id` are written as
JSON strings (so a tab or newline inside them can never break a line, and equal strings stay equal bytes;
an absent insert id is an empty field); `properties` is the compared properties as canonical JSON (sorted
keys, compact). orjson escapes every control character inside JSON strings, so no field holds a tab.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol

import orjson

STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("n", "BIGINT"), ("f", "INTEGER"), ("r", "BIGINT"), ("e", "VARCHAR"), ("d", "VARCHAR"), ("t", "BIGINT"),
    ("i", "VARCHAR"), ("p", "VARCHAR"),
)
CHUNK_LINES = 8192  # lines buffered before one write: few, large writes
_LINE = b"%d\t%d\t%d\t%b\t%b\t%d\t%b\t%b\n"


class EventSink(Protocol):
    """Where a side's in-window events go: a staging file (DuckDB) or in-memory columns (Dask)."""

    def add(self, file_index: int, record: int, event: str, distinct_id: str, time_ms: int,
            insert_id: str | None, properties: dict[str, Any]) -> None: ...


def event_number(file_index: int, record: int) -> int:
    """An event's `n`: its place in reading order, the same whichever process read it."""
    return file_index << 32 | record


def event_source(number: int) -> tuple[int, int]:
    """(file index, record or line number) back from an event's `n`."""
    return number >> 32, number & 0xFFFFFFFF


class StagingWriter:
    """Appends staged events to an open binary file, buffering `CHUNK_LINES` at a time; `flush` at the end."""

    def __init__(self, handle: BinaryIO) -> None:
        self.count = 0
        self._handle = handle
        self._lines: list[bytes] = []

    def add(self, file_index: int, record: int, event: str, distinct_id: str, time_ms: int,
            insert_id: str | None, properties: dict[str, Any]) -> None:
        dumps = orjson.dumps
        self._lines.append(_LINE % (
            event_number(file_index, record), file_index, record, dumps(event), dumps(distinct_id), time_ms,
            b"" if insert_id is None else dumps(insert_id), canonical_json(properties)))
        self.count += 1
        if len(self._lines) >= CHUNK_LINES:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._handle.write(b"".join(self._lines))
            self._lines.clear()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, compact: equal JSON values give equal bytes (integers past 64 bits fall back to `json`)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_field(text: str | None) -> Any:
    """A JSON-string column back to its value (None for an absent insert id)."""
    if text is None or text == "":
        return None
    return orjson.loads(text)
