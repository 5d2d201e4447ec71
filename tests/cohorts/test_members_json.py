"""DESIGN.md §7.1 ``GET /_harness/mixpanel/cohorts/<id>/members?at=``: the body is
``{"count": N, "members": [{"distinct_id": ..., "properties": {...}}]}``; this is what the route will return."""

from __future__ import annotations

import json

from harness.cohorts import CohortEvaluator, Event, InMemoryCohortSource, PropertyChange, parse_definition

T = 1_700_000_000


def test_members_json_has_the_design_7_1_shape_sorted_by_distinct_id():
    source = InMemoryCohortSource(
        [Event("Email Click", "d2", T), Event("Email Click", "d1", T), Event("Email Click", "anon", T)],
        [PropertyChange("d1", T - 10, "$braze_external_id", "user-1"), PropertyChange("d1", T - 10, "plan", "pro"),
         PropertyChange("d2", T - 10, "plan", "free"), PropertyChange("d2", T + 10, "plan", "pro")])
    body = CohortEvaluator(source).members_json({"did_event": {"event": "Email Click", "within_days": 7}}, T)
    assert body == {"count": 3, "members": [
        {"distinct_id": "anon", "properties": {}},
        {"distinct_id": "d1", "properties": {"$braze_external_id": "user-1", "plan": "pro"}},
        {"distinct_id": "d2", "properties": {"plan": "free"}},  # the value at t, not the latest
    ]}
    assert json.loads(json.dumps(body)) == body


def test_unset_properties_are_left_out_of_a_member_row():
    source = InMemoryCohortSource((), [PropertyChange("d1", T, "plan", "pro"), PropertyChange("d1", T, "age", 3),
                                       PropertyChange("d1", T + 1, "age", None)])
    body = CohortEvaluator(source).members_json({"ids": ["d1"]}, T + 1)
    assert body["members"] == [{"distinct_id": "d1", "properties": {"plan": "pro"}}]


def test_a_parsed_definition_and_its_json_give_the_same_members():
    source = InMemoryCohortSource.from_records(
        events=[{"event": "Purchase", "properties": {"distinct_id": "d1", "time": T, "amount": 5}}],
        profiles={"d1": {"plan": "pro"}, "d2": {"plan": "pro"}}, profiles_at=T - 1)
    definition = {"and": [{"profile": {"property": "plan", "equals": "pro"}},
                          {"did_event": {"event": "Purchase", "where": {"amount": 5}}}]}
    evaluator = CohortEvaluator(source)
    assert evaluator.members_json(definition, T) == evaluator.members_json(parse_definition(definition), T)
    assert evaluator.members(definition, T) == frozenset({"d1"})
