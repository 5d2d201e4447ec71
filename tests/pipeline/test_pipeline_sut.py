"""Issue 9 "Done when" / DESIGN.md §3: a user's callable `function(events, target)` in place of the reference
Current is compared with the oracle the same way, event by event; a faulty one gets a readable diff."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests
from pipeline_kit import assert_matches_oracle, config

from harness.mapping import MappingConfig, map_currents_event
from harness.scenarios.pipeline import Pipeline
from harness.scenarios.sut import SutTarget

calls: list[int] = []


def _import(events: list[dict[str, Any]], target: SutTarget) -> None:
    auth = base64.b64encode(f"{target.api_secret}:".encode()).decode()
    answer = requests.post(f"{target.base_url}/import?strict=1", data=json.dumps(events),
                           headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
                           timeout=30)
    answer.raise_for_status()


def faithful_connector(events: list[dict[str, Any]], target: SutTarget) -> None:
    """A user's connector that maps with the reference mapping and imports each batch."""
    calls.append(len(events))
    mapping = MappingConfig(token=target.token)
    mapped = [r.event for r in (map_currents_event(e, mapping) for e in events) if r.event is not None]
    if mapped:
        _import(mapped, target)


def connector_that_drops_campaign_name(events: list[dict[str, Any]], target: SutTarget) -> None:
    mapping = MappingConfig(token=target.token)
    mapped = [r.event for r in (map_currents_event(e, mapping) for e in events) if r.event is not None]
    for event in mapped:
        event["properties"].pop("campaign_name", None)
    if mapped:
        _import(mapped, target)


def test_a_user_callable_in_place_of_the_reference_current_is_compared_with_the_oracle(fleet):
    calls.clear()
    pipeline = Pipeline(fleet, config(connector=faithful_connector))
    observation = pipeline.start().observe()
    assert_matches_oracle(observation)
    assert calls and max(calls) <= 100  # Custom HTTP batches: at most 100 events each
    assert sum(calls) == len(pipeline.submitted) == observation.report.delivered


def test_a_faulty_user_callable_gets_a_readable_per_event_diff(in_process_fleet):
    observation = Pipeline(in_process_fleet, config(connector=connector_that_drops_campaign_name)).start().observe()
    lines = observation.diff(limit=10_000)
    assert lines, "the faulty connector was not caught"
    assert any(line.startswith("differs ") for line in lines)
    assert any(line.strip().startswith("- campaign_name: ") and line.endswith("(missing)") for line in lines)
    assert len(observation.diff()) <= 41 and "more lines" in observation.diff()[-1]


def test_a_user_callable_that_raises_is_retried_on_the_simulated_clock(in_process_fleet):
    failures = iter([RuntimeError("connection reset"), RuntimeError("503 from Mixpanel")])

    def flaky(events: list[dict[str, Any]], target: SutTarget) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        faithful_connector(events, target)

    observation = Pipeline(in_process_fleet, config(connector=flaky)).start().observe()
    assert_matches_oracle(observation)
    assert observation.report.retries == 2 and observation.report.pending == 0
