"""mixpanel-ingestion.md §6 /track, §7 /engage, §8 /groups."""

from __future__ import annotations

import json

import pytest
from mpkit import NOW, TOKEN, jbody

V = {"verbose": "1"}


def tev(name="e", **props):
    return {"event": name, "properties": {"token": TOKEN, **props}}


# --- §6 /track -------------------------------------------------------------------------------------

def test_6_answers_200_for_invalid_data(api):
    """§6: HTTP 200 even for invalid data; `1` if at least one object is well formed, else `0`."""
    assert api.post("/track", jbody([tev(), {"event": ""}])).data == b"1"
    resp = api.post("/track", jbody([{"event": ""}]))
    assert (resp.status_code, resp.data, resp.headers["Content-Type"]) == (200, b"0", "text/plain")


def test_6_verbose_bodies(api):
    """§6: `{"error":null,"status":1}` / first invalid object's error / `data, missing or empty`."""
    assert api.post("/track", jbody([tev()]), query=V).data == b'{"error":null,"status":1}'
    assert api.post("/track", jbody([{"event": "x", "properties": {}}]), query=V).get_json() == \
        {"error": "token, missing or empty", "status": 0}
    assert api.post("/track", jbody([{"properties": {"token": TOKEN}}]), query=V).get_json() == \
        {"error": "event, missing or empty", "status": 0}
    assert api.post("/track", b"{{{", query=V).get_json() == {"error": "data, missing or empty", "status": 0}


def test_6_project_from_each_token_and_unknown_token_quarantined(api, state):
    """§6: per-event project; an unknown token still gets `1` but lands in quarantine only."""
    state.update_config({"projects": [{"project_id": 1, "token": TOKEN, "secret": "s1"},
                                      {"project_id": 2, "token": "t2", "secret": "s2"}]})
    body = jbody([tev(distinct_id="a"), {"event": "e", "properties": {"token": "t2", "distinct_id": "b"}},
                  {"event": "e", "properties": {"token": "nope", "distinct_id": "c"}}])
    assert api.post("/track", body).data == b"1"
    assert api.events(project_id="2")["events"][0]["properties"]["distinct_id"] == "b"
    assert api.events()["count"] == 2 and api.events(view="quarantine")["count"] == 1
    assert api.post("/track", jbody([{"event": "e", "properties": {"token": "nope"}}])).data == b"1"
    state.update_config({"track.unknown_token": "reject"})
    assert api.post("/track", jbody([{"event": "e", "properties": {"token": "nope"}}])).data == b"0"


def test_6_old_events_kept_raw_only(api, state):
    """§6: events older than 5 days count as valid, stored raw with `dropped`, absent from views."""
    assert api.post("/track", jbody([tev(time=NOW - 6 * 86400, distinct_id="old")])).data == b"1"
    assert api.events()["count"] == 0
    raw = api.client.get("/_harness/events?view=raw&meta=1").get_json()["events"]
    assert raw[0]["meta"]["dropped"] == "older_than_5_days"
    state.update_config({"track.old_events": "keep"})
    api.post("/track", jbody([tev(time=NOW - 6 * 86400, distinct_id="old2")]))
    assert api.events()["count"] == 1


def test_6_time_optional_and_future_rule(api):
    """§6: missing time → receipt time; beyond 1 h dropped; within 1 h receipt time."""
    api.post("/track", jbody([tev(distinct_id="a"), tev(distinct_id="b", time=NOW + 7200),
                              tev(distinct_id="c", time=NOW + 600)]))
    rows = api.client.get("/_harness/events?meta=1").get_json()["events"]
    assert {r["properties"]["distinct_id"]: r["meta"]["time_ms"] for r in rows} == {"a": NOW * 1000, "c": NOW * 1000}


def test_6_batch_over_2000(api):
    """§6: >2000 → no ingest, `0` / status 0 with the † text."""
    body = jbody([tev(distinct_id=str(i)) for i in range(2001)])
    assert api.post("/track", body, query=V).get_json() == \
        {"error": "request exceeds max batch size of 2000 records", "status": 0}
    assert api.events(view="raw")["count"] == 0


def test_6_insert_id_generated_and_distinct_id_rules(api):
    """§6: `$insert_id` generated when absent; identity events need distinct_id; ip=1 hashes the IP."""
    assert api.post("/track", jbody([tev("$identify")]), query=V).get_json() == \
        {"error": "distinct_id, missing or empty", "status": 0}
    api.post("/track", jbody([tev("plain")]), query={"ip": "1"})
    row = api.client.get("/_harness/events?meta=1").get_json()["events"][0]
    assert row["meta"]["insert_id_generated"] is True
    assert row["properties"]["distinct_id"].startswith("ip:") and len(row["properties"]["distinct_id"]) == 19


def test_6_identity_events_flagged_in_simplified(api):
    """§6: identity events on /track are kept in raw, flagged `identity_event_in_simplified`."""
    assert api.post("/track", jbody([tev("$create_alias", distinct_id="a", alias="b")])).data == b"1"
    raw = api.client.get("/_harness/events?view=raw&meta=1").get_json()["events"]
    assert raw[0]["meta"]["dropped"] == "identity_event_in_simplified"


def test_6_strict_uses_import_bodies_and_5_day_rule(api, state):
    """§6 / Q14: `strict=1` on /track → /import strict validation + the 5-day rule (†)."""
    good = tev(time=NOW - 60, distinct_id="a", **{"$insert_id": "x1"})
    old = tev(time=NOW - 6 * 86400, distinct_id="b", **{"$insert_id": "x2"})
    resp = api.post("/track", jbody([good, old]), query={"strict": "1"})
    assert resp.status_code == 400
    assert resp.get_json()["failed_records"] == [{
        "index": 1, "insert_id": "x2", "field": "properties.time",
        "message": "'properties.time' is invalid: must be within the last 5 days"}]
    assert resp.get_json()["num_records_imported"] == 1
    assert api.post("/track", jbody([good]), query={"strict": "1"}).data == \
        b'{"code":200,"num_records_imported":1,"status":"OK"}'
    state.update_config({"track.honour_strict": False})
    assert api.post("/track", jbody([old]), query={"strict": "1"}).data == b"1"


def test_6_img_and_callback(api):
    """§6: `img=1` → a 1×1 GIF; `callback=fn` → JSONP."""
    resp = api.post("/track", jbody([tev()]), query={"img": "1"})
    assert resp.headers["Content-Type"] == "image/gif" and resp.data.startswith(b"GIF89a")
    resp = api.post("/track", jbody([tev()]), query={"callback": "cb", "verbose": "1"})
    assert resp.data == b'cb({"error":null,"status":1})' and resp.headers["Content-Type"] == "text/javascript"


def test_6_get_with_base64_query_data(api):
    """§6 / §12.3: the Node SDK's single call: GET with base64 `data` in the query."""
    import base64
    data = base64.b64encode(json.dumps(tev(distinct_id="g")).encode()).decode()
    assert api.client.get("/track", query_string={"data": data, "verbose": "0"}).data == b"1"
    assert api.events(distinct_id="g")["count"] == 1


# --- §7 /engage ------------------------------------------------------------------------------------

def upd(op, value, did="u1", **extra):
    return {"$token": TOKEN, "$distinct_id": did, op: value, **extra}


def profile(api, did="u1"):
    resp = api.client.get(f"/_harness/profiles/{did}")
    return resp.get_json() if resp.status_code == 200 else None


def test_7_2_operations(api):
    """§7.2: $set, $set_once, $add, $append, $union, $remove, $unset, $delete semantics."""
    ops = [upd("$set", {"a": 1, "n": None, "tags": ["x"]}), upd("$set_once", {"a": 2, "b": 3}),
           upd("$add", {"count": 2}), upd("$add", {"count": -0.5}), upd("$append", {"list": 1}),
           upd("$append", {"list": 1}), upd("$union", {"tags": ["x", "y", "y"]}),
           upd("$remove", {"list": 1}), upd("$unset", ["b", "unknown"])]
    assert api.post("/engage", jbody(ops), query=V).get_json() == {"error": None, "status": 1}
    assert profile(api) == {"a": 1, "n": None, "tags": ["x", "y"], "count": 1.5, "list": []}
    api.post("/engage", jbody([upd("$delete", "")]))
    assert api.client.get("/_harness/profiles/u1").status_code == 404


def test_7_2_union_json_equality_and_non_creating_ops(api):
    """§7.2: $union uses JSON equality (true ≠ 1); $remove/$unset on no profile create nothing."""
    api.post("/engage", jbody([upd("$union", {"v": [1]}), upd("$union", {"v": [True, 1]})]))
    assert profile(api) == {"v": [1, True]}
    api.post("/engage", jbody([upd("$unset", ["x"], did="ghost"), upd("$remove", {"x": 1}, did="ghost")]))
    assert profile(api, "ghost") is None


@pytest.mark.parametrize("op,value", [("$set", []), ("$add", {"a": "1"}), ("$add", {"a": True}),
                                      ("$union", {"a": 1}), ("$unset", "a"), ("$unset", [])])
def test_7_2_invalid_values(api, op, value):
    """§7.2 "Invalid when": the update is invalid, HTTP 200 `0`."""
    resp = api.post("/engage", jbody([upd(op, value)]))
    assert (resp.status_code, resp.data) == (200, b"0")


def test_7_1_required_fields_and_unknown_token(api):
    """§7.1: `$token` and `$distinct_id` required (†); unknown token → still valid, quarantined."""
    assert api.post("/engage", jbody([{"$distinct_id": "u", "$set": {}}]), query=V).get_json() == \
        {"error": "$token, missing or empty", "status": 0}
    assert api.post("/engage", jbody([{"$token": TOKEN, "$set": {}}]), query=V).get_json() == \
        {"error": "$distinct_id, missing or empty", "status": 0}
    assert api.post("/engage", jbody([{"$token": "unknown", "$distinct_id": "q", "$set": {"a": 1}}])).data == b"1"
    assert profile(api, "q") is None


def test_7_1_multi_op_time_order_and_modifiers(api, state):
    """§7.1: several ops applied in order (or rejected); `$time` s/ms; `engage.order=time`; `$ignore_time`."""
    api.post("/engage", jbody([{"$token": TOKEN, "$distinct_id": "m", "$set": {"a": 1}, "$add": {"n": 1},
                                "$time": NOW - 100, "$latitude": 1.5, "$ignore_alias": "true"}]))
    assert profile(api, "m") == {"a": 1, "n": 1}
    meta = api.client.get("/_harness/profiles/m?meta=1").get_json()
    assert meta["last_seen"] == (NOW - 100) * 1000 and meta["metadata"] == {"$latitude": 1.5}
    api.post("/engage", jbody([upd("$set", {"a": 2}, did="m", **{"$time": (NOW - 50) * 1000, "$ignore_time": True})]))
    assert api.client.get("/_harness/profiles/m?meta=1").get_json()["last_seen"] == (NOW - 100) * 1000
    state.update_config({"engage.order": "time"})
    api.post("/engage", jbody([upd("$set", {"a": 3}, did="m", **{"$time": NOW - 200})]))
    assert profile(api, "m")["a"] == 2  # an older write of `a` is skipped
    state.update_config({"engage.multi_op": "reject"})
    resp = api.post("/engage", jbody([{"$token": TOKEN, "$distinct_id": "m", "$set": {"a": 1}, "$unset": ["n"]}]))
    assert resp.data == b"0"


def test_7_1_property_limit_and_batch(api, state):
    """§7.1: an update passing `engage.max_profile_properties` is invalid; >2000 updates → nothing."""
    state.update_config({"engage.max_profile_properties": 3})
    assert api.post("/engage", jbody([upd("$set", {"a": 1, "b": 2, "c": 3})])).data == b"1"
    assert api.post("/engage", jbody([upd("$set", {"d": 4})])).data == b"0"
    resp = api.post("/engage", jbody([upd("$set", {"x": 1}, did=str(i)) for i in range(2001)]), query=V)
    assert resp.get_json() == {"error": "request exceeds max batch size of 2000 records", "status": 0}


def test_7_1_form_base64_project_id_in_body_mixpanel_utils_style(api):
    """§7.1 / §12.2: mixpanel-utils: form `data=<base64 array>&project_id=N`, `$ip` int 0."""
    import base64
    data = base64.b64encode(json.dumps([{"$ignore_time": True, "$ip": 0, "$ignore_alias": False, "$token": TOKEN,
                                         "$set": {"plan": "pro"}, "$distinct_id": "mu"}]).encode()).decode()
    resp = api.client.post("/engage?verbose=1", data={"data": data, "project_id": "1"})
    assert resp.get_json() == {"error": None, "status": 1} and profile(api, "mu") == {"plan": "pro"}


def test_7_1_num_good_events_switch(api, state):
    """§7.1 `engage.num_good_events`."""
    state.update_config({"engage.num_good_events": True})
    assert api.post("/engage", jbody([upd("$set", {"a": 1})]), query=V).get_json() == \
        {"error": None, "status": 1, "num_good_events": 1}


# --- §8 /groups ------------------------------------------------------------------------------------

def gupd(op, value, **extra):
    return {"$token": TOKEN, "$group_key": "company", "$group_id": "acme", op: value, **extra}


def test_8_group_operations_and_control_view(api):
    """§8: same semantics as §7.2 keyed on ($group_key, $group_id); GET /_harness/groups/<k>/<id>."""
    api.post("/groups", jbody([gupd("$set", {"size": 3}), gupd("$union", {"tags": ["a"]})]))
    assert api.client.get("/_harness/groups/company/acme").get_json() == {"size": 3, "tags": ["a"]}
    assert api.client.get("/_harness/groups/company/other").status_code == 404


def test_8_add_append_invalid_unless_allowed(api, state):
    """§8 / Q10: `$add` and `$append` make a group update invalid (configurable)."""
    assert api.post("/groups", jbody([gupd("$add", {"n": 1})])).data == b"0"
    assert api.post("/groups", jbody([gupd("$append", {"n": 1})])).data == b"0"
    state.update_config({"groups.allow_add": True})
    assert api.post("/groups", jbody([gupd("$add", {"n": 1})])).data == b"1"


def test_8_missing_key_or_id(api):
    """§8: missing `$group_key`/`$group_id` → invalid (†)."""
    assert api.post("/groups", jbody([{"$token": TOKEN, "$group_id": "x", "$set": {}}]), query=V).get_json() == \
        {"error": "$group_key, missing or empty", "status": 0}
    assert api.post("/groups", jbody([{"$token": TOKEN, "$group_key": "x", "$set": {}}]), query=V).get_json() == \
        {"error": "$group_id, missing or empty", "status": 0}


def test_7_1_ip_geo_stub_name_truncation_and_tombstone(api, state):
    """§7.1: `$ip` geolocates through the stub only; names truncated to 255; §7.2 `$delete` leaves a
    tombstone in the raw log."""
    state.update_config({"geoip.stub": {"9.9.9.9": {"$city": "Zurich"}}})
    api.post("/engage", jbody([upd("$set", {"k" * 300: 1}, **{"$ip": "9.9.9.9"}), upd("$set", {"z": 1}, did="o",
                                                                                         **{"$ip": 0})]))
    assert profile(api) == {"k" * 255: 1, "$city": "Zurich"}
    assert profile(api, "o") == {"z": 1}
    api.post("/engage", jbody([upd("$delete", "null")]))
    assert state.model.profiles.log[-1]["effect"] == "deleted"


def test_6_max_age_days_configurable(api, state):
    """§6 `track.max_age_days`."""
    state.update_config({"track.max_age_days": 10})
    api.post("/track", jbody([tev(time=NOW - 6 * 86400, distinct_id="kept")]))
    assert api.events()["count"] == 1


def test_3_r11_verbose_on_configurable(api, state):
    """§3 R11 `decode.verbose_on`."""
    state.update_config({"decode.verbose_on": ["yes"]})
    assert api.post("/track", jbody([tev()]), query={"verbose": "1"}).data == b"1"
    assert api.post("/track", jbody([tev()]), query={"verbose": "yes"}).get_json()["status"] == 1


def test_8_groups_batch_limit_configurable(api, state):
    """§8 `groups.max_batch_records`."""
    state.update_config({"groups.max_batch_records": 1})
    assert api.post("/groups", jbody([gupd("$set", {"a": 1}), gupd("$set", {"b": 1})])).data == b"0"


@pytest.mark.parametrize("depth", [70, 900, 1200])
def test_3_r9_absurd_nesting_never_stored_or_crashing(api, client, state, depth):
    """§3 R9 / DESIGN.md §6: valid JSON nested absurdly deep is refused (engage: invalid update; import
    with V12 skipped: still refused), and the journal and control API keep answering."""
    deep = "[" * depth + "]" * depth
    resp = api.post("/engage", f'[{{"$token":"{TOKEN}","$distinct_id":"d","$set":{{"a":{deep}}}}}]'.encode())
    assert (resp.status_code, resp.data) == (200, b"0")
    state.update_config({"import.nonstrict_skip": ["V7", "V8", "V9", "V12"]})
    ev = f'[{{"event":"e","properties":{{"time":{NOW - 60},"distinct_id":"x","a":{deep}}}}}]'.encode()
    assert api.import_(ev, strict=False).data == b"0"
    assert client.get("/_harness/requests").status_code == 200
    assert client.get("/_harness/events?view=raw").get_json()["count"] == 0
