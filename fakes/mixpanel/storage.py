"""Event storage (mixpanel-ingestion.md §10): a raw store of every accepted row in receipt order,
a dedup view keyed on (project, event, distinct_id, time ms, `$insert_id`) where the last ingested
copy wins, and a quarantine for unknown-token and wrong-region rows. Thread-safe.

Rows are kept encoded (`row_codec`: about the event's JSON size) and decoded on read; the dedup view maps
the key's hash to the row (the row's own key is compared on a hit; a different key with the same hash, a
one-in-2^64 event, goes to an overflow keyed by the whole key). `max_events` (None: no limit) bounds the
stored rows: a batch that would pass it is refused whole (`StoreFull`). For `--state-dir` the store hands
out the rows stored since the last call (`take_changes`), replays them (`replay`, validating every row) and
captures itself whole (`capture`) without copying the rows."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, cast

from .row import RequestMeta, Row
from .row_codec import (
    check_rows,
    decode_row,
    encode_row,
    key_of,
    meta_fields,
    meta_from_fields,
    row_key,
)

__all__ = ["DAY_MS", "VIEWS", "EventStore", "RequestMeta", "Row", "StoreFull"]

VIEWS = ("dedup", "raw", "quarantine")
DAY_MS = 86_400_000
CAPTURE_ROWS = 10_000  # rows per record of a rewrite


class StoreFull(Exception):
    """Storing the batch would pass `max_events`; nothing of it was stored."""

    def __init__(self, limit: int, stored: int, batch: int) -> None:
        super().__init__(f"the event store holds {stored} of at most {limit} events; a batch of {batch} does not fit")
        self.limit, self.stored, self.batch = limit, stored, batch


class EventStore:
    def __init__(self, max_events: int | None = None) -> None:
        self._lock = threading.Lock()
        self.max_events = max_events
        self.keep_changes = False  # set by the first take_changes: only --state-dir needs them
        self._reset()

    def _reset(self) -> None:
        self._raw: list[bytes] = []
        self._dedup: dict[int, bytes] = {}  # hash(key) -> the row holding that key
        self._overflow: dict[tuple[Any, ...], bytes] = {}  # a key whose hash another key already holds
        self._quarantine: list[bytes] = []
        self._metas: list[RequestMeta] = []
        self._pending: list[bytes] = []
        self._logged_metas = 0

    def ingest(self, rows: Iterable[Row], meta: RequestMeta) -> int:
        """Append every row to raw (or quarantine); rows not dropped enter the dedup view, last wins."""
        rows = list(rows)
        stored = 0
        with self._lock:
            raw, quarantine, pending, dedup = self._raw, self._quarantine, self._pending, self._dedup
            keep = self.keep_changes
            key_hash = _key_hash
            seq = len(raw) + len(quarantine)
            if self.max_events is not None and seq + len(rows) > self.max_events:
                raise StoreFull(self.max_events, seq, len(rows))
            if not rows:
                return 0
            meta_index = len(self._metas)
            self._metas.append(meta)
            for row in rows:
                row.meta = meta
                seq += 1
                row.seq = seq
                blob = encode_row(row, meta_index)
                if keep:
                    pending.append(blob)
                if row.quarantine is not None:
                    quarantine.append(blob)
                    continue
                raw.append(blob)
                if row.dropped is None:
                    key = (row.project_id, row.event, row.distinct_id, row.time_ms, row.insert_id)
                    h = key_hash(key)
                    if h in dedup or self._overflow:  # a resend (or a collision): the careful path
                        self._dedup_put(key, blob)
                    else:
                        dedup[h] = blob
                    stored += 1
        return stored

    def _dedup_put(self, key: tuple[Any, ...], blob: bytes) -> None:
        """Last ingested wins, in the first-seen position. Called under `_lock`."""
        if self._overflow and key in self._overflow:
            self._overflow[key] = blob
            return
        h = _key_hash(key)
        held = self._dedup.get(h)
        if held is None or key_of(held) == key:  # a resend (decoded only then), or a new key
            self._dedup[h] = blob
        else:
            self._overflow[key] = blob

    def clear(self) -> None:
        with self._lock:
            self._reset()

    def decode(self, blob: bytes) -> Row:
        return decode_row(blob, self._metas)

    # Mutation testing: `*` -> `/` and the default of `compaction` are equivalent (every caller passes the view by
    # position and `compaction` by keyword).
    def rows(self, view: str = "dedup", *, compaction: bool = False) -> list[Row]:  # pragma: no mutate
        """A snapshot list; the dedup view keeps first-seen order with the last-ingested content.

        `compaction` (§10 `dedup.mode`): the background pass keyed on (event, distinct_id, `$insert_id`,
        same UTC day) instead of the exact time; generated ids still never merge."""
        with self._lock:
            metas = self._metas
            if view == "raw":
                blobs = list(self._raw)
            elif view == "quarantine":
                blobs = list(self._quarantine)
            elif not compaction:
                blobs = [*self._dedup.values(), *self._overflow.values()]
            else:
                blobs = list(self._raw)
        decoded = [decode_row(blob, metas) for blob in blobs]
        if view != "dedup" or not compaction:
            return decoded
        merged: dict[tuple[Any, ...], Row] = {}
        for row in decoded:
            if row.dropped is None:
                merged[(row.project_id, row.event, row.distinct_id, row.insert_id, row.time_ms // DAY_MS)] = row
        return list(merged.values())

    def raw_as_it_stands(self) -> tuple[list[bytes], int]:
        """The raw rows (encoded: `decode` each) received so far, without a copy: the list and its current
        length. The list only grows until `clear`, which puts a new one in its place, so a reader may walk the
        first `length` rows later without the lock (the raw export streams them this way)."""
        with self._lock:
            return self._raw, len(self._raw)

    # Mutation testing: as for `rows`, the `*` and the default of `compaction` are equivalent changes.
    def query(self, view: str = "dedup", *, event: str | None = None,  # pragma: no mutate
              distinct_id: str | None = None, project_id: int | None = None, endpoint: str | None = None,
              since_ms: int | None = None, compaction: bool = False) -> Iterator[Row]:  # pragma: no mutate
        for row in self.rows(view, compaction=compaction):
            if event is not None and row.event != event:
                continue
            if distinct_id is not None and row.distinct_id != distinct_id:
                continue
            if project_id is not None and row.project_id != project_id:
                continue
            if endpoint is not None and (row.meta is None or row.meta.endpoint != endpoint):
                continue
            if since_ms is not None and row.time_ms < since_ms:
                continue
            yield row

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"raw": len(self._raw), "dedup": len(self._dedup) + len(self._overflow),
                    "quarantine": len(self._quarantine)}

    def __len__(self) -> int:
        with self._lock:
            return len(self._raw) + len(self._quarantine)

    # --- --state-dir ------------------------------------------------------------------------------------
    def take_changes(self) -> tuple[dict[str, Any], list[bytes]] | None:
        """The rows stored since the last call (and their requests), as a record part: (head, row blobs)."""
        with self._lock:
            self.keep_changes = True
            if not self._pending and self._logged_metas == len(self._metas):
                return None
            head = {"metas": [[i, *meta_fields(m)] for i, m in enumerate(self._metas[self._logged_metas:],
                                                                           self._logged_metas)],
                    "lens": [len(b) for b in self._pending]}
            blobs, self._pending = self._pending, []
            self._logged_metas = len(self._metas)
            return head, blobs

    def capture(self) -> Iterator[tuple[dict[str, Any], list[bytes]]]:
        """Every row as record parts (the first with every request record). The lists are only appended to,
        so the rows stored up to now are walked later without the lock and without a copy."""
        with self._lock:
            metas, n_metas = self._metas, len(self._metas)
            parts = [(self._raw, len(self._raw)), (self._quarantine, len(self._quarantine))]
        return self._capture(metas, n_metas, parts)

    @staticmethod
    def _capture(metas: list[RequestMeta], n_metas: int, parts: list[tuple[list[bytes], int]]
                 ) -> Iterator[tuple[dict[str, Any], list[bytes]]]:
        yield {"metas": [[i, *meta_fields(m)] for i, m in enumerate(metas[:n_metas])], "lens": []}, []
        (raw, n_raw), (quarantine, n_quarantine) = parts
        rows = heapq.merge(islice(raw, n_raw), islice(quarantine, n_quarantine), key=_seq_of) \
            if n_quarantine else islice(raw, n_raw)  # receipt (seq) order across both lists
        while chunk := list(islice(rows, CAPTURE_ROWS)):
            yield {"metas": [], "lens": [len(b) for b in chunk]}, chunk

    def replay(self, part: Any, blobs: bytes, offset: int = 0) -> int:
        """Store a `take_changes` / `capture` part again, checking every row; returns the blob offset after it.
        The rows of a part are decoded in one go and checked field by field (`check_rows`)."""
        if not isinstance(part, dict) or not isinstance(part.get("metas"), list) \
                or not isinstance(part.get("lens"), list):
            raise ValueError("events: not an events record (metas, lens)")
        rows: list[bytes] = []
        end = len(blobs)
        for index, length in enumerate(part["lens"]):
            if type(length) is not int or length < 0 or offset + length > end:
                raise ValueError(f"events: row {index}: its length runs past the record")
            rows.append(blobs[offset:offset + length])
            offset += length
        with self._lock:
            for i, fields in enumerate(part["metas"]):
                if type(fields) is not list or not fields or fields[0] != len(self._metas):
                    raise ValueError(f"events: request record {i}: out of order")
                self._metas.append(meta_from_fields(fields[1:], f"events: request record {fields[0]}"))
            raw, quarantine = self._raw, self._quarantine
            try:
                items = check_rows(rows, len(raw) + len(quarantine) + 1, len(self._metas))
            except ValueError as exc:
                raise ValueError(f"events: {exc}") from None
            for item, blob in zip(items, rows, strict=True):
                if item[9] is not None:
                    quarantine.append(blob)
                    continue
                raw.append(blob)
                if item[8] is None:
                    self._dedup_put(row_key(item), blob)
            self._logged_metas = len(self._metas)
        return offset

    # --- the JSON snapshot of earlier versions -----------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        """Every row (raw and quarantine) in receipt order, as JSON-able dicts."""
        rows = sorted(self.rows("raw") + self.rows("quarantine"), key=lambda r: r.seq)
        out = []
        for row in rows:
            item = row.metadata()
            item["event"] = row.event
            item["properties"] = row.properties
            if row.raw_properties is not row.properties:
                item["raw_properties"] = row.raw_properties
            out.append(item)
        return out

    def restore(self, items: Any) -> None:
        """Re-ingest saved rows in their order, with their request metadata, checking each."""
        if not isinstance(items, list):
            raise ValueError("events: not a list")
        for index, item in enumerate(items):
            where = f"events[{index}]"
            if not isinstance(item, dict):
                raise ValueError(f"{where}: not an object")
            props = item.get("properties")
            raw = item.get("raw_properties", props)
            checks = (("properties", props, dict), ("raw_properties", raw, dict), ("event", item.get("event"), str),
                      ("distinct_id", item.get("distinct_id"), str), ("insert_id", item.get("insert_id"), str),
                      ("time_ms", item.get("time_ms"), int),
                      ("insert_id_generated", item.get("insert_id_generated"), bool))
            for name, value, kind in checks:
                if type(value) is not kind:
                    raise ValueError(f"{where}.{name}: must be {'an object' if kind is dict else kind.__name__}")
            project_id = item.get("project_id")
            if project_id is not None and type(project_id) is not int:
                raise ValueError(f"{where}.project_id: must be an integer or null")
            for name in ("dropped", "quarantine"):
                if item.get(name) is not None and type(item.get(name)) is not str:
                    raise ValueError(f"{where}.{name}: must be a string or null")
            row = Row(project_id, item["event"], item["distinct_id"], item["time_ms"], item["insert_id"],
                      item["insert_id_generated"], cast(dict, props), cast(dict, raw), item.get("dropped"),
                      item.get("quarantine"))
            meta = meta_from_fields([str(item.get("request_id", "")), str(item.get("endpoint", "")),
                                     str(item.get("region", "us")), item.get("received_ms", 0),
                                     str(item.get("dialect", "")), str(item.get("user_agent", "")), ""], where)
            self.ingest([row], meta)


_key_hash = hash  # a name of its own: a test forces collisions through it


def _seq_of(blob: bytes) -> int:
    return int(blob[1:blob.index(b",")])  # an encoded row starts with "[<seq>,"
