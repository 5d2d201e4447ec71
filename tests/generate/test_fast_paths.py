"""The generator's fast paths (issue 5 §5 throughput) keep what the slow ones guaranteed.

* `RecordFactory.build` fills every catalog field: story values
  first, no placeholder left behind, required fields never null (§1 "every record satisfies its schema").
* `to_custom_http` omits nulls and keeps the catalog's user/properties keys (§1 Custom HTTP shape).
* `StreamRandom` draws stay inside the ranges `random.Random` documents, and the stream is a pure function
  of its seed (issue 5 §5 "same seed, same bytes").
"""

from __future__ import annotations

import io
import random

import pytest

from harness.catalog import load_catalog
from harness.generate.records import RecordFactory
from harness.generate.sources import Draw, StreamRandom, pools_for
from harness.generate.streams import StreamConfig, generate_records
from harness.generate.world import WorldConfig, build_world
from harness.generate.writers import write_custom_http

CATALOG = load_catalog()
FACTORY = RecordFactory(CATALOG)


@pytest.mark.parametrize("type_id", CATALOG.type_ids)
def test_build_from_sources_only_fills_every_field(type_id):
    """currents-to-mixpanel.md §1: a record built with no story values has every field, none a placeholder."""
    draw = Draw(StreamRandom(3), pools_for(0), None)
    record = FACTORY.build(draw, type_id, {}, {"id": "e", "time": 1_700_000_000})
    plan = FACTORY.plan(type_id)
    assert set(record) == set(plan.names) and len(record) == len(plan.names)
    for name, value in record.items():
        assert not (isinstance(value, str) and "object at 0x" in value), name
        assert type(value).__name__ != "object", name
    for name, _source in plan.required:
        assert record[name] is not None, name


def test_build_prefers_more_then_over_then_context_and_keeps_story_nulls():
    """§1: story values win over sources; a story's None stays on a nullable field."""
    draw = Draw(StreamRandom(3), pools_for(0), None)
    type_id = "users.messages.email.Open"
    record = FACTORY.build(draw, type_id, {"user_id": "ctx", "user_agent": "ctx-agent", "machine_open": "true"},
                           {"id": "e", "time": 5, "user_id": "over"}, {"user_agent": "more-agent", "machine_open": None})
    assert record["user_id"] == "over"
    assert record["user_agent"] == "more-agent"
    assert record["machine_open"] is None
    assert record["time"] == 5


def test_custom_http_omits_nulls_and_keeps_catalog_keys():
    """§1 Custom HTTP shape: `user{}` and `properties{}` hold only non-null values, under the catalog keys."""
    draw = Draw(StreamRandom(3), pools_for(0), None)
    type_id = "users.messages.email.Open"
    record = FACTORY.build(draw, type_id, {}, {"id": "e", "time": 5}, {"machine_open": None})
    event = FACTORY.to_custom_http(type_id, record)
    plan = FACTORY.plan(type_id)
    assert list(event) == ["event_type", "id", "time", "user", "properties"]
    assert None not in event["user"].values() and None not in event["properties"].values()
    assert "machine_open" not in event["properties"]
    expected_user = {key: record[name] for name, key in plan.user_keys if record[name] is not None}
    assert event["user"] == expected_user
    assert list(event["user"]) == list(expected_user)


def test_stream_random_draws_stay_in_range_and_reject_bad_ranges():
    """The cheap integer draws keep random.Random's contracts: bounds, errors, determinism per seed."""
    rnd = StreamRandom(42)
    assert {rnd.randrange(3) for _ in range(2000)} == {0, 1, 2}
    assert {rnd.randrange(5, 8) for _ in range(2000)} == {5, 6, 7}
    assert {rnd.randint(1, 3) for _ in range(2000)} == {1, 2, 3}
    assert {rnd.choice("ab") for _ in range(2000)} == {"a", "b"}
    assert all(rnd.randrange(0, 10, 5) in (0, 5) for _ in range(50))  # a step goes to random.Random
    for bad in (lambda: rnd.randrange(0), lambda: rnd.randrange(5, 5), lambda: rnd.randint(2, 1)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(IndexError):
        rnd.choice([])
    a, b = StreamRandom(9), StreamRandom(9)
    assert [a.randrange(10**6) for _ in range(100)] == [b.randrange(10**6) for _ in range(100)]
    assert isinstance(StreamRandom(1), random.Random)


def test_same_seed_same_ndjson_bytes_different_seed_different_bytes():
    """Issue 5 §5: the stream (and its NDJSON) is a pure function of world, config and seed."""
    world = build_world(4, WorldConfig(users=80))

    def ndjson(seed: int) -> bytes:
        factory = RecordFactory(CATALOG)
        sink = io.BytesIO()
        write_custom_http(generate_records(world, StreamConfig(events=1500), seed=seed, factory=factory), sink,
                          factory, ndjson=True)
        return sink.getvalue()

    first = ndjson(1)
    assert first == ndjson(1)
    assert first != ndjson(2)
    assert first.count(b"\n") == 1500
