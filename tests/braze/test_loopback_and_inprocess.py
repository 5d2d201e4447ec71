"""The fake over real loopback HTTP (waitress) and in-process (responses): DESIGN.md §4 two modes, one state.

Covers the Segment "Braze Cohorts" request shapes, malformed bodies over a real socket, and concurrency.
"""

from __future__ import annotations

import json
import threading

import pytest
import requests

from fakes.braze import HOST_PATTERNS, create_app, new_state
from fakes.core import FakeServer, InProcessRoute

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}


@pytest.fixture
def served(clock):
    state = new_state(clock=clock)
    with FakeServer(create_app(state), port=0, name="braze") as server:
        yield state, server


def post(server, path, body=None, raw=None, **kw):
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(server.url(path), data=data, headers={"Content-Type": "application/json", **kw.pop("headers", {})},
                         timeout=10, **kw)


# --- Segment's public "Braze Cohorts" destination shapes (spec §4.7, §4.4 basis) -------------------
@pytest.fixture
def segment_partner(served):
    state, server = served
    state.model.register_partner("segment", {"US": "seg-us-key", "EU": "seg-eu-key"})
    secret = state.model.generate_key(None, "segment")
    state.model.users().add_identified("u1", aliases=[("email", "a@x.io")])
    state.model.users().add_anonymous(devices=["anon-device"])
    return state, server, {"partner_api_key": "seg-us-key", "client_secret": secret}


def test_segment_credential_probe(segment_partner):
    """§4.4 basis / EC-17: empty cohort_changes with a placeholder cohort id → 2xx; nothing created."""
    state, server, creds = segment_partner
    response = post(server, "/partners/segment/cohorts/users",
                    {**creds, "cohort_id": "will_add_in_constant", "cohort_changes": []})
    assert response.status_code == 201
    assert state.model.list_cohorts(partner="segment") == []
    bad = post(server, "/partners/segment/cohorts/users",
               {**creds, "client_secret": "wrong", "cohort_id": "will_add_in_constant", "cohort_changes": []})
    assert bad.status_code == 401


def test_segment_sibling_ids_add_and_remove(segment_partner):
    """§4.7: user_ids, device_ids and aliases as siblings (empty arrays allowed), should_remove absent or bool."""
    state, server, creds = segment_partner
    declare = post(server, "/partners/segment/cohorts", {**creds, "name": "Segment audience", "cohort_id": "aud_1",
                                                          "created_at": "2023-04-01T12:34:56.789Z"})
    assert declare.status_code == 201
    add = post(server, "/partners/segment/cohorts/users", {**creds, "cohort_id": "aud_1", "cohort_changes": [
        {"user_ids": ["u1"], "device_ids": ["anon-device"], "aliases": []},
        {"user_ids": [], "device_ids": [], "aliases": [{"alias_name": "email", "alias_label": "a@x.io"}]},
    ]})
    assert (add.status_code, add.json()) == (201, {"message": "success"})
    assert state.model.cohort("aud_1", partner="segment").membership.current.__len__() == 2
    remove = post(server, "/partners/segment/cohorts/users", {**creds, "cohort_id": "aud_1", "cohort_changes": [
        {"user_ids": ["u1"], "device_ids": [], "aliases": [], "should_remove": True}]})
    assert remove.status_code == 201
    assert len(state.model.members("aud_1", partner="segment")) == 1


def test_segment_eu_key_on_eu_cluster(segment_partner):
    """§5: the public client picks its EU key for .eu hosts."""
    state, server, _ = segment_partner
    state.model.create_workspace("eu", "EU-01")
    secret = state.model.generate_key("eu", "segment")
    eu = {"X-Harness-Braze-Cluster": "EU-01"}
    ok = post(server, "/partners/segment/cohorts/users", {"partner_api_key": "seg-eu-key", "client_secret": secret,
                                                          "cohort_id": "x", "cohort_changes": []}, headers=eu)
    assert ok.status_code == 201
    wrong = post(server, "/partners/segment/cohorts/users", {"partner_api_key": "seg-us-key", "client_secret": secret,
                                                             "cohort_id": "x", "cohort_changes": []}, headers=eu)
    assert wrong.json() == {"message": "Invalid Partner API key"}


# --- malformed bodies over a real socket: documented errors, server keeps serving -------------------
MALFORMED = [
    (b"{broken json", 401, "Invalid Partner API key"),
    (b"\xff\xfe\x00\x01 not utf-8", 401, "Invalid Partner API key"),
    (json.dumps({**CREDS, "cohort_id": 12, "cohort_changes": []}).encode(), 400, "cohort_id must be a valid string"),
    (json.dumps({**CREDS, "cohort_id": "1"}).encode(), 400, "cohort_changes must be an array of objects each with "
     "key user_ids and/or device_ids mapping to an array of strings, or an aliases object"),
    (json.dumps({**CREDS, "cohort_id": "1", "cohort_changes": [{"user_ids": [1]}]}).encode(), 400, None),
    (json.dumps({**CREDS, "cohort_id": "1", "cohort_changes": [{"user_ids": [f"u{i}" for i in range(1001)]}]}).encode(),
     400, "Only 1,000 user_ids, device_ids, and aliases are allowed per request"),
    (b"{" + b" " * (17 * 1024 * 1024) + b"}", 413, "Request body too large"),
]


def test_malformed_bodies_over_http_then_still_serving(served):
    """§4.3/§4.8/§4.10: documented answers for malformed input; the next valid request succeeds."""
    state, server = served
    for raw, status, text in MALFORMED:
        response = post(server, "/partners/mixpanel/cohorts/users", raw=raw)
        assert response.status_code == status, raw[:60]
        assert response.headers["Content-Type"] == "application/json"
        if text:
            assert response.json() == {"message": text}
    state.model.users().add_identified("u1")
    assert post(server, "/partners/mixpanel/cohorts/users",
                {**CREDS, "cohort_id": "1", "cohort_changes": [{"user_ids": ["u1"]}]}).status_code == 201
    assert state.model.members("1")[0]["external_id"] == "u1"


# --- concurrency ----------------------------------------------------------------------------------
@pytest.mark.parametrize("detect_concurrent", [True, False])
def test_concurrent_disjoint_adds_and_removes_leave_exact_membership(served, detect_concurrent):
    """§2 lock / §4.12: many threads add and remove disjoint users of one cohort; 423s retried; exact result."""
    state, server = served
    state.update_config({"braze.lock.detect_concurrent": detect_concurrent,
                         "braze.rate_limit.per_hour": 1_000_000})
    threads, per_thread = 8, 60
    state.model.users().add_many([{"external_id": f"t{t}-u{i}"} for t in range(threads) for i in range(per_thread)])
    locked = []

    def send(session, changes):
        body = {**CREDS, "cohort_id": "shared", "cohort_changes": changes}
        for _ in range(200):
            response = session.post(server.url("/partners/mixpanel/cohorts/users"), json=body, timeout=10)
            if response.status_code != 423:
                assert response.status_code == 201
                return
            locked.append(1)
        raise AssertionError("never got through the lock")

    def worker(t):
        with requests.Session() as session:
            ids = [f"t{t}-u{i}" for i in range(per_thread)]
            for start in range(0, per_thread, 10):
                send(session, [{"user_ids": ids[start:start + 10]}])
            # remove the odd ones, one request each, add one of them back
            for uid in ids[1::2]:
                send(session, [{"user_ids": [uid], "should_remove": True}])
            send(session, [{"user_ids": [ids[1]]}])

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    expected = {f"t{t}-u{i}" for t in range(threads) for i in range(per_thread) if i % 2 == 0 or i == 1}
    members = {m["external_id"] for m in state.model.members("shared")}
    assert members == expected
    counters = state.model.cohort("shared").counters
    assert counters["applied_add"] == threads * (per_thread + 1)
    assert counters["applied_remove"] == threads * per_thread // 2
    if not detect_concurrent:
        assert not locked


# --- in-process mode: real host names routed into the app --------------------------------------
def test_in_process_routes_braze_hosts_and_resolves_cluster(clock):
    """DESIGN.md §4 in-process mode; §4.1 cluster from the Host (rest.*.braze.com / rest.*.braze.eu)."""
    state = new_state(clock=clock)
    state.model.create_workspace("eu", "EU-02")
    eu_key = state.model.generate_key("eu")
    with InProcessRoute(create_app(state), HOST_PATTERNS):
        ok = requests.post("https://rest.iad-01.braze.com/partners/mixpanel/cohorts/users",
                           json={**CREDS, "cohort_id": "1", "cohort_changes": []})
        other_us = requests.post("https://rest.iad-05.braze.com/partners/mixpanel/cohorts/users",
                                 json={**CREDS, "cohort_id": "1", "cohort_changes": []})
        eu = requests.post("https://rest.fra-02.braze.eu/partners/mixpanel/cohorts/users",
                           json={**CREDS, "client_secret": eu_key, "cohort_id": "1", "cohort_changes": []})
        wrong = requests.post("https://rest.fra-01.braze.eu/partners/mixpanel/cohorts/users",
                              json={**CREDS, "client_secret": eu_key, "cohort_id": "1", "cohort_changes": []})
    assert (ok.status_code, eu.status_code) == (201, 201)
    assert other_us.json() == wrong.json() == {"message": "Invalid client secret"}  # workspace lives elsewhere
    assert [e["cluster"] for e in state.journal.entries()] == ["US-01", "US-05", "EU-02", "EU-01"]
