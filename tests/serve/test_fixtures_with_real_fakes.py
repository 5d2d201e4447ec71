"""The pytest plugin's fixtures with the real fakes, end to end, over the contracts DESIGN.md §4 fixes
(default credentials, /_harness/events shape, health). Uses the plugin as any project would (entry point)."""

from __future__ import annotations

import importlib.metadata

import pytest
import requests

pytestmark = pytest.mark.skipif(
    not any(ep.value == "harness.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11")),
    reason="the harness package is not installed (pytest11 entry point missing)",
)


def test_mixpanel_sdk_in_process(mixpanel_fake):
    """DESIGN.md §4 in-process mode: the official SDK, unchanged, talks to https://api.mixpanel.com."""
    import mixpanel

    mp = mixpanel.Mixpanel("harness-token")
    mp.track("u1", "Signed Up", {"plan": "pro"})
    events = mixpanel_fake.client.get("/_harness/events?distinct_id=u1").get_json()
    assert events["count"] == 1 and events["events"][0]["event"] == "Signed Up"
    entry = mixpanel_fake.requests()[-1]
    assert entry["headers"]["Host"] == "api.mixpanel.com"


def test_mixpanel_server_over_https_with_the_sdk(mixpanel_server, monkeypatch):
    """§2.3: the SDK builds https:// URLs only; server mode serves HTTPS with the harness CA."""
    import mixpanel

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", mixpanel_server.ca_pem)
    host = mixpanel_server.https_base_url.removeprefix("https://")
    consumer = mixpanel.Consumer(api_host=host)
    mixpanel.Mixpanel("harness-token", consumer=consumer).track("u2", "Opened")
    events = requests.get(mixpanel_server.url("/_harness/events?distinct_id=u2"), timeout=5).json()
    assert events["count"] == 1


def test_braze_in_process_cohort_declare(braze_fake):
    """DESIGN.md §4 default credentials; braze-cohort-sync.md §4.6 declare → §4.10 success."""
    r = requests.post("https://rest.iad-01.braze.com/partners/mixpanel/cohorts", json={
        "partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key",
        "cohort_id": "c1", "name": "Power users", "created_at": "2024-01-01T00:00:00Z",
    })
    assert r.status_code == 201 and r.json() == {"message": "success"}
    cohorts = braze_fake.client.get("/_harness/cohorts").get_json()["cohorts"]
    assert [c["cohort_id"] for c in cohorts] == ["c1"]
    body = braze_fake.requests()[-1]["body"]
    assert "harness-partner-key" not in body and "harness-data-import-key" not in body


def test_both_servers_share_one_clock(mixpanel_server, braze_server):
    requests.post(mixpanel_server.url("/_harness/clock"), json={"now": 1_700_000_000}, timeout=5)
    assert requests.get(braze_server.url("/_harness/clock"), timeout=5).json()["now"] == 1_700_000_000


def test_resetting_one_server_fake_never_moves_the_shared_clock(mixpanel_server, braze_server):
    """DESIGN.md §7: a reset clears the fake's data only; the session fleet's clock stays where it was."""
    requests.post(mixpanel_server.url("/_harness/clock"), json={"now": 1_700_000_000}, timeout=5)
    assert requests.post(braze_server.url("/_harness/reset"), timeout=5).status_code == 200
    mixpanel_server.reset()
    for handle in (mixpanel_server, braze_server):
        assert requests.get(handle.url("/_harness/clock"), timeout=5).json()["now"] == 1_700_000_000


def test_in_process_fakes_share_the_tests_clock(mixpanel_fake, braze_fake, harness_clock):
    """DESIGN.md §7 One clock: every in-process fake of a test is on `harness_clock`; a reset leaves it."""
    requests.post("https://rest.iad-01.braze.com/_harness/clock", json={"now": 1_700_000_000})
    braze_fake.reset()
    assert harness_clock.now() == 1_700_000_000 == mixpanel_fake.state.clock.now()
    assert requests.get("https://api.mixpanel.com/_harness/clock").json()["now"] == 1_700_000_000


def test_no_secret_in_the_mixpanel_journal_for_base64_and_basic_auth(mixpanel_fake):
    """DESIGN.md §6: secrets never leak into journals, whatever the dialect (base64 `data=`, Basic auth)."""
    import base64
    import json

    event = {"event": "e", "properties": {"token": "harness-token", "distinct_id": "u1", "time": 1700000000}}
    for pad in ("", "x", "xy"):
        event["properties"]["pad"] = pad
        data = base64.b64encode(json.dumps([event]).encode()).decode()
        requests.post("https://api.mixpanel.com/track", data="data=" + data,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    secret = base64.b64encode(b"harness-secret:").decode()
    requests.post("https://api.mixpanel.com/import", json=[event], headers={"Authorization": f"Basic {secret}"})
    journal = json.dumps(mixpanel_fake.requests())
    assert "harness-token" not in journal and "harness-secret" not in journal and secret not in journal
    for core in ("aGFybmVzcy10b2tlb", "hhcm5lc3MtdG9rZW", "oYXJuZXNzLXRva2Vu"):  # base64 of the token
        assert core not in journal
