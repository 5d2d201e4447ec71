"""Applying one valid ``/cohorts/users`` request to a cohort (braze-cohort-sync.md §4.9).

Each entry resolves against the workspace's user store; every entry is counted exactly once:
unresolved entries as ``ignored_unknown`` / ``ignored_identified_device``; per profile, the entry
chosen by ``braze.same_request_conflict`` as ``applied_*`` or ``noop_*`` against the membership before
the request, and the profile's other entries as ``noop_*`` of their own kind.
"""

from __future__ import annotations

from .cohorts import PartnerCohort, zero_counters
from .config import BrazeConfig
from .users import BrazeUserStore
from .validation import ChangeMembership


def resolve_entries(request: ChangeMembership, users: BrazeUserStore, now: float, case_sensitive: bool,
                    counts: dict[str, int]) -> dict[str, list[bool]]:
    """Per resolved profile, its entries' ``should_remove`` in processing order; unresolved entries are
    counted into ``counts``. Order: objects in array order; user_ids, then device_ids, then aliases.

    The caller holds the state lock (lookups go through one unlocked resolver for speed)."""
    resolver = users.resolver(now, case_sensitive)
    per_profile: dict[str, list[bool]] = {}
    for change in request.changes:
        remove = change.should_remove
        for braze_id in resolver.external_ids(change.user_ids):
            if braze_id is None:
                counts["ignored_unknown"] += 1
            elif braze_id in per_profile:
                per_profile[braze_id].append(remove)
            else:
                per_profile[braze_id] = [remove]
        for device_id in change.device_ids:
            profile = resolver.device(device_id)
            if profile is None:
                counts["ignored_unknown"] += 1
            elif profile.identified_by(now):  # devices of identified profiles never match (§6)
                counts["ignored_identified_device"] += 1
            else:
                per_profile.setdefault(profile.braze_id, []).append(remove)
        for name, label in change.aliases:
            profile = resolver.alias(name, label)  # exact (name, label) pair; never swapped
            if profile is None:
                counts["ignored_unknown"] += 1
            else:
                per_profile.setdefault(profile.braze_id, []).append(remove)
    return per_profile


def winning_index(ops: list[bool], policy: str) -> int:
    """Index of the entry that decides a profile touched several times in one request."""
    if policy == "add_wins" and not all(ops):
        return max(i for i, remove in enumerate(ops) if not remove)
    if policy == "remove_wins" and any(ops):
        return max(i for i, remove in enumerate(ops) if remove)
    return len(ops) - 1  # last_wins


def apply_changes(cohort: PartnerCohort, request: ChangeMembership, users: BrazeUserStore,
                  config: BrazeConfig, now: float) -> dict[str, int]:
    """Apply atomically: everything is resolved first and nothing below can fail half-way."""
    counts = zero_counters()
    per_profile = resolve_entries(request, users, now, config.case_sensitive_ids, counts)
    stamp = now + config.segments_lag_s
    membership = cohort.membership
    for braze_id, ops in per_profile.items():
        if len(ops) == 1:  # the common case: one entry per profile
            remove = ops[0]
        else:
            winner = winning_index(ops, config.same_request_conflict)
            for i, superseded in enumerate(ops):
                if i != winner:
                    counts["noop_remove" if superseded else "noop_add"] += 1
            remove = ops[winner]
        if remove:
            counts["applied_remove" if membership.remove(braze_id, stamp) else "noop_remove"] += 1
        else:
            counts["applied_add" if membership.add(braze_id, stamp) else "noop_add"] += 1
    cohort.add_counts(counts)
    return counts
