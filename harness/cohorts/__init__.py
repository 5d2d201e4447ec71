"""Mixpanel cohorts: definitions as data, evaluated at a simulated time, and membership over time (DESIGN.md §7,
§7.1; braze-cohort-sync.md §8.1). Pure: no I/O (see README.md).

    from harness.cohorts import CohortEvaluator, InMemoryCohortSource, Event, PropertyChange, parse_definition

    cohort = parse_definition({"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7}})
    source = InMemoryCohortSource(events=[Event("Email Click", "d1", 1_700_000_000)],
                                  property_changes=[PropertyChange("d1", 1_699_000_000, "plan", "pro")])
    evaluator = CohortEvaluator(source)            # indexes the source once
    evaluator.members(cohort, t)                   # frozenset of distinct_ids
    evaluator.members_json(cohort, t)              # {"count": N, "members": [{"distinct_id", "properties"}]}
    evaluator.changes(cohort, t0, t1)              # [MembershipChange(time, distinct_id, "enter"/"leave")]
    cohort.to_json()                               # the definition again, normalised

A bad definition raises ``CohortDefinitionError`` naming the path of the bad key.
"""

from harness.cohorts.did_event import DAY_S, DidEvent
from harness.cohorts.errors import CohortDefinitionError
from harness.cohorts.evaluation import CohortEvaluator, Definition
from harness.cohorts.index import CohortIndex
from harness.cohorts.intervals import Intervals
from harness.cohorts.nodes import AllOf, AnyOf, CohortNode, EvaluationContext, IdList, NoneOf
from harness.cohorts.parsing import parse_definition
from harness.cohorts.profile_filter import OPERATORS, ProfileFilter
from harness.cohorts.source import (
    CohortSource,
    Event,
    InMemoryCohortSource,
    PropertyChange,
    event_from_record,
    profile_changes,
)
from harness.cohorts.timeline import ENTER, LEAVE, MembershipChange, membership_changes, membership_intervals

__all__ = [
    "DAY_S",
    "ENTER",
    "LEAVE",
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "CohortDefinitionError",
    "CohortEvaluator",
    "CohortIndex",
    "CohortNode",
    "CohortSource",
    "Definition",
    "DidEvent",
    "EvaluationContext",
    "Event",
    "IdList",
    "InMemoryCohortSource",
    "Intervals",
    "MembershipChange",
    "NoneOf",
    "ProfileFilter",
    "PropertyChange",
    "event_from_record",
    "membership_changes",
    "membership_intervals",
    "parse_definition",
    "profile_changes",
]
