"""Helpers of the connector tests: a generated world's Currents stream, the mapping oracle, the fake's views."""

from __future__ import annotations

from typing import Any

from fakes.fleet import FakeFleet
from harness.generate import StreamConfig, build_world, generate_events
from harness.mapping import MappingConfig, map_currents_event

ANCHOR = 1_767_225_600  # the generator's default anchor: every event is dated at or before it


def currents_events(seed: int = 3, events: int = 600, **config: Any) -> list[dict[str, Any]]:
    world = build_world(seed)
    return list(generate_events(world, StreamConfig(events=events, anchor=ANCHOR, **config), seed=seed))


def expected_by_insert_id(events: list[dict[str, Any]], mapping: MappingConfig | None = None) -> dict[str, dict]:
    """The oracle: what the mapping says should arrive, keyed by `$insert_id` (one per Currents id)."""
    mapping = mapping or MappingConfig()
    out: dict[str, dict] = {}
    for event in events:
        result = map_currents_event(event, mapping)
        if result.event is not None:
            out[result.event["properties"]["$insert_id"]] = result.event
    return out


def mixpanel_events(fleet: FakeFleet, view: str = "dedup") -> list[dict[str, Any]]:
    answer = fleet["mixpanel"].client.get(f"/_harness/events?view={view}")
    assert answer.status_code == 200
    return answer.get_json()["events"]


def import_requests(fleet: FakeFleet) -> list[dict[str, Any]]:
    return [e for e in fleet["mixpanel"].requests() if e["path"].endswith("/import")]
