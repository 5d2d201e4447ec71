"""DESIGN.md §6 / mixpanel-ingestion.md §3: arbitrary bodies never crash an ingestion endpoint (no 500),
whatever the dialect, encoding or flags."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from mpkit import SECRET_AUTH

from fakes.mixpanel import create_app, new_state

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
records = st.lists(st.fixed_dictionaries({}, optional={
    "event": st.one_of(st.text(max_size=10), json_values),
    "properties": st.one_of(json_values, st.dictionaries(
        st.sampled_from(["time", "distinct_id", "$insert_id", "token", "ip", "$ignore", "$user_id", "x"]),
        json_values, max_size=6)),
    "$token": st.sampled_from(["harness-token", "", "other"]),
    "$distinct_id": json_values, "$group_key": json_values, "$group_id": json_values,
    "$set": json_values, "$union": json_values, "$unset": json_values, "$add": json_values,
    "$remove": json_values, "$delete": json_values, "$time": json_values,
}), max_size=5)
bodies = st.one_of(st.binary(max_size=300), records.map(lambda r: json.dumps(r).encode()),
                   records.map(lambda r: b"data=" + json.dumps(r).encode()),
                   records.map(lambda r: b"\n".join(json.dumps(x).encode() for x in r)))

_state = new_state()
_client = create_app(_state).test_client()


@settings(max_examples=150)
@given(path=st.sampled_from(["/import", "/track", "/engage", "/groups"]), body=bodies,
       strict=st.sampled_from([None, "1", "0"]), verbose=st.sampled_from([None, "1", "2"]),
       encoding=st.sampled_from([None, "gzip", "br"]),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
def test_no_body_crashes_an_endpoint(path, body, strict, verbose, encoding, content_type):
    """§3: every body gets a documented answer (200/400/401/413), never a 500."""
    query = {k: v for k, v in (("strict", strict), ("verbose", verbose)) if v is not None}
    headers = {**SECRET_AUTH, "Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    resp = _client.post(path, data=body, query_string=query, headers=headers)
    assert resp.status_code in (200, 400, 401, 413), resp.data
    if resp.headers["Content-Type"] == "application/json":
        assert isinstance(resp.get_json(), dict)
    # the stored state stays readable whatever was sent: each view answers 200 with its count and events
    views = {}
    for view in ("dedup", "raw", "quarantine"):
        listed = _client.get(f"/_harness/events?view={view}")
        assert listed.status_code == 200, listed.data
        views[view] = listed.get_json()
        assert views[view]["count"] == len(views[view]["events"])
    assert views["dedup"]["count"] <= views["raw"]["count"]
