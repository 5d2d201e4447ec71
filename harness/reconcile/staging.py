"""The staging file of one side: the comparable form of each event, written in chunks for the engine to load.

Each in-window event becomes one tab-separated line:

    n  file  record  event  distinct_id  time_ms  insert_id  properties

`n` orders the side's events as read, `file << 32 | record`, the same whichever process staged them;
`file` and `record` say where the event came from (index into the side's file list, and record or line
number); `event`, `distinct_id` and `insert_id` are written as
JSON strings (so a tab or newline inside them can never break a line, and equal strings stay equal bytes;
an absent insert id is an empty field); `properties` is the compared properties as canonical JSON (sorted
keys, compact). orjson escapes every control character inside JSON strings, so no field holds a tab.

Sinks receive the properties already as that canonical JSON (`compared_json`, once per event on both
sides: the hot path, so it filters with a few C-level calls instead of a test per key).
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol

import orjson

from harness.reconcile.properties import ADDED_ON_INGESTION_PREFIXES, compared_properties, skipped_keys

STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("n", "BIGINT"), ("f", "INTEGER"), ("r", "BIGINT"), ("e", "VARCHAR"), ("d", "VARCHAR"), ("t", "BIGINT"),
    ("i", "VARCHAR"), ("p", "VARCHAR"),
)
CHUNK_LINES = 8192  # lines buffered before one write: few, large writes
_LINE = b"%d\t%d\t%d\t%b\t%b\t%d\t%b\t%b\n"


class EventSink(Protocol):
    """Where a side's in-window events go: a staging file (DuckDB) or in-memory columns (Dask)."""

    def add(self, file_index: int, record: int, event: str, distinct_id: str, time_ms: int,
            insert_id: str | None, properties_json: bytes) -> None: ...


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
        self._names: dict[str, bytes] = {}  # event name -> its JSON (a few hundred names, millions of events)

    def add(self, file_index: int, record: int, event: str, distinct_id: str, time_ms: int,
            insert_id: str | None, properties_json: bytes) -> None:
        dumps = orjson.dumps
        name = self._names.get(event)
        if name is None:
            name = self._names[event] = dumps(event)
        self._lines.append(_LINE % (
            event_number(file_index, record), file_index, record, name, dumps(distinct_id), time_ms,
            b"" if insert_id is None else dumps(insert_id), properties_json))
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


_SKIPPED_KEYS = skipped_keys()
_PREFIX_MARKS = tuple(b'"' + prefix.encode() for prefix in ADDED_ON_INGESTION_PREFIXES)


def compared_json(properties: dict[str, Any]) -> bytes:
    """`canonical_json(compared_properties(properties))`, consuming `properties` (keys not compared are
    popped from it: the caller's dict, not a copy). A top-level key with an ingestion prefix shows in the
    JSON as `"mp_` or `"$mp_` (orjson escapes none of those characters), so only when one of those marks
    appears anywhere (such a key, or a value that holds the mark) are the keys filtered one by one."""
    pop = properties.pop
    for key in _SKIPPED_KEYS:
        pop(key, None)
    text = canonical_json(properties)
    for mark in _PREFIX_MARKS:
        if mark in text:
            return canonical_json(compared_properties(properties))
    return text


def decode_field(text: str | None) -> Any:
    """A JSON-string column back to its value (None for an absent insert id)."""
    if text is None or text == "":
        return None
    return orjson.loads(text)
