"""`MixpanelReader` and `MixpanelCohorts` over fake Mixpanel's control API (DESIGN.md §4, §7): dedup events with
their ingestion time as `known_at`, profile properties, and a fingerprint that moves only with the data."""

from __future__ import annotations

import json

import requests

from harness.cohorts import CohortEvaluator
from harness.connectors.cohort_sync import CohortInfo
from harness.connectors.mixpanel_cohorts import MixpanelCohorts
from harness.connectors.mixpanel_reader import DEFAULT_BASE_URL, MixpanelReader

SECRET_AUTH = ("harness-secret", "")
T = 1_767_225_600


def _import(base: str, events: list[dict]) -> None:
    answer = requests.post(f"{base}/import?strict=1", data=json.dumps(events), auth=SECRET_AUTH, timeout=30)
    assert answer.status_code == 200, answer.text


def _event(name: str, distinct_id: str, time: int, insert_id: str) -> dict:
    return {"event": name, "properties": {"distinct_id": distinct_id, "time": time, "$insert_id": insert_id,
                                          "token": "harness-token", "campaign_id": "c1"}}


def test_events_come_deduplicated_with_their_ingestion_time_and_profiles_with_their_properties(fleet):
    base = fleet["mixpanel"].base_url or DEFAULT_BASE_URL
    fleet.clock.set(T + 100)
    _import(base, [_event("Email Click", "d1", T, "i1"), _event("Email Click", "d1", T, "i1")])
    requests.post(f"{base}/engage", data={"data": json.dumps([{"$token": "harness-token", "$distinct_id": "d1",
                                                                "$set": {"$braze_external_id": "u1"}}])}, timeout=30)
    reader = MixpanelReader(base)
    [event] = reader.events()
    assert (event.name, event.distinct_id, event.time, event.known_at) == ("Email Click", "d1", T, T + 100)
    assert event.properties["campaign_id"] == "c1" and "distinct_id" not in event.properties
    source = reader.cohort_source()
    index = CohortEvaluator(source).index
    assert index.properties_at("d1", T + 100) == {"$braze_external_id": "u1"}
    assert reader.profile("nobody") is None


def test_the_adapter_answers_the_sync_engine_and_rereads_only_after_ingestion(in_process_fleet):
    fleet = in_process_fleet
    fleet.clock.set(T + 100)
    reader = MixpanelReader()
    cohorts = MixpanelCohorts(reader)
    cohorts.define(7, "Clicked", {"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7}}, at=T)
    assert cohorts.cohort(7, T - 1) is None
    assert _info(cohorts, 7, T).name == "Clicked"
    assert cohorts.count(7, T + 100) == 0
    before = reader.fingerprint()
    _import(DEFAULT_BASE_URL, [_event("Email Click", "d2", T + 50, "i2")])
    assert reader.fingerprint() != before
    assert [m.distinct_id for m in cohorts.members(7, T + 100)] == ["d2"]
    assert cohorts.reads == 2
    assert cohorts.count(7, T + 100) == 1 and cohorts.reads == 2  # same data: no re-read
    cohorts.define(7, "Clicked (renamed)", {"ids": ["d9"]}, at=T + 200)
    assert _info(cohorts, 7, T + 300).name == "Clicked (renamed)" and cohorts.count(7, T + 300) == 0
    cohorts.delete(7, at=T + 400)
    assert _info(cohorts, 7, T + 400).deleted


def _info(cohorts: MixpanelCohorts, cohort_id: int, at: float) -> CohortInfo:
    info = cohorts.cohort(cohort_id, at)
    assert info is not None
    return info
