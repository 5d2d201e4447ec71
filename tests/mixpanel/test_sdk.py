"""mixpanel-ingestion.md §12.1: the official `mixpanel` Python SDK works unchanged against the fake, in
the in-process mode (real host names) and the server mode (URL overrides); every error it can meet
surfaces as `MixpanelException`."""

from __future__ import annotations

import pytest
import requests
from mixpanel import BufferedConsumer, Consumer, Mixpanel, MixpanelException, ServiceAccountCredentials
from mpkit import NOW, SA_SECRET, SA_USER, SECRET, TOKEN

from fakes.core import FakeServer, InProcessRoute
from fakes.mixpanel import HOST_PATTERNS

OLD = NOW - 30 * 86400


@pytest.fixture
def in_process(app):
    with InProcessRoute(app, HOST_PATTERNS):
        yield "https://api.mixpanel.com"


@pytest.fixture
def server(app):
    with FakeServer(app, name="mixpanel") as srv:
        yield srv.base_url


def consumer(base: str, cls=Consumer, **kw):
    return cls(events_url=f"{base}/track", people_url=f"{base}/engage", groups_url=f"{base}/groups",
               import_url=kw.pop("import_url", f"{base}/import"), **kw)


def events(base: str, **params):
    return requests.get(f"{base}/_harness/events", params=params, timeout=5).json()


def exercise(base: str, mp: Mixpanel, mp_sa: Mixpanel) -> None:
    mp.track("u1", "Signed Up", {"plan": "pro"})
    mp.import_data(None, "u1", "Imported", OLD, api_secret=SECRET)
    mp_sa.import_data(None, "u2", "Imported SA", OLD)
    mp.people_set("u1", {"name": "Ada", "drop": 1})
    mp.people_union("u1", {"tags": ["a", "b"]})
    mp.people_unset("u1", ["drop"])
    mp.people_set("u9", {"x": 1})
    mp.people_delete("u9")
    mp.group_set("company", "acme", {"size": 10})
    got = {e["event"] for e in events(base)["events"]}
    assert got == {"Signed Up", "Imported", "Imported SA"}
    assert requests.get(f"{base}/_harness/profiles/u1", timeout=5).json() == {"name": "Ada", "tags": ["a", "b"]}
    assert requests.get(f"{base}/_harness/profiles/u9", timeout=5).status_code == 404
    assert requests.get(f"{base}/_harness/groups/company/acme", timeout=5).json() == {"size": 10}


def test_12_1_sdk_in_process_real_hosts(in_process, clock):
    """§12.1: default consumers on https://api.mixpanel.com, answered in-process."""
    clock.resume_real_time()
    mp = Mixpanel(TOKEN)
    mp_sa = Mixpanel(TOKEN, consumer=Consumer(credentials=ServiceAccountCredentials(SA_USER, SA_SECRET, "1")))
    exercise(in_process, mp, mp_sa)
    mp.alias("new-id", "u1")  # always https://api.mixpanel.com/track: works in-process
    assert events(in_process, view="raw", event="$create_alias")["count"] == 1


def test_12_1_sdk_server_mode_url_overrides(server, clock):
    """§12.1: `events_url=` etc. with http:// against the loopback server."""
    clock.resume_real_time()
    mp = Mixpanel(TOKEN, consumer=consumer(server))
    creds = ServiceAccountCredentials(SA_USER, SA_SECRET, "1")
    mp_sa = Mixpanel(TOKEN, consumer=consumer(server, credentials=creds))
    exercise(server, mp, mp_sa)


def test_12_1_buffered_consumer_flushes(server, clock):
    """§12.1: BufferedConsumer batches of ≤ 50 flush and all land."""
    clock.resume_real_time()
    buffered = consumer(server, cls=BufferedConsumer)
    mp = Mixpanel(TOKEN, consumer=buffered)
    for i in range(120):
        mp.track(f"user-{i}", "Tick", {"i": i})
        mp.people_set(f"user-{i}", {"i": i})
    buffered.flush()
    assert events(server)["count"] == 120
    stats = requests.get(f"{server}/_harness/stats", timeout=5).json()
    assert stats["totals"]["requests"] == 6 and stats["profiles"] == 120


def test_12_1_region_prefix_in_api_host_style_path(server, clock):
    """§2.1 / §12.1: `api_host="127.0.0.1:8081/eu"` style paths land with region eu."""
    clock.resume_real_time()
    mp = Mixpanel(TOKEN, consumer=consumer(server + "/eu"))
    mp.track("u", "E")
    entry = requests.get(f"{server}/_harness/requests?limit=1", timeout=5).json()["requests"][0]
    assert entry["region"] == "eu" and entry["path"] == "/eu/track"


@pytest.mark.parametrize("mode", ["in_process", "server"])
def test_12_1_errors_are_mixpanel_exceptions(mode, request, state, clock):
    """§12.1: bad secret (401), 413, 429 and strict failures → MixpanelException, never KeyError/TypeError."""
    clock.resume_real_time()
    base = request.getfixturevalue(mode)
    mp = Mixpanel(TOKEN, consumer=consumer(base))
    with pytest.raises(MixpanelException, match="Invalid credentials"):
        mp.import_data(None, "u", "E", OLD, api_secret="wrong")
    strict = Mixpanel(TOKEN, consumer=consumer(base, import_url=f"{base}/import?strict=1"))
    with pytest.raises(MixpanelException, match="some data points in the request failed validation"):
        strict.import_data(None, "null", "E", OLD, api_secret=SECRET)  # V8 placeholder
    state.update_config({"import.max_body_bytes": 50})
    with pytest.raises(MixpanelException, match="request exceeds max limit of 50 bytes"):
        mp.track("u", "E")
    # the strict 400 above already counts one event in the window (§11: 400s count): one more fits
    state.update_config({"import.max_body_bytes": 10485760, "ratelimit.events_per_window": 2})
    mp.import_data(None, "u", "E", OLD, api_secret=SECRET)
    with pytest.raises(MixpanelException, match="Project exceeded rate limits"):
        mp.import_data(None, "u", "E2", OLD, api_secret=SECRET)
    with pytest.raises(MixpanelException, match="Project exceeded rate limits"):
        mp.track("u", "E3")
    with pytest.raises(MixpanelException):  # a non-JSON 5xx from a fault
        requests.post(f"{base}/_harness/faults", json={"match": {"path": "/engage"}, "action": {
            "type": "status", "status": 502, "content_type": "text/plain",
            "body": "upstream connect error or disconnect/reset before headers"}}, timeout=5)
        mp.people_set("u", {"a": 1})


def test_12_1_api_key_only_gets_401(in_process, clock):
    """§12.1: `import_data` with only `api_key` sends no credentials (5.3 regression) → 401 → exception."""
    clock.resume_real_time()
    with pytest.raises(MixpanelException, match="Invalid credentials"):
        Mixpanel(TOKEN).import_data("some-api-key", "u", "E", OLD)


def test_2_3_sdk_over_https_with_test_ca(app, state, clock, tmp_path):
    """§2.3 / §12.1: the SDK's own `https://{api_host}` URLs against the TLS front door, trusting the
    harness test CA; requests arrive as https (so `auth.reject_plain_http` lets them through)."""
    from fakes.core.tls import issue_test_certificates, server_context
    from fakes.mixpanel import TLS_HOSTNAMES

    clock.resume_real_time()
    files = issue_test_certificates(tmp_path, TLS_HOSTNAMES)
    state.update_config({"auth.reject_plain_http": True})
    with FakeServer(app, name="mixpanel", tls_context=server_context(files.cert_pem, files.key_pem)) as srv:
        host = srv.https_base_url.removeprefix("https://")
        mp = Mixpanel(TOKEN, consumer=Consumer(api_host=host, verify_cert=str(files.ca_pem)))
        mp.track("u1", "Over TLS")
        mp.import_data(None, "u1", "Imported over TLS", OLD, api_secret=SECRET)
        assert events(srv.base_url)["count"] == 2
        plain = Mixpanel(TOKEN, consumer=consumer(srv.base_url))
        with pytest.raises(MixpanelException, match="Invalid credentials"):
            plain.import_data(None, "u1", "Plain", OLD, api_secret=SECRET)
