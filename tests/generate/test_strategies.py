"""The public hypothesis strategies (issue 5 §4) produce what they promise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from harness.catalog import load_catalog
from harness.generate.invariants import schema_violations
from harness.generate.providers import is_placeholder_id
from harness.generate.streams import DEFAULT_ANCHOR
from harness.generate.world import World
from harness.strategies import (
    FLOAT32_MAX,
    FLOAT32_TINY,
    INT32,
    INT64,
    LONG_STRING,
    MIN_TIME,
    adversarial_events,
    currents_events,
    external_user_ids,
    malformed_events,
    property_objects,
    worlds,
)

CATALOG = load_catalog()


def _values(event):
    return list(event.get("user", {}).values()) + list(event.get("properties", {}).values())


@given(currents_events("users.messages.email.Open"))
def test_one_event_of_a_given_type(event):
    assert event["event_type"] == "users.messages.email.Open"


BOUNDARIES = {*INT32, *INT64, FLOAT32_MAX, -FLOAT32_MAX, FLOAT32_TINY}


@given(external_user_ids())
def test_valid_external_ids_are_never_placeholders(value):
    assert value and not is_placeholder_id(value)


def _collect(strategy, classify, examples: int = 300) -> set:
    """Run `strategy` without shrinking and gather the labels `classify` gives its examples."""
    seen: set = set()

    @settings(max_examples=examples, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        seen.update(classify(value))

    collect()
    return seen


def test_any_event_reaches_many_types():
    assert len(_collect(currents_events(), lambda e: {e["event_type"]}, 200)) >= 20


def _edge_kinds(event) -> set[str]:
    kinds = set()
    for value in _values(event):
        if value is None:
            kinds.add("null")
        elif isinstance(value, str):
            if value == "":
                kinds.add("empty")
            if len(value) >= 1000:
                kinds.add("long")
            if any(ord(c) > 0x7F for c in value):
                kinds.add("unicode")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value in BOUNDARIES:
            kinds.add("boundary")
        elif isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
            kinds.add("nested")
    if event["time"] in (MIN_TIME, DEFAULT_ANCHOR):
        kinds.add("boundary")
    if is_placeholder_id(str(event["user"].get("external_user_id"))):
        kinds.add("placeholder_external_id")
    return kinds


def test_adversarial_events_hold_each_kind_of_edge_value():
    """Unicode, empty and very long strings, nulls where nullable, boundary numbers, nested properties."""
    seen = _collect(adversarial_events(), _edge_kinds, 150)
    seen |= _collect(adversarial_events("users.behaviors.CustomEvent"), _edge_kinds, 50)
    assert seen >= {"null", "empty", "long", "unicode", "boundary", "nested", "placeholder_external_id"}
    assert LONG_STRING >= 100_000


def test_nested_and_array_property_objects():
    kinds = _collect(property_objects(), lambda o: {type(v).__name__ for v in o.values()}, 60)
    assert {"dict", "list"} <= kinds


@settings(max_examples=30)
@given(malformed_events())
def test_malformed_events_are_json_values(value):
    """Malformed events are JSON values (they survive a JSON round trip unchanged) that break the schema:
    not an object, or an object the catalog's schema check finds fault with."""
    import json

    assert json.loads(json.dumps(value)) == value
    if isinstance(value, dict):
        assert schema_violations(value) != []


@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_users=10))
def test_small_whole_worlds(world):
    assert isinstance(world, World) and 1 <= len(world.users) <= 10
    assert world.campaigns and world.canvases and world.apps
