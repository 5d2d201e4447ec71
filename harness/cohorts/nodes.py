"""Cohort definition nodes: the ``CohortNode`` protocol, its evaluation context, and the set-combining nodes.

Each node is a small frozen object with three methods, in the style of fake Braze's segment filters:

- ``match(ctx)``: the distinct_ids it holds for at ``ctx.t``, always a subset of ``ctx.universe``;
- ``intervals(index, distinct_id)``: the simulated times at which it holds for one distinct_id, exactly
  (``harness.cohorts.intervals``), before the universe is applied (the timeline applies it once);
- ``subjects(index)``: the distinct_ids the node has data about (events, property changes, a list); for
  any other id its answer is the same at all times, which lets the timeline treat those ids in bulk;
- ``to_json()``: the definition it was parsed from, in the shape of DESIGN.md §7.1 (normalised).

The behavioural and profile nodes live in ``did_event`` and ``profile_filter``.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from harness.cohorts import intervals as iv
from harness.cohorts.index import CohortIndex


class EvaluationContext:
    """One evaluation: the index, the time t, and the universe at t (built only if a node asks for it: "did E
    at least once" and most profile tests never need it)."""

    def __init__(self, index: CohortIndex, t: float) -> None:
        self.index = index
        self.t = t

    @cached_property
    def universe(self) -> frozenset[str]:
        return self.index.universe(self.t)


class CohortNode(Protocol):
    def match(self, ctx: EvaluationContext) -> Set[str]: ...

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals: ...

    def subjects(self, index: CohortIndex) -> set[str]: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AllOf:
    """``{"and": [D, ...]}``: members of every child."""

    children: tuple[CohortNode, ...]

    def match(self, ctx: EvaluationContext) -> Set[str]:
        results = sorted((child.match(ctx) for child in self.children), key=len)
        out: Set[str] = results[0]
        for result in results[1:]:
            out = out & result
        return out

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals:
        out = iv.ALWAYS
        for child in self.children:
            out = iv.intersect(out, child.intervals(index, distinct_id))
            if not out:
                break
        return out

    def subjects(self, index: CohortIndex) -> set[str]:
        return set().union(*(child.subjects(index) for child in self.children))

    def to_json(self) -> dict[str, Any]:
        return {"and": [child.to_json() for child in self.children]}


@dataclass(frozen=True)
class AnyOf:
    """``{"or": [D, ...]}``: members of at least one child."""

    children: tuple[CohortNode, ...]

    def match(self, ctx: EvaluationContext) -> Set[str]:
        out: Set[str] = set()
        for child in self.children:
            out = out | child.match(ctx)
        return out

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals:
        out = iv.NEVER
        for child in self.children:
            out = iv.union(out, child.intervals(index, distinct_id))
        return out

    def subjects(self, index: CohortIndex) -> set[str]:
        return set().union(*(child.subjects(index) for child in self.children))

    def to_json(self) -> dict[str, Any]:
        return {"or": [child.to_json() for child in self.children]}


@dataclass(frozen=True)
class NoneOf:
    """``{"not": D}``: the universe at t minus the members of D."""

    child: CohortNode

    def match(self, ctx: EvaluationContext) -> Set[str]:
        return ctx.universe - self.child.match(ctx)

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals:
        # The universe is applied once at the top: U - (r & U) == U & complement(r).
        return iv.complement(self.child.intervals(index, distinct_id))

    def subjects(self, index: CohortIndex) -> set[str]:
        return self.child.subjects(index)

    def to_json(self) -> dict[str, Any]:
        return {"not": self.child.to_json()}


@dataclass(frozen=True)
class IdList:
    """``{"ids": ["d1", ...]}``: the listed distinct_ids, those Mixpanel knows at t (an unknown id is no member)."""

    ids: frozenset[str]

    def match(self, ctx: EvaluationContext) -> Set[str]:
        return self.ids & ctx.universe

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals:
        return iv.ALWAYS if distinct_id in self.ids else iv.NEVER

    def subjects(self, index: CohortIndex) -> set[str]:
        return set(self.ids)

    def to_json(self) -> dict[str, Any]:
        return {"ids": sorted(self.ids)}
