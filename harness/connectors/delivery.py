"""How a Current delivers: a queue, batches, retries with back-off on the simulated clock, a credential
pause, and the ledger (`DeliveryReport`). The destination (Mixpanel `/import`, a Custom HTTP endpoint) is
a small object that prepares one event and reads one answer; everything about time lives here.

Time: every wait — the flush interval, a back-off, a credential probe, the discard deadline — is an
action on an `Agenda` (the fleet's scheduler), run when the simulated clock passes it. HTTP happens inside
those actions and takes no simulated time. Nothing sleeps.

Delivery is at least once: a batch whose answer was lost is sent again with the same bytes (so the same
`$insert_id`), and the destination's de-duplication makes it one event.
"""

from __future__ import annotations

import gc
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import requests

from harness.connectors.agenda import Agenda
from harness.connectors.report import DELIVERED, DISCARDED, NOT_EXPORTED, REJECTED, DeliveryReport


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with seeded jitter: attempt n (1-based) failed → wait
    `min(base_s * factor**(n-1), max_delay_s) * (1 + jitter * u)`, u uniform in [-1, 1) from the Current's
    seeded random stream; after `max_attempts` the batch goes back to the queue (currents-to-mixpanel.md
    §10 [HD]: base 1 s, at most 5 attempts per batch before re-queueing)."""

    base_s: float = 1.0
    factor: float = 2.0
    max_delay_s: float = 300.0
    max_attempts: int = 5
    jitter: float = 0.1
    requeue_delay_s: float = 60.0
    """After `max_attempts`, the batch waits this long at the head of the queue before a fresh try."""

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.factor < 1 or self.max_delay_s < 0 or self.requeue_delay_s < 0:
            raise ValueError("retry delays must be >= 0 and the factor >= 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.base_s * self.factor ** (attempt - 1), self.max_delay_s)
        return base * (1 + self.jitter * (2 * rng.random() - 1))


class Verdict(Enum):
    """What one answer means for the batch that got it."""

    DELIVERED = "delivered"  # every event arrived (less those in `rejected`)
    SPLIT = "split"  # too large: send it again in halves
    RETRY = "retry"  # transient: back off and send it again
    CREDENTIALS = "credentials"  # the credentials are refused: pause the Current
    REJECTED = "rejected"  # the destination refused the whole batch for good


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    message: str = ""
    rejected: dict[int, str] = field(default_factory=dict)
    """DELIVERED with partial failures: batch index → the destination's message (never resent)."""


@dataclass(frozen=True)
class Prepared:
    """One event ready to send: its encoded bytes, plus what the report shows of it."""

    payload: bytes
    event_id: str | None
    name: str | None


@dataclass(frozen=True)
class Skipped:
    """One event a rule keeps from being exported (counted `not_exported` with `reason`)."""

    reason: str
    event_id: str | None
    name: str | None


class Destination(Protocol):
    """The product-specific half of a Current: how to prepare an event and how to read an answer."""

    def prepare(self, record: Any) -> Prepared | Skipped: ...

    def send(self, session: requests.Session, payloads: Sequence[bytes]) -> tuple[int, bytes]: ...

    def judge(self, status: int, body: bytes, batch_size: int) -> Answer: ...


@dataclass(frozen=True)
class CurrentOptions:
    """Batching and timing of a Current (simulated seconds)."""

    max_batch_events: int = 2000
    max_batch_bytes: int = 10 * 1024 * 1024
    flush_interval_s: float = 5.0
    retry: RetryPolicy = RetryPolicy()
    credential_probe_s: float = 900.0
    credential_window_s: float = 48 * 3600.0
    """Events still queued after the credentials failed this long are discarded (currents-to-mixpanel §10)."""

    def __post_init__(self) -> None:
        if self.max_batch_events < 1 or self.max_batch_bytes < 1:
            raise ValueError("batches must allow at least one event and one byte")
        if self.flush_interval_s < 0 or self.credential_probe_s <= 0 or self.credential_window_s < 0:
            raise ValueError("the flush interval and the credential window must be >= 0, the probe interval > 0")


@dataclass
class _Queued:
    seq: int
    prepared: Prepared
    queued_at: float


class Current:
    """One Currents connector: `submit(events)` queues them, the agenda delivers them as time passes,
    `flush()` delivers what is queued now; `report` accounts for every submitted event.

    At most one wait is pending at a time (the next flush tick, a back-off, a re-queue or a credential
    probe), and batches go out one after another, so the order of requests is fixed by the seed."""

    def __init__(self, destination: Destination, agenda: Agenda, *, options: CurrentOptions | None = None,
                 session: requests.Session | None = None, seed: int | str = 0, name: str = "current",
                 selects: Callable[[Any], bool] | None = None) -> None:
        self.destination = destination
        self.agenda = agenda
        self.options = options or CurrentOptions()
        self.session = session or requests.Session()
        self.name = name
        self.report = DeliveryReport()
        self._selects = selects
        self._rng = random.Random(f"current-jitter:{name}:{seed}")
        self._queue: deque[_Queued] = deque()
        self._wait: tuple[str, Any] | None = None  # (kind, agenda handle) of the one pending wait
        self._credentials_failed_at: float | None = None
        self._closed = False
        # Events may arrive on one thread (a control route) while the clock runs this Current's actions on
        # another: one lock keeps the queue and the ledger consistent. Never held by anything it waits on.
        self._lock = threading.RLock()

    @property
    def owner(self) -> tuple[str, int]:
        """The key this Current's actions carry on the agenda."""
        return ("current", id(self))

    @property
    def paused_since(self) -> float | None:
        """When the credentials started failing, while they still do."""
        return self._credentials_failed_at

    @property
    def waiting_for(self) -> str | None:
        """The pending wait: "flush", "retry", "requeue", "probe", or None when idle."""
        return self._wait[0] if self._wait is not None else None

    # -- input ---------------------------------------------------------------------------------------
    def submit(self, records: Iterable[Any]) -> int:
        """Queue Currents events (any shape the readers give); returns how many were taken in."""
        with self._lock:
            return self._submit(records)

    def _submit(self, records: Iterable[Any]) -> int:
        if self._closed:
            raise RuntimeError(f"{self.name} is closed")
        now = self.agenda.clock.now()
        taken = 0
        # Preparing a large submit allocates millions of acyclic containers; the cyclic collector would
        # rescan everything already queued each time (as fake Mixpanel's /import, it is paused meanwhile).
        collecting = gc.isenabled()
        gc.disable()
        try:
            taken = self._admit_all(records, now)
        finally:
            if collecting:
                gc.enable()
        if self._queue and self._wait is None:
            self._wait_for("flush", self.options.flush_interval_s, self._drain)
        return taken

    def _admit_all(self, records: Iterable[Any], now: float) -> int:
        taken = 0
        for record in records:
            seq = self.report.admit()
            taken += 1
            if self._selects is not None and not self._selects(record):
                event_type = record.get("event_type") if isinstance(record, dict) else None
                event_id = record.get("id") if isinstance(record, dict) else None
                self.report.settle(seq, NOT_EXPORTED, event_id=text_or_none(event_id), name=text_or_none(event_type),
                                   reason="type_not_selected")
                continue
            prepared = self.destination.prepare(record)
            if isinstance(prepared, Skipped):
                self.report.settle(seq, NOT_EXPORTED, event_id=prepared.event_id, name=prepared.name,
                                   reason=prepared.reason)
            else:
                self._queue.append(_Queued(seq, prepared, now))
        return taken

    def flush(self) -> None:
        """Deliver what is queued now, without waiting for the flush tick. A back-off, re-queue or credential
        pause in progress is not cut short: those batches still follow the clock."""
        with self._lock:
            if self._wait is not None and self._wait[0] != "flush":
                return
            self._drain()

    def close(self) -> None:
        """Stop: cancel this Current's pending actions; queued events stay pending in the report."""
        with self._lock:
            self._closed = True
            self._wait = None
            self.agenda.cancel(self.owner)

    # -- delivery ------------------------------------------------------------------------------------
    def _wait_for(self, kind: str, delay: float, action: Callable[[], None]) -> None:
        def run() -> None:
            with self._lock:
                self._wait = None
                action()

        handle = self.agenda.call_later(delay, run, label=f"{self.name}: {kind}", owner=self.owner)
        self._wait = (kind, handle)

    def _drain(self) -> None:
        """Send batch after batch from the head of the queue until it is empty or a wait begins."""
        if self._wait is not None:  # flush() before the tick: the tick has nothing left to do
            self._wait[1].cancel()
            self._wait = None
        while self._queue and self._wait is None:
            if self._credentials_failed_at is not None:
                self._wait_for("probe", self.options.credential_probe_s, self._probe)
                return
            self._send(self._take_batch(), attempt=1)

    def _take_batch(self) -> list[_Queued]:
        batch: list[_Queued] = []
        size = 2  # the enclosing brackets or braces
        while self._queue and len(batch) < self.options.max_batch_events:
            item_size = len(self._queue[0].prepared.payload) + 1
            if batch and size + item_size > self.options.max_batch_bytes:
                break
            batch.append(self._queue.popleft())
            size += item_size
        return batch

    def _send(self, batch: list[_Queued], attempt: int) -> None:
        """One request for `batch`; its outcome settles events, or queues them again and starts a wait."""
        self.report.requests += 1
        try:
            status, body = self.destination.send(self.session, [q.prepared.payload for q in batch])
            answer = self.destination.judge(status, body, len(batch))
        except requests.RequestException as exc:
            answer = Answer(Verdict.RETRY, f"{type(exc).__name__}: {exc}")
        if answer.verdict is Verdict.DELIVERED:
            self._credentials_failed_at = None
            for index, item in enumerate(batch):
                reason = answer.rejected.get(index)
                self._settle(item, DELIVERED if reason is None else REJECTED, reason)
        elif answer.verdict is Verdict.REJECTED:
            for item in batch:
                self._settle(item, REJECTED, answer.message)
        elif answer.verdict is Verdict.SPLIT:
            if len(batch) == 1:
                self._settle(batch[0], REJECTED, answer.message)
            else:
                half = len(batch) // 2
                self._queue.extendleft(reversed(batch[half:]))  # the second half waits at the head
                self._send(batch[:half], attempt)
        elif answer.verdict is Verdict.CREDENTIALS:
            self._queue.extendleft(reversed(batch))
            now = self.agenda.clock.now()
            if self._credentials_failed_at is None:
                self._credentials_failed_at = now
            self._discard_expired(now)
            if self._queue:
                self._wait_for("probe", self.options.credential_probe_s, self._probe)
        else:  # RETRY
            self.report.retries += 1
            if attempt < self.options.retry.max_attempts:
                delay = self.options.retry.delay(attempt, self._rng)
                self._wait_for("retry", delay, lambda: self._resend(batch, attempt + 1))
            else:
                self._queue.extendleft(reversed(batch))
                self._wait_for("requeue", self.options.retry.requeue_delay_s, self._drain)

    def _resend(self, batch: list[_Queued], attempt: int) -> None:
        self._send(batch, attempt)
        if self._wait is None:
            self._drain()

    def _probe(self) -> None:
        """Credentials refused earlier: try the head batch again; on success the Current drains the rest."""
        self._discard_expired(self.agenda.clock.now())
        if self._queue:
            self._send(self._take_batch(), attempt=1)
        if self._wait is None:
            self._drain()

    def _settle(self, item: _Queued, bucket: str, reason: str | None = None) -> None:
        self.report.settle(item.seq, bucket, event_id=item.prepared.event_id, name=item.prepared.name,
                           reason=reason)

    def _discard_expired(self, now: float) -> None:
        """Queued events whose time under refused credentials passed the window are discarded for good
        (checked at each credential probe, so at most one probe interval late)."""
        since = self._credentials_failed_at
        if since is None:
            return
        window = self.options.credential_window_s
        kept: deque[_Queued] = deque()
        for item in self._queue:
            if now - max(item.queued_at, since) > window:
                self._settle(item, DISCARDED, f"credentials refused for more than {window / 3600:g} h")
            else:
                kept.append(item)
        self._queue = kept


def text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
