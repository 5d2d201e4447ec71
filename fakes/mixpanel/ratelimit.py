"""Per-project ingestion rate limit (mixpanel-ingestion.md §11): a sliding window log of (time, bytes,
events) with running sums, O(1) amortised per request and never blocking, and the gate the endpoints
pass through (refuse a request, count an accepted one). The raw export's query limits (`ExportRateLimits`,
an hour and a second per project) use the same window log."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from .config import MixpanelConfig
from .errors import EXPORT_RATE_LIMITED, ExportRateLimited, RateLimitExceeded


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


def rate_limited(limiter: RateLimiter, cfg: MixpanelConfig, endpoint: str, project_ids: list[int], now_ms: int, *,
                 n_bytes: int, n_events: int) -> RateLimitExceeded | None:
    """§11: refused when accepting the request would take a project's window past either budget."""
    if endpoint not in cfg.ratelimit_endpoints:
        return None
    window_ms = int(cfg.ratelimit_window_s * 1000)
    for pid in project_ids:
        if limiter.exceeded(pid, now_ms, window_ms, add_bytes=n_bytes, add_events=n_events,
                            bytes_budget=cfg.ratelimit_bytes_per_window,
                            events_budget=cfg.ratelimit_events_per_window):
            return RateLimitExceeded()
    return None


def count_toward_limit(limiter: RateLimiter, cfg: MixpanelConfig, endpoint: str, project_ids: list[int],
                       now_ms: int, *, n_bytes: int, n_events: int, invalid: bool) -> None:
    if endpoint not in cfg.ratelimit_endpoints or (invalid and not cfg.ratelimit_count_invalid):
        return
    window_ms = int(cfg.ratelimit_window_s * 1000)
    for pid in project_ids:
        limiter.record(pid, now_ms, window_ms, n_bytes, n_events)


class ExportRateLimits:
    """The raw export's documented limits: queries per hour and per second, per project (each its own log)."""

    _HOUR_MS, _SECOND_MS = 3_600_000, 1000

    def __init__(self) -> None:
        self._hour = RateLimiter()
        self._second = RateLimiter()

    def refuse(self, cfg: MixpanelConfig, project_id: int, now_ms: int, request: str) -> ExportRateLimited | None:
        """Counts the query when it is allowed; refused queries count toward nothing (never blocks)."""
        if not cfg.export_ratelimit_enforce:
            return None
        budgets = ((self._hour, self._HOUR_MS, cfg.export_ratelimit_per_hour, "hour"),
                   (self._second, self._SECOND_MS, cfg.export_ratelimit_per_second, "second"))
        for limiter, window_ms, budget, period in budgets:
            if limiter.exceeded(project_id, now_ms, window_ms, add_events=1, bytes_budget=0, events_budget=budget):
                return ExportRateLimited(EXPORT_RATE_LIMITED, request, limit=budget, period=period)
        for limiter, window_ms, _, _ in budgets:
            limiter.record(project_id, now_ms, window_ms, 0, 1)
        return None

    def clear(self) -> None:
        self._hour.clear()
        self._second.clear()
