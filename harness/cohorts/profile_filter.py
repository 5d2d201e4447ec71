"""``ProfileFilter``: a test on one profile property's value at t (DESIGN.md §7.1, braze-cohort-sync.md §8.1).

Operators: ``equals`` (JSON equality), ``in`` (any of a list), ``is_set`` / ``not_set`` (a property is set
when it has a non-null value; ``true`` or ``false``), and the numeric ``gt``, ``gte``, ``lt``, ``lte``, which a
non-number (strings and booleans included) never passes. The value at t comes from the property's timeline:
the last change at or before t; ``None`` (never set, not yet set, or unset) is "not set".
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass
from itertools import compress, repeat
from math import inf
from operator import eq, not_
from typing import Any

from harness.cohorts import intervals as iv
from harness.cohorts.index import CohortIndex
from harness.cohorts.json_values import is_number, json_equal, matches_any
from harness.cohorts.nodes import EvaluationContext

Test = Callable[[Any, Any], bool]


def _equals(value: Any, operand: Any) -> bool:
    return value is not None and json_equal(value, operand)


def _in(value: Any, operand: tuple[Any, ...]) -> bool:
    return value is not None and matches_any(value, operand)


def _is_set(value: Any, operand: bool) -> bool:
    return (value is not None) is operand


def _not_set(value: Any, operand: bool) -> bool:
    return (value is None) is operand


def _gt(value: Any, operand: float) -> bool:
    return is_number(value) and value > operand


def _gte(value: Any, operand: float) -> bool:
    return is_number(value) and value >= operand


def _lt(value: Any, operand: float) -> bool:
    return is_number(value) and value < operand


def _lte(value: Any, operand: float) -> bool:
    return is_number(value) and value <= operand


OPERATORS: dict[str, Test] = {
    "equals": _equals, "in": _in, "is_set": _is_set, "not_set": _not_set,
    "gt": _gt, "gte": _gte, "lt": _lt, "lte": _lte,
}
"""Operator name -> test(value at t, operand). The parser validates operands per operator."""


@dataclass(frozen=True)
class ProfileFilter:
    property: str
    operator: str
    operand: Any  # a tuple for ``in``

    def holds(self, value: Any) -> bool:
        return OPERATORS[self.operator](value, self.operand)

    def match(self, ctx: EvaluationContext) -> Set[str]:
        test, operand = OPERATORS[self.operator], self.operand
        ids, values = ctx.index.timeline(self.property).values_at(ctx.t)
        if self.operator == "equals" and isinstance(operand, str):
            passed = map(eq, values, repeat(operand))  # in C; for a string, == is JSON equality
        else:
            passed = map(test, values, repeat(operand))
        if test(None, operand):  # "not set" passes: everyone known, minus those whose value fails
            return ctx.universe.difference(compress(ids, map(not_, passed)))
        return set(compress(ids, passed))  # a change by t means a profile known at t

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals:
        times, values = index.timeline(self.property).changes_of(distinct_id)
        if len(times) == 1:  # the usual profile: one change, so at most one boundary
            before, after = self.holds(None), self.holds(values[0])
            if before == after:
                return iv.ALWAYS if before else iv.NEVER
            return ((-inf, times[0]),) if before else ((times[0], inf),)
        starts = [-inf, *times]
        ends = [*times, inf]
        held = [None, *values]
        pieces = zip(starts, ends, held, strict=True)
        return iv.from_pieces((start, end, self.holds(value)) for start, end, value in pieces)

    def subjects(self, index: CohortIndex) -> set[str]:
        return index.timeline(self.property).ids()

    def to_json(self) -> dict[str, Any]:
        operand = list(self.operand) if self.operator == "in" else self.operand
        return {"profile": {"property": self.property, self.operator: operand}}
