"""`CohortSyncEngine`: Mixpanel's Braze cohort export on the simulated clock (braze-cohort-sync.md §8).

A project's connections and syncs, their schedule and their lifecycle:

- a dynamic sync is due at `created_at + k * interval` (k = 0 is the creation run, made at once); each due
  time is an action on the `Agenda` (the fleet's scheduler), so runs happen as the clock passes them;
- the syncs of one connection run one at a time, in due-time order; due times missed while a run was busy
  or while the sync was paused collapse into one run (§8.4);
- a run's outcome moves the sync (§8.6): success keeps it active (a one-time export completes),
  `failed_transient` waits for the next due time (a one-time export fails), a pause sets `pause_reason`
  and notifies the sync's creators;
- rename, delete, stop, disconnect, reconnect and resume follow §8.9 and the `mixpanel.*` switches.

It speaks only HTTP, to the connection's Braze URL, through one `requests.Session`: it never imports
`fakes/`, so it drives fake Braze in-process or on loopback, or a real Braze-compatible service.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from harness.connectors.agenda import Agenda
from harness.connectors.cohort_sync.braze_api import BrazeCohortApi, BrazePartner
from harness.connectors.cohort_sync.config import CohortSyncConfig
from harness.connectors.cohort_sync.members import CohortMembers
from harness.connectors.cohort_sync.model import (
    Connection,
    DynamicSyncLimitExceeded,
    GroupCohortNotSupported,
    Snapshot,
    Sync,
    SyncType,
    UnknownCohort,
)
from harness.connectors.cohort_sync.records import Notification, RunKind, RunRecord
from harness.connectors.cohort_sync.run import SyncRun

COHORT_DELETED = "cohort deleted"
SYNC_STOPPED = "sync stopped"
DISCONNECTED = "connection disconnected"


@dataclass
class _Line:
    """The queue of one connection: the run under way and the syncs waiting for it (§8.4)."""

    running: SyncRun | None = None
    waiting: list[tuple[float, int, str, RunKind | None]] = field(default_factory=list)
    """(due time, order, sync id, forced kind: "empty" for an emptying run, None for a normal one)."""


MAX_INTERVAL_S = 366 * 86_400
"""A sync interval beyond a year is a typo (1e308 would put every later run past the clock's year 9999)."""

class CohortSyncEngine:
    """Connections and syncs of one Mixpanel project, run on an agenda:

        engine = CohortSyncEngine(fleet.scheduler, cohorts)
        connection = engine.connect("harness-data-import-key", "https://rest.iad-01.braze.com")
        sync = engine.create_sync(7, connection.connection_id)        # first (full) run now
        fleet.clock.advance(7200)                                     # the next (diff) run
        sync.last_run.outcome, sync.last_run.rows
    """

    def __init__(self, agenda: Agenda, cohorts: CohortMembers, *, config: CohortSyncConfig | None = None,
                 session: requests.Session | None = None, partner: BrazePartner | None = None,
                 timeout_s: float = 30.0, project_id: str = "1", keep_rows: bool = True) -> None:
        self.agenda = agenda
        self.cohorts = cohorts
        self.config = config or CohortSyncConfig()
        self.api = BrazeCohortApi(session or requests.Session(), partner or BrazePartner(), timeout_s=timeout_s)
        self.project_id = project_id
        self.keep_rows = keep_rows
        """False: run records keep counts and requests but no per-profile rows (very large cohorts)."""
        self.connections: dict[str, Connection] = {}
        self.syncs: dict[str, Sync] = {}
        self.notifications: list[Notification] = []
        self._lines: dict[str, _Line] = {}
        self._ticks: dict[str, Any] = {}
        # the next ids, taken only once a connection or sync is made (a refused one leaves the numbering alone)
        self._next_connection = 1
        self._next_sync = 1
        self._order = itertools.count()
        self._lock = threading.RLock()

    @property
    def now(self) -> float:
        return self.agenda.clock.now()

    # -- connections ---------------------------------------------------------------------------------
    def connect(self, data_import_key: str, braze_url: str, *, user_id_property: str | None = None,
                name: str = "Braze") -> Connection:
        """A new connection: the Data Import Key from the Braze tile and the Braze instance's REST URL."""
        with self._lock:
            connection_id = f"c{self._next_connection}"
            connection = Connection(connection_id, name, data_import_key, braze_url, user_id_property)
            self._next_connection += 1
            self.connections[connection.connection_id] = connection
            self._lines[connection.connection_id] = _Line()
            return connection

    def disconnect(self, connection_id: str) -> None:
        """§8.9: every live sync of the connection stops as `mixpanel.on_sync_stop` says (`freeze`: nothing
        sent); `reconnect` brings them back."""
        with self._lock:
            connection = self.connection(connection_id)
            for sync in self._syncs_of(connection_id):
                if sync.state in ("active", "paused"):
                    self._stop(sync, DISCONNECTED, self.config.on_sync_stop)
            connection.status = "disconnected"

    def reconnect(self, connection_id: str, *, data_import_key: str | None = None,
                  braze_url: str | None = None) -> None:
        """§8.9: a new key (and instance, if given); paused syncs and those the disconnect stopped are active
        again and run at their next due time (`mixpanel.resume = immediate`: now), snapshot kept within TTL."""
        with self._lock:
            connection = self.connection(connection_id)
            changed = Connection(connection_id, connection.name, data_import_key or connection.data_import_key,
                                 braze_url or connection.braze_url, connection.user_id_property)
            connection.data_import_key, connection.braze_url = changed.data_import_key, changed.braze_url
            connection.status = "connected"
            for sync in self._syncs_of(connection_id):
                if sync.state == "paused" or (sync.state == "stopped" and sync.stop_reason == DISCONNECTED):
                    self._activate(sync)

    def connection(self, connection_id: str) -> Connection:
        try:
            return self.connections[connection_id]
        except KeyError:
            raise KeyError(f"no connection {connection_id!r}") from None

    # -- syncs ---------------------------------------------------------------------------------------
    def create_sync(self, cohort_id: int, connection_id: str, *, type: SyncType = "dynamic",
                    created_by: tuple[str, ...] = ("project-admin",), interval_s: float | None = None) -> Sync:
        """A one-time export or a dynamic sync of the cohort over the connection; its first (full) run
        starts now, or when the connection's run under way ends. `interval_s` (dynamic syncs) overrides
        `mixpanel.dynamic_interval_s` for this sync."""
        if interval_s is not None and not (isinstance(interval_s, (int, float)) and not isinstance(interval_s, bool)
                                           and 0 < interval_s <= MAX_INTERVAL_S):
            raise ValueError(f"interval_s must be a number of seconds in (0, {MAX_INTERVAL_S}], got {interval_s!r}")
        with self._lock:
            connection = self.connection(connection_id)
            if connection.status != "connected":
                raise ValueError(f"connection {connection_id} is disconnected: reconnect it first")
            if type not in ("one_time", "dynamic"):
                raise ValueError(f"a sync is one_time or dynamic, got {type!r}")
            info = self.cohorts.cohort(cohort_id, self.now)
            if info is None or info.deleted:
                raise UnknownCohort(f"no cohort {cohort_id} in project {self.project_id}")
            if info.kind == "group":
                raise GroupCohortNotSupported(f"cohort {cohort_id} is a group cohort; only user cohorts export")
            if type == "dynamic":
                live = sum(1 for s in self.syncs.values() if s.counts_toward_limit)
                if live >= self.config.dynamic_sync_limit:
                    raise DynamicSyncLimitExceeded(
                        f"project {self.project_id} has {live} dynamic syncs (limit "
                        f"{self.config.dynamic_sync_limit}); one-time exports are still allowed")
            sync = Sync(f"s{self._next_sync}", cohort_id, connection_id, type, self.now, tuple(created_by),
                        interval_s=float(interval_s) if interval_s is not None else None)
            self._next_sync += 1
            self.syncs[sync.sync_id] = sync
            if type == "dynamic":
                self._schedule_tick(sync, 1)
            self._due(sync, self.now)
            return sync

    def stop_sync(self, sync_id: str) -> None:
        """§8.9: the sync is removed (`stopped`); `mixpanel.on_sync_stop = empty` first removes its snapshot."""
        with self._lock:
            sync = self.sync(sync_id)
            if sync.state in ("active", "paused"):
                self._stop(sync, SYNC_STOPPED, self.config.on_sync_stop)

    def resume(self, sync_id: str) -> None:
        """A paused sync is active again; it runs at its next due time (`mixpanel.resume`: or now)."""
        with self._lock:
            sync = self.sync(sync_id)
            if sync.state != "paused":
                raise ValueError(f"sync {sync_id} is {sync.state}, not paused")
            self._activate(sync)

    def cohort_renamed(self, cohort_id: int) -> None:
        """Tell the engine a cohort was renamed. Only `rename_propagation = immediate` acts on it (a run now,
        whose first request is the `/cohorts` call); `next_run` finds the new name at the next run."""
        with self._lock:
            if self.config.rename_propagation == "immediate":
                for sync in self.syncs.values():
                    if sync.cohort_id == cohort_id and sync.type == "dynamic" and sync.state == "active":
                        self._due(sync, self.now)

    def cohort_deleted(self, cohort_id: int) -> None:
        """Tell the engine a cohort was deleted: its syncs stop now (`mixpanel.on_cohort_delete`) rather
        than at their next due time, where the engine would find out by itself."""
        with self._lock:
            for sync in self.syncs.values():
                if sync.cohort_id == cohort_id and sync.state in ("active", "paused"):
                    self._stop(sync, COHORT_DELETED, self.config.on_cohort_delete)

    def sync(self, sync_id: str) -> Sync:
        try:
            return self.syncs[sync_id]
        except KeyError:
            raise KeyError(f"no sync {sync_id!r}") from None

    def runs(self, sync_id: str) -> list[RunRecord]:
        return list(self.sync(sync_id).runs)

    def next_due(self, sync_id: str) -> float | None:
        """The next due time of a dynamic sync (None once it is stopped or for a one-time export)."""
        sync = self.sync(sync_id)
        handle = self._ticks.get(sync_id)
        return getattr(handle, "when", None) if handle is not None and sync.type == "dynamic" else None

    # -- driving the clock ---------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move the agenda's clock on (everything due on the way runs, in time order)."""
        self._movable_clock().advance(seconds)

    def run_until(self, t: float) -> None:
        self._movable_clock().set(t)

    def close(self) -> None:
        """Cancel every pending due time and run wait of this engine."""
        with self._lock:
            for handle in self._ticks.values():
                handle.cancel()
            self._ticks.clear()
            for line in self._lines.values():
                if line.running is not None:
                    line.running.cancel()
                    line.running = None
                line.waiting.clear()

    # -- schedule ------------------------------------------------------------------------------------
    def interval_of(self, sync: Sync) -> float:
        """A dynamic sync's interval: its own, else `mixpanel.dynamic_interval_s` (§8.3, default 7,200 s)."""
        return sync.interval_s if sync.interval_s is not None else self.config.dynamic_interval_s

    def _schedule_tick(self, sync: Sync, k: int) -> None:
        when = sync.created_at + k * self.interval_of(sync)
        self._ticks[sync.sync_id] = self.agenda.call_at(
            when, lambda: self._tick(sync, k, when), label=f"cohort sync {sync.sync_id}: due #{k}",
            owner=("cohort-sync-tick", id(self), sync.sync_id))

    def _tick(self, sync: Sync, k: int, when: float) -> None:
        with self._lock:
            if sync.state not in ("active", "paused"):
                return
            self._schedule_tick(sync, k + 1)
            self._due(sync, when)

    def _due(self, sync: Sync, when: float, kind: RunKind | None = None) -> None:
        """The sync is due at `when`: queue it on its connection unless it already waits (collapse)."""
        if kind is None and (sync.state != "active" or sync.due_since is not None):
            return
        if kind is None:
            sync.due_since = when
        self._lines[sync.connection_id].waiting.append((when, next(self._order), sync.sync_id, kind))
        self._start_next(sync.connection_id)

    def _start_next(self, connection_id: str) -> None:
        line = self._lines[connection_id]
        while line.running is None and line.waiting:
            entry = min(line.waiting)
            line.waiting.remove(entry)
            _, _, sync_id, kind = entry
            sync = self.syncs[sync_id]
            if kind is None:
                sync.due_since = None
                if sync.state != "active":
                    continue
                info = self.cohorts.cohort(sync.cohort_id, self.now)
                if info is None or info.deleted:
                    self._stop(sync, COHORT_DELETED, self.config.on_cohort_delete)
                    continue
            self._start_run(sync, kind or "diff")

    def _start_run(self, sync: Sync, kind: RunKind) -> None:
        connection = self.connections[sync.connection_id]
        record = RunRecord(f"{sync.sync_id}-r{len(sync.runs) + 1}", sync.sync_id, kind, self.now)
        sync.runs.append(record)
        identifier = connection.user_id_property or self.config.identifier_property
        run = SyncRun(record, sync, connection, cohorts=self.cohorts, config=self.config, api=self.api,
                      agenda=self.agenda, identifier=identifier, on_done=self._done, keep_rows=self.keep_rows,
                      lock=self._lock)
        self._lines[sync.connection_id].running = run
        run.start()

    def _done(self, run: SyncRun) -> None:
        with self._lock:
            sync, record = run.sync, run.record
            if record.outcome == "success":
                if record.kind == "empty":
                    sync.snapshot = None
                elif run.plan is not None:
                    sync.snapshot = Snapshot(run.plan.eligible, record.started_at, run.plan.export_ids)
                if sync.type == "one_time" and sync.state == "active":
                    sync.state = "completed"
            elif record.outcome == "failed_transient" and sync.type == "one_time":
                sync.state = "failed"
            elif record.outcome == "paused":
                self._pause(sync, record.reason)
            line = self._lines[sync.connection_id]
            if line.running is run:
                line.running = None
            self._start_next(sync.connection_id)

    # -- lifecycle -----------------------------------------------------------------------------------
    def _pause(self, sync: Sync, reason: str) -> None:
        paused = self._syncs_of(sync.connection_id) if self.config.pause_scope == "connection" else [sync]
        for each in paused:
            if each.state == "active":
                each.state, each.pause_reason = "paused", reason
                self.notifications.append(Notification(self.now, "sync_paused", each.sync_id, each.created_by,
                                                       reason))

    def _stop(self, sync: Sync, reason: str, how: str) -> None:
        sync.state, sync.stop_reason = "stopped", reason
        handle = self._ticks.pop(sync.sync_id, None)
        if handle is not None:
            handle.cancel()
        if how == "empty" and sync.snapshot is not None:
            self._due(sync, self.now, kind="empty")

    def _activate(self, sync: Sync) -> None:
        was_stopped = sync.state == "stopped"
        sync.state, sync.pause_reason, sync.stop_reason = "active", None, None
        if sync.type == "dynamic" and (was_stopped or sync.sync_id not in self._ticks):
            elapsed = self.now - sync.created_at
            k = int(elapsed // self.interval_of(sync)) + 1
            self._schedule_tick(sync, k)
        if self.config.resume == "immediate" or sync.type == "one_time":
            self._due(sync, self.now)

    def _syncs_of(self, connection_id: str) -> list[Sync]:
        return [s for s in self.syncs.values() if s.connection_id == connection_id]

    def _movable_clock(self) -> Any:
        clock = self.agenda.clock
        if not (hasattr(clock, "advance") and hasattr(clock, "set")):
            raise TypeError("the agenda's clock cannot be moved from here; move it where it is owned")
        return clock


