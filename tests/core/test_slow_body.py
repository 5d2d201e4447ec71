"""`slow_body` always delivers a real body (mixpanel-ingestion.md §13 "trickle the body at bytes_per_s";
issue 13 item 6): without a `body` of its own the request is processed as usual and the endpoint's own
answer trickles; with a `body` (and no `ingest`) that body trickles and nothing is processed."""

from __future__ import annotations

import json

import pytest
import requests
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import FakeServer, InProcessClient
from fakes.core.tls import issue_test_certificates, server_context


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return issue_test_certificates(tmp_path_factory.mktemp("tls"), ["api.standin.test"])


@pytest.fixture
def srv(app, tls_files):
    with FakeServer(app, port=0, name="standin",
                    tls_context=server_context(tls_files.cert_pem, tls_files.key_pem)) as s:
        yield s


@pytest.mark.parametrize("kind", ["plain", "tls"])
def test_slow_body_without_a_body_trickles_the_endpoints_own_answer(srv, state, tls_files, kind):
    state.faults.install({"id": "slow", "times": 1, "action": {"type": "slow_body", "bytes_per_s": 40}})
    base = srv.base_url if kind == "plain" else srv.https_base_url
    r = requests.post(base + "/ingest", json={"n": 1}, headers=AUTH, verify=str(tls_files.ca_pem), timeout=10)
    assert (r.status_code, r.json()) == (200, {"stored": 1})  # what the endpoint answers, never an empty 200
    assert state.items == [{"n": 1}]
    entry = state.journal.entries()[-1]
    assert entry["transport_fault"] == "slow_body" and entry["fault"]["id"] == "slow"
    assert entry["response_body"] == '{"stored":1}'


def test_slow_body_without_a_body_keeps_the_endpoints_error_answer(srv, state):
    """The endpoint's answer, whatever it is: a request that fails auth trickles its 401."""
    state.faults.install({"times": 1, "action": {"type": "slow_body", "bytes_per_s": 1000}})
    r = requests.post(srv.url("/ingest"), json={"n": 1}, headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert (r.status_code, r.json()) == (401, {"error": "unauthorized"})
    assert state.items == []


def test_slow_body_with_its_own_body_answers_that_body_and_processes_nothing(srv, state):
    state.faults.install({"times": 1, "action": {"type": "slow_body", "bytes_per_s": 1000, "status": 503,
                                                 "body": {"error": "busy"}}})
    r = requests.post(srv.url("/ingest"), json={"n": 1}, headers=AUTH, timeout=10)
    assert (r.status_code, r.json(), r.headers["Content-Type"]) == (503, {"error": "busy"}, "application/json")
    assert state.items == []


def test_slow_body_with_ingest_and_a_body_stores_and_answers_the_fault_body(srv, state):
    state.faults.install({"times": 1, "ingest": True,
                          "action": {"type": "slow_body", "bytes_per_s": 1000, "body": "accepted slowly"}})
    r = requests.post(srv.url("/ingest"), json={"n": 1}, headers=AUTH, timeout=10)
    assert (r.status_code, r.text) == (200, "accepted slowly")
    assert state.items == [{"n": 1}]


def test_slow_body_in_process_delivers_the_same_real_body(app, state):
    """In-process the trickle arrives at once (no socket), with the same body as in server mode."""
    state.faults.install({"times": 1, "action": {"type": "slow_body", "bytes_per_s": 1}})
    status, _headers, body = InProcessClient(app).post("https://api.standin.test/ingest", json={"n": 7},
                                                        headers=AUTH)
    assert (status, json.loads(body)) == (200, {"stored": 1})
    assert state.items == [{"n": 7}]


def test_slow_body_on_mixpanel_track_answers_mixpanels_own_body(mixpanel_fake):
    """mixpanel-ingestion.md §13 on the real fake: /track under slow_body answers Mixpanel's body, not b""."""
    import base64

    mixpanel_fake.add_faults({"times": 1, "action": {"type": "slow_body", "bytes_per_s": 100}})
    data = base64.b64encode(json.dumps({"event": "e", "properties": {"token": "harness-token",
                                                                     "distinct_id": "u1"}}).encode()).decode()
    r = requests.post("https://api.mixpanel.com/track", data={"data": data}, timeout=10)
    assert r.status_code == 200 and r.text == "1"
    events = mixpanel_fake.client.get("/_harness/events?distinct_id=u1").get_json()
    assert events["count"] == 1
