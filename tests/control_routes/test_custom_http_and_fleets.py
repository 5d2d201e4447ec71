"""A Custom HTTP Current created over HTTP feeds a small HTTP service written in the test; the routes also
work on an in-process fleet (the fakes' real host names); each side resets over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from fakes.fleet import FakeFleet
from harness.connector_routes import ConnectorControl

CLICKED = {"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7}}


def _click(event_id: str, external_id: str, at: float) -> dict[str, Any]:
    return {"event_type": "users.messages.email.Click", "id": event_id, "time": int(at),
            "user": {"user_id": f"braze-{external_id}", "external_user_id": external_id},
            "properties": {"campaign_id": "c1", "dispatch_id": f"d-{event_id}"}}


class _Service:
    """A system under test: takes Custom HTTP batches; the first one is answered 503 (Braze retries)."""

    def __init__(self) -> None:
        self.batches: list[tuple[str | None, list[dict[str, Any]]]] = []
        self.answered = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.answered += 1
                status = 503 if service.answered == 1 else 200
                if status == 200:
                    service.batches.append((self.headers.get("Authorization"), body["events"]))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/currents"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def service() -> Iterator[_Service]:
    running = _Service()
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_custom_http_current_feeds_a_service_with_retries_on_the_clock(braze_server: Any, service: _Service) -> None:
    url = braze_server.url
    requests.post(url("/_harness/clock"), json={"now": 1_767_225_600}, timeout=30).raise_for_status()
    created = requests.post(url("/_harness/currents"), json={
        "type": "custom_http", "url": service.url, "bearer_token": "sut-token", "max_batch_events": 2,
        "contact_email": "ops@example.com"}, timeout=30)
    assert created.status_code == 201, created.text
    current = created.json()["id"]
    events = [_click(f"e{i}", f"u{i}", 1_767_225_000 + i) for i in range(3)]
    assert requests.post(url(f"/_harness/currents/{current}/events"), json=events, timeout=30).json()["queued"] == 3
    requests.post(url("/_harness/clock"), json={"advance_s": 5}, timeout=30).raise_for_status()  # flush: 503
    assert service.batches == []
    requests.post(url("/_harness/clock"), json={"advance_s": 600}, timeout=30).raise_for_status()  # back-off
    assert [auth for auth, _ in service.batches] == ["Bearer sut-token"] * 2
    assert [[e["id"] for e in batch] for _, batch in service.batches] == [["e0", "e1"], ["e2"]]
    report = requests.get(url(f"/_harness/currents/{current}/report"), timeout=30).json()
    assert (report["delivered"], report["pending"], report["details"]["retries"]) == (3, 0, 1)
    described = requests.get(url(f"/_harness/currents/{current}"), timeout=30).json()
    assert (described["type"], described["contact_email"], described["pending"]) == ("custom_http",
                                                                                     "ops@example.com", 0)


def test_reset_routes_clear_one_side_each(mixpanel_server: Any, braze_server: Any) -> None:
    requests.post(mixpanel_server.url("/_harness/mixpanel/cohorts"), json={"id": 1, "name": "A",
                                                                          "definition": CLICKED}, timeout=30)
    current = requests.post(braze_server.url("/_harness/currents"), json={
        "type": "mixpanel", "api_secret": "s", "token": "t"}, timeout=30).json()["id"]
    assert requests.post(mixpanel_server.url("/_harness/mixpanel/reset"), timeout=30).status_code == 200
    assert requests.get(mixpanel_server.url("/_harness/mixpanel/cohorts/1/members"), timeout=30).status_code == 404
    assert requests.get(braze_server.url(f"/_harness/currents/{current}"), timeout=30).status_code == 200
    assert requests.post(braze_server.url("/_harness/currents/reset"), timeout=30).status_code == 200
    assert requests.get(braze_server.url(f"/_harness/currents/{current}"), timeout=30).status_code == 404


def test_routes_on_an_in_process_fleet_use_the_real_host_names() -> None:
    fleet = FakeFleet(mode="in-process")
    control = ConnectorControl(fleet).mount_all()
    with fleet:
        mixpanel, braze = "https://api.mixpanel.com", "https://rest.iad-01.braze.com"
        requests.post(f"{braze}/_harness/clock", json={"now": 1_767_225_600}, timeout=30).raise_for_status()
        requests.post(f"{braze}/_harness/users", json={"users": [{"external_id": "u1"}]},
                      timeout=30).raise_for_status()
        requests.post(f"{mixpanel}/engage", data={"data": json.dumps([{
            "$token": "harness-token", "$distinct_id": "u1", "$set": {"$braze_external_id": "u1"}}])},
                      timeout=30).raise_for_status()
        current = requests.post(f"{braze}/_harness/currents", json={
            "type": "mixpanel", "api_secret": "harness-secret", "token": "harness-token"}, timeout=30).json()["id"]
        requests.post(f"{braze}/_harness/currents/{current}/events", json=[_click("e1", "u1", 1_767_225_000)],
                      timeout=30).raise_for_status()
        assert requests.post(f"{braze}/_harness/currents/{current}/flush", timeout=30).json()["delivered"] == 1
        requests.post(f"{mixpanel}/_harness/mixpanel/cohorts", json={"id": 3, "name": "Clicked",
                                                                     "definition": CLICKED}, timeout=30)
        connection = requests.post(f"{mixpanel}/_harness/mixpanel/connections", json={
            "data_import_key": "harness-data-import-key"}, timeout=30).json()
        assert connection["braze_url"] == braze
        sync = requests.post(f"{mixpanel}/_harness/mixpanel/syncs", json={
            "cohort_id": 3, "connection_id": connection["id"], "type": "one_time"}, timeout=30).json()
        assert (sync["state"], sync["next_run_at"], sync["runs"][0]["counts"]["adds"]) == ("completed", None, 1)
        members = requests.post(f"{braze}/_harness/segments/evaluate",
                                json={"filter": {"mixpanel_cohorts": {"includes": "3"}}}, timeout=30).json()
        assert [m["external_id"] for m in members["members"]] == ["u1"]
    control.close()
