"""Inspection routes of the shared core, on every fake (issue 12 items 5 and 6; DESIGN.md §4 control API):
request verification (`POST /_harness/requests/count`, `/find`, as WireMock's request verification), near
misses on a 404 for an unknown path, the `GET /_harness` index and `GET /_harness/config/schema`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.braze import create_app as braze_app
from fakes.mixpanel import create_app as mixpanel_app


def count(client, pattern) -> int:
    response = client.post("/_harness/requests/count", json=pattern)
    assert response.status_code == 200, response.data
    return response.get_json()["count"]


def error_of(client, pattern, route="count") -> str:
    response = client.post(f"/_harness/requests/{route}", data=json.dumps(pattern),
                           content_type="application/json")
    assert response.status_code == 400, response.data
    return response.get_json()["error"]


@pytest.fixture
def traffic(client):
    client.post("/ingest?project_id=7&mode=a", json={"user": {"id": "u1", "tags": ["x", "y"]}, "n": 1},
                headers=AUTH)
    client.post("/ingest?project_id=8", json={"user": {"id": "u2"}, "n": 2}, headers=AUTH)
    client.post("/ingest", json={"n": 3})  # no credentials: 401
    client.get("/ingest", headers={"X-Trace": "abc-123"})
    return client


def test_count_by_method_path_query_status(traffic):
    assert count(traffic, {}) == 4
    assert count(traffic, {"method": "POST", "path": "/ingest"}) == 3
    assert count(traffic, {"method": ["get", "post"]}) == 4
    assert count(traffic, {"path": {"glob": "/in*"}}) == 4
    assert count(traffic, {"path": {"regex": "^/ing"}}) == 4
    assert count(traffic, {"query": {"project_id": "7"}}) == 1
    assert count(traffic, {"query": {"project_id": {"regex": "^[78]$"}}}) == 2
    assert count(traffic, {"query": {"project_id": {"absent": True}}}) == 2
    assert count(traffic, {"status": 401}) == 2  # the GET has no credentials either
    assert count(traffic, {"status": [200, 401]}) == 4


def test_count_by_headers_case_insensitive(traffic):
    assert count(traffic, {"headers": {"x-trace": {"contains": "123"}}}) == 1
    assert count(traffic, {"headers": {"X-TRACE": "abc-123"}}) == 1
    assert count(traffic, {"headers": {"X-Trace": {"absent": True}}}) == 3
    # the journal is masked, and so is what a pattern sees: a secret never matches in clear
    assert count(traffic, {"headers": {"Authorization": "Bearer ***"}}) == 2
    assert count(traffic, {"headers": {"Authorization": {"contains": "standin-token"}}}) == 0


def test_count_by_body_json_subset_and_regex(traffic):
    assert count(traffic, {"body": {"json": {"user": {"id": "u1"}}}}) == 1
    assert count(traffic, {"body": {"json": {"user": {"tags": ["y"]}}}}) == 1  # an element, any order
    assert count(traffic, {"body": {"json": {"n": 1.0}}}) == 1
    assert count(traffic, {"body": {"json": {"n": True}}}) == 0  # JSON types count: true is not 1
    assert count(traffic, {"body": {"json": {}}}) == 3  # every JSON object body
    assert count(traffic, {"body": [{"json": {"n": 2}}, {"regex": "\"u[0-9]\""}]}) == 1  # all must match
    assert count(traffic, {"body": {"contains": "tags"}}) == 1
    assert count(traffic, {"body": {"absent": True}}) == 1  # the GET


def test_find_returns_masked_entries_with_limit_and_after_id(traffic):
    response = traffic.post("/_harness/requests/find", json={"method": "POST", "limit": 2})
    body = response.get_json()
    assert response.status_code == 200 and body["count"] == 2
    assert [e["query"].get("project_id") for e in body["requests"]] == [["8"], None]
    assert all("standin-token" not in json.dumps(e) for e in body["requests"])
    first = traffic.post("/_harness/requests/find", json={}).get_json()["requests"][0]["id"]
    assert count(traffic, {"after_id": first}) == 3


@pytest.mark.parametrize("pattern, named", [
    ([], "JSON object"),
    ({"colour": "red"}, "colour"),
    ({"method": 5}, "method"),
    ({"method": []}, "method"),
    ({"path": {"absent": True}}, "path"),
    ({"path": {"regex": "("}}, "path.regex"),
    ({"path": {"regex": 5}}, "path.regex"),
    ({"path": {"equals": "a", "contains": "b"}}, "path"),
    ({"query": []}, "query"),
    ({"query": {"a": {"near": "b"}}}, "query.a"),
    ({"query": {"a": {"absent": False}}}, "query.a.absent"),
    ({"headers": {"": "x"}}, "headers"),
    ({"body": "text"}, "body"),
    ({"body": []}, "body"),
    ({"body": [{"json": {}}, {"glob": "*"}]}, "body[1]"),
    ({"status": 42}, "status"),
    ({"status": True}, "status"),
    ({"after_id": -1}, "after_id"),
    ({"limit": 1}, "limit"),  # find only
])
def test_bad_patterns_are_400_naming_the_key(client, pattern, named):
    assert named in error_of(client, pattern)


def test_find_limit_validated(client):
    assert "limit" in error_of(client, {"limit": "3"}, route="find")
    assert "limit" in error_of(client, {"limit": -1}, route="find")
    assert client.post("/_harness/requests/count", data=b"{not json").status_code == 400


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=10)
KEYS = st.sampled_from(["method", "path", "query", "headers", "body", "status", "after_id", "limit", "x"])


FUZZ_CLIENT = mixpanel_app().test_client()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=4) | JSON)
def test_any_pattern_is_answered_200_or_400(pattern):
    """Whole-input validation: whatever the body, never a 5xx."""
    for route in ("count", "find"):
        response = FUZZ_CLIENT.post(f"/_harness/requests/{route}", data=json.dumps(pattern), content_type="application/json")
        assert response.status_code in (200, 400), (pattern, response.data)


# --- both real fakes ------------------------------------------------------------------------------------

def test_verification_on_both_fakes():
    """Item 5: the routes live in the shared core, so fake Mixpanel and fake Braze both answer them."""
    mp = mixpanel_app().test_client()
    mp.post("/import?strict=1", json=[{"event": "Email Open", "properties": {"distinct_id": "u1", "time": 1}}],
            headers={"Authorization": "Basic aGFybmVzcy1zZWNyZXQ6"})
    assert count(mp, {"path": "/import", "query": {"strict": "1"},
                      "body": {"json": [{"event": "Email Open", "properties": {"distinct_id": "u1"}}]}}) == 1
    bz = braze_app().test_client()
    bz.post("/partners/mixpanel/cohorts", json={"partner_api_key": "harness-partner-key", "cohort_id": "c1"})
    assert count(bz, {"method": "POST", "path": {"glob": "/partners/*/cohorts"},
                      "body": {"json": {"cohort_id": "c1"}}}) == 1
    assert count(bz, {"body": {"contains": "harness-partner-key"}}) == 0  # masked in the journal


def test_near_misses_on_mixpanel_404():
    """mixpanel-ingestion.md §2.2: unknown paths → 404 (U, the harness's own body): it names the nearest
    routes, the control ones for a control path."""
    client = mixpanel_app().test_client()
    response = client.post("/imprt")
    assert response.status_code == 404
    assert response.get_json()["near_misses"][0] == "GET|POST /import"
    assert response.headers["X-Harness-Near-Misses"].startswith("GET|POST /import")
    response = client.get("/_harness/request")
    assert response.get_json()["near_misses"][0] == "DELETE|GET /_harness/requests"
    # a 404 a handler gives for a known route (no such profile) is not a near miss
    response = client.get("/_harness/profiles/nobody")
    assert response.status_code == 404 and "near_misses" not in response.get_json()
    assert "X-Harness-Near-Misses" not in response.headers


def test_near_misses_on_braze_404_keep_the_spec_body():
    """braze-cohort-sync.md §4.2: unknown paths under /partners/ → 404 {"message":"Not Found"}, exactly;
    the near misses come in a header."""
    client = braze_app().test_client()
    response = client.post("/partners/mixpanel/cohort")
    assert response.status_code == 404 and response.data == b'{"message":"Not Found"}'
    assert response.headers["X-Harness-Near-Misses"].split(", ")[0] == "POST /partners/<slug>/cohorts"
    assert client.get("/_harness/cohort").get_json()["near_misses"][0] == "GET /_harness/cohorts"


# --- the index and the configuration schema ---------------------------------------------------------------

@pytest.mark.parametrize("make", [mixpanel_app, braze_app])
def test_index_lists_every_control_route_with_one_line_each(make):
    """Item 6: GET /_harness lists the fake's control routes, each described, and links the config schema."""
    app = make()
    client = app.test_client()
    body = client.get("/_harness").get_json()
    assert body["config_schema"] == "/_harness/config/schema"
    routes = {r["route"]: r["doc"] for r in body["routes"]}
    expected = {f"{m} {rule.rule.rstrip('/') or '/'}" for rule in app.url_map.iter_rules()
                if rule.rule.startswith("/_harness") and "<" not in rule.rule
                for m in sorted(rule.methods - {"HEAD", "OPTIONS"})}
    assert expected <= set(routes)
    for route in ("GET /_harness/health", "POST /_harness/requests/count", "POST /_harness/requests/find",
                  "GET /_harness/config/schema", "GET /_harness"):
        assert route in routes
    assert all(doc for doc in routes.values()), [r for r, d in routes.items() if not d]
    assert client.get("/_harness/").get_json() == body
    text = client.get("/_harness?format=text")
    lines = text.data.decode().splitlines()
    assert text.headers["Content-Type"].startswith("text/plain")
    assert "GET /_harness/config/schema" in lines[0] and len(lines) == 1 + len(body["routes"])
    assert client.get("/_harness?format=xml").status_code == 400
    assert "colour" in client.get("/_harness?colour=1").get_json()["error"]


def test_index_covers_the_fake_specific_routes():
    mixpanel = {r["route"] for r in mixpanel_app().test_client().get("/_harness").get_json()["routes"]}
    assert {"GET /_harness/events", "GET /_harness/events/counts", "GET /_harness/stats"} <= mixpanel
    braze = {r["route"] for r in braze_app().test_client().get("/_harness").get_json()["routes"]}
    assert {"POST /_harness/users", "POST /_harness/segments/evaluate"} <= braze


@pytest.mark.parametrize("make", [mixpanel_app, braze_app])
def test_config_schema_documents_every_key(make):
    """Item 6: every configuration key with its type, default and doc, read from the declarations."""
    client = make().test_client()
    schema = client.get("/_harness/config/schema").get_json()["settings"]
    config = client.get("/_harness/config?reveal=1").get_json()["config"]  # the defaults, secrets unmasked
    assert [s["key"] for s in schema] == sorted(config)
    for item in schema:
        assert item["type"] and item["doc"], item
        assert item["default"] == config[item["key"]], item  # a fresh fake holds the defaults
    by_key = {s["key"]: s for s in schema}
    assert by_key["journal.capacity"]["minimum"] == 1


def test_mixpanel_schema_shows_the_secret_retirement_default():
    """mixpanel-ingestion.md §4.1: retired 2027-03-03 (00:00:00Z)."""
    schema = mixpanel_app().test_client().get("/_harness/config/schema").get_json()["settings"]
    retired = next(s for s in schema if s["key"] == "auth.secret_retired_at")
    assert retired["default"] == 1_804_032_000 and retired["type"] == ["integer"]
    assert next(s for s in schema if s["key"] == "auth.error_detail")["choices"] == ["documented", "observed"]
