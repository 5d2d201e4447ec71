"""Hourly request limit of the partner endpoints: a sliding window (braze-cohort-sync.md §4.11)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

WINDOW_S = 3600.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds at which the oldest counted request leaves the window

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class SlidingWindowLimiter:
    """At most ``limit`` counted requests per scope key in any ``WINDOW_S`` simulated seconds.

    A request answered 429 is not counted (§4.4 step 3)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def hit(self, scope_key: str, limit: int, now: float) -> RateDecision:
        hits = self._hits.setdefault(scope_key, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= limit:
            reset = math.ceil(hits[0] + WINDOW_S) if hits else math.ceil(now)
            return RateDecision(False, limit, 0, reset)
        hits.append(now)
        return RateDecision(True, limit, limit - len(hits), math.ceil(hits[0] + WINDOW_S))

    def clear(self) -> None:
        self._hits.clear()
