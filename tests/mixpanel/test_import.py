"""mixpanel-ingestion.md §5: /import limits, validation rules, time, ids, strict and non-strict bodies,
partial success and normalisation on ingest."""

from __future__ import annotations

import json
import re

import pytest
from mpkit import DROP, NOW, SA_AUTH, event

FAILED = "some data points in the request failed validation"


def failed(resp):
    body = resp.get_json()
    assert resp.status_code == 400 and body["error"] == FAILED
    return body["failed_records"]


# --- §5.2 limits ---------------------------------------------------------------------------------

def test_5_2_more_than_2000_records_nothing_ingested(api):
    """§5.2 / Q2: >2000 → 400 with the † text; nothing ingested."""
    resp = api.import_([event(n=i) for i in range(2001)])
    assert resp.status_code == 400
    assert resp.data == b'{"code":400,"error":"request exceeds max batch size of 2000 records","status":"Bad Request"}'
    assert api.events(view="raw")["count"] == 0
    assert api.import_([event(n=i) for i in range(2000)]).get_json()["num_records_imported"] == 2000


def test_5_2_more_than_2000_records_nonstrict_is_200_status_0(api):
    """§5.2 + §5.9: non-strict answers stay HTTP 200 with an integer status; nothing ingested."""
    records = [event(n=i) for i in range(2001)]
    resp = api.import_(records, strict=False, query={"verbose": "1"})
    assert (resp.status_code, resp.get_json()) == (
        200, {"error": "request exceeds max batch size of 2000 records", "status": 0})
    assert api.import_(records, strict=False).data == b"0"
    assert api.events(view="raw")["count"] == 0


def test_5_2_batch_limit_configurable(api, state):
    """§5.2 `import.max_batch_records`."""
    state.update_config({"import.max_batch_records": 2})
    assert api.import_([event(n=i) for i in range(3)]).get_json()["error"] == \
        "request exceeds max batch size of 2 records"


def test_5_2_body_over_10mb_is_413_with_exact_body(api, state):
    """§5.2: decompressed body > 10485760 → 413 exact body; never a Retry-After on a 413 (§11)."""
    state.update_config({"ratelimit.retry_after_s": 5})
    big = b"[" + b" " * 10485760 + b"]"
    resp = api.import_(big)
    assert resp.status_code == 413
    assert resp.data == (b'{"code":413,"error":"request exceeds max limit of 10485760 bytes",'
                         b'"status":"Request Entity Too Large"}')
    assert "Retry-After" not in resp.headers


def test_5_2_legacy_2mb_limit_text(api, state):
    """§5.2 `import.max_body_bytes` = 2097152 gives the legacy text."""
    state.update_config({"import.max_body_bytes": 2097152})
    resp = api.import_(b"[" + b" " * 2097152 + b"]")
    assert resp.get_json()["error"] == "request exceeds max limit of 2097152 bytes"


def test_5_2_gzip_body_limit_is_decompressed_size(api, state):
    """§5.2 / R7: a small gzip body inflating past the limit → 413."""
    import gzip
    state.update_config({"import.max_body_bytes": 100_000})
    resp = api.import_(gzip.compress(b"[" + b" " * 200_000 + b"]"), headers={"Content-Encoding": "gzip"})
    assert resp.status_code == 413


def test_5_2_event_over_1mb_fails_v12(api):
    """§5.2 / V12: an event over 1 MB of JSON fails (†)."""
    resp = api.import_([event(blob="x" * 1_100_000), event(n=1)])
    assert failed(resp) == [{"index": 0, "insert_id": "id-00000000", "field": "properties",
                             "message": "'properties' is invalid: event exceeds 1MB of uncompressed JSON"}]
    assert resp.get_json()["num_records_imported"] == 1


def test_5_2_properties_254_ok_255_fails(api):
    """§5.2 / X: at most 254 properties (the API reference wins)."""
    ok = event(**{f"p{i}": i for i in range(251)})  # + time, distinct_id, $insert_id = 254
    bad = event(n=1, **{f"p{i}": i for i in range(252)})
    assert len(ok["properties"]) == 254 and len(bad["properties"]) == 255
    records = failed(api.import_([ok, bad]))
    assert records == [{"index": 1, "insert_id": "id-00000001", "field": "properties",
                        "message": "'properties' is invalid: must have fewer than 255 properties"}]


def test_5_2_nesting_depth_and_keys(api):
    """§5.2 / V12: nested objects < 255 keys, depth ≤ 3."""
    deep_ok = event(n=0, obj={"a": {"b": {"c": 1}}})
    too_deep = event(n=1, obj={"a": {"b": {"c": {"d": 1}}}})
    too_wide = event(n=2, obj={f"k{i}": i for i in range(255)})
    records = failed(api.import_([deep_ok, too_deep, too_wide]))
    assert [r["index"] for r in records] == [1, 2]
    assert records[0]["field"] == "properties.obj"
    assert records[0]["message"] == "'properties.obj' is invalid: nested object too large or too deep"


def test_5_2_array_length(api):
    """§5.2 / V12: arrays of fewer than 255 elements."""
    records = failed(api.import_([event(n=0, xs=list(range(254))), event(n=1, xs=list(range(255)))]))
    assert records == [{"index": 1, "insert_id": "id-00000001", "field": "properties.xs",
                        "message": "'properties.xs' is invalid: array must have fewer than 255 elements"}]


def test_5_2_strings_truncated_at_every_depth_raw_keeps_original(api):
    """§5.2: strings truncated to 255 characters at every depth, never rejected; raw rows keep them."""
    long = "é" * 300
    api.import_([event(s=long, nested={"inner": long}, arr=[long], **{"k" * 300: 1})])
    props = api.events()["events"][0]["properties"]
    assert props["s"] == "é" * 255 and props["nested"]["inner"] == "é" * 255 and props["arr"] == ["é" * 255]
    assert "k" * 255 in props and "k" * 300 not in props
    raw = api.events(view="raw")["events"][0]["properties"]
    assert raw["s"] == long and "k" * 300 in raw


def test_5_2_truncate_in_bytes_on_utf8_boundary(api, state):
    """§5.2 `import.truncate_unit = bytes`: 255 bytes cut on a UTF-8 boundary."""
    state.update_config({"import.truncate_unit": "bytes"})
    api.import_([event(s="é" * 200)])  # 400 bytes
    value = api.events()["events"][0]["properties"]["s"]
    assert value == "é" * 127 and len(value.encode()) == 254


# --- §5.4 validation rules -----------------------------------------------------------------------

def test_5_4_v1_whole_request(api):
    """§5.4 V1: malformed array, empty body or `[]` → 400 `data, missing or empty` (strict)."""
    expected = b'{"code":400,"error":"data, missing or empty","status":"Bad Request"}'
    for body in (b"[{]", b"", b"[]", b"   ", b"garbage"):
        resp = api.import_(body)
        assert (resp.status_code, resp.data) == (400, expected), body


def test_5_4_v1_one_bad_ndjson_line(api):
    """§5.4 V1: one bad NDJSON line fails alone with field `""`."""
    body = json.dumps(event(n=0)).encode() + b"\n{not json\n" + json.dumps(event(n=2)).encode()
    resp = api.import_(body)
    assert failed(resp) == [{"index": 1, "insert_id": "", "field": "", "message": "event is not valid JSON"}]
    assert resp.get_json()["num_records_imported"] == 2


@pytest.mark.parametrize("record,field,message", [
    ({"properties": {"time": NOW}}, "event", "'event' must not be missing or blank"),
    ({"event": "  ", "properties": {}}, "event", "'event' must not be missing or blank"),
    ({"event": 5, "properties": {}}, "event", "'event' must not be missing or blank"),
    ("a string", "event", "'event' must not be missing or blank"),
    ({"event": "e"}, "properties", "'properties' must be an object"),
    ({"event": "e", "properties": []}, "properties", "'properties' must be an object"),
])
def test_5_4_v2_event_and_v2b_properties(api, record, field, message):
    """§5.4 V2 (exact, O) and V2b (†)."""
    assert failed(api.import_([record])) == [{"index": 0, "insert_id": "", "field": field, "message": message}]


@pytest.mark.parametrize("time_value,rule_message", [
    (DROP, "'properties.time' is invalid: must not be missing"),
    ("1700000000", "'properties.time' is invalid: must be specified as seconds since epoch"),
    (True, "'properties.time' is invalid: must be specified as seconds since epoch"),
    (None, "'properties.time' is invalid: must be specified as seconds since epoch"),
    (31535999, "'properties.time' is invalid: must be specified as seconds since epoch"),
    (NOW + 3601, "'properties.time' is invalid: must not be in the future"),
])
def test_5_4_v3_to_v6_time(api, time_value, rule_message):
    """§5.4 V3 missing, V4 not a number, V5 before 1971, V6 beyond now + 1 h."""
    records = failed(api.import_([event(time=time_value)]))
    assert records == [{"index": 0, "insert_id": "id-00000000", "field": "properties.time", "message": rule_message}]


def test_5_4_v5_1971_boundary_and_far_past_ok(api):
    """§5.4 V5: exactly 1971-01-01 is accepted and one millisecond before is not; a far-past time after 1971
    is not rejected. Floats and an `ip` property keep the events off the /import fast path, so the rule
    itself runs (tests/mixpanel/test_rule_boundaries.py pins every side)."""
    resp = api.import_([event(n=0, time=31536000.0), event(n=1, time=100_000_000, ip="203.0.113.1"),
                        event(n=2, time=31535999.999)])
    assert failed(resp) == [{"index": 2, "insert_id": "id-00000002", "field": "properties.time",
                             "message": "'properties.time' is invalid: must be specified as seconds since epoch"}]
    rows = api.client.get("/_harness/events?meta=1").get_json()["events"]
    assert sorted(r["meta"]["time_ms"] for r in rows) == [31_536_000_000, 100_000_000_000]


def test_5_4_v6_within_grace_hour_stored_as_receipt_time(api):
    """§5.4 V6: a time in (now, now+1h] is kept, stored as the receipt time."""
    api.import_([event(time=NOW + 1800)])
    ev = api.client.get("/_harness/events?meta=1").get_json()["events"][0]
    assert ev["meta"]["time_ms"] == NOW * 1000 and ev["properties"]["time"] == NOW


def test_5_4_v7_distinct_id_missing(api, state):
    """§5.4 V7: missing distinct id (null counts as missing); exact O text."""
    msg = "'properties.distinct_id' is invalid: must not be missing"
    for value in (DROP, None):
        assert failed(api.import_([event(distinct_id=value)]))[0]["message"] == msg


def test_5_4_v8_placeholder_distinct_id_and_empty_allowed(api):
    """§5.4 V8 (†): placeholders refused; `""` allowed."""
    records = failed(api.import_([event(n=0, distinct_id="undefined"), event(n=1, distinct_id="")]))
    assert records == [{"index": 0, "insert_id": "id-00000000", "field": "properties.distinct_id",
                        "message": "'properties.distinct_id' is invalid: must not be a disallowed placeholder value"}]


def test_5_4_v9_insert_id_missing_strict(api):
    """§5.4 V9 (†): `$insert_id` required in strict mode."""
    assert failed(api.import_([event(**{"$insert_id": DROP})])) == [{
        "index": 0, "insert_id": "", "field": "properties.$insert_id",
        "message": "'properties.$insert_id' is invalid: must not be missing"}]


@pytest.mark.parametrize("value,suffix", [
    ("a" * 37, "must be at most 36 bytes of alphanumerics or '-'"),
    ("has space", "must be at most 36 bytes of alphanumerics or '-'"),
    ("é", "must be at most 36 bytes of alphanumerics or '-'"),
    (12345, "must be at most 36 bytes of alphanumerics or '-'"),
    ("NULL", "must not be a disallowed placeholder value"),
    ("00000000-0000-0000-0000-000000000000", "must not be a disallowed placeholder value"),
])
def test_5_4_v10_insert_id_format_and_placeholder(api, value, suffix):
    """§5.4 V10 (†): ≤ 36 bytes of `[A-Za-z0-9-]`, not a placeholder."""
    record = failed(api.import_([event(**{"$insert_id": value})]))[0]
    assert record["field"] == "properties.$insert_id"
    assert record["message"] == f"'properties.$insert_id' is invalid: {suffix}"
    assert api.import_([event(**{"$insert_id": "a" * 36})]).status_code == 200


def test_5_4_v11_invalid_utf8(api):
    """§5.4 V11: raw invalid bytes or lone surrogates → `properties.<key> is invalid: string should be valid utf8`."""
    ok = json.dumps(event(n=0)).encode()
    raw_bad = json.dumps(event(n=1, label="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"\xff\xfe")
    escaped_bad = json.dumps(event(n=2, deep={"x": ["\ud800"]}))
    assert "\\ud800" in escaped_bad
    body = b"[" + ok + b"," + raw_bad + b"," + escaped_bad.encode() + b"]"
    records = failed(api.import_(body))
    assert records == [
        {"index": 1, "insert_id": "id-00000001", "field": "properties.label",
         "message": "properties.label is invalid: string should be valid utf8"},
        {"index": 2, "insert_id": "id-00000002", "field": "properties.deep",
         "message": "properties.deep is invalid: string should be valid utf8"},
    ]


def test_5_4_v11_valid_surrogate_pair_escape_is_fine(api):
    """§5.4 V11: an escaped surrogate pair (an emoji) is valid UTF-8."""
    assert api.import_(json.dumps([event(e="😀")], ensure_ascii=True)).status_code == 200


def test_5_4_first_failing_rule_in_table_order(api):
    """§5.4: each failing event reported once, at its first failing rule."""
    record = failed(api.import_([event(time="x", distinct_id="null", **{"$insert_id": DROP})]))
    assert record == [{"index": 0, "insert_id": "", "field": "properties.time",
                       "message": "'properties.time' is invalid: must be specified as seconds since epoch"}]


def test_5_4_v13_identity_events_fail_whole_batch_in_simplified(api):
    """§5.4 V13: simplified projects refuse `$identify`/`$create_alias`/`$merge`: whole batch, strings."""
    resp = api.import_([event(n=0), event("$identify", n=1), event("$merge", n=2)])
    assert resp.status_code == 400
    assert resp.data == (b'{"code":400,"error":"some data points in the request failed validation","failed_records":'
                         b'["identity events are not allowed when project is using simplified identity management",'
                         b'"identity events are not allowed when project is using simplified identity management"],'
                         b'"num_records_imported":0,"status":"Bad Request"}')
    assert api.events(view="raw")["count"] == 0


def test_5_4_v13_nonstrict_drops_only_identity_events(api):
    """§5.4: non-strict, V13 drops only the identity events."""
    resp = api.import_([event(n=0), event("$identify", n=1)], strict=False, query={"verbose": "1"})
    assert resp.get_json() == {"code": 200, "error": None, "num_records_imported": 1, "status": 1}


def test_5_4_v13_original_projects_store_identity_events(api, state):
    """§5.4 V13 / §5.7: original ID merge stores identity events as ordinary events."""
    state.update_config({"projects": [{"project_id": 1, "token": "harness-token", "secret": "harness-secret",
                                       "id_merge": "original"}]})
    assert api.import_([event("$identify")]).status_code == 200
    assert api.events()["events"][0]["event"] == "$identify"


def test_5_4_v15_ignore_property_counted_not_stored(api):
    """§5.4 V15: an event with `$ignore` is counted as imported, absent from the views."""
    resp = api.import_([event(n=0, **{"$ignore": True}), event(n=1)])
    assert resp.get_json()["num_records_imported"] == 2
    assert api.events()["count"] == 1
    assert api.client.get("/_harness/events?view=raw&meta=1").get_json()["events"][0]["meta"]["dropped"] == \
        "ignore_property"


def test_5_4_not_validated_unknown_and_dollar_properties_and_token(api):
    """§5.4: unknown names, custom `$` names and a foreign `properties.token` are not validated: the event
    is imported and stored with them as sent."""
    resp = api.import_([event(**{"$custom": 1, "whatever": 2, "token": "someone-else"})])
    assert resp.status_code == 200 and resp.get_json()["num_records_imported"] == 1
    [stored] = api.events()["events"]
    assert {k: stored["properties"][k] for k in ("$custom", "whatever", "token")} == \
        {"$custom": 1, "whatever": 2, "token": "someone-else"}


def test_5_4_failed_records_cap(api, state):
    """§5.4 `import.max_failed_records` (uncapped by default)."""
    bad = [{"event": ""} for _ in range(30)]
    assert len(failed(api.import_(bad))) == 30
    state.update_config({"import.max_failed_records": 5})
    assert len(failed(api.import_(bad))) == 5


def test_5_4_nonstrict_skips_v7_v8_v9(api):
    """§5.4 / Q19: non-strict skips V7, V8, V9 (missing distinct id stored as "", placeholders pass)."""
    records = [event(n=0, distinct_id=DROP), event(n=1, distinct_id="anon"), event(n=2, **{"$insert_id": DROP})]
    resp = api.import_(records, strict=False, query={"verbose": "1"})
    assert resp.get_json()["num_records_imported"] == 3
    ids = {e["properties"].get("distinct_id", "") for e in api.events()["events"]}
    assert ids == {"", "anon", "user-2"}


# --- §5.5 placeholders -------------------------------------------------------------------------------

PLACEHOLDERS = ["00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a", "na",
                "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}", "lmy47d"]


def test_5_5_every_placeholder_case_insensitive(api):
    """§5.5: the documented list plus `lmy47d`, matched lower-cased."""
    records = [event(n=i, distinct_id=value.upper()) for i, value in enumerate(PLACEHOLDERS)]
    assert len(failed(api.import_(records))) == len(PLACEHOLDERS)


def test_5_5_non_string_ids_stringified_and_no_trimming(api):
    """§5.5: numbers/booleans as JSON text, arrays/objects compact; untrimmed (" anon" passes)."""
    records = [event(n=0, distinct_id=0), event(n=1, distinct_id=True), event(n=2, distinct_id=[]),
               event(n=3, distinct_id={}), event(n=4, distinct_id=" anon"), event(n=5, distinct_id=42)]
    assert [r["index"] for r in failed(api.import_(records))] == [0, 1, 2, 3]
    assert {e["properties"]["distinct_id"] for e in api.events()["events"]} == {" anon", 42}
    assert api.events(distinct_id="42")["count"] == 1


def test_5_5_config_bad_ids_and_lmy47d(api, state):
    """§5.5 `import.bad_ids`, `import.bad_ids_include_lmy47d`."""
    state.update_config({"import.bad_ids": ["bogus"], "import.bad_ids_include_lmy47d": False})
    records = [event(n=0, distinct_id="BOGUS"), event(n=1, distinct_id="lmy47d"), event(n=2, distinct_id="anon")]
    assert [r["index"] for r in failed(api.import_(records))] == [0]


# --- §5.6 time -------------------------------------------------------------------------------------

def test_5_6_seconds_and_milliseconds_normalised_and_deduplicated(api):
    """§5.6: |t| ≥ 1e11 is ms, else s; floats allowed; stored as integer ms; dedup uses the ms value."""
    t = NOW - 7200
    api.import_([event(time=t), event(time=t * 1000), event(time=t + 0.25, **{"$insert_id": "other"})])
    rows = api.client.get("/_harness/events?meta=1").get_json()["events"]
    assert [r["meta"]["time_ms"] for r in rows] == [t * 1000, t * 1000 + 250]


def test_5_6_threshold_configurable(api, state):
    """§5.6 `time.ms_threshold`."""
    state.update_config({"time.ms_threshold": 1e15})
    assert failed(api.import_([event(time=(NOW - 60) * 1000)]))[0]["message"].endswith("must not be in the future")


def test_5_6_now_is_the_fake_clock(api, clock):
    """§5.6: every time rule uses the fake clock."""
    future = NOW + 86400
    assert api.import_([event(time=future)]).status_code == 400
    clock.advance(86400)
    assert api.import_([event(time=future)]).status_code == 200


# --- §5.7 insert ids and ID merge ----------------------------------------------------------------------

def test_5_7_generated_insert_id_never_dedups(api):
    """§5.7: a missing `$insert_id` (non-strict) is generated (32 hex), marked, and never dedups."""
    rec = event(**{"$insert_id": DROP})
    api.import_([rec, rec], strict=False)
    rows = api.client.get("/_harness/events?meta=1").get_json()["events"]
    assert len(rows) == 2
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{32}", row["meta"]["insert_id"]) and row["meta"]["insert_id_generated"]


def test_5_7_simplified_derivation(api):
    """§5.7: simplified: `$user_id`, else `"$device:" + $device_id`; V7 only when none is present."""
    records = [event(n=0, distinct_id=DROP, **{"$user_id": "u-7"}),
               event(n=1, distinct_id="", **{"$device_id": "d-9"}),
               event(n=2, distinct_id=DROP)]
    resp = api.import_(records)
    assert [r["index"] for r in failed(resp)] == [2]
    assert {e["properties"]["distinct_id"] for e in api.events()["events"]} == {"u-7", "$device:d-9"}


def test_5_7_mixpanel_import_probe_tells_the_mode(api, state, clock):
    """§5.7: the validateToken probe (4-year-old event, `$device_id`/`$user_id`, no distinct_id):
    200 with 1 imported → simplified; 400 + V7 text → original."""
    probe = [{"event": "test", "properties": {"time": NOW - 4 * 365 * 86400, "$device_id": "dev", "$user_id": "usr",
                                              "$insert_id": "probe1"}}]
    assert api.import_(probe).get_json() == {"code": 200, "num_records_imported": 1, "status": "OK"}
    state.update_config({"projects": [{"project_id": 1, "token": "harness-token", "secret": "harness-secret",
                                       "id_merge": "original"}]})
    assert failed(api.import_(probe))[0]["message"] == "'properties.distinct_id' is invalid: must not be missing"


# --- §5.8–5.10 bodies ---------------------------------------------------------------------------------

def test_5_8_strict_ok_body_exact_no_error_key(api):
    """§5.8: `{"code":200,"num_records_imported":N,"status":"OK"}`, compact, no `error` key."""
    resp = api.import_([event(n=0), event(n=1)])
    assert resp.data == b'{"code":200,"num_records_imported":2,"status":"OK"}'
    assert resp.headers["Content-Type"] == "application/json"


def test_5_8_strict_invalid_body_key_order(api):
    """§5.8: 400 envelope keys in the documented order; valid events counted."""
    resp = api.import_([event(n=0), {"event": ""}])
    assert list(resp.get_json()) == ["code", "error", "failed_records", "num_records_imported", "status"]
    assert resp.get_json()["num_records_imported"] == 1


def test_5_8_service_account_import(api):
    """§5.8 with §4.1 service account credentials."""
    resp = api.import_([event()], auth=SA_AUTH, query={"project_id": "1"})
    assert resp.status_code == 200


def test_5_9_nonstrict_verbose_bodies(api):
    """§5.9: the four non-strict outcomes with verbose=1; `status` an integer, `error` present."""
    v = {"verbose": "1"}
    assert api.import_([event()], strict=False, query=v).data == \
        b'{"code":200,"error":null,"num_records_imported":1,"status":1}'
    assert api.import_([event(n=1), {"event": ""}], strict=False, query=v).get_json() == \
        {"code": 200, "error": None, "num_records_imported": 1, "status": 1}
    for nothing in (b"", b"[]", b"[{}]", b"{broken"):
        resp = api.import_(nothing, strict=False, query=v)
        assert (resp.status_code, resp.data) == (200, b'{"error":"data, missing or empty","status":0}'), nothing
    resp = api.import_([{"event": "", "properties": {}}], strict=False, query=v)
    assert resp.data == (b'{"code":200,"error":"some data points in the request failed validation",'
                         b'"num_records_imported":0,"status":0}')


def test_5_9_nonstrict_nothing_vs_none_valid_whatever_the_record_order(api):
    """§5.9 (2024 style): "data, missing or empty" only when no record is a non-empty object, wherever
    the non-empty one sits in the batch; identity events (V13) of a simplified project are non-empty."""
    v = {"verbose": "1"}
    nothing = b'{"error":"data, missing or empty","status":0}'
    assert api.import_(b'[{}, [], 5, "x", null, {}]', strict=False, query=v).data == nothing
    for batch in (b'[{}, [], 5, {"x": 1}]', b'[{"x": 1}, {}, 5]',
                  json.dumps([{}, event("$identify", n=1)]).encode()):
        resp = api.import_(batch, strict=False, query=v)
        assert resp.get_json() == {"code": 200, "error": FAILED, "num_records_imported": 0, "status": 0}, batch

def test_5_9_nonstrict_plain_one_byte(api):
    """§5.9: without verbose, exactly `1` or `0`, text/plain, no newline."""
    resp = api.import_([event()], strict=False)
    assert resp.data == b"1" and resp.headers["Content-Type"] == "text/plain"
    assert api.import_(b"[]", strict=False).data == b"0"
    assert api.import_([{"event": "x"}], strict=False).data == b"0"


def test_5_9_style_2023(api, state):
    """§5.9 `import.nonstrict_style = 2023`: `[{}]` gets the hybrid body."""
    state.update_config({"import.nonstrict_style": "2023"})
    resp = api.import_(b"[{}]", strict=False, query={"verbose": "1"})
    assert resp.get_json()["error"] == FAILED and resp.get_json()["code"] == 200


def test_5_10_partial_success_and_duplicates_counted(api):
    """§5.10: valid events of a 400 batch are ingested; duplicates count in num_records_imported."""
    resp = api.import_([event(n=0), event(n=0), {"event": ""}])
    assert resp.get_json()["num_records_imported"] == 2
    assert api.events()["count"] == 1 and api.events(view="raw")["count"] == 2


# --- §5.11 normalisation ---------------------------------------------------------------------------

def test_5_11_ip_removed_and_geo_stub(api, state):
    """§5.11: `ip` never stored; geo fields only from `geoip.stub`; `ip=0` no geolocation."""
    state.update_config({"geoip.stub": {"1.2.3.4": {"$city": "Paris", "mp_country_code": "FR"}}})
    api.import_([event(n=0, ip="1.2.3.4"), event(n=1, ip="5.6.7.8"), event(n=2, ip=0)])
    props = {e["properties"]["distinct_id"]: e["properties"] for e in api.events()["events"]}
    assert "ip" not in props["user-0"] and props["user-0"]["$city"] == "Paris"
    assert "ip" not in props["user-1"] and "$city" not in props["user-1"]
    assert "ip" not in props["user-2"]
    assert api.events(view="raw")["events"][0]["properties"]["ip"] == "1.2.3.4"


def test_5_11_ip_1_geolocates_request_ip(api, state):
    """§5.11: `ip` absent and `ip=1` → the request IP through the stub."""
    state.update_config({"geoip.stub": {"127.0.0.1": {"$city": "Loopback"}}})
    api.import_([event()], query={"ip": "1"})
    assert api.events()["events"][0]["properties"]["$city"] == "Loopback"


def test_5_11_ingest_properties_switch(api, state):
    """§5.11 `store.add_ingest_properties`: off by default, then added to properties."""
    api.import_([event(n=0)])
    assert "$mp_api_endpoint" not in api.events()["events"][0]["properties"]
    state.update_config({"store.add_ingest_properties": True})
    api.import_([event(n=1)])
    props = api.events(distinct_id="user-1")["events"][0]["properties"]
    assert props["$import"] is True and props["$mp_api_endpoint"] and props["$mp_api_timestamp_ms"] == NOW * 1000


def test_5_2_enforce_8kb_switch(api, state):
    """§5.2 `import.enforce_8kb`: off by default; on, a list/object property over 8 KB fails V12 (†)."""
    big = {f"k{i}": "x" * 100 for i in range(100)}
    assert api.import_([event(n=0, obj=big)]).status_code == 200
    state.update_config({"import.enforce_8kb": True})
    assert failed(api.import_([event(n=1, obj=big)])) == [{
        "index": 0, "insert_id": "id-00000001", "field": "properties.obj",
        "message": "'properties.obj' is invalid: list or object property exceeds 8KB"}]
