"""In-process mode for httpx clients (DESIGN.md §4; issue 12 item 16; mixpanel-ingestion.md §13 for faults).

httpx calls to a fake's real host names are answered by its app through respx, as `requests` calls are
through responses: same request on the app's side, same journal, transport faults as httpx's own errors."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest
import requests
import stand_in_fake
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import FakeServer, InProcessRoute


@pytest.fixture
def routed(app):
    with InProcessRoute(app, stand_in_fake.HOST_PATTERNS) as route:
        yield route


def test_httpx_request_reaches_the_app_faithfully(routed, state):
    r = httpx.post("https://api.standin.test/ingest?project_id=3&a=1&a=2", content=b'{"k": "v"}',
                   headers={**AUTH, "Content-Type": "Application/JSON; charset=utf-8", "X-Custom": "yes"})
    assert r.status_code == 200 and r.json() == {"stored": 1}
    entry = state.journal.entries()[-1]
    assert entry["query"] == {"project_id": ["3"], "a": ["1", "2"]}
    assert entry["headers"]["X-Custom"] == "yes" and entry["headers"]["Host"] == "api.standin.test"
    assert entry["headers"]["Content-Type"] == "Application/JSON; charset=utf-8"
    assert entry["body"] == '{"k": "v"}' and entry["method"] == "POST"


def test_httpx_gzip_body_and_response_headers(routed, state):
    raw = gzip.compress(b'[{"event":"x"}]')
    httpx.post("https://rest.eu1.standin.test/ingest", content=raw, headers={**AUTH, "Content-Encoding": "gzip"})
    assert state.journal.entries()[-1]["body_bytes"] == len(raw)
    r = httpx.get("https://api.standin.test/_harness/health")
    assert r.json() == {"status": "ok", "service": "standin"} and r.headers["Content-Type"] == "application/json"


def test_async_httpx_client_is_routed_too(routed, state):
    async def send() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post("https://api.standin.test/ingest", json={"async": True}, headers=AUTH)

    assert asyncio.run(send()).json() == {"stored": 1}
    assert state.items == [{"async": True}]


@pytest.mark.parametrize("action, error", [
    ({"type": "drop_before_response"}, httpx.RemoteProtocolError),
    ({"type": "drop_before_response", "mode": "rst"}, httpx.ReadError),
    ({"type": "drop_mid_response"}, httpx.RemoteProtocolError),
    ({"type": "hang", "max_hang_ms": 20000}, httpx.ReadTimeout),
])
def test_transport_faults_are_httpx_errors(routed, state, action, error):
    """§13: in-process, a transport fault is the error the client library raises on a real connection."""
    state.faults.install({"times": 1, "action": action})
    with pytest.raises(error):
        httpx.post("https://api.standin.test/ingest", json={"a": 1}, headers=AUTH, timeout=1)
    assert state.journal.entries()[-1]["transport_fault"] == action["type"]


def test_other_hosts_are_not_routed_and_loopback_passes_through(routed, app):
    with pytest.raises(httpx.ConnectError, match="no fake serves example.invalid"):  # never reaches the network
        httpx.get("https://example.invalid/")
    with FakeServer(app, port=0) as server:
        assert httpx.get(server.url("/_harness/health")).json()["service"] == "standin"


def test_fleet_routes_httpx_and_requests_to_the_same_state():
    from fakes.fleet import FakeFleet

    with FakeFleet(mode="in-process") as fleet:
        r = httpx.post("https://api.mixpanel.com/import?strict=1", auth=("harness-secret", ""),
                       json=[{"event": "E", "properties": {"distinct_id": "u1", "time": 1700000000,
                                                          "$insert_id": "a-1", "token": "harness-token"}}])
        assert r.json() == {"code": 200, "num_records_imported": 1, "status": "OK"}
        stored = requests.get("https://api.mixpanel.com/_harness/events?view=dedup").json()
        assert stored["count"] == 1
