"""pytest, the way Tavern does it (issue 10 item 6): scenario files as pytest items with pytest's own reports,
`-k` and `-x`; the fixtures for a fleet, a world and the pipeline; the assertion helpers; the network guard."""

from __future__ import annotations

import socket
import textwrap

import pytest
import requests
from conftest import DATA

from harness.scenarios.pipeline import CohortSpec, PipelineConfig
from harness.testing.assertions import assert_cohort_members, assert_matches_oracle, assert_segment
from harness.testing.network_guard import NetworkGuard, NetworkGuardError, is_loopback

pytest_plugins = ["pytester"]

FAILING = """
# yaml-language-server: $schema=scenario.schema.json
name: counts_wrong
tags: [cohort-sync]
users: [{external_id: u1}]
expect:
  - profile: {distinct_id: u1, properties: {$braze_external_id: nobody}}
"""


def test_scenario_files_are_collected_and_run_as_pytest_items(pytester):
    pytester.makefile(".yaml", good=(DATA / "custom.yaml").read_text(), bad=textwrap.dedent(FAILING))
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*bad.yaml::counts_wrong FAILED*", "*good.yaml::custom_event_prefixed PASSED*",
                                 "*expect[[]0[]]: profile 'u1' differs*", "*replay: harness run*"])


def test_pytest_k_selects_scenarios_by_name_and_tag(pytester):
    pytester.makefile(".yaml", good=(DATA / "custom.yaml").read_text(), bad=textwrap.dedent(FAILING))
    pytester.runpytest("-p", "no:cacheprovider", "-k", "custom_event").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider", "-k", "cohort-sync").assert_outcomes(failed=1)


def test_a_malformed_scenario_file_is_a_collection_error_with_file_and_line(pytester):
    pytester.makefile(".yaml", broken="# scenario.schema.json\nname: b\nsteps:\n  - advance: forever\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*broken.yaml:4: steps[[]0[]].advance: expected a duration like 2h*"])


def test_the_harness_sut_option_runs_scenarios_against_a_callable(pytester):
    pytester.syspathinsert(str(DATA.parent))
    pytester.makefile(".yaml", good=(DATA / "custom.yaml").read_text())
    pytester.runpytest("-p", "no:cacheprovider", "--harness-sut", "connectors:faithful").assert_outcomes(passed=1)
    bad = pytester.runpytest("-p", "no:cacheprovider", "--harness-sut", "connectors:skips_custom_event_prefix")
    bad.assert_outcomes(failed=1)
    bad.stdout.fnmatch_lines(["*event: expected '[[]Braze Custom Event[]] Level Up', got 'Level Up'*"])


def test_pipeline_fixtures_and_assertion_helpers(harness_pipeline, harness_world):
    assert len(harness_world(3, users=5).users) == 5
    config = PipelineConfig(seed=3, cohorts=(CohortSpec(9, "Everyone with email events",
                                                        {"did_event": {"event": "Email Send", "min_count": 1,
                                                                       "within_days": 30}}),))
    pipeline = harness_pipeline(config)
    observation = pipeline.observe()
    assert_matches_oracle(observation)
    members = pipeline.note_members(9, pipeline.fleet.clock.now())
    assert members
    assert_cohort_members(pipeline, 9, equals=members)
    assert_segment(pipeline, 9, includes=members[:1])
    with pytest.raises(AssertionError, match="missing: nobody"):
        assert_segment(pipeline, 9, includes=["nobody"])
    observation.arrived.popitem()
    with pytest.raises(AssertionError, match="differs from the reference mapping"):
        assert_matches_oracle(observation)


def test_harness_fleet_answers_the_real_host_names_in_process(harness_fleet):
    answer = requests.get("https://api.mixpanel.com/_harness/health", timeout=5)
    assert answer.json() == {"status": "ok", "service": "mixpanel"}


@pytest.mark.harness_network_allowed  # it makes its own guard refuse
def test_the_network_guard_refuses_anything_but_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("api.mixpanel.com") and not is_loopback("10.0.0.1")
    with NetworkGuard() as guard:
        with pytest.raises(NetworkGuardError, match="api.mixpanel.com:443"):
            socket.getaddrinfo("api.mixpanel.com", 443)
        with pytest.raises(NetworkGuardError, match="192.0.2.1:80"), socket.socket() as sock:
            sock.connect(("192.0.2.1", 80))
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            with socket.create_connection(server.getsockname(), timeout=5):
                pass  # loopback is fine
    assert guard.violations == ["api.mixpanel.com:443", "192.0.2.1:80"]
    assert socket.getaddrinfo.__module__ == "socket"  # the patch is gone


@pytest.mark.harness_network_allowed  # the inner run (in this process) is the one that must fail
def test_a_test_reaching_a_real_host_fails_with_one_line_even_if_it_swallows_the_error(pytester):
    pytester.makepyfile(test_net="""
        import requests

        def test_reaches_out():
            try:
                requests.post("https://api.mixpanel.com/import", json=[], timeout=1)
            except Exception:
                pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness-network-guard")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*network guard: the test tried to reach api.mixpanel.com:443*"])
