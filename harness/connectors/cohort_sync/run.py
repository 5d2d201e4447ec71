"""One run of a sync (braze-cohort-sync.md §8.5, §8.6): the 10 million check, snapshot expiry, the
`/cohorts` declaration, the change plan, then the requests one after another with retries on the agenda.

Time: a request is received at the moment it is sent and its answer comes `mixpanel.request_latency_s`
later, when the next request goes out; a transient failure waits `mixpanel.retry.delays_s[attempt - 1]`
more before the same request is sent again. So a run's duration is the latencies plus the retry waits
(§8.4), and with no latency and no retries it runs within one instant. A run that stops early (retries
exhausted, a pause, the sync stopped) leaves the snapshot as it was: the next run starts from the top.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from harness.connectors.agenda import Agenda
from harness.connectors.cohort_sync.braze_api import BrazeAnswer, BrazeCohortApi
from harness.connectors.cohort_sync.config import CohortSyncConfig
from harness.connectors.cohort_sync.members import CohortMembers
from harness.connectors.cohort_sync.model import Connection, Sync
from harness.connectors.cohort_sync.plan import ChangePlan, batches, plan_changes, plan_emptying
from harness.connectors.cohort_sync.records import CHANGE, DECLARE, RequestRecord, RunOutcome, RunRecord


@dataclass(frozen=True)
class _Request:
    endpoint: str
    batch: int | None = None
    ids: list[str] | None = None
    should_remove: bool = False


def limit_reason(limit: int) -> str:
    """§8.5 step 1, harness text: `cohort exceeds 10,000,000 users`."""
    return f"cohort exceeds {limit:,} users"


def iso_seconds(t: float) -> str:
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SyncRun:
    """One run; `start()` sends what it can now and the agenda carries the rest. `on_done(run)` is called
    once, when the outcome is known (`record.outcome`), at the simulated time the run ends."""

    def __init__(self, record: RunRecord, sync: Sync, connection: Connection, *, cohorts: CohortMembers,
                 config: CohortSyncConfig, api: BrazeCohortApi, agenda: Agenda, identifier: str,
                 on_done: Callable[[SyncRun], None], keep_rows: bool = True,
                 lock: threading.RLock | None = None) -> None:
        self.record = record
        self.sync = sync
        self.connection = connection
        self.cohorts = cohorts
        self.config = config
        self.api = api
        self.agenda = agenda
        self.identifier = identifier
        self.on_done = on_done
        self.keep_rows = keep_rows
        self.lock = lock or threading.RLock()
        """Held while the run works (the engine's lock: control calls from other threads wait for it)."""
        self.plan: ChangePlan | None = None
        self.declaring_name: str | None = None
        self._requests: list[_Request] = []
        self._index = 0
        self._attempt = 1
        self._wait_s = 0.0
        self._owner = ("cohort-sync-run", record.run_id)

    @property
    def now(self) -> float:
        return self.agenda.clock.now()

    @property
    def braze_cohort_id(self) -> str:
        return self.config.braze_cohort_id(self.sync.cohort_id)

    def start(self) -> None:
        self._guarded(self._start)

    def _resume(self) -> None:
        self._guarded(self._step)

    def _guarded(self, work: Callable[[], None]) -> None:
        """Run `work` under the lock. If it raises (a bug, a `CohortMembers` that fails), the run ends as
        `error` so the connection's other syncs go on, and the exception goes on to the caller (the
        scheduler keeps it in `failures`)."""
        with self.lock:
            try:
                work()
            except Exception as exc:
                if self.record.outcome is None:
                    self._finish("error", f"{type(exc).__name__}: {exc}")
                raise

    def _start(self) -> None:
        record, sync, config = self.record, self.sync, self.config
        if record.kind == "empty":
            self.plan = plan_emptying(sync.snapshot)
        else:
            count = self.cohorts.count(sync.cohort_id, self.now)
            if count > config.max_cohort_users:
                self._finish("paused", limit_reason(config.max_cohort_users))
                return
            if sync.snapshot is not None and self.now - sync.snapshot.taken_at > config.snapshot_ttl_s:
                sync.snapshot = None  # §8.7: expired; this run is full and cannot send removals
            info = self.cohorts.cohort(sync.cohort_id, self.now)
            name = info.name if info is not None else str(sync.cohort_id)
            renamed = name != sync.declared_name and config.rename_propagation != "never"
            if sync.declared_name is None or renamed or config.declare_every_run:
                self.declaring_name = name
                self._requests.append(_Request(DECLARE))
            self.plan = plan_changes(self.cohorts.members(sync.cohort_id, self.now), self.identifier,
                                     sync.snapshot, diff_key=config.diff_key)
            record.kind = self.plan.kind
        plan = self.plan
        record.row_source = plan.rows if self.keep_rows else None
        record.eligible, record.not_eligible = len(plan.eligible), len(plan.not_eligible)
        record.adds, record.removes = len(plan.adds), len(plan.removes)
        for index, batch in enumerate(batches(plan, config.batch_size, config.batch_order)):
            self._requests.append(_Request(CHANGE, index, batch.ids, batch.should_remove))
        if not (plan.adds or plan.removes) and config.send_empty_runs and record.kind != "empty":
            self._requests.append(_Request(CHANGE, 0, None))
        self._step()

    def _step(self) -> None:
        """Send requests until the run ends or has to wait (latency, a retry delay)."""
        while True:
            if self.record.kind != "empty" and self.sync.state != "active":
                self._finish("stopped", self.sync.stop_reason or self.sync.pause_reason or self.sync.state)
                return
            if self._index >= len(self._requests):
                self._finish("success")
                return
            request = self._requests[self._index]
            answer = self._send(request)
            latency = self.config.request_latency_s
            if answer.ok:
                if request.endpoint == DECLARE:
                    self.sync.declared_name = self.declaring_name
                self._index += 1
                self._attempt, self._wait_s = 1, 0.0
                delay = latency
            elif self.config.is_transient(answer.status):
                delays = self.config.retry_delays_s
                if self._attempt > len(delays):
                    self._later(latency, "failed_transient", answer.message)
                    return
                self._wait_s = delays[self._attempt - 1]
                self._attempt += 1
                delay = latency + self._wait_s
            else:
                self._later(latency, "paused", answer.message)
                return
            if delay > 0:
                self.agenda.call_later(delay, self._resume, label=f"cohort sync {self.sync.sync_id}: next request",
                                       owner=self._owner)
                return

    def _send(self, request: _Request) -> BrazeAnswer:
        conn = self.connection
        sent_at = self.now
        if request.endpoint == DECLARE:
            assert self.declaring_name is not None
            answer = self.api.declare(conn.braze_url, conn.data_import_key, self.braze_cohort_id,
                                      self.declaring_name, iso_seconds(self.sync.created_at))
        else:
            answer = self.api.change(conn.braze_url, conn.data_import_key, self.braze_cohort_id, request.ids,
                                     request.should_remove)
        self.record.requests.append(RequestRecord(
            request.endpoint, request.batch, self._attempt, sent_at, self._wait_s, answer.status, answer.message,
            len(request.ids or ()), request.should_remove))
        return answer

    def _later(self, delay: float, outcome: RunOutcome, reason: str) -> None:
        """End the run when the last answer arrives (`delay` = the request latency)."""
        if delay > 0:
            self.agenda.call_later(delay, lambda: self._guarded(lambda: self._finish(outcome, reason)),
                                   label=f"cohort sync {self.sync.sync_id}: last answer", owner=self._owner)
        else:
            self._finish(outcome, reason)

    def _finish(self, outcome: RunOutcome, reason: str = "") -> None:
        self.record.outcome = outcome
        self.record.reason = reason
        self.record.finished_at = self.now
        self.on_done(self)

    def cancel(self) -> None:
        """Drop the run's pending waits (the engine closing)."""
        self.agenda.cancel(self._owner)
