"""Malformed, huge and hostile input to the core never gives an unhandled 500 (DESIGN.md §6)."""

import threading

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core.faults import FaultSet


@pytest.mark.parametrize("body", [
    b"[" * 100_000,
    b"\xff\xfe\x00garbage",
    b'{"now": 1e999}',
    b'{"now": Infinity}',
    b"{}" * 10,
])
@pytest.mark.parametrize("path, method", [("/_harness/clock", "post"), ("/_harness/faults", "post"),
                                          ("/_harness/config", "put"), ("/_harness/reset", "post")])
def test_control_api_answers_400_to_garbage(client, body, path, method):
    r = getattr(client, method)(path, data=body, content_type="application/json")
    assert r.status_code == 400, r.data
    assert r.get_json()["error"]


def test_binary_and_odd_headers_are_journalled_safely(client):
    r = client.post("/ingest", data=b"\xff\x00\xfe" * 1000, headers={**AUTH, "X-Odd": "caf\u00e9"})
    assert r.status_code == 200
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert entry["body_bytes"] == 3000 and "\ufffd" in entry["body"]


def test_huge_fault_list_and_long_globs(client):
    rules = [{"match": {"path": "/" + "*" * 200 + "x"}, "action": {"type": "status", "status": 500}} for _ in range(200)]
    assert client.post("/_harness/faults", json=rules).status_code == 201
    assert client.post("/ingest", headers=AUTH).status_code == 200


def test_fault_times_is_exact_under_concurrency(server, state):
    """One lock around rule counting: `times: 5` fires exactly five times under 8 concurrent clients."""
    state.faults.install({"times": 5, "action": {"type": "status", "status": 503}})
    statuses: list[int] = []
    lock = threading.Lock()

    def worker():
        with requests.Session() as s:
            for _ in range(10):
                code = s.post(server.url("/ingest"), json={}, headers=AUTH).status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(503) == 5 and statuses.count(200) == 75
    assert len(state.items) == 75
    assert len(state.journal.entries()) == 80


@settings(max_examples=60)
@given(
    times=st.none() | st.integers(1, 6),
    nth=st.none() | st.lists(st.integers(1, 15), min_size=1, max_size=5),
    every=st.none() | st.integers(1, 5),
    n=st.integers(0, 20),
)
def test_firing_follows_times_nth_every(times, nth, every, n):
    """mixpanel-ingestion.md §13: nth fires on those ordinals, every on multiples, times caps the total."""
    faults = FaultSet()
    faults.install({"times": times, "nth": nth, "every": every, "action": {"type": "status", "status": 500}})
    fired = [faults.check({"path": "/", "method": "GET"}) is not None for _ in range(n)]
    expected, count = [], 0
    for ordinal in range(1, n + 1):
        ok = (not nth or ordinal in nth) and (every is None or ordinal % every == 0) and (times is None or count < times)
        count += ok
        expected.append(ok)
    assert fired == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
control_keys = st.sampled_from(["id", "match", "times", "nth", "every", "probability", "seed", "ingest", "stage",
                                "action", "type", "status", "body", "delay_ms", "now", "advance_s", "mode",
                                "journal.capacity", "limits", "limits.max_items", "answer.mode", "path", "method"])
control_bodies = json_values | st.dictionaries(control_keys, json_values, max_size=5) | st.lists(
    st.dictionaries(control_keys, json_values, max_size=5), max_size=3)


@settings(max_examples=80, deadline=None)
@given(
    route=st.sampled_from([("post", "/_harness/faults"), ("post", "/_harness/clock"), ("put", "/_harness/config"),
                           ("post", "/_harness/reset")]),
    body=control_bodies,
)
def test_control_api_never_500s(route, body):
    """DESIGN.md §6: bad input gets a clear error, never a crash (any JSON to any control endpoint)."""
    import stand_in_fake

    client = stand_in_fake.create_app().test_client()
    method, path = route
    r = getattr(client, method)(path, json=body)
    assert r.status_code < 500, (path, body, r.data)
    if r.status_code >= 400:
        assert isinstance(r.get_json()["error"], str)
    # and the fake still works afterwards
    assert client.get("/_harness/health").status_code == 200


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(["ingest", "ingest/"]) | st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                                                blacklist_characters="?#"), max_size=30),
    query=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
    body=st.binary(max_size=200),
    encoding=st.sampled_from([None, "gzip", "br", "identity", " GZIP "]),
)
def test_journalling_never_500s_on_odd_requests(path, query, header, body, encoding):
    """The core's journal and masking cope with any path, query, header value and body bytes."""
    import stand_in_fake

    app = stand_in_fake.create_app()
    client = app.test_client()
    headers = {"X-Odd": header, "Authorization": header}
    if encoding:
        headers["Content-Encoding"] = encoding
    from urllib.parse import quote

    url = "/" + path if path.startswith("ingest") else "/p/" + quote(path)
    r = client.post(url, query_string=query, data=body, headers=headers)
    assert r.status_code < 500, r.data  # no route here raises on purpose (/boom is not reachable)
    entries = client.get("/_harness/requests").get_json()["requests"]
    assert len(entries) == 1 and entries[0]["body_bytes"] == len(body)
    assert entries[0]["status"] == r.status_code
