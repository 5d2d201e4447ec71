"""DESIGN.md §4: the fake plugs into the shared fixtures (`mixpanel_fake` in-process, `mixpanel_server` on a
loopback server, also over HTTPS) with the default credentials of DESIGN.md §4."""

from __future__ import annotations

import time

import requests
from mixpanel import Consumer, Mixpanel, ServiceAccountCredentials


def test_design_4_in_process_fixture_default_credentials(mixpanel_fake):
    """DESIGN.md §4: project 1, `harness-token`, `harness-secret`, `harness-sa`/`harness-sa-secret`."""
    mp = Mixpanel("harness-token", consumer=Consumer(credentials=ServiceAccountCredentials(
        "harness-sa", "harness-sa-secret", "1")))
    mp.import_data(None, "u", "SA import", int(time.time()) - 86400)
    Mixpanel("harness-token").import_data(None, "u", "Secret import", int(time.time()) - 86400,
                                          api_secret="harness-secret")
    events = requests.get("https://api.mixpanel.com/_harness/events").json()
    assert {e["event"] for e in events["events"]} == {"SA import", "Secret import"}
    assert requests.get("https://api.mixpanel.com/_harness/health").json() == {"status": "ok", "service": "mixpanel"}


def test_design_4_server_fixture_http_and_https(mixpanel_server):
    """DESIGN.md §4 server mode, plain and TLS ports sharing one state."""
    body = [{"event": "e", "properties": {"token": "harness-token", "distinct_id": "s"}}]
    assert requests.post(mixpanel_server.base_url + "/track", json=body, timeout=10).content == b"1"
    if mixpanel_server.https_base_url:
        resp = requests.post(mixpanel_server.https_base_url + "/track", json=body, timeout=10,
                             verify=str(mixpanel_server.ca_pem))
        assert resp.content == b"1"
    raw = requests.get(mixpanel_server.base_url + "/_harness/events?view=raw", timeout=10).json()
    assert raw["count"] >= 1


def test_in_process_fixture_answers_httpx_clients(mixpanel_fake):
    """Issue 12 item 16: the `mixpanel_fake` fixture routes httpx as it routes requests."""
    import httpx

    r = httpx.post("https://api-eu.mixpanel.com/import?strict=1", auth=("harness-secret", ""),
                   json=[{"event": "E", "properties": {"distinct_id": "u1", "time": 1700000000,
                                                      "$insert_id": "h-1", "token": "harness-token"}}])
    assert r.status_code == 200 and r.json()["num_records_imported"] == 1
    assert mixpanel_fake.requests()[-1]["path"] == "/import"


def test_mixpanel_utils_imports_into_the_server_through_its_import_api_attribute(mixpanel_server):
    """README "Using the fakes": urllib-based mixpanel-utils is not intercepted in-process; its `import_api`
    attribute points it at a server fixture (mixpanel-ingestion.md §5, /import)."""
    from mixpanel_utils import MixpanelUtils

    client = MixpanelUtils("harness-secret", token="harness-token", pool_size=1)
    client.import_api = mixpanel_server.base_url
    client.import_events([{"event": "Imported", "properties": {"distinct_id": "u1", "time": 1700000000,
                                                               "$insert_id": "mu-1"}}], timezone_offset=0)
    assert [e["path"] for e in mixpanel_server.requests()] == ["/import"]
    assert mixpanel_server.requests()[-1]["status"] == 200


def test_sdk_alias_builds_its_own_consumer(mixpanel_fake):
    """README: the official SDK's alias() ignores the consumer given to Mixpanel(...) and calls
    api.mixpanel.com itself (here answered in-process)."""
    from mixpanel import Consumer, Mixpanel

    elsewhere = Consumer(api_host="127.0.0.1:9")  # would fail: nothing listens on port 9
    Mixpanel("harness-token", consumer=elsewhere).alias("new-id", "old-id")
    entry = mixpanel_fake.requests()[-1]
    assert entry["headers"]["Host"] == "api.mixpanel.com" and entry["path"] == "/track" and entry["status"] == 200
    assert entry["payload"][0]["event"] == "$create_alias"
