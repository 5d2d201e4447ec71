"""Mixpanel's Braze cohort export, the reference sync engine (braze-cohort-sync.md §8).

One concept per module: `config` (the `mixpanel.*` keys), `members` (where cohort membership comes from),
`model` (connections, syncs, snapshots, errors), `plan` (identifier rules and the diff), `braze_api` (the
two partner endpoints over HTTP), `run` (one run with its retries), `records` (run records), `engine`
(the schedule and the lifecycle).

    engine = CohortSyncEngine(fleet.scheduler, cohorts)            # cohorts: any CohortMembers
    connection = engine.connect("harness-data-import-key", fleet["braze"].base_url)
    sync = engine.create_sync(7, connection.connection_id)         # full run now, then every 7,200 s
    fleet.clock.advance(7200)                                      # the diff run
    sync.last_run.to_json()                                        # §8.10 record

Harness choices where §8 leaves room (each stated where it is made):
- a request is received when it is sent; its answer arrives `request_latency_s` later (`run`);
- a status in neither `retry.transient_statuses` nor `pause_statuses` is retried (`config`);
- runs of kind `empty` carry the removes of `on_cohort_delete` / `on_sync_stop = empty`; outcomes
  `stopped` (the sync stopped mid-run) and `error` (the engine raised) complete §8.10's list (`records`);
- a deleted cohort is noticed at its sync's next due time, or at once through `cohort_deleted()`;
  `reconnect()` also brings back syncs that `disconnect()` stopped; a resumed one-time export runs at
  once, having no next due time (`engine`).
"""

from harness.connectors.cohort_sync.braze_api import BrazeAnswer, BrazeCohortApi, BrazePartner
from harness.connectors.cohort_sync.config import CohortSyncConfig, CohortSyncConfigError
from harness.connectors.cohort_sync.engine import CohortSyncEngine
from harness.connectors.cohort_sync.members import CohortInfo, CohortMembers, InMemoryCohorts, Member
from harness.connectors.cohort_sync.model import (
    CohortSyncError,
    Connection,
    DynamicSyncLimitExceeded,
    GroupCohortNotSupported,
    Snapshot,
    Sync,
    UnknownCohort,
)
from harness.connectors.cohort_sync.records import Notification, ProfileRow, RequestRecord, RunRecord

__all__ = ["BrazeAnswer", "BrazeCohortApi", "BrazePartner", "CohortInfo", "CohortMembers",
           "CohortSyncConfig", "CohortSyncConfigError", "CohortSyncEngine", "CohortSyncError", "Connection",
           "DynamicSyncLimitExceeded", "GroupCohortNotSupported", "InMemoryCohorts", "Member", "Notification",
           "ProfileRow", "RequestRecord", "RunRecord", "Snapshot", "Sync", "UnknownCohort"]
