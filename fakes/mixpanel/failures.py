"""Records that failed validation, kept for inspection (`GET /_harness/events?view=failed`), and the good /
bad counts of every record the ingestion endpoints validated (`GET /_harness/events/counts`).

A harness extension (mixpanel-ingestion.md §14), in the manner of Snowplow Micro's good / bad events: the
real API forgets a rejected record once it has answered. Each kept failure holds the record as the client
sent it, the endpoint, Mixpanel's message and field (the strict `failed_records` texts, §5.4, also for
non-strict requests, which report none) and the request it came in. Requests refused as a whole (401, 413,
429, an over-long batch, nothing decodable) validate no record and count in neither column: the request
journal shows them. Thread-safe; the oldest failures fall out past `store.max_failed_records`, the counts
keep counting.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .decoding import NotJson


@dataclass(frozen=True, slots=True)
class Failure:
    """One record that failed validation: where it sat in its batch and what Mixpanel said about it."""

    index: int
    message: str
    field: str = ""
    insert_id: str = ""
    rule: str | None = None  # the §5.4 rule id (V1...), None for an object-level or profile-update error
    record: Any = None  # as sent (decoded JSON), or the text of an NDJSON line that did not parse
    project_id: int | None = None  # the project it was sent to, when known


@dataclass(frozen=True, slots=True)
class FailedRecord:
    seq: int
    endpoint: str
    request_id: str
    region: str
    received_ms: int
    failure: Failure

    @property
    def project_id(self) -> int | None:
        return self.failure.project_id

    def describe(self) -> dict[str, Any]:
        """The `view=failed` shape (the record unmasked: the control route masks it)."""
        f = self.failure
        return {"seq": self.seq, "endpoint": self.endpoint, "message": f.message, "field": f.field,
                "index": f.index, "insert_id": f.insert_id, "rule": f.rule, "project_id": f.project_id,
                "request_id": self.request_id, "region": self.region, "received_ms": self.received_ms,
                "record": f.record}


OVERSIZE_KEPT_CHARS = 65_536
"""A record refused for its size (up to the whole body) is kept as the start of its JSON text only, so
`store.max_failed_records` of them cannot hold gigabytes."""


def as_sent(record: Any, *, oversize: bool = False) -> Any:
    """What the client sent for one record: an unparseable NDJSON line is kept as its text, an oversize
    record as the first OVERSIZE_KEPT_CHARS characters of its JSON text."""
    if isinstance(record, NotJson):
        return record.line[:OVERSIZE_KEPT_CHARS * 4].decode("utf-8", errors="replace")[:OVERSIZE_KEPT_CHARS]
    if oversize:
        try:
            text = json.dumps(record, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            text = repr(record)
        return text[:OVERSIZE_KEPT_CHARS]
    return record


class FailedRecords:
    def __init__(self, capacity: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._items: deque[FailedRecord] = deque(maxlen=capacity if capacity > 0 else 0)
        self._seq = 0
        self._good: dict[str, int] = {}
        self._bad: dict[str, int] = {}

    def resize(self, capacity: int) -> None:
        with self._lock:
            self._items = deque(self._items, maxlen=max(capacity, 0))

    def record(self, *, endpoint: str, good: int, failures: Iterable[Failure], request_id: str = "",
               region: str = "us", received_ms: int = 0) -> None:
        """Count `good` records that passed validation and keep each failure of one request."""
        with self._lock:
            bad = 0
            for failure in failures:
                bad += 1
                self._seq += 1
                self._items.append(FailedRecord(self._seq, endpoint, request_id, region, received_ms, failure))
            if good:
                self._good[endpoint] = self._good.get(endpoint, 0) + good
            if bad:
                self._bad[endpoint] = self._bad.get(endpoint, 0) + bad

    def rows(self, *, endpoint: str | None = None, project_id: int | None = None) -> list[FailedRecord]:
        with self._lock:
            items = list(self._items)
        return [r for r in items if (endpoint is None or r.endpoint == endpoint)
                and (project_id is None or r.project_id == project_id)]

    def counts(self, endpoint: str | None = None) -> dict[str, int]:
        """`{"good", "bad", "total"}` over every endpoint, or one."""
        with self._lock:
            if endpoint is None:
                good, bad = sum(self._good.values()), sum(self._bad.values())
            else:
                good, bad = self._good.get(endpoint, 0), self._bad.get(endpoint, 0)
        return {"good": good, "bad": bad, "total": good + bad}

    def counts_by_endpoint(self) -> dict[str, dict[str, int]]:
        with self._lock:
            names = sorted(set(self._good) | set(self._bad))
        return {name: self.counts(name) for name in names}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._seq = 0
            self._good.clear()
            self._bad.clear()

    def snapshot(self) -> dict[str, Any]:
        """JSON-able: the kept failures and the counters (for `harness serve --state-dir`)."""
        with self._lock:
            items = [r.describe() for r in self._items]
            return {"failed": items, "good": dict(self._good), "bad": dict(self._bad), "seq": self._seq}

    def restore(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        with self._lock:
            for item in data.get("failed", []):
                failure = Failure(item["index"], item["message"], item.get("field", ""), item.get("insert_id", ""),
                                  item.get("rule"), item.get("record"), item.get("project_id"))
                self._items.append(FailedRecord(item["seq"], item["endpoint"], item.get("request_id", ""),
                                                item.get("region", "us"), item.get("received_ms", 0), failure))
            self._good.update({k: int(v) for k, v in data.get("good", {}).items()})
            self._bad.update({k: int(v) for k, v in data.get("bad", {}).items()})
            self._seq = int(data.get("seq", len(self._items)))
