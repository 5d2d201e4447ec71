"""What one run sends, computed from the cohort's members and the last snapshot (pure, no HTTP):
the identifier rules of braze-cohort-sync.md §8.2 and steps 4–6 of §8.5.

- Export id = `str(value)` of the connection's identifier property; null, missing or "" is not eligible.
  Profiles sharing an export id collapse to one id.
- Without a snapshot the run is full (adds = E, no removes); with one it is a diff (adds = E − S,
  removes = S − E), over export ids (`diff_key = export_id`) or over profiles (`distinct_id`: a member whose
  id changed sends nothing).
- Ids are sorted, cut into batches of `batch_size`, one change object per request, in `batch_order`.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from harness.connectors.cohort_sync.members import Member
from harness.connectors.cohort_sync.model import Snapshot
from harness.connectors.cohort_sync.records import ProfileRow, RunKind


@dataclass(frozen=True)
class ChangePlan:
    kind: RunKind
    eligible: dict[str, str]
    """distinct_id → export id of the eligible members: the snapshot if every request succeeds."""
    adds: list[str]
    removes: list[str]
    not_eligible: list[str]
    """distinct_ids of the members without an export id."""
    previous: dict[str, str]
    """The snapshot the run diffs against (empty for a full run)."""
    export_ids: set[str]
    """The distinct export ids of `eligible` (the next snapshot's)."""

    def rows(self) -> list[ProfileRow]:
        """One row per considered profile: each member (add, no-op or not_eligible; a shared export id is
        an add on its first profile only), then one remove row per removed id, on a profile that held it.
        Built on demand: a run of a million members need not make a million rows unless they are read."""
        adds, removes = set(self.adds), set(self.removes)
        rows: list[ProfileRow] = []
        claimed: set[str] = set()
        for distinct_id, eid in self.eligible.items():
            if eid in adds and eid not in claimed:
                claimed.add(eid)
                rows.append(ProfileRow(distinct_id, eid, "add"))
            else:
                rows.append(ProfileRow(distinct_id, eid, "no-op"))
        rows.extend(ProfileRow(distinct_id, None, "not_eligible") for distinct_id in self.not_eligible)
        if removes:
            removed: set[str] = set()
            for distinct_id, eid in self.previous.items():
                if eid in removes and eid not in removed:
                    removed.add(eid)
                    rows.append(ProfileRow(distinct_id, eid, "remove"))
        return rows


@dataclass(frozen=True)
class Batch:
    """One `/cohorts/users` request: one change object of up to `batch_size` ids."""

    ids: list[str]
    should_remove: bool


def plan_changes(members: Iterable[Member], identifier: str, snapshot: Snapshot | None, *,
                 diff_key: str = "export_id") -> ChangePlan:
    """The adds and removes of a full run (no snapshot) or a diff run against `snapshot`."""
    current: dict[str, str] = {}
    not_eligible: list[str] = []
    for member in members:  # §8.2, inline: the hot loop of a million-member run
        value = member.properties.get(identifier)
        if value is None or value == "":
            not_eligible.append(member.distinct_id)
        else:
            current[member.distinct_id] = value if type(value) is str else str(value)
    previous = snapshot.ids if snapshot is not None else {}
    now_ids = set(current.values())
    adds_set: AbstractSet[str]
    removes_set: AbstractSet[str]
    if snapshot is None:
        adds_set, removes_set = now_ids, frozenset()
    elif diff_key == "distinct_id":
        kept = {previous[d] for d in previous if d in current}
        adds_set = {eid for d, eid in current.items() if d not in previous} - kept
        removes_set = {eid for d, eid in previous.items() if d not in current} - kept - now_ids
    else:
        adds_set = now_ids - snapshot.export_ids
        removes_set = snapshot.export_ids - now_ids
    return ChangePlan("full" if snapshot is None else "diff", current, sorted(adds_set), sorted(removes_set),
                      not_eligible, previous, now_ids)


def plan_emptying(snapshot: Snapshot | None) -> ChangePlan:
    """The removes of every snapshot id (`on_cohort_delete` / `on_sync_stop` = `empty`)."""
    previous = snapshot.ids if snapshot is not None else {}
    removes = snapshot.export_ids if snapshot is not None else frozenset()
    return ChangePlan("empty", {}, [], sorted(removes), [], previous, set())


def batches(plan: ChangePlan, batch_size: int, batch_order: str) -> list[Batch]:
    adds = [Batch(plan.adds[i:i + batch_size], False) for i in range(0, len(plan.adds), batch_size)]
    removes = [Batch(plan.removes[i:i + batch_size], True) for i in range(0, len(plan.removes), batch_size)]
    return adds + removes if batch_order == "adds_first" else removes + adds
