"""Cohort write lock: overlapping writes to one cohort get 423 (braze-cohort-sync.md §4.12)."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from .errors import ResourceLocked


class CohortLocks:
    """Cohorts with a write in flight. Both partner endpoints share it; it is never waited on."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy: set[Hashable] = set()

    @contextmanager
    def hold(self, key: Hashable, detect: bool = True) -> Iterator[None]:
        if not detect:
            yield
            return
        with self._mutex:
            if key in self._busy:
                raise ResourceLocked()
            self._busy.add(key)
        try:
            yield
        finally:
            with self._mutex:
                self._busy.discard(key)

    def busy(self) -> set[Hashable]:
        with self._mutex:
            return set(self._busy)
