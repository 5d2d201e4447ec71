"""mixpanel-ingestion.md §9: /lookup-tables (minimal)."""

from __future__ import annotations

import gzip

import pytest
from mpkit import SA_AUTH, SECRET_AUTH, basic

from fakes.mixpanel.lookup_tables import infer_type

TABLE = "4f1c2a9e-0000-4000-8000-000000000001"


@pytest.fixture
def table(client):
    resp = client.post("/_harness/lookup-tables", json={"name": "plans", "project_id": 1, "id": TABLE})
    assert resp.status_code == 201
    return TABLE


def put(client, body: bytes, auth=SA_AUTH, table_id=TABLE, **headers):
    return client.put(f"/lookup-tables/{table_id}", data=body, query_string={"project_id": "1"},
                      headers={**auth, "Content-Type": "text/csv", **headers})


def test_9_list_with_service_account(client, table):
    """§9: `GET /lookup-tables?project_id=` → `{"code":200,"status":"OK","results":[{"id","name"}]}`."""
    resp = client.get("/lookup-tables", query_string={"project_id": "1"}, headers=SA_AUTH)
    assert resp.data == b'{"code":200,"status":"OK","results":[{"id":"%s","name":"plans"}]}' % TABLE.encode()
    assert client.get("/lookup-tables", headers=SECRET_AUTH).status_code == 401  # list: service account only


def test_9_replace_success_gzip_and_secret(client, table):
    """§9: PUT text/csv (gzip allowed) → `{"code":200,"status":"OK"}`; the PUT also takes the secret."""
    csv_body = b"plan_id,name,price,active,since\np1,Pro,12.5,TRUE,2024-01-01T00:00:00Z\np2,Free,0,false,\n"
    resp = put(client, gzip.compress(csv_body), **{"Content-Encoding": "gzip"})
    assert (resp.status_code, resp.data) == (200, b'{"code":200,"status":"OK"}')
    assert put(client, csv_body, auth=SECRET_AUTH).status_code == 200
    stored = client.get(f"/_harness/lookup-tables/{TABLE}").get_json()
    assert stored["rows"][0] == ["p1", "Pro", "12.5", "TRUE", "2024-01-01T00:00:00Z"]
    assert stored["types"] == {"plan_id": "string", "name": "string", "price": "number", "active": "boolean",
                               "since": "datetime"}


def test_9_validation_all_or_nothing_first_10(client, table):
    """§9: all-or-nothing; at most the first 10 bad rows, with the documented texts."""
    put(client, b"id,v\nkeep,1\n")
    rows = b"".join(b",x\n" for _ in range(12))
    resp = put(client, b"id,v\nok,1\n" + rows)
    body = resp.get_json()
    assert resp.status_code == 400 and list(body) == ["code", "error", "status", "failed_records"]
    assert body["error"] == "Some data points in the request failed validation."
    assert body["failed_records"][0] == {"index": 1, "message": "primary key is required and cannot be blank"}
    assert len(body["failed_records"]) == 10
    assert client.get(f"/_harness/lookup-tables/{TABLE}").get_json()["rows"] == [["keep", "1"]]


def test_9_unknown_id_404(client, table):
    """§9: unknown id → 404 `{"error":"Lookup table with id '<id>' was not found.","status":"Not Found"}`."""
    resp = put(client, b"id\n1\n", table_id="nope")
    assert (resp.status_code, resp.data) == (
        404, b'{"error":"Lookup table with id \'nope\' was not found.","status":"Not Found"}')


def test_9_put_rate_limit_per_24h(client, table, state, clock):
    """§9 / §11: more than 100 PUTs per rolling 24 h → the 429 body (`ratelimit.lookup_puts_per_day`)."""
    state.update_config({"ratelimit.lookup_puts_per_day": 2})
    assert put(client, b"id\n1\n").status_code == 200
    assert put(client, b"id\n1\n").status_code == 200
    resp = put(client, b"id\n1\n")
    assert resp.status_code == 429 and resp.get_json()["status"] == "Too Many Requests"
    clock.advance(86401)
    assert put(client, b"id\n1\n").status_code == 200


def test_9_auth_required(client, table):
    """§4.1: lookup tables need a service account + project_id (or the secret on PUT)."""
    assert put(client, b"id\n1\n", auth={"Authorization": basic("harness-token")}).status_code == 401
    assert put(client, b"id\n1\n", auth={}).status_code == 401


def test_9_type_inference():
    """§9: numbers, RFC 3339 datetimes, true/false any case, "" undefined, lists."""
    assert [infer_type(v) for v in ["1", "-2.5e3", "2024-05-01T10:00:00+02:00", "TrUe", "", '["a"]', "x"]] == \
        ["number", "number", "datetime", "boolean", "undefined", "list", "string"]
