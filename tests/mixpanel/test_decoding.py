"""mixpanel-ingestion.md §3: request decoding (R1–R12), model level and through the app."""

from __future__ import annotations

import base64
import gzip
import io
import json
import zlib

import pytest
from mpkit import SECRET_AUTH, TOKEN, event, gz, jbody

from fakes.mixpanel import decoding
from fakes.mixpanel.auth import parse_authorization
from fakes.mixpanel.decoding import (
    JsonRejected,
    NotJson,
    decode_base64,
    decode_records,
    flag_on,
    loads,
    merge_params,
    normalise_media_type,
    read_body,
)


def test_r1_query_and_form_merged_query_wins_on_conflict():
    """§3 R1: query string and form body merged; on conflict the query wins and both are recorded."""
    params = merge_params({"verbose": "1", "ip": "1"}, {"verbose": "0", "data": "x"})
    assert params.values == {"verbose": "1", "ip": "1", "data": "x"}
    assert params.conflicts == {"verbose": ("1", "0")}


def test_r1_conflict_journalled(api, client):
    """§3 R1: both values are journalled (as a deviation note)."""
    api.client.post("/track?verbose=1", data={"data": json.dumps({"event": "e", "properties": {"token": TOKEN}}),
                                              "verbose": "0"})
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert any("verbose" in d for d in entry["deviations"])
    assert entry["response_content_type"] == "application/json"  # the query's verbose=1 won


def test_r2_content_type_case_whitespace_parameters():
    """§3 R2: compared case-insensitively, trimmed, parameters ignored (Go SDK's leading space)."""
    assert normalise_media_type(" application/json") == "application/json"
    assert normalise_media_type("Application/X-WWW-Form-URLEncoded; charset=UTF-8") == \
        "application/x-www-form-urlencoded"


def test_r2_form_content_type_with_odd_spelling_is_form(api):
    """§3 R2 + R3(a): a form body declared with an odd-case media type is still read as a form."""
    body = "data=" + json.dumps([event()])
    resp = api.post("/import", body, query={"strict": "1"}, headers=SECRET_AUTH,
                    content_type=" Application/x-www-form-urlencoded ; charset=utf-8")
    assert resp.status_code == 200 and resp.get_json()["num_records_imported"] == 1


@pytest.mark.parametrize("body,dialect,count", [
    (b'data=[{"a":1}]', "form", 1),
    (b'  [{"a":1},{"b":2}]', "json-array", 2),
    (b'{"a":1}', "json-object", 1),
    (b'{"a":1}\n\n{"b":2}\n', "ndjson", 2),
])
def test_r3_dialect_order(body, dialect, count):
    """§3 R3: form → JSON array → JSON object or NDJSON (blank lines skipped)."""
    form = decoding.parse_form(body.decode()) if decoding.is_form_body(body, "") else None
    decoded = decode_records(body, "", {}, form)
    assert decoded.dialect == dialect
    assert len(decoded.records) == count


def test_r3_no_body_takes_query_data():
    """§3 R3 (d): no body → `data` from the query (GET)."""
    decoded = decode_records(b"", "", {"data": '{"event":"x"}'}, None)
    assert decoded.dialect == "query" and decoded.records == [{"event": "x"}]


def test_r3_ndjson_bad_line_is_kept_as_not_json():
    """§3 R3 / §5.4 V1: one bad NDJSON line fails alone."""
    decoded = decode_records(b'{"a":1}\n{broken\n{"b":2}', "", {}, None)
    assert decoded.dialect == "ndjson"
    assert isinstance(decoded.records[1], NotJson) and decoded.records[2] == {"b": 2}


def test_r4_data_is_raw_json_or_base64():
    """§3 R4: `{`/`[` first → raw JSON, otherwise base64."""
    raw = json.dumps([{"event": "x"}])
    assert decoding.decode_data_value(raw).records == [{"event": "x"}]
    encoded = base64.b64encode(raw.encode()).decode()
    decoded = decoding.decode_data_value(encoded)
    assert decoded.records == [{"event": "x"}] and decoded.data_encoding == "base64"


def test_r4_base64_space_is_plus_urlsafe_and_unpadded_accepted():
    """§3 R4: a space is read as `+`; URL-safe letters and missing padding accepted."""
    data = bytes([0xfb, 0xff, 0xfe]) + b"xy"
    std = base64.b64encode(data).decode()
    assert "+" in std or "/" in std
    assert decode_base64(std.replace("+", " ")) == data
    assert decode_base64(base64.urlsafe_b64encode(data).decode().rstrip("=")) == data


def test_r4_strict_base64_rejects_unpadded():
    """§3 R4 `decode.strict_base64`: unpadded base64 refused."""
    assert decode_base64("YWI", strict=True) is None
    assert decode_base64("YWI=", strict=True) == b"ab"


def test_r4_node_unencoded_base64_form_body(api, state):
    """§3 R4: the Node SDK posts `data=<base64>` not percent-encoded; `+` became a space and is restored."""
    payload = [{"event": "e>?", "properties": {"token": TOKEN, "distinct_id": "d", "k": "~~~>>>???"}}]
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    assert "+" in encoded or "/" in encoded
    resp = api.client.post("/track", data=b"data=" + encoded.encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.data == b"1"
    assert api.events()["events"][0]["properties"]["k"] == "~~~>>>???"


def test_r5_data_object_or_array():
    """§3 R5: `data` may hold one object or an array of objects."""
    assert decoding.decode_data_value('{"event":"a"}').records == [{"event": "a"}]
    assert decoding.decode_data_value('[{"event":"a"},{"event":"b"}]').records == [{"event": "a"}, {"event": "b"}]
    assert decoding.decode_data_value("5").records is None


def test_r6_gzip_on_import_and_track(api):
    """§3 R6: gzip accepted on /import and /track."""
    resp = api.import_(gz(jbody([event()])), headers={"Content-Encoding": "gzip"})
    assert resp.get_json()["num_records_imported"] == 1
    resp = api.post("/track", gz(jbody([{"event": "t", "properties": {"token": TOKEN}}])),
                    headers={"Content-Encoding": "gzip"})
    assert resp.data == b"1"


def test_r6_gzip_refused_on_engage_and_groups(api, state):
    """§3 R6: /engage and /groups do not decode gzip: the data is invalid (`0`)."""
    update = [{"$token": TOKEN, "$distinct_id": "u", "$set": {"a": 1}}]
    resp = api.post("/engage", gz(jbody(update)), headers={"Content-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.data == b"0"
    resp = api.post("/groups", gz(jbody([{"$token": TOKEN, "$group_key": "c", "$group_id": "1", "$set": {}}])),
                    headers={"Content-Encoding": "gzip"})
    assert resp.data == b"0"
    state.update_config({"engage.accept_gzip": True})
    assert api.post("/engage", gz(jbody(update)), headers={"Content-Encoding": "gzip"}).data == b"1"


def test_r7_size_cap_applies_after_decompression():
    """§3 R7: the cap is on the decompressed body; a bomb is inflated at most limit+1 bytes."""
    bomb = gzip.compress(b"0" * (50 * 1024 * 1024))
    out = read_body(io.BytesIO(bomb), "gzip", 1024 * 1024)
    assert out.too_large and out.data == b"" and out.wire_bytes == len(bomb)
    small = read_body(io.BytesIO(gzip.compress(b"[1]")), "gzip", 10)
    assert small.data == b"[1]" and not small.too_large


def test_r7_corrupt_and_truncated_gzip_flagged():
    """§3 R7: corrupt or truncated gzip is a decoding problem, not a crash."""
    assert read_body(io.BytesIO(b"not gzip at all"), "gzip", 100).encoding_problem == "bad_gzip"
    truncated = gzip.compress(bytes(range(256)) * 100)[:-20]
    assert read_body(io.BytesIO(truncated), "gzip", 10**6).encoding_problem == "bad_gzip"


def test_r8_other_encodings(api, state):
    """§3 R8: /import answers 400 `unsupported Content-Encoding` (†); elsewhere status 0; deflate opt-in."""
    resp = api.import_(b"[]", headers={"Content-Encoding": "br"})
    assert resp.status_code == 400
    assert resp.data == b'{"code":400,"error":"unsupported Content-Encoding","status":"Bad Request"}'
    resp = api.post("/track", b"xx", query={"verbose": "1"}, headers={"Content-Encoding": "br"})
    assert resp.get_json()["status"] == 0
    state.update_config({"decode.extra_encodings": ["deflate"]})
    resp = api.import_(zlib.compress(jbody([event()])), headers={"Content-Encoding": "deflate"})
    assert resp.get_json()["num_records_imported"] == 1


def test_r9_nan_infinity_rejected_duplicates_last_wins_bom_stripped():
    """§3 R9: no NaN/Infinity; duplicate keys last wins; a UTF-8 BOM is stripped."""
    for text in (b"[NaN]", b"[Infinity]", b"[-Infinity]"):
        with pytest.raises(JsonRejected):
            loads(text)
    assert loads(b'{"a":1,"a":2}') == {"a": 2}
    assert loads(b"\xef\xbb\xbf[1]") == [1]


def test_r9_absurd_nesting_is_rejected_not_crashing():
    """§3 R9: absurd nesting is invalid JSON (RecursionError caught)."""
    with pytest.raises(JsonRejected):
        loads(b"[" * 200000 + b"]" * 200000)


def test_r10_invalid_utf8_parses_and_is_flagged():
    """§3 R10: raw invalid bytes and lone-surrogate escapes parse; flagged for V11."""
    body = b'[{"a":"\xff\xfe"}]'
    assert decoding.may_hold_invalid_utf8(body)
    assert loads(body)[0]["a"] == "\udcff\udcfe"
    assert loads(b'["\\ud800"]') == ["\ud800"]
    assert not decoding.may_hold_invalid_utf8(b'[{"a":"caf\xc3\xa9"}]')


def test_r11_flags():
    """§3 R11: verbose on for 1 and 2; strict and ip only for 1; verbose=0 is off."""
    assert flag_on("1", ["1", "2"]) and flag_on("2", ["1", "2"]) and not flag_on("0", ["1", "2"])
    assert flag_on("1") and not flag_on("2") and not flag_on("true") and not flag_on(None)


def test_r11_verbose_2_and_0_through_track(api):
    """§3 R11: `verbose=2` answers like 1; the Node SDK's explicit `verbose=0` gets the bare byte."""
    body = jbody([{"event": "e", "properties": {"token": TOKEN}}])
    assert api.post("/track", body, query={"verbose": "2"}).get_json() == {"error": None, "status": 1}
    assert api.post("/track", body, query={"verbose": "0"}).data == b"1"


def test_r12_authorization_scheme_case_and_whitespace():
    """§3 R12: case-insensitive scheme, trimmed whitespace."""
    value = base64.b64encode(b"harness-secret:").decode()
    cred = parse_authorization(f"  bAsIc   {value}  ")
    assert (cred.scheme, cred.user, cred.password) == ("basic", "harness-secret", "")
    assert parse_authorization("BEARER tok").token == "tok"
