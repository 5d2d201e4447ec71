"""Deliberately wrong connectors fail the right bundled scenarios, with a readable diff, and pass the others;
a faithful one passes every scenario about the Currents leg (issue 10, Done when). Each list names the
scenarios that must catch the bug; any other scenario must pass for that connector."""

from __future__ import annotations

from typing import Any

import connectors
import pytest

from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.loader import load_cases
from harness.scenarios.runner import RunOptions, run_scenarios, select
from harness.scenarios.sut import CallableSut

CURRENTS_CASES = select(load_cases([bundled_scenarios_dir()]), any_sut=True)

WORLD_MAPPING = [
    "mapping_banner_feature_flag", "mapping_campaign_conversion_control", "mapping_canvas", "mapping_content_card",
    "mapping_custom_events", "mapping_email", "mapping_in_app_message", "mapping_line", "mapping_live_activity",
    "mapping_purchases", "mapping_push", "mapping_rcs", "mapping_sessions_installs", "mapping_sms",
    "mapping_subscriptions", "mapping_webhook", "mapping_whatsapp"]
"""The per-channel mapping scenarios: generated worlds, which hold anonymous users too."""

MUST_FAIL: dict[str, tuple[Any, set[str], tuple[str, str]]] = {
    # a custom event named "Level Up" must arrive as "[Braze Custom Event] Level Up" (N2)
    "skips_custom_event_prefix": (connectors.skips_custom_event_prefix, {
        "custom_event_prefix_and_properties", "mapping_custom_events", "at_least_once_duplicates",
        "faults_429_storm", "faults_5xx_lost_answers", "identity_aliases", "identity_identified_later",
        "input_avro_and_storage_json", "long_strings_truncated_255"},
        ("custom_event_prefix_and_properties", "event: expected '[Braze Custom Event] ")),
    # events without external_user_id are not exported (E2)
    "exports_users_without_external_id": (connectors.exports_users_without_external_id, {
        "identity_missing_null_empty_external_id", "identity_identified_later", "identity_aliases",
        "at_least_once_duplicates", "faults_429_storm", "faults_5xx_lost_answers", "input_avro_and_storage_json",
        "sms_inbound_shared_phone_number", "dispatch_id_canvas_steps[mode=default]",
        "dispatch_id_canvas_steps[mode=mixed]", "dispatch_id_canvas_steps[mode=shared]", *WORLD_MAPPING},
        ("identity_missing_null_empty_external_id", "unexpected ")),
    # Braze's own event names and shapes are not Mixpanel events: every Currents scenario catches it
    "forwards_raw_braze_events": (connectors.forwards_raw_braze_events, {c.case_id for c in CURRENTS_CASES},
                                  ("custom_event_prefix_and_properties", "differs ")),
    # a 429 means "retry with back-off" (mixpanel-ingestion.md §5.8): dropping the batch loses events
    "gives_up_on_429": (connectors.gives_up_on_429, {"faults_429_storm"}, ("faults_429_storm", "missing ")),
    # a retried batch must keep its $insert_id, or lost answers and redeliveries become duplicates
    "new_insert_id_on_every_retry": (connectors.NewInsertIdOnEveryRetry, {
        "faults_5xx_lost_answers", "faults_429_storm", "at_least_once_duplicates",
        "dispatch_id_canvas_steps[mode=mixed]"}, ("faults_5xx_lost_answers", "unexpected ")),
}


def _run(function: Any, label: str):
    return run_scenarios(CURRENTS_CASES, RunOptions(sut=CallableSut(function, label=label), sut_spec=label, jobs=2))


def test_a_faithful_connector_passes_every_scenario_about_the_currents_leg():
    assert len(CURRENTS_CASES) >= 30
    result = _run(connectors.faithful, "faithful")
    failed = {c.case_id: c.failure_text() for c in result.cases if not c.passed}
    assert failed == {}


@pytest.mark.parametrize("bug", sorted(MUST_FAIL))
def test_a_wrong_connector_fails_exactly_the_scenarios_that_catch_it(bug):
    make, must_fail, (key_case, signature) = MUST_FAIL[bug]
    function = make() if isinstance(make, type) else make
    result = _run(function, bug)
    failed = {c.case_id: c for c in result.cases if not c.passed}
    assert set(failed) == must_fail
    for case in failed.values():
        assert case.status == "failed", case.error  # a readable failure, not a crash
        assert case.failure_text().startswith(f"{case.file}:"), case.failure_text()
        assert f"--sut {bug}" in case.replay
    assert signature in failed[key_case].failure_text(), failed[key_case].failure_text()
