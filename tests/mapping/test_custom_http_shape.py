"""Any Currents record in the Custom HTTP shape (currents-to-mixpanel.md §1), as Braze's Custom HTTP Current
sends it and a system under test receives it (DESIGN.md §3): `harness.currents_io.to_custom_http`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.currents_io import normalise_custom_http, to_custom_http
from harness.generate import RecordFactory, StreamConfig, build_world, generate_records


def _generated(seed: int, events: int = 2500):
    factory = RecordFactory()
    for type_id, record in generate_records(build_world(seed), StreamConfig(events=events), factory=factory):
        yield factory, type_id, record


@pytest.mark.parametrize("seed", [3, 11])
def test_a_flat_record_becomes_exactly_the_event_the_generator_sends(seed):
    """Same keys, same nesting, same order, nulls left out: byte for byte as JSON."""
    for factory, type_id, record in _generated(seed):
        flat = {**record, "event_type": type_id}
        assert json.dumps(to_custom_http(flat)) == json.dumps(factory.to_custom_http(type_id, record)), type_id


def test_a_storage_json_record_becomes_the_custom_http_event_less_its_custom_http_only_fields():
    for factory, type_id, record in _generated(5, 1500):
        if not factory.plan(type_id).has_storage_schema:
            continue
        got = to_custom_http(factory.to_storage_json(type_id, record), type_id)
        expected = factory.to_custom_http(type_id, record)
        assert got["event_type"] == type_id and got["id"] == expected["id"] and got["time"] == expected["time"]
        for part in ("user", "properties"):
            assert all(expected[part].get(key) == value for key, value in got[part].items()), (type_id, part)


def test_the_shape_round_trips_through_normalisation():
    for _factory, type_id, record in _generated(7, 1500):
        event = to_custom_http({**record, "event_type": type_id})
        assert to_custom_http(normalise_custom_http(event)) == event


def test_an_event_already_in_the_custom_http_shape_is_returned_as_it_is():
    event = {"event_type": "users.behaviors.Uninstall", "id": "x", "time": 1, "user": {"user_id": "u"},
             "properties": {}}
    assert to_custom_http(event) is event
    assert to_custom_http([1, 2]) == [1, 2]


def test_fields_the_catalog_does_not_know_travel_under_properties():
    event = to_custom_http({"event_type": "users.behaviors.Uninstall", "id": "e1", "time": 5, "user_id": "u1",
                            "brand_new_field": 3, "app_id": None})
    assert event == {"event_type": "users.behaviors.Uninstall", "id": "e1", "time": 5,
                     "user": {"user_id": "u1"}, "properties": {"brand_new_field": 3}}
    unknown = to_custom_http({"event_type": "users.not.a.Type", "id": "e2", "time": 6, "x": 1})
    assert unknown == {"event_type": "users.not.a.Type", "id": "e2", "time": 6, "user": {}, "properties": {"x": 1}}


def test_braze_custom_http_samples_survive_a_round_trip_through_the_flat_form(samples_dir: Path):
    files = sorted((samples_dir / "custom-http").rglob("*.json"))
    assert files
    for path in files:
        sample = json.loads(path.read_text())
        for event in sample if isinstance(sample, list) else [sample]:
            without_nulls = {**event, "user": {k: v for k, v in event["user"].items() if v is not None},
                             "properties": {k: v for k, v in event.get("properties", {}).items() if v is not None}}
            assert to_custom_http(normalise_custom_http(event)) == without_nulls, path.name
