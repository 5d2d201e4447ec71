"""DESIGN.md §7.1: cohort definitions are JSON data, parsed eagerly into frozen nodes, and round-trip to JSON.

A bad definition raises one ``CohortDefinitionError`` whose message starts with the path of the bad key.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.cohorts import (
    AllOf,
    AnyOf,
    CohortDefinitionError,
    DidEvent,
    IdList,
    NoneOf,
    ProfileFilter,
    parse_definition,
)

EMAIL_CLICK = {"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7,
                             "where": {"campaign_id": "c1"}}}


def test_design_7_1_example_parses_into_frozen_nodes():
    node = parse_definition({"and": [EMAIL_CLICK, {"not": {"profile": {"property": "plan", "equals": "pro"}}},
                                     {"or": [{"ids": ["d2", "d1"]}]}]})
    assert node == AllOf((DidEvent("Email Click", min_count=1, within_days=7, where=(("campaign_id", "c1"),)),
                          NoneOf(ProfileFilter("plan", "equals", "pro")),
                          AnyOf((IdList(frozenset({"d1", "d2"})),))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.children = ()


@pytest.mark.parametrize("definition", [
    EMAIL_CLICK,
    {"did_event": {"event": "Purchase", "max_count": 2, "within_days": 30}},
    {"did_event": {"event": "Purchase", "exactly": 0, "from": 1_700_000_000, "to": 1_700_086_400}},
    {"did_event": {"event": "Purchase", "min_count": 2, "max_count": 5, "from": 1_700_000_000}},
    {"did_event": {"event": "Open", "where": {"campaign_id": ["c1", "c2"], "is_test": False}}},
    {"profile": {"property": "plan", "in": ["pro", "team"]}},
    {"profile": {"property": "$braze_external_id", "is_set": True}},
    {"profile": {"property": "$braze_external_id", "not_set": True}},
    {"profile": {"property": "age", "gt": 17}},
    {"profile": {"property": "age", "gte": 18.5}},
    {"profile": {"property": "age", "lt": 65}},
    {"profile": {"property": "age", "lte": 65}},
    {"ids": ["d1", "d2"]},
    {"ids": []},
    {"or": [{"ids": ["d1"]}, {"not": {"ids": ["d2"]}}]},
], ids=lambda d: json.dumps(d)[:50])
def test_every_shape_of_design_7_1_round_trips_to_json(definition):
    node = parse_definition(definition)
    assert node.to_json() == definition
    assert parse_definition(json.loads(json.dumps(node.to_json()))) == node


def test_yaml_definitions_parse_the_same_as_json():
    text = """
and:
  - did_event: {event: Email Click, min_count: 1, within_days: 7, where: {campaign_id: c1}}
  - profile: {property: plan, equals: pro}
"""
    assert parse_definition(yaml.safe_load(text)) == parse_definition(
        {"and": [EMAIL_CLICK, {"profile": {"property": "plan", "equals": "pro"}}]})


def test_no_count_given_means_at_least_once():
    assert parse_definition({"did_event": {"event": "E"}}).count_range == (1, float("inf"))
    assert parse_definition({"did_event": {"event": "E", "max_count": 3}}).count_range == (0, 3)


@pytest.mark.parametrize(("definition", "message"), [
    ({"and": [EMAIL_CLICK, {"did_event": {"event": "E", "min_count": "x"}}]},
     'and[1].did_event.min_count: expected a non-negative integer, got "x"'),
    ({"did_event": {"event": "E", "max_count": -1}}, "did_event.max_count: expected a non-negative integer, got -1"),
    ({"did_event": {"event": "E", "exactly": True}}, "did_event.exactly: expected a non-negative integer, got true"),
    ({"did_event": {"event": "E", "min_count": 1.5}}, "did_event.min_count: expected a non-negative integer, got 1.5"),
    ({"did_event": {"event": "E", "exactly": 1, "min_count": 1}}, "did_event.exactly: cannot be combined"),
    ({"did_event": {"event": "E", "min_count": 3, "max_count": 2}}, "did_event.max_count: must be at least"),
    ({"did_event": {"event": "E", "within_days": 0}}, "did_event.within_days: expected a positive number, got 0"),
    ({"did_event": {"event": "E", "within_days": 7, "from": 1}}, "did_event.from: give within_days or from/to"),
    ({"did_event": {"event": "E", "from": 5, "to": 4}}, "did_event.to: must not be before from"),
    ({"did_event": {"event": "E", "to": "today"}}, 'did_event.to: expected epoch seconds (a number), got "today"'),
    ({"did_event": {"event": ""}}, 'did_event.event: expected a non-empty event name, got ""'),
    ({"did_event": {"min_count": 1}}, "did_event.event: expected a non-empty event name, got null"),
    ({"did_event": {"event": "E", "min_cout": 1}}, "did_event.min_cout: unknown key; expected one of event, min_count"),
    ({"did_event": {"event": "E", "where": {"c": {"a": 1}}}}, "did_event.where.c: expected a string, number"),
    ({"did_event": {"event": "E", "where": {"c": []}}}, "did_event.where.c: expected a non-empty array"),
    ({"did_event": {"event": "E", "where": ["c"]}}, "did_event.where: expected an object"),
    ({"did_event": "E"}, 'did_event: expected an object, got "E"'),
    ({"profile": {"property": "plan"}}, "profile: expected exactly one operator of equals, in, is_set"),
    ({"profile": {"property": "age", "gt": 1, "lt": 9}}, 'profile: expected exactly one operator'),
    ({"profile": {"property": "age", "gt": "9"}}, 'profile.gt: expected a number, got "9"'),
    ({"profile": {"property": "plan", "in": "pro"}}, 'profile.in: expected a non-empty array'),
    ({"profile": {"property": "plan", "is_set": "yes"}}, 'profile.is_set: expected true or false, got "yes"'),
    ({"profile": {"property": "plan", "equals": None}}, "profile.equals: expected a string, number or boolean"),
    ({"profile": {"property": "", "equals": 1}}, 'profile.property: expected a non-empty property name, got ""'),
    ({"profile": {"property": "p", "contains": 1}}, "profile.contains: unknown key"),
    ({"ids": "d1"}, 'ids: expected an array of distinct_id strings, got "d1"'),
    ({"ids": [1]}, "ids: expected an array of distinct_id strings, got [1]"),
    ({"or": []}, "or: expected a non-empty array of definitions, got []"),
    ({"or": [{"ids": []}, {"nope": 1}]}, "or[1].nope: unknown definition; expected one of did_event"),
    ({"not": {"and": [{"ids": []}, 3]}}, "not.and[1]: expected an object with one of did_event"),
    ({"ids": [], "not": {"ids": []}}, "<definition>: expected exactly one of did_event, profile, ids, and, or, "
                                      "not, got keys ids, not"),
    ([], "<definition>: expected an object with one of"),
])
def test_a_bad_definition_names_the_path_of_the_bad_key(definition, message):
    with pytest.raises(CohortDefinitionError) as raised:
        parse_definition(definition)
    assert str(raised.value).startswith(message), str(raised.value)


def test_the_error_carries_its_path_apart():
    with pytest.raises(CohortDefinitionError) as raised:
        parse_definition({"or": [{"ids": []}, {"profile": {"property": "p", "gt": None}}]})
    assert raised.value.path == "or[1].profile.gt"
    assert raised.value.problem == "expected a number, got null"
    assert isinstance(raised.value, ValueError)


def test_hostile_nesting_is_refused_not_a_stack_overflow():
    deep: dict = {"ids": []}
    for _ in range(200):
        deep = {"not": deep}
    with pytest.raises(CohortDefinitionError, match="nest at most 64"):
        parse_definition(deep)


# -- round trip for any definition the grammar allows -------------------------------------------------------

scalars = st.one_of(st.text(max_size=5), st.integers(-5, 5), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False, width=32))
numbers = st.one_of(st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False))
counts = st.integers(0, 4)


@st.composite
def did_events(draw):
    body: dict = {"event": draw(st.sampled_from(["Email Click", "Open"]))}
    shape = draw(st.sampled_from(["min", "max", "between", "exactly", "none"]))
    if shape in ("min", "between"):
        body["min_count"] = draw(counts)
    if shape in ("max", "between"):
        body["max_count"] = draw(counts) + body.get("min_count", 0)
    if shape == "exactly":
        body["exactly"] = draw(counts)
    window = draw(st.sampled_from(["within", "from", "to", "both", "ever"]))
    if window == "within":
        body["within_days"] = draw(st.one_of(st.integers(1, 90), st.floats(0.01, 90)))
    if window in ("from", "both"):
        body["from"] = draw(numbers)
    if window in ("to", "both"):
        body["to"] = draw(numbers) + (body.get("from", 0) if window == "both" else 0)
        if window == "both" and body["to"] < body["from"]:
            body["to"] = body["from"]
    if draw(st.booleans()):
        body["where"] = draw(st.dictionaries(st.text(min_size=1, max_size=4),
                                             st.one_of(scalars, st.lists(scalars, min_size=1, max_size=3)),
                                             max_size=2))
    return {"did_event": body}


profiles = st.one_of(
    st.builds(lambda p, v: {"profile": {"property": p, "equals": v}}, st.text(min_size=1, max_size=4), scalars),
    st.builds(lambda p, v: {"profile": {"property": p, "in": v}}, st.text(min_size=1, max_size=4),
              st.lists(scalars, min_size=1, max_size=3)),
    st.builds(lambda p, op, v: {"profile": {"property": p, op: v}}, st.text(min_size=1, max_size=4),
              st.sampled_from(["is_set", "not_set"]), st.booleans()),
    st.builds(lambda p, op, v: {"profile": {"property": p, op: v}}, st.text(min_size=1, max_size=4),
              st.sampled_from(["gt", "gte", "lt", "lte"]), numbers),
)
leaves = st.one_of(did_events(), profiles, st.builds(lambda ids: {"ids": ids}, st.lists(st.text(max_size=3))))
definitions = st.recursive(leaves, lambda inner: st.one_of(
    st.builds(lambda c: {"and": c}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda c: {"or": c}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda c: {"not": c}, inner)), max_leaves=6)


@given(definitions)
def test_any_valid_definition_round_trips_through_json_text(definition):
    node = parse_definition(definition)
    text = json.dumps(node.to_json(), allow_nan=False)
    assert parse_definition(json.loads(text)) == node
