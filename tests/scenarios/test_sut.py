"""The system under test (DESIGN.md §3, issue 10 item 5): a Python callable per batch, or an HTTP service fed by
the Custom HTTP Current; the reference mapping stays the oracle, with a readable per-event diff."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import connectors
import pytest
import requests
from conftest import DATA

from harness.mapping import MappingConfig, map_currents_event
from harness.scenarios.loader import load_cases, load_file
from harness.scenarios.runner import RunOptions, run_scenarios
from harness.scenarios.sut import CallableSut, HttpSut, SutSpecError, load_sut


def run(sut: Any, *files: str, **options: Any):
    cases = [c for f in files for c in load_file(DATA / f)]
    return run_scenarios(cases, RunOptions(sut=sut, sut_spec=getattr(sut, "label", None), **options))


def test_a_faithful_callable_passes_like_the_reference():
    result = run(CallableSut(connectors.faithful, label="faithful"), "custom.yaml", "clicks.yaml")
    assert [c.status for c in result.cases] == ["passed", "passed"], result.cases[0].failure_text()
    assert {c.sut for c in result.cases} == {"faithful"}


def test_a_wrong_callable_fails_with_a_readable_per_event_diff():
    result = run(CallableSut(connectors.skips_custom_event_prefix, label="bad"), "custom.yaml")
    (case,) = result.cases
    assert case.status == "failed"
    text = case.failure_text()
    assert "expect[0]: what arrived in fake Mixpanel differs from the reference mapping" in text
    assert "event: expected '[Braze Custom Event] Level Up', got 'Level Up'" in text


def test_load_sut_reads_module_function_urls_and_refuses_nonsense():
    assert load_sut("reference").label == "reference"
    assert isinstance(load_sut("connectors:faithful"), CallableSut)
    http = load_sut("http://127.0.0.1:9/currents", bearer_token="t")
    assert isinstance(http, HttpSut) and http.bearer_token == "t"
    for bad, said in (("nomodule_xyz:f", "cannot import nomodule_xyz"), ("connectors:nothing", "has no nothing"),
                      ("just-text", "expected reference, module:function")):
        with pytest.raises(SutSpecError, match=said):
            load_sut(bad)


class _ConnectorService:
    """A user's connector as a small HTTP service: Custom HTTP batches in, the reference mapping, strict /import
    to fake Mixpanel out (answering 2xx only once Mixpanel took the batch)."""

    def __init__(self, mixpanel_url: str, token: str = "secret-bearer") -> None:
        self.mixpanel_url, self.token = mixpanel_url, token
        self.batches: list[int] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                if self.headers.get("Authorization") != f"Bearer {service.token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.batches.append(len(body["events"]))
                config = MappingConfig(token="harness-token")
                mapped = [r.event for r in (map_currents_event(e, config) for e in body["events"]) if r.event]
                status = 200
                if mapped:
                    answer = requests.post(f"{service.mixpanel_url}/import?strict=1", json=mapped,
                                           auth=("harness-secret", ""), timeout=30)
                    status = 200 if answer.status_code in (200, 400) else 503
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/currents"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_http_sut_is_fed_by_the_custom_http_current_and_verified_against_the_oracle():
    port = _free_port()
    service = _ConnectorService(f"http://127.0.0.1:{port}")
    try:
        cases = load_cases([DATA / "custom.yaml", DATA / "clicks.yaml"])
        result = run_scenarios(cases, RunOptions(sut=HttpSut(service.url, bearer_token=service.token),
                                                 sut_spec=service.url, mixpanel_port=port))
    finally:
        service.close()
    assert [c.status for c in result.cases] == ["passed", "passed"], result.cases[0].failure_text()
    assert service.batches and max(service.batches) <= 100  # the Custom HTTP Current's batch size
    assert f"--mixpanel-port {port}" in result.cases[0].replay


def test_an_http_sut_that_drops_events_fails_the_oracle():
    port = _free_port()
    service = _ConnectorService(f"http://127.0.0.1:{port}")
    service.mixpanel_url = "http://127.0.0.1:9"  # forwards nowhere, but says 503: retried, then never arrives
    try:
        (case,) = load_cases([DATA / "custom.yaml"])
        result = run_scenarios([case], RunOptions(sut=HttpSut(service.url, bearer_token=service.token),
                                                  sut_spec=service.url, mixpanel_port=port))
    except requests.ConnectionError:
        pytest.fail("the runner must not raise")
    finally:
        service.close()
    assert result.cases[0].status == "failed"
    assert "missing" in result.cases[0].failure_text()


def test_a_cohort_export_callable_replaces_the_reference_engine():
    (case,) = load_file(DATA / "plan_cohort.yaml")
    assert case.about_cohort_leg
    good = run_scenarios([case], RunOptions(cohort_sut=connectors.CohortExporter(), cohort_sut_spec="good"))
    assert good.ok, good.cases[0].failure_text()
    assert "--cohort-sut good" in good.cases[0].replay
    bad = run_scenarios([case], RunOptions(cohort_sut=connectors.CohortExporter(removes=False),
                                           cohort_sut_spec="bad")).cases[0]
    assert bad.status == "failed"
    assert "expect[1]: segment \"Mixpanel Cohorts includes 5\" at +7200 s: members differ" in bad.failure_text()
    assert "unexpected: u2" in bad.failure_text()


def test_the_cohort_sut_applies_only_to_cases_about_the_cohort_leg():
    from harness.scenarios.runner import select

    cases = load_cases([DATA])
    chosen = {c.name for c in select(cases, any_cohort_sut=True)}
    assert chosen == {"plan_cohort_follows_profiles"}  # clicks_reach_a_segment checks the engine's run records
    assert {c.name for c in select(cases, any_sut=True)} == {"clicks_reach_a_segment", "custom_event_prefixed"}
