"""Event storage (mixpanel-ingestion.md §10): a raw store of every accepted row in receipt order,
a dedup view keyed on (project, event, distinct_id, time ms, `$insert_id`) where the last ingested
copy wins, and a quarantine for unknown-token and wrong-region rows. Thread-safe."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


# Mutation testing: frozen=False is equivalent (nothing assigns to a RequestMeta; frozen states the intent).
@dataclass(frozen=True)  # pragma: no mutate
class RequestMeta:
    """Shared by every row of one request (one allocation per request, not per event)."""

    request_id: str
    endpoint: str
    region: str
    received_ms: int
    dialect: str
    user_agent: str
    host: str = ""


class Row:
    """One accepted event. `properties` is the normalised copy shown by the views; `raw_properties`
    is what the client sent (the same object when nothing was normalised)."""

    __slots__ = ("project_id", "event", "distinct_id", "time_ms", "insert_id", "insert_id_generated",
                 "properties", "raw_properties", "dropped", "quarantine", "meta", "seq")

    def __init__(self, project_id: int | None, event: str, distinct_id: str, time_ms: int, insert_id: str,
                 insert_id_generated: bool, properties: dict[str, Any], raw_properties: dict[str, Any],
                 dropped: str | None = None, quarantine: str | None = None) -> None:
        self.project_id = project_id
        self.event = event
        self.distinct_id = distinct_id
        self.time_ms = time_ms
        self.insert_id = insert_id
        self.insert_id_generated = insert_id_generated
        self.properties = properties
        self.raw_properties = raw_properties
        self.dropped = dropped
        self.quarantine = quarantine
        self.meta: RequestMeta | None = None
        self.seq = 0  # pragma: no mutate (equivalent: `EventStore.ingest` numbers every row it keeps)

    @property
    def dedup_key(self) -> tuple[Any, ...]:
        return (self.project_id, self.event, self.distinct_id, self.time_ms, self.insert_id)

    def public(self, view: str) -> dict[str, Any]:
        """The `/_harness/events` shape: raw rows show what was sent, views the normalised copy."""
        props = self.raw_properties if view == "raw" else self.properties
        return {"event": self.event, "properties": props}

    def metadata(self) -> dict[str, Any]:
        meta = self.meta
        out: dict[str, Any] = {
            "seq": self.seq,
            "project_id": self.project_id,
            "distinct_id": self.distinct_id,
            "time_ms": self.time_ms,
            "insert_id": self.insert_id,
            "insert_id_generated": self.insert_id_generated,
            "dropped": self.dropped,
            "quarantine": self.quarantine,
        }
        if meta is not None:
            out.update(request_id=meta.request_id, endpoint=meta.endpoint, region=meta.region,
                       received_ms=meta.received_ms, dialect=meta.dialect, user_agent=meta.user_agent)
        return out


VIEWS = ("dedup", "raw", "quarantine")
DAY_MS = 86_400_000


class EventStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._raw: list[Row] = []
        self._dedup: dict[tuple[Any, ...], Row] = {}
        self._quarantine: list[Row] = []

    def ingest(self, rows: Iterable[Row], meta: RequestMeta) -> int:
        """Append every row to raw (or quarantine); rows not dropped enter the dedup view, last wins."""
        stored = 0
        with self._lock:
            raw = self._raw
            dedup = self._dedup
            seq = len(raw) + len(self._quarantine)
            for row in rows:
                row.meta = meta
                seq += 1
                row.seq = seq
                if row.quarantine is not None:
                    self._quarantine.append(row)
                    continue
                raw.append(row)
                if row.dropped is None:
                    dedup[(row.project_id, row.event, row.distinct_id, row.time_ms, row.insert_id)] = row
                    stored += 1
        return stored

    def clear(self) -> None:
        with self._lock:
            self._raw = []
            self._dedup = {}
            self._quarantine = []

    # Mutation testing: `*` -> `/` and the default of `compaction` are equivalent (every caller passes the view by
    # position and `compaction` by keyword).
    def rows(self, view: str = "dedup", *, compaction: bool = False) -> list[Row]:  # pragma: no mutate
        """A snapshot list; the dedup view keeps first-seen order with the last-ingested content.

        `compaction` (§10 `dedup.mode`): the background pass keyed on (event, distinct_id, `$insert_id`,
        same UTC day) instead of the exact time; generated ids still never merge."""
        with self._lock:
            if view == "raw":
                return list(self._raw)
            if view == "quarantine":
                return list(self._quarantine)
            if not compaction:
                return list(self._dedup.values())
            merged: dict[tuple[Any, ...], Row] = {}
            for row in self._raw:
                if row.dropped is None:
                    merged[(row.project_id, row.event, row.distinct_id, row.insert_id, row.time_ms // DAY_MS)] = row
            return list(merged.values())

    def raw_as_it_stands(self) -> tuple[list[Row], int]:
        """The raw rows received so far, without a copy: the list and its current length. The list only grows
        until `clear`, which puts a new one in its place, so a reader may walk the first `length` rows later
        without the lock (the raw export streams them this way)."""
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
            return {"raw": len(self._raw), "dedup": len(self._dedup), "quarantine": len(self._quarantine)}

    def snapshot(self) -> list[dict[str, Any]]:
        """Every row (raw and quarantine) in receipt order, as JSON-able dicts (for `--state-dir`)."""
        with self._lock:
            rows = sorted(self._raw + self._quarantine, key=lambda r: r.seq)
        out = []
        for row in rows:
            item = row.metadata()
            item["event"] = row.event
            item["properties"] = row.properties
            if row.raw_properties is not row.properties:
                item["raw_properties"] = row.raw_properties
            out.append(item)
        return out

    def restore(self, items: list[dict[str, Any]]) -> None:
        """Re-ingest saved rows in their order, with their request metadata (the dedup view follows)."""
        for item in items:
            props = item["properties"]
            row = Row(item["project_id"], item["event"], item["distinct_id"], item["time_ms"], item["insert_id"],
                      item["insert_id_generated"], props, item.get("raw_properties", props), item.get("dropped"),
                      item.get("quarantine"))
            meta = RequestMeta(str(item.get("request_id", "")), item.get("endpoint", ""), item.get("region", "us"),
                               item.get("received_ms", 0), item.get("dialect", ""), item.get("user_agent", ""))
            self.ingest([row], meta)
