"""``CohortEvaluator``: who is in a cohort at a simulated time t, over one indexed source.

The source is indexed once (``CohortIndex``) and the index is reused for every time and every cohort, so a
scenario that evaluates a cohort at each sync tick pays for the indexing once. The universe at t is every
distinct_id the source knows at t (an event visible at t or a profile change at or before t); members are
always part of it.
"""

from __future__ import annotations

from typing import Any

from harness.cohorts.index import CohortIndex
from harness.cohorts.nodes import CohortNode, EvaluationContext
from harness.cohorts.parsing import parse_definition
from harness.cohorts.source import CohortSource
from harness.cohorts.timeline import MembershipChange, membership_changes

Definition = CohortNode | dict[str, Any]
"""A parsed node tree or the JSON-like definition it comes from (parsed on use)."""


class CohortEvaluator:
    def __init__(self, source: CohortSource | CohortIndex) -> None:
        self.index = source if isinstance(source, CohortIndex) else CohortIndex(source)

    def members(self, definition: Definition, t: float) -> frozenset[str]:
        """The distinct_ids in the cohort at t."""
        node = _node(definition)
        members = node.match(EvaluationContext(self.index, t))
        return members if isinstance(members, frozenset) else frozenset(members)

    def sorted_members(self, definition: Definition, t: float) -> list[str]:
        return sorted(self.members(definition, t))

    def members_json(self, definition: Definition, t: float) -> dict[str, Any]:
        """``{"count": N, "members": [{"distinct_id": ..., "properties": {...}}]}`` (DESIGN.md §7.1), sorted by
        distinct_id; ``properties`` are the profile's set properties at t."""
        rows = [{"distinct_id": d, "properties": self.index.properties_at(d, t)}
                for d in self.sorted_members(definition, t)]
        return {"count": len(rows), "members": rows}

    def changes(self, definition: Definition, t0: float, t1: float) -> list[MembershipChange]:
        """Who enters and leaves when in ``(t0, t1]``: see ``harness.cohorts.timeline``."""
        return membership_changes(_node(definition), self.index, t0, t1)


def _node(definition: Definition) -> CohortNode:
    return parse_definition(definition) if isinstance(definition, dict) else definition
