"""What a run leaves behind (braze-cohort-sync.md §8.10): one `RunRecord` per run with a row per considered
profile (like Mixpanel's per-sync CSV: add / remove / no-op, plus not_eligible) and every request sent
(endpoint, batch index, attempt, status, Braze's message, the wait before it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

RunKind = Literal["full", "diff", "empty"]
"""`empty`: the removes of the snapshot sent when a cohort is deleted or a sync stopped with `empty`."""
RunOutcome = Literal["success", "failed_transient", "paused", "stopped", "error"]
"""`stopped`: the sync was stopped (or its connection disconnected) while this run was under way;
`error`: the engine itself raised (its exception is in the scheduler's `failures`); the sync stays as it was."""
Operation = Literal["add", "remove", "no-op", "not_eligible"]

DECLARE = "cohorts"
CHANGE = "cohorts/users"
"""Endpoint names of the request list: `POST …/cohorts` and `POST …/cohorts/users`."""


class ProfileRow(NamedTuple):
    """One considered profile of a run (a tuple: a full run of a million members keeps a million)."""

    distinct_id: str
    export_id: str | None
    operation: Operation


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request of a run. `batch` is the index in send order among the run's `/cohorts/users`
    requests (None for `/cohorts`); `attempt` counts from 1; `status` is None on a network error."""

    endpoint: str
    batch: int | None
    attempt: int
    sent_at: float
    wait_s: float
    status: int | None
    message: str
    ids: int = 0
    should_remove: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "batch": self.batch, "attempt": self.attempt, "sent_at": self.sent_at,
                "wait_s": self.wait_s, "status": self.status, "message": self.message, "ids": self.ids,
                "should_remove": self.should_remove}


@dataclass
class RunRecord:
    run_id: str
    sync_id: str
    kind: RunKind
    started_at: float
    finished_at: float | None = None
    outcome: RunOutcome | None = None
    reason: str = ""
    requests: list[RequestRecord] = field(default_factory=list)
    eligible: int = 0
    not_eligible: int = 0
    adds: int = 0
    removes: int = 0
    row_source: Callable[[], list[ProfileRow]] | None = field(default=None, repr=False)
    """Builds `rows` when they are first read (None: the engine keeps no rows, `keep_rows=False`)."""
    _rows: list[ProfileRow] | None = field(default=None, repr=False)

    @property
    def rows(self) -> list[ProfileRow]:
        """One row per considered profile (§8.2), built on first read."""
        if self._rows is None:
            self._rows = self.row_source() if self.row_source is not None else []
            self.row_source = None
        return self._rows

    @property
    def counts(self) -> dict[str, int]:
        """eligible and not_eligible profiles; adds and removes (export ids sent); no_ops (eligible profiles
        whose id was not added: each added id has exactly one `add` row)."""
        return {"eligible": self.eligible, "not_eligible": self.not_eligible, "adds": self.adds,
                "removes": self.removes, "no_ops": self.eligible - self.adds if self.kind != "empty" else 0}

    def row(self, distinct_id: str) -> ProfileRow:
        for row in self.rows:
            if row.distinct_id == distinct_id:
                return row
        raise KeyError(f"run {self.run_id} considered no profile {distinct_id!r}")


    def to_json(self, *, rows: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "run_id": self.run_id, "sync_id": self.sync_id, "kind": self.kind, "started_at": self.started_at,
            "finished_at": self.finished_at, "outcome": self.outcome, "reason": self.reason, "counts": self.counts,
            "requests": [r.to_json() for r in self.requests]}
        if rows:
            body["rows"] = [{"distinct_id": r.distinct_id, "export_id": r.export_id, "operation": r.operation}
                            for r in self.rows]
        return body


@dataclass(frozen=True)
class Notification:
    """A `sync_paused` note to the sync's creators (§8.6), as Mixpanel's e-mail and hover reason."""

    at: float
    kind: str
    sync_id: str
    recipients: tuple[str, ...]
    reason: str
