"""The /_harness control blueprint on a fake (DESIGN.md §4 control API table; mixpanel-ingestion.md §13, §14)."""

import json
import time

import pytest
from stand_in_fake import AUTH_HEADERS as AUTH


def test_health(client):
    """DESIGN.md §4: GET /_harness/health → {"status": "ok", "service": name}."""
    r = client.get("/_harness/health")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "service": "standin"}
    assert r.headers["Content-Type"] == "application/json"


def test_reset_clears_data_journal_faults_but_keeps_config_and_clock(client, state):
    """DESIGN.md §4: POST /_harness/reset clears recorded data and state, keeps configuration;
    §7: resetting a fake never moves the shared clock."""
    client.put("/_harness/config", json={"limits.max_items": 3})
    client.post("/ingest", json={"a": 1}, headers=AUTH)
    client.post("/_harness/faults", json={"action": {"type": "status", "status": 500}, "match": {"path": "/x"}})
    client.post("/_harness/clock", json={"now": 1000})
    r = client.post("/_harness/reset", json={"seed": 9})
    assert r.get_json() == {"status": "ok", "service": "standin", "seed": 9}
    assert state.items == []
    assert client.get("/_harness/requests").get_json()["requests"] == []
    assert client.get("/_harness/faults").get_json() == {"faults": []}
    clock = client.get("/_harness/clock").get_json()
    assert (clock["now"], clock["mode"]) == (1000, "frozen")  # only POST /_harness/clock moves it
    assert client.get("/_harness/config").get_json()["config"]["limits.max_items"] == 3
    assert client.post("/_harness/reset").status_code == 200  # no body is fine
    assert client.post("/_harness/reset", json={"seed": [1]}).status_code == 400
    assert client.post("/_harness/reset", json={"colour": 1}).status_code == 400


def test_requests_journal_newest_last_with_limit_and_masking(client):
    """DESIGN.md §4: GET /_harness/requests?limit=N, newest last, secrets masked (§14: Basic masked)."""
    for i in range(3):
        client.post(f"/ingest?token=standin-token&n={i}", json={"n": i, "api_secret": "xyz"}, headers=AUTH)
    body = client.get("/_harness/requests?limit=2").get_json()
    assert body["count"] == 2 and body["total"] == 3
    first, last = body["requests"]
    assert [first["query"]["n"], last["query"]["n"]] == [["1"], ["2"]]
    assert last["headers"]["Authorization"] == "Bearer ***"
    assert last["query"]["token"] == ["***"]
    assert "xyz" not in json.dumps(body) and "standin-token" not in json.dumps(body)
    assert last["payload"] == {"n": 2, "api_secret": "***"}
    assert last["status"] == 200 and last["response_body"] == '{"stored":3}' and last["fault"] is None
    assert client.get("/_harness/requests?limit=x").status_code == 400
    assert client.get("/_harness/requests?limit=-1").status_code == 400
    assert client.get("/_harness/requests?limit=0").get_json()["requests"] == []
    assert client.delete("/_harness/requests").status_code == 200
    assert client.get("/_harness/requests").get_json()["count"] == 0


def test_control_requests_are_not_journalled(client):
    client.get("/_harness/health")
    assert client.get("/_harness/requests").get_json()["count"] == 0


def test_journal_body_is_capped_and_binary_noted(client):
    client.put("/_harness/config", json={"journal.max_body_chars": 5})
    client.post("/ingest", data="abcdefghij", headers=AUTH)
    client.post("/ingest", data=b"\x1f\x8b\x08", headers={**AUTH, "Content-Encoding": "gzip"})
    big, gz = client.get("/_harness/requests").get_json()["requests"]
    assert big["body"] == "abcde" and big["body_truncated"] is True and big["body_bytes"] == 10
    assert gz["body"] is None and gz["body_note"] == "gzip-encoded, not shown" and gz["body_bytes"] == 3


def test_install_list_and_clear_faults(client):
    """mixpanel-ingestion.md §13: POST accepts one rule or a list; DELETE clears."""
    r = client.post("/_harness/faults", json=[{"action": {"type": "status", "status": 502}}, {"id": "x", "action": {"type": "latency", "delay_ms": 1}}])
    assert r.status_code == 201
    assert [f["id"] for f in r.get_json()["faults"]] == ["f1", "x"]
    assert len(client.get("/_harness/faults").get_json()["faults"]) == 2
    assert client.delete("/_harness/faults/x").get_json() == {"status": "ok", "removed": "x"}
    assert client.delete("/_harness/faults/x").status_code == 404
    assert client.delete("/_harness/faults").get_json() == {"status": "ok", "cleared": 1}


@pytest.mark.parametrize("body", [b"", b"{", b"[1]", b'{"action": {"type": "status", "status": NaN}}', b'"x"'])
def test_invalid_fault_bodies_get_400_json(client, body):
    r = client.post("/_harness/faults", data=body, content_type="application/json")
    assert r.status_code == 400
    assert isinstance(r.get_json()["error"], str) and r.get_json()["error"]


def test_status_fault_answers_exact_body_and_is_journalled_with_rule_id(client, state):
    """§13 action status: status, text body, content type, headers; every fault journalled with its id."""
    client.post("/_harness/faults", json={"id": "f502", "times": 1, "action": {
        "type": "status", "status": 502, "body": "upstream connect error or disconnect/reset before headers",
        "content_type": "text/plain", "headers": {"X-Envoy": "1"}}})
    r = client.post("/ingest", json={"a": 1}, headers=AUTH)
    assert r.status_code == 502
    assert r.data == b"upstream connect error or disconnect/reset before headers"
    assert r.headers["Content-Type"] == "text/plain" and r.headers["X-Envoy"] == "1"
    assert r.headers["Content-Length"] == str(len(r.data))
    assert state.items == []  # not ingested
    assert client.post("/ingest", json={"a": 2}, headers=AUTH).status_code == 200
    entries = client.get("/_harness/requests").get_json()["requests"]
    assert entries[0]["fault"] == {"id": "f502", "action": "status", "ingest": False, "ordinal": 1}
    assert entries[0]["status"] == 502 and entries[1]["fault"] is None


def test_json_body_fault(client):
    client.post("/_harness/faults", json={"action": {"type": "status", "status": 503, "body": {"error": "x", "status": 0}}})
    r = client.post("/ingest", headers=AUTH)
    assert r.status_code == 503 and r.headers["Content-Type"] == "application/json"
    assert r.data == b'{"error":"x","status":0}'


def test_ingest_true_stores_then_answers_with_fault(client, state):
    """§13: ingest:true processes and stores the request before the fault answers (lost acknowledgement)."""
    client.post("/_harness/faults", json={"ingest": True, "times": 1, "action": {"type": "status", "status": 500, "body": ""}})
    r = client.post("/ingest", json={"a": 1}, headers=AUTH)
    assert r.status_code == 500 and r.data == b""
    assert state.items == [{"a": 1}]
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert entry["fault"]["ingest"] is True and entry["stored"] == 1


def test_rate_limit_fault_uses_the_fakes_body_and_optional_retry_after(client):
    """§13 rate_limit: the exact 429 body of the fake; Retry-After only when asked (§11)."""
    client.post("/_harness/faults", json=[
        {"times": 1, "action": {"type": "rate_limit"}},
        {"times": 1, "action": {"type": "rate_limit", "retry_after_s": 2}},
    ])
    r1 = client.post("/ingest", headers=AUTH)
    r2 = client.post("/ingest", headers=AUTH)
    assert r1.status_code == 429 and r1.data == b'{"error":"Too many requests","status":0}'
    assert "Retry-After" not in r1.headers
    assert r2.status_code == 429 and r2.headers["Retry-After"] == "2"


def test_latency_delays_then_answers_normally(client, state):
    client.post("/_harness/faults", json={"action": {"type": "latency", "delay_ms": 150}})
    started = time.perf_counter()
    r = client.post("/ingest", json={"a": 1}, headers=AUTH)
    assert time.perf_counter() - started >= 0.14
    assert r.status_code == 200 and state.items == [{"a": 1}]


def test_fault_stage_before_auth(client):
    """braze-cohort-sync.md §4.4 step 5: faults may be set to fire before auth."""
    client.post("/_harness/faults", json={"stage": "before_auth", "action": {"type": "status", "status": 503}})
    assert client.post("/ingest").status_code == 503  # no credentials, still the fault
    client.delete("/_harness/faults")
    client.post("/_harness/faults", json={"action": {"type": "status", "status": 503}})
    assert client.post("/ingest").status_code == 401  # default stage is after auth in the stand-in


def test_fault_match_on_fake_attribute(client):
    client.post("/_harness/faults", json={"match": {"project_id": 7}, "action": {"type": "status", "status": 500}})
    assert client.post("/ingest?project_id=6", headers=AUTH).status_code == 200
    assert client.post("/ingest?project_id=7", headers=AUTH).status_code == 500


def test_clock_read_set_advance_resume(client):
    """DESIGN.md §4: GET/POST /_harness/clock, {"now": epoch} sets, {"advance_s": N} advances."""
    assert client.get("/_harness/clock").get_json()["mode"] == "real"
    r = client.post("/_harness/clock", json={"now": 1_700_000_000})
    assert r.get_json()["now"] == 1_700_000_000 and r.get_json()["mode"] == "frozen"
    assert client.post("/_harness/clock", json={"advance_s": 7200}).get_json()["now"] == 1_700_007_200
    assert client.post("/_harness/clock", json={"now": "2024-01-01T00:00:00Z"}).get_json()["now"] == 1704067200
    assert client.post("/_harness/clock", json={"mode": "real"}).get_json()["mode"] == "real"


def test_journal_uses_simulated_time(client):
    client.post("/_harness/clock", json={"now": 1000})
    client.post("/ingest", headers=AUTH)
    assert client.get("/_harness/requests").get_json()["requests"][0]["at"] == 1000


@pytest.mark.parametrize("body", [{}, {"now": "soon"}, {"now": 1e308}, {"advance_s": 1e308}, {"now": "0000-01-01"}, {"advance_s": -1}, {"advance_s": "1"}, {"now": 1, "advance_s": 1},
                                  {"mode": "fast"}, {"tick": 1}, [1], None])
def test_bad_clock_requests_get_400(client, body):
    r = client.post("/_harness/clock", json=body) if body is not None else client.post("/_harness/clock")
    assert r.status_code == 400 and r.get_json()["error"]


def test_config_get_put_and_errors(client):
    """mixpanel-ingestion.md §14: GET|PUT /_harness/config over dotted keys; unknown keys / wrong types → 400."""
    config = client.get("/_harness/config").get_json()["config"]
    assert config["auth.token"] == "***" and config["journal.capacity"] == 1000  # secrets masked (issue 13)
    assert client.get("/_harness/config?reveal=1").get_json()["config"]["auth.token"] == "standin-token"
    r = client.put("/_harness/config", json={"limits": {"max_items": 4}, "answer.mode": "bare"})
    assert r.status_code == 200 and r.get_json()["changed"] == ["answer.mode", "limits.max_items"]
    for bad, msg in [({"limits.max_items": "4"}, "expected integer"), ({"nope.x": 1}, "unknown configuration key"),
                     ({"answer.mode": "xml"}, "must be one of"), ([1], "JSON object")]:
        r = client.put("/_harness/config", json=bad)
        assert r.status_code == 400 and msg in r.get_json()["error"]
    assert client.get("/_harness/config").get_json()["config"]["limits.max_items"] == 4
    schema = client.get("/_harness/config/schema").get_json()["settings"]
    assert any(s["key"] == "answer.mode" and s["choices"] == ["json", "bare"] for s in schema)


def test_journal_capacity_change_applies(client):
    client.put("/_harness/config", json={"journal.capacity": 2})
    for _ in range(4):
        client.post("/ingest", headers=AUTH)
    assert client.get("/_harness/requests").get_json()["count"] == 2


def test_fake_renders_its_own_404_405_and_control_paths_stay_json(client):
    """mixpanel-ingestion.md §2.2: a fake may want 405 with an empty body; /_harness errors stay JSON. An
    unknown path's 404 names the nearest known routes of its surface (issue 12 item 5: near misses)."""
    r = client.put("/ingest")
    assert r.status_code == 405 and r.data == b""
    r = client.get("/ingets")
    assert r.status_code == 404
    assert r.get_json() == {"error": "Not Found", "status": 404, "near_misses": ["GET|POST /ingest", "GET /boom"]}
    assert r.headers["X-Harness-Near-Misses"] == "GET|POST /ingest, GET /boom"
    r = client.put("/_harness/health")
    assert r.status_code == 405 and r.get_json()["status"] == 405
    body = client.get("/_harness/fault").get_json()
    assert body["error"] == "Not Found" and body["status"] == 404
    assert body["near_misses"][0] == "DELETE|GET|POST /_harness/faults"
    assert body["index"] == "GET /_harness lists every control route"


def test_unhandled_exception_is_journalled_500(client):
    r = client.get("/boom")
    assert r.status_code == 500 and r.get_json()["detail"] == "RuntimeError: deliberate"
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert entry["error"] == "RuntimeError: deliberate" and entry["status"] == 500


def test_fake_control_routes_live_beside_core_ones(client):
    client.post("/ingest", json={"x": 1}, headers=AUTH)
    assert client.get("/_harness/items").get_json() == {"items": [{"x": 1}]}


def test_ingest_status_fault_without_body_answers_its_status_and_empty_body(client, state):
    client.post("/_harness/faults", json={"ingest": True, "action": {"type": "status", "status": 504}})
    r = client.post("/ingest", json={"a": 1}, headers=AUTH)
    assert r.status_code == 504 and r.data == b"" and state.items == [{"a": 1}]


def test_fault_headers_apply_to_rate_limit_and_status(client):
    client.post("/_harness/faults", json={"times": 1, "action": {"type": "rate_limit", "headers": {"X-RateLimit-Limit": "5"}}})
    r = client.post("/ingest", headers=AUTH)
    assert r.status_code == 429 and r.headers["X-RateLimit-Limit"] == "5"


def test_journal_filters(client):
    client.post("/_harness/faults", json={"id": "boom", "nth": [2], "action": {"type": "status", "status": 503}})
    for _ in range(3):
        client.post("/ingest", json={}, headers=AUTH)
    client.get("/nowhere")
    get = lambda q: client.get("/_harness/requests?" + q).get_json()  # noqa: E731
    assert get("path=/ing*")["count"] == 3
    assert get("method=get")["requests"][0]["path"] == "/nowhere"
    assert [e["id"] for e in get("status=503")["requests"]] == [2]
    assert [e["id"] for e in get("fault=boom")["requests"]] == [2]
    assert [e["id"] for e in get("after_id=2")["requests"]] == [3, 4]
    assert [e["id"] for e in get("path=/ingest&limit=1")["requests"]] == [3]
    assert client.get("/_harness/requests?status=abc").status_code == 400
