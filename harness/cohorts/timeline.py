"""Membership over time: who enters and who leaves a cohort when, computed exactly.

For each distinct_id the definition's nodes give the simulated times at which it holds as ``[start, end)``
intervals (``harness.cohorts.intervals``), intersected with ``[first known, inf)``, the times the id is in the
universe. Interval starts are entries and ends are departures. The boundaries are exactly the change points
(event visibility, event time + window, profile property changes, the first time an id is known), so nothing
is sampled and a change between two sync ticks is never missed.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Literal, NamedTuple

from harness.cohorts import intervals as iv
from harness.cohorts.index import CohortIndex
from harness.cohorts.nodes import CohortNode

ENTER: Literal["enter"] = "enter"
LEAVE: Literal["leave"] = "leave"


class MembershipChange(NamedTuple):
    """At ``time`` the distinct_id becomes a member (``enter``) or stops being one (``leave``)."""

    time: float
    distinct_id: str
    change: Literal["enter", "leave"]


def membership_intervals(node: CohortNode, index: CohortIndex, distinct_id: str) -> iv.Intervals:
    """The times at which ``distinct_id`` is a member."""
    known = index.first_known.get(distinct_id)
    if known is None:
        return iv.NEVER
    return iv.intersect(node.intervals(index, distinct_id), iv.since(known))


def membership_changes(node: CohortNode, index: CohortIndex, t0: float, t1: float) -> list[MembershipChange]:
    """Every entry and departure at a time in ``(t0, t1]``, in time order (then by distinct_id).

    Replaying them on the members at t0 gives the members at any time up to t1. Ids the definition has no
    data about are handled in bulk: the definition's answer for them never changes, so they enter when they
    become known (if it holds for them) and never leave.
    """
    out: list[MembershipChange] = []
    subjects = node.subjects(index)
    first_known = index.first_known
    for distinct_id in subjects:
        for start, end in membership_intervals(node, index, distinct_id):
            if t0 < start <= t1:
                out.append(MembershipChange(start, distinct_id, ENTER))
            if t0 < end <= t1:
                out.append(MembershipChange(end, distinct_id, LEAVE))
    shared = node.intervals(index, _outsider(subjects, first_known))
    assert shared in (iv.ALWAYS, iv.NEVER), shared  # every rule answers an id it has no data about the same way
    if shared == iv.ALWAYS:
        ids, times = index.known_column()
        first, last = bisect_right(times, t0), bisect_right(times, t1)
        out.extend(MembershipChange(time, distinct_id, ENTER)
                   for distinct_id, time in zip(ids[first:last], times[first:last], strict=True)
                   if distinct_id not in subjects)
    out.sort()
    return out


def _outsider(subjects: set[str], known: dict[str, float]) -> str:
    """A distinct_id no node has data about, to ask for the answer all such ids share."""
    outsider = "\0outsider"
    while outsider in subjects or outsider in known:
        outsider += "\0"
    return outsider
