"""The objects of Mixpanel's Braze cohort export (braze-cohort-sync.md §8.1): a connection (Data Import
Key, Braze instance URL, optional User ID Property), a sync of one cohort over one connection (one-time or
dynamic, its state and pause reason, its snapshot and declared name, its run records), and the errors
sync creation can raise (§8.8)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from harness.connectors.cohort_sync.records import RunRecord

SyncType = Literal["one_time", "dynamic"]
SyncState = Literal["active", "paused", "completed", "failed", "stopped"]
ConnectionStatus = Literal["connected", "disconnected"]


class CohortSyncError(Exception):
    """A sync engine operation the spec refuses."""


class DynamicSyncLimitExceeded(CohortSyncError):
    """§8.8: a project holds at most `mixpanel.dynamic_sync_limit` (60) dynamic syncs, active or paused."""


class GroupCohortNotSupported(CohortSyncError):
    """§8.8: group-level cohorts cannot be exported."""


class UnknownCohort(CohortSyncError):
    """The cohort does not exist (or was deleted) at the time of the call."""


@dataclass
class Connection:
    """A project's Braze connection. `user_id_property` None: the `mixpanel.identifier_property`."""

    connection_id: str
    name: str
    data_import_key: str
    braze_url: str
    user_id_property: str | None = None
    status: ConnectionStatus = "connected"

    def __post_init__(self) -> None:
        if not isinstance(self.data_import_key, str) or not self.data_import_key:
            raise ValueError("a connection needs a data import key (a non-empty string)")
        if not self.braze_url.startswith(("http://", "https://")) or not _has_host(self.braze_url):
            raise ValueError(f"the Braze instance URL must start with http:// or https://, got {self.braze_url!r}")
        self.braze_url = self.braze_url.rstrip("/")
        if self.user_id_property is not None and not self.user_id_property:
            raise ValueError("the User ID Property, when given, must be a non-empty string")


@dataclass(frozen=True)
class Snapshot:
    """The eligible set of the last successful run (§8.7): distinct_id → export id, and the run's start."""

    ids: dict[str, str]
    taken_at: float
    export_ids: AbstractSet[str] = frozenset()
    """The distinct values of `ids` (kept, not recomputed: a diff run of a million ids needs them)."""

    def __post_init__(self) -> None:
        if not self.export_ids and self.ids:
            object.__setattr__(self, "export_ids", set(self.ids.values()))


@dataclass
class Sync:
    sync_id: str
    cohort_id: int
    connection_id: str
    type: SyncType
    created_at: float
    created_by: tuple[str, ...] = ("project-admin",)
    interval_s: float | None = None
    """This dynamic sync's interval; None follows `mixpanel.dynamic_interval_s`."""
    state: SyncState = "active"
    pause_reason: str | None = None
    stop_reason: str | None = None
    snapshot: Snapshot | None = None
    declared_name: str | None = None
    runs: list[RunRecord] = field(default_factory=list)
    due_since: float | None = None
    """The earliest due time not yet run (several collapse into one run, §8.4); None when nothing is due."""

    @property
    def snapshot_at(self) -> float | None:
        return self.snapshot.taken_at if self.snapshot is not None else None

    @property
    def last_run(self) -> RunRecord:
        if not self.runs:
            raise LookupError(f"sync {self.sync_id} has not run yet")
        return self.runs[-1]

    @property
    def counts_toward_limit(self) -> bool:
        return self.type == "dynamic" and self.state in ("active", "paused")


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # e.g. an unclosed [IPv6 literal
        return False
