"""Per-project ingestion rate limit (mixpanel-ingestion.md §11): a sliding window log of (time, bytes,
events) with running sums. O(1) amortised per request, never blocks."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Window:
    entries: deque[tuple[int, int, int]] = field(default_factory=deque)
    bytes: int = 0
    events: int = 0


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[int, _Window] = {}

    def _window(self, project_id: int, now_ms: int, window_ms: int) -> _Window:
        window = self._windows.get(project_id)
        if window is None:
            window = self._windows[project_id] = _Window()
        horizon = now_ms - window_ms
        entries = window.entries
        while entries and entries[0][0] <= horizon:
            _, b, e = entries.popleft()
            window.bytes -= b
            window.events -= e
        return window

    def exceeded(self, project_id: int, now_ms: int, window_ms: int, *, add_bytes: int = 0, add_events: int = 0,
                 bytes_budget: int, events_budget: int) -> bool:
        """Would accepting this much more take the project's window past either budget?"""
        with self._lock:
            window = self._window(project_id, now_ms, window_ms)
            return window.bytes + add_bytes > bytes_budget or window.events + add_events > events_budget

    def record(self, project_id: int, now_ms: int, window_ms: int, n_bytes: int, n_events: int) -> None:
        with self._lock:
            window = self._window(project_id, now_ms, window_ms)
            window.entries.append((now_ms, n_bytes, n_events))
            window.bytes += n_bytes
            window.events += n_events

    def usage(self, project_id: int, now_ms: int, window_ms: int) -> dict[str, int]:
        with self._lock:
            window = self._window(project_id, now_ms, window_ms)
            return {"bytes": window.bytes, "events": window.events, "requests": len(window.entries)}

    def clear(self) -> None:
        with self._lock:
            self._windows = {}
