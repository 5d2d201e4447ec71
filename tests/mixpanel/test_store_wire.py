"""mixpanel-ingestion.md §2.1–2.2 (paths, regions), §10 storage and dedup, §11 rate limiting, §13 faults,
§14 control API and journal."""

from __future__ import annotations

import json
import threading

import pytest
from mpkit import NOW, SECRET, SECRET_AUTH, TOKEN, event, jbody

from fakes.mixpanel.ratelimit import RateLimiter
from fakes.mixpanel.regions import resolve_region

RATE_429 = (b'{"code":429,"error":"Project exceeded rate limits. Please retry the request with exponential '
            b'backoff.","status":"Too Many Requests"}')


# --- §2 paths and regions --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/track", "/track/", "/engage/", "/groups/", "/import/", "/eu/track/",
                                  "/in/engage", "/us/groups"])
def test_2_2_trailing_slash_and_prefixes_no_redirect(client, path):
    """§2.2: every path answers with or without a trailing slash, never a redirect; §2.1 prefixes."""
    resp = client.post(path, data=b"[]", headers={"Content-Type": "application/json"})
    assert resp.status_code in (200, 400, 401) and "Location" not in resp.headers


def test_2_2_other_methods_405_empty_unknown_404(client):
    """§2.2: other methods → 405 with an empty body; unknown paths → 404."""
    for method in ("put", "delete", "patch"):
        resp = getattr(client, method)("/import")
        assert (resp.status_code, resp.data) == (405, b"")
    assert client.get("/nope").status_code == 404


def test_2_2_get_import_with_query_data(client):
    """§2.2: GET /import with `data` in the query (Node SDK `import()`)."""
    resp = client.get("/import", query_string={"data": json.dumps([event()]), "strict": "1"}, headers=SECRET_AUTH)
    assert resp.status_code == 200


def test_2_1_region_resolution_order():
    """§2.1: path prefix, then port map, then Host header, then us."""
    ports = {"8082": "eu"}
    assert resolve_region("in", "8082", "api-eu.mixpanel.com", ports) == "in"
    assert resolve_region(None, "8082", "api-in.mixpanel.com", ports) == "eu"
    assert resolve_region(None, "9999", "API-IN.mixpanel.com", ports) == "in"
    assert resolve_region(None, None, "api-eu.mixpanel.com:443", {}) == "eu"
    assert resolve_region(None, None, "127.0.0.1", {}) == "us"


def test_2_1_region_recorded_and_track_quarantined_when_enforced(api, client, state):
    """§2.1: the region seen is recorded; with enforcement, a wrong-region /track gets `1` but is quarantined."""
    body = jbody([{"event": "e", "properties": {"token": TOKEN, "distinct_id": "r"}}])
    api.post("/eu/track", body)
    assert client.get("/_harness/requests?limit=1").get_json()["requests"][0]["region"] == "eu"
    assert client.get("/_harness/events?meta=1").get_json()["events"][0]["meta"]["region"] == "eu"
    state.update_config({"regions.enforce": True})
    assert api.post("/eu/track", body).data == b"1"
    assert api.events(view="quarantine")["count"] == 1
    resp = client.post("/track", data=body, base_url="https://api-eu.mixpanel.com")
    assert resp.data == b"1" and api.events(view="quarantine")["count"] == 2


def test_2_3_max_uri_bytes(client, state):
    """§2.3 `http.max_uri_bytes`: longer URIs → 414 with an empty body."""
    state.update_config({"http.max_uri_bytes": 50})
    resp = client.get("/track?data=" + "x" * 100)
    assert (resp.status_code, resp.data) == (414, b"")


# --- §10 storage -------------------------------------------------------------------------------------

def test_10_dedup_key_last_wins_across_endpoints(api):
    """§10: key (event, distinct_id, time, $insert_id); last ingested wins; raw keeps duplicates; scope
    spans /track and /import."""
    api.import_([event(n=0, v=1)])
    api.import_([event(n=0, v=2)])
    api.post("/track", jbody([{"event": "Purchase", "properties": {
        "token": TOKEN, "time": NOW - 3600, "distinct_id": "user-0", "$insert_id": "id-00000000", "v": 3}}]))
    dedup = api.events()
    assert dedup["count"] == 1 and dedup["events"][0]["properties"]["v"] == 3
    assert api.events(view="raw")["count"] == 3
    api.import_([event(n=0, v=4, other="ignored-by-key")])
    assert api.events()["events"][0]["properties"]["v"] == 4


def test_10_events_filters(api):
    """§10: filters event, distinct_id, project_id, endpoint, since_ms."""
    api.import_([event("A", n=0), event("B", n=1)])
    assert api.events(event="A")["count"] == 1
    assert api.events(distinct_id="user-1")["events"][0]["event"] == "B"
    assert api.events(endpoint="import")["count"] == 2 and api.events(endpoint="track")["count"] == 0
    assert api.events(since_ms=str((NOW - 3600) * 1000))["count"] == 1
    assert api.events(project_id="2")["count"] == 0
    assert api.client.get("/_harness/events?view=bogus").status_code == 400


def test_10_reset_clears_data_keeps_config(api, client, state):
    """DESIGN.md §4: POST /_harness/reset clears events and profiles, keeps configuration."""
    state.update_config({"import.max_batch_records": 10})
    api.import_([event()])
    api.post("/engage", jbody([{"$token": TOKEN, "$distinct_id": "u", "$set": {"a": 1}}]))
    client.post("/_harness/reset")
    assert api.events(view="raw")["count"] == 0 and client.get("/_harness/profiles/u").status_code == 404
    assert state.config["import.max_batch_records"] == state.model.settings.import_max_batch_records == 10


def test_10_concurrent_overlapping_imports_dedup_exact(app):
    """§10: many threads importing overlapping batches → the dedup view is exact."""
    import requests

    from fakes.core import FakeServer

    n_threads, per_batch, batches = 8, 200, 6
    with FakeServer(app, name="mixpanel", threads=8) as srv:
        errors: list[str] = []

        def worker(k: int) -> None:
            session = requests.Session()
            for b in range(batches):
                start = (k * 100 + b * 50) % 1000  # overlapping windows over 1000 distinct events
                records = [event(n=(start + i) % 1000, writer=k) for i in range(per_batch)]
                resp = session.post(srv.base_url + "/import", params={"strict": "1"}, data=json.dumps(records),
                                    headers={**SECRET_AUTH, "Content-Type": "application/json"}, timeout=30)
                if resp.status_code != 200:
                    errors.append(resp.text)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        expected = {(start := (k * 100 + b * 50) % 1000, (start + i) % 1000)[1]
                    for k in range(n_threads) for b in range(batches) for i in range(per_batch)}
        dedup = requests.get(srv.base_url + "/_harness/events", timeout=10).json()
        raw = requests.get(srv.base_url + "/_harness/events?view=raw", timeout=10).json()
        assert dedup["count"] == len(expected)
        assert {e["properties"]["distinct_id"] for e in dedup["events"]} == {f"user-{n}" for n in expected}
        assert raw["count"] == n_threads * batches * per_batch


# --- §11 rate limiting ------------------------------------------------------------------------------

def test_11_budget_window_and_exact_body(api, state, clock):
    """§11: per project, rolling window; exact 429 body; no Retry-After by default; nothing ingested."""
    state.update_config({"ratelimit.events_per_window": 3})
    assert api.import_([event(n=0), event(n=1)]).status_code == 200
    resp = api.import_([event(n=2), event(n=3)])
    assert (resp.status_code, resp.data) == (429, RATE_429) and "Retry-After" not in resp.headers
    assert api.events(view="raw")["count"] == 2
    clock.advance(61)
    assert api.import_([event(n=2), event(n=3)]).status_code == 200


def test_11_track_shares_budget_and_answers_429_json(api, state):
    """§11: /track shares the budget; a 429 there is the JSON body even without verbose."""
    state.update_config({"ratelimit.events_per_window": 1})
    api.import_([event()])
    resp = api.post("/track", jbody([{"event": "e", "properties": {"token": TOKEN}}]))
    assert (resp.status_code, resp.data) == (429, RATE_429)


def test_11_retry_after_switch_and_what_counts(api, state):
    """§11: `ratelimit.retry_after_s` adds the header; 401s don't count, 400s do (`count_invalid`)."""
    state.update_config({"ratelimit.events_per_window": 2, "ratelimit.retry_after_s": 7})
    for _ in range(3):
        api.import_([event()], auth={"Authorization": "Basic bad"})
    api.import_([{"event": ""}, {"event": ""}])  # a 400 with two records counts
    resp = api.import_([event()])
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"


def test_11_bytes_budget_and_engage_not_counted(api, state):
    """§11 / Q18: the byte budget; /engage and /groups are not counted."""
    state.update_config({"ratelimit.bytes_per_window": 400})
    for _ in range(5):
        update = {"$token": TOKEN, "$distinct_id": "u", "$set": {"a": "x" * 100}}
        assert api.post("/engage", jbody([update])).data == b"1"
    assert api.import_([event(pad="x" * 300)]).status_code == 429


def test_11_limiter_is_constant_time_sliding_window():
    """§11: the sliding log evicts entries older than the window."""
    limiter = RateLimiter()
    limiter.record(1, 0, 60_000, 10, 5)
    assert limiter.exceeded(1, 30_000, 60_000, add_events=1, bytes_budget=100, events_budget=5)
    assert not limiter.exceeded(1, 60_001, 60_000, add_events=1, bytes_budget=100, events_budget=5)
    assert limiter.usage(1, 60_001, 60_000) == {"bytes": 0, "events": 0, "requests": 0}


# --- §13 faults and §14 control/journal ----------------------------------------------------------------

def test_13_fault_before_auth_with_exact_rate_limit_body(client):
    """§13: faults fire after the body is read and before auth; `rate_limit` gives the exact 429."""
    client.post("/_harness/faults", json={"id": "f1", "match": {"path": "/import", "project_id": "1"},
                                          "times": 1, "action": {"type": "rate_limit", "retry_after_s": 2}})
    resp = client.post("/import", data=b"[]", headers=SECRET_AUTH)
    assert (resp.status_code, resp.data, resp.headers["Retry-After"]) == (429, RATE_429, "2")
    assert client.post("/import", data=b"[]", headers=SECRET_AUTH, query_string={"strict": "1"}).status_code == 400
    entry = client.get("/_harness/requests").get_json()["requests"][0]
    assert entry["fault"]["id"] == "f1"


def test_13_ingest_true_stores_then_answers_with_fault(api, client):
    """§13 `ingest:true`: processed and stored before the fault answers (a lost acknowledgement)."""
    client.post("/_harness/faults", json={"match": {"path": "/import"}, "times": 1, "ingest": True,
                                          "action": {"type": "status", "status": 503, "body": "busy"}})
    resp = api.import_([event()])
    assert resp.status_code == 503 and api.events()["count"] == 1
    assert api.import_([event()]).status_code == 200  # the retry dedups
    assert api.events()["count"] == 1 and api.events(view="raw")["count"] == 2


def test_13_match_by_region(api, client):
    """§13: `match.region`."""
    client.post("/_harness/faults", json={"match": {"region": "eu"},
                                          "action": {"type": "status", "status": 500, "body": ""}})
    body = jbody([{"event": "e", "properties": {"token": TOKEN}}])
    assert api.post("/eu/track", body).status_code == 500
    assert api.post("/track", body).status_code == 200


def test_14_journal_masks_secrets(api, client):
    """§14: secrets, tokens and Basic credentials are masked in the journal."""
    api.import_([event(token=TOKEN)])
    text = json.dumps(client.get("/_harness/requests").get_json())
    assert SECRET not in text and TOKEN not in text and "Basic ***" in text
    entry = client.get("/_harness/requests").get_json()["requests"][0]
    assert entry["dialect"] == "json-array" and entry["project_id"] == 1 and entry["payload"]


def test_14_projects_stats_config(client):
    """§14: GET|PUT /_harness/projects, GET /_harness/stats, PUT /_harness/config validation."""
    projects = client.get("/_harness/projects").get_json()["projects"]
    assert projects[0]["project_id"] == 1 and projects[0]["token"] == TOKEN
    resp = client.put("/_harness/projects", json={"projects": [{"project_id": 7, "token": "t7", "secret": "s7"}]})
    assert resp.get_json()["projects"][0]["project_id"] == 7
    assert client.put("/_harness/projects", json={"projects": [{"token": "x"}]}).status_code == 400
    assert client.put("/_harness/config", json={"import": {"max_batch_records": "x"}}).status_code == 400
    assert client.put("/_harness/config", json={"nope.key": 1}).status_code == 400
    client.post("/track", data={"data": json.dumps({"event": "e", "properties": {"token": "t7"}})})
    stats = client.get("/_harness/stats").get_json()
    assert stats["totals"]["requests"] == 1 and stats["totals"]["records_accepted"] == 1
    assert stats["rows"][0]["endpoint"] == "track" and stats["rows"][0]["dialect"] == "form"


def test_14_profiles_404(client):
    """DESIGN.md §4: GET /_harness/profiles/<distinct_id> → 404 if none."""
    assert client.get("/_harness/profiles/nobody").status_code == 404


def test_14_profiles_listed_in_one_answer(api, client):
    """The list form of the profiles resource: every user profile in one answer (a cohort reader of thousands
    of profiles makes one request); `meta=1` adds created_at; group profiles are not listed."""
    assert client.get("/_harness/profiles").get_json() == {"count": 0, "profiles": []}
    api.post("/engage", jbody([{"$token": TOKEN, "$distinct_id": "u1", "$set": {"a": 1}},
                               {"$token": TOKEN, "$distinct_id": "u2", "$set": {"b": "x"}}]))
    api.post("/groups", jbody([{"$token": TOKEN, "$group_key": "company", "$group_id": "c1", "$set": {"n": 1}}]))
    body = client.get("/_harness/profiles").get_json()
    assert body["count"] == 2
    assert sorted(body["profiles"], key=lambda r: r["distinct_id"]) == [
        {"distinct_id": "u1", "properties": {"a": 1}}, {"distinct_id": "u2", "properties": {"b": "x"}}]
    with_meta = client.get("/_harness/profiles?meta=1").get_json()["profiles"]
    assert all("created_at" in row and "properties" in row for row in with_meta)
    assert client.get("/_harness/profiles?project_id=x").status_code == 400


def test_10_snapshot_restore_round_trip(api, client, state):
    """§10 persistence (`harness serve --state-dir`): events, views, profiles, groups and tables survive."""
    import json as _json

    from fakes.mixpanel import new_state

    api.import_([event(n=0, v=1), event(n=0, v=2), event(n=1, ip="1.2.3.4")])
    api.post("/track", jbody([{"event": "q", "properties": {"token": "unknown"}}]))
    api.post("/engage", jbody([{"$token": TOKEN, "$distinct_id": "p", "$set": {"a": [1]}}]))
    api.post("/groups", jbody([{"$token": TOKEN, "$group_key": "c", "$group_id": "g", "$set": {"n": 1}}]))
    client.post("/_harness/lookup-tables", json={"name": "t", "id": "tbl"})
    snap = _json.loads(_json.dumps(state.snapshot()))
    other = new_state()
    other.restore(snap)
    mine, theirs = state.model, other.model
    assert theirs.store.counts() == mine.store.counts() == {"raw": 3, "dedup": 2, "quarantine": 1}
    assert [r.properties for r in theirs.store.rows()] == [r.properties for r in mine.store.rows()]
    assert [r.raw_properties for r in theirs.store.rows("raw")] == [r.raw_properties for r in mine.store.rows("raw")]
    assert theirs.profiles.get((1, "p")).properties == {"a": [1]}
    assert theirs.group_profiles.get((1, ("c", "g"))).properties == {"n": 1}
    assert theirs.lookup_tables.get("tbl").name == "t"


def test_10_compaction_mode_same_utc_day(api, state):
    """§10 `dedup.mode = compaction`: key (event, distinct_id, `$insert_id`, same UTC day)."""
    day_start = (NOW // 86400) * 86400
    api.import_([event(n=0, time=day_start + 10, v=1), event(n=0, time=day_start + 20, v=2)])
    assert api.events()["count"] == 2  # query mode: different times do not merge
    state.update_config({"dedup.mode": "compaction"})
    merged = api.events()
    assert merged["count"] == 1 and merged["events"][0]["properties"]["v"] == 2


def test_13_fault_counts_in_stats(client):
    """§14 stats: faults fired are counted."""
    client.post("/_harness/faults", json={"match": {"path": "/track"}, "times": 1,
                                          "action": {"type": "status", "status": 500, "body": ""}})
    client.post("/track", data=b"[]")
    assert client.get("/_harness/stats").get_json()["totals"]["faults_fired"] == 1


def test_14_journal_deviations_and_flags(api, client):
    """§14 / §5.1: the journal lists the harness defaults that decided the outcome; `test`/`ip` recorded."""
    api.import_([event()], strict=False, query={"test": "1", "ip": "1"})
    entry = client.get("/_harness/requests?limit=1").get_json()["requests"][0]
    assert entry["test"] is True and entry["ip"] is True
    assert any(d.startswith("§5.1") for d in entry["deviations"])


def test_2_1_port_map_and_us_forwarding(api, client, state):
    """§2.1: `regions.ports` maps the local port to a region; `projects[].us_forwarding` lets an EU
    project's /import through the US host when enforcement is on."""
    state.update_config({"regions.ports": {"80": "in"}})
    api.post("/track", jbody([{"event": "e", "properties": {"token": TOKEN}}]))
    assert client.get("/_harness/requests?limit=1").get_json()["requests"][0]["region"] == "in"
    state.update_config({"regions.ports": {}, "regions.enforce": True, "projects": [
        {"project_id": 1, "token": TOKEN, "secret": SECRET, "region": "eu"}]})
    assert api.import_([event(n=0)]).status_code == 401
    assert api.post("/eu/import", jbody([event(n=0)]), query={"strict": "1"}, headers=SECRET_AUTH).status_code == 200
    state.update_config({"projects": [{"project_id": 1, "token": TOKEN, "secret": SECRET, "region": "eu",
                                       "us_forwarding": True}]})
    assert api.import_([event(n=1)]).status_code == 200


def test_14_journal_payload_is_capped(api, client):
    """§14: the decoded payload in the journal is capped (count and size)."""
    api.import_([event(n=i, blob="x" * 5000) for i in range(12)])
    entry = client.get("/_harness/requests?limit=1").get_json()["requests"][0]
    assert 1 <= len(entry["payload"]) <= 10
    assert len(json.dumps(entry["payload"])) < 20000
