"""Mixpanel's Braze cohort export, the reference sync engine (braze-cohort-sync.md §8).

One concept per module: `config` (the `mixpanel.*` keys), `members` (where cohort membership comes from),
`model` (connections, syncs, snapshots, errors), `plan` (identifier rules and the diff), `braze_api` (the
two partner endpoints over HTTP), `run` (one run with its retries), `records` (run records), `engine`
(the schedule and the lifecycle).
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
from harness.connectors.cohort_sync.run import Agenda

__all__ = ["Agenda", "BrazeAnswer", "BrazeCohortApi", "BrazePartner", "CohortInfo", "CohortMembers",
           "CohortSyncConfig", "CohortSyncConfigError", "CohortSyncEngine", "CohortSyncError", "Connection",
           "DynamicSyncLimitExceeded", "GroupCohortNotSupported", "InMemoryCohorts", "Member", "Notification",
           "ProfileRow", "RequestRecord", "RunRecord", "Snapshot", "Sync", "UnknownCohort"]
