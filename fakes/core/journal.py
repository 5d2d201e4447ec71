"""The request journal: one entry per request a fake answered, newest last, capped in size.

Entries are plain JSON-able dicts. The core fills the transport fields (method, path, query, headers, body,
status, response body, fault); a fake adds its own (region, dialect, decoded payload, counters) while the
request runs, through `fakes.core.app.annotate(...)`. Everything is masked before it is stored.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

DEFAULT_CAPACITY = 1000


class RequestJournal:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("journal capacity must be >= 1")
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._total = 0

    @property
    def capacity(self) -> int:
        return self._entries.maxlen or 0

    def resize(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("journal capacity must be >= 1")
        with self._lock:
            self._entries = deque(self._entries, maxlen=capacity)

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Store `entry` (its `id` is assigned if missing). The oldest entry falls out when full."""
        with self._lock:
            if "id" not in entry:
                entry["id"] = next(self._ids)
            self._entries.append(entry)
            self._total += 1
        return entry

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest `limit` entries (all when None), oldest first."""
        with self._lock:
            items = list(self._entries)
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return items

    def find(self, **fields: Any) -> list[dict[str, Any]]:
        """Entries whose fields equal the given values (e.g. `find(path="/import", status=200)`)."""
        return [e for e in self.entries() if all(e.get(k) == v for k, v in fields.items())]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def total_recorded(self) -> int:
        """How many entries were ever appended since the last clear (including those that fell out)."""
        with self._lock:
            return self._total

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._ids = itertools.count(1)
            self._total = 0

    def extend(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in entries:
            self.append(dict(entry))
