"""Worker threads of the loopback server: a lane for `/_harness`, and workers lent back during fault waits.

waitress hands each ready connection to one task dispatcher (`add_task(channel)`); `LaneDispatcher` stands
in for it with two of waitress's own thread pools, chosen by the path of the request the connection is about
to run. A pool's `waiting()` marks a worker as waiting in an injected fault: the pool starts a stand-in
thread for that time (waitress's `set_thread_count`), so waits never shrink the pool that serves requests.

A connection whose client has not read its earlier answers (more than the high watermark pending) is not
handed to any pool: it is parked, and the event loop hands it over again once the client has read enough
(`fakes.core.channel`). So clients that pipeline large answers and never read hold no worker.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from waitress.task import ThreadedTaskDispatcher

CONTROL_PREFIX = "/_harness"

log = logging.getLogger("fakes.core.server")


class WorkerPool(ThreadedTaskDispatcher):
    """waitress's thread pool, plus stand-in threads while workers wait in faults."""

    def __init__(self, threads: int, max_stand_ins: int) -> None:
        super().__init__()
        self.base_threads = threads
        self.max_stand_ins = max_stand_ins
        self._stand_ins = 0
        self._stand_in_lock = threading.Lock()
        self._closed = False
        self.set_thread_count(threads)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a wait in a fault: another thread takes this worker's place until the wait ends."""
        with self._stand_in_lock:
            lend = not self._closed and self._stand_ins < self.max_stand_ins
            if lend:
                self._stand_ins += 1
                self.set_thread_count(self.base_threads + self._stand_ins)
        try:
            yield
        finally:
            if lend:
                with self._stand_in_lock:
                    self._stand_ins -= 1
                    if not self._closed:  # after shutdown a new count would start threads again
                        self.set_thread_count(self.base_threads + self._stand_ins)

    @property
    def stand_ins(self) -> int:
        return self._stand_ins

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        with self._stand_in_lock:
            self._closed = True
        return bool(super().shutdown(cancel_pending=cancel_pending, timeout=timeout))


class LaneDispatcher:
    """The task dispatcher waitress sees: `/_harness` requests on the control pool, the rest on the main one."""

    def __init__(self, threads: int, control_threads: int, fault_wait_threads: int) -> None:
        self.main = WorkerPool(threads, fault_wait_threads)
        self.control = WorkerPool(control_threads, 0)  # control routes never wait in faults

    def add_task(self, channel: Any) -> None:
        park = getattr(channel, "park_if_unread", None)
        if park is not None and park():
            return  # handed over again by the event loop once its client reads
        self.pool_for(channel).add_task(channel)

    def pool_for(self, channel: Any) -> WorkerPool:
        requests = getattr(channel, "requests", None)
        path = getattr(requests[0], "path", None) if requests else None
        control = isinstance(path, str) and (path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"))
        return self.control if control else self.main

    def set_thread_count(self, count: int) -> None:
        """waitress's dispatcher interface (the main pool's size)."""
        self.main.base_threads = count
        self.main.set_thread_count(count + self.main.stand_ins)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        main = self.main.shutdown(cancel_pending=cancel_pending, timeout=timeout)
        control = self.control.shutdown(cancel_pending=cancel_pending, timeout=timeout)
        return bool(main and control)
