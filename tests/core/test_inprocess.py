"""In-process mode (DESIGN.md §4; mixpanel-ingestion.md §2.3, §13): requests → Flask app, no sockets."""

import gzip

import pytest
import requests
import responses
import stand_in_fake
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import FakeServer, InProcessRoute
from fakes.core.inprocess import host_regex


@pytest.fixture
def routed(app):
    with InProcessRoute(app, stand_in_fake.HOST_PATTERNS) as route:
        yield route


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://rest.iad-01.braze.com/partners/mixpanel/cohorts", True),
        ("https://rest.fra-01.braze.eu/x", True),
        ("http://api.mixpanel.com:8080/import?strict=1", True),
        ("https://api-eu.mixpanel.com", True),
        ("https://api.mixpanel.com.evil.test/", False),
        ("https://rest.braze.com/", False),
        ("https://xapi.mixpanel.com/", False),
    ],
)
def test_host_patterns_are_host_globs(url, expected):
    pattern = host_regex(["api.mixpanel.com", "api-eu.mixpanel.com", "rest.*.braze.com", "rest.*.braze.eu"])
    assert bool(pattern.match(url)) is expected


def test_request_reaches_app_faithfully(routed, state):
    r = requests.post(
        "https://api.standin.test/ingest?project_id=3&a=1&a=2",
        data=b'{"k": "v"}',
        headers={**AUTH, "Content-Type": "Application/JSON; charset=utf-8", "X-Custom": "yes"},
    )
    assert r.status_code == 200 and r.json() == {"stored": 1}
    entry = state.journal.entries()[-1]
    assert entry["query"] == {"project_id": ["3"], "a": ["1", "2"]}
    assert entry["headers"]["X-Custom"] == "yes" and entry["headers"]["Host"] == "api.standin.test"
    assert entry["headers"]["Content-Type"] == "Application/JSON; charset=utf-8"
    assert entry["body"] == '{"k": "v"}' and entry["method"] == "POST"
    assert entry["remote_addr"] == "127.0.0.1"


def test_gzip_body_arrives_untouched(routed, state, app):
    seen = {}

    @app.before_request
    def grab():
        from flask import request
        seen["raw"] = request.get_data()

    raw = gzip.compress(b'[{"event":"x"}]')
    requests.post("https://rest.eu1.standin.test/ingest", data=raw, headers={**AUTH, "Content-Encoding": "gzip"})
    assert seen["raw"] == raw
    assert state.journal.entries()[-1]["body_bytes"] == len(raw)


def test_response_status_headers_body_come_back(routed):
    r = requests.put("https://api.standin.test/ingest")
    assert r.status_code == 405 and r.content == b""
    r = requests.get("https://api.standin.test/_harness/health")
    assert r.json() == {"status": "ok", "service": "standin"} and r.headers["Content-Type"] == "application/json"


def test_drop_becomes_connection_error(routed, state):
    """§13: in-process, drops become requests.exceptions.ConnectionError."""
    state.faults.install({"times": 1, "action": {"type": "drop_before_response", "mode": "rst"}})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post("https://api.standin.test/ingest", headers=AUTH)
    assert state.journal.entries()[-1]["transport_fault"] == "drop_before_response"


def test_mid_response_drop_becomes_chunked_encoding_error(routed, state):
    """§13: mid-body drops become ChunkedEncodingError."""
    state.faults.install({"times": 1, "ingest": True, "action": {"type": "drop_mid_response"}})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post("https://api.standin.test/ingest", json={"a": 1}, headers=AUTH)
    assert state.items == [{"a": 1}]


def test_hang_becomes_read_timeout_at_once(routed, state):
    state.faults.install({"times": 1, "action": {"type": "hang", "max_hang_ms": 20000}})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get("https://api.standin.test/ingest", headers=AUTH, timeout=1)


def test_other_hosts_are_not_routed(routed):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://example.invalid/")


def test_two_fakes_share_one_mock_and_loopback_passes_through(app, state):
    """DESIGN.md §4: both modes share one state, so a test can mix them."""
    other = stand_in_fake.create_app()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        InProcessRoute(app, ["api.standin.test"], mock=mock).start()
        InProcessRoute(other, ["rest.*.standin.test"], mock=mock).start()
        with FakeServer(app, port=0) as server:
            requests.post("https://api.standin.test/ingest", json={"via": "in-process"}, headers=AUTH)
            requests.post(server.url("/ingest"), json={"via": "server"}, headers=AUTH)
            assert requests.get("https://rest.x.standin.test/_harness/items").json() == {"items": []}
    assert state.items == [{"via": "in-process"}, {"via": "server"}]


@pytest.mark.harness_network_allowed  # the request must miss the stopped route and reach the socket layer
def test_route_stops_cleanly(app):
    route = InProcessRoute(app, ["api.standin.test"]).start()
    route.stop()
    route.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://api.standin.test/_harness/health", timeout=0.5)
