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
