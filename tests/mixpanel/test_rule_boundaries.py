"""Exact rules of the fake Mixpanel pinned at their boundaries (issue 14): each test fails when the rule it
names is broken by one small change (a key part dropped, `>` for `>=`, a limit off by one), and checks
both sides of every limit (limit - 1, limit, limit + 1) through the HTTP interface."""

from __future__ import annotations

import gzip
import json

import pytest
from mpkit import NOW, TOKEN, event, jbody

FAILED = "some data points in the request failed validation"
V5_TEXT = "'properties.time' is invalid: must be specified as seconds since epoch"
V6_TEXT = "'properties.time' is invalid: must not be in the future"


def stored(api, view: str = "dedup") -> list[dict]:
    return api.client.get("/_harness/events", query_string={"view": view, "meta": "1"}).get_json()["events"]


def messages(resp) -> list[str]:
    body = resp.get_json()
    return [r["message"] for r in body.get("failed_records", [])]


# --- §10 the dedup key is (event, distinct_id, time, $insert_id) -----------------------------------------

DEDUP_BASE = {"event": "Purchase", "distinct_id": "u-1", "time": NOW - 600, "$insert_id": "ins-1"}


def _dedup_event(**changed):
    fields = {**DEDUP_BASE, **changed}
    return event(fields.pop("event"), **fields)


@pytest.mark.parametrize("part, other", [
    ("event", "Refund"), ("distinct_id", "u-2"), ("time", NOW - 601), ("$insert_id", "ins-2"),
])
def test_10_dedup_key_each_part_separates_events(api, part, other):
    """§10: two events differing in any one part of the key (event, distinct_id, time, `$insert_id`) are
    two events in the dedup view; raw keeps both either way."""
    assert api.import_([_dedup_event(), _dedup_event(**{part: other})]).status_code == 200
    assert len(stored(api, "raw")) == 2
    assert len(stored(api)) == 2, f"events differing only in {part} were merged"


@pytest.mark.parametrize("mode", ["query", "compaction"])
def test_10_dedup_key_same_key_merges_last_wins(api, state, mode):
    """§10: the same (event, distinct_id, time, `$insert_id`) is one event, the last ingested copy winning,
    whatever other property differs; in compaction mode too (same UTC day)."""
    state.update_config({"dedup.mode": mode})
    api.import_([_dedup_event(colour="red")])
    api.import_([_dedup_event(colour="blue")])
    rows = stored(api)
    assert [r["properties"]["colour"] for r in rows] == ["blue"]
    assert len(stored(api, "raw")) == 2


@pytest.mark.parametrize("part, other", [("event", "Refund"), ("distinct_id", "u-2"), ("$insert_id", "ins-2")])
def test_10_compaction_key_each_part_separates_events(api, state, part, other):
    """§10 `dedup.mode = compaction`: (event, distinct_id, `$insert_id`, same UTC day); any of the three
    named parts differing keeps two events."""
    state.update_config({"dedup.mode": "compaction"})
    api.import_([_dedup_event(), _dedup_event(**{part: other})])
    assert len(stored(api)) == 2, f"compaction merged events differing only in {part}"


# --- §5.2 body size: 413 only above the limit -------------------------------------------------------------

def _body_of_size(size: int) -> bytes:
    """A valid one-event /import body of exactly `size` bytes (JSON padded with spaces)."""
    core = jbody([event()])
    assert len(core) <= size
    return core[:-1] + b" " * (size - len(core)) + b"]"


@pytest.mark.parametrize("encoding", [None, "gzip"])
@pytest.mark.parametrize("delta, status", [(-1, 200), (0, 200), (1, 413)])
def test_5_2_body_size_limit_413_only_above(api, state, encoding, delta, status):
    """§5.2: the (decompressed) body may be exactly `import.max_body_bytes` long; one byte more is 413."""
    limit = 4096
    state.update_config({"import.max_body_bytes": limit})
    body = _body_of_size(limit + delta)
    headers = {}
    if encoding:
        body, headers = gzip.compress(body), {"Content-Encoding": encoding}
    resp = api.import_(body, headers=headers)
    assert resp.status_code == status
    if status == 413:
        assert resp.get_json()["error"] == f"request exceeds max limit of {limit} bytes"
        assert stored(api, "raw") == []
    else:
        assert resp.get_json()["num_records_imported"] == 1 and len(stored(api)) == 1


@pytest.mark.parametrize("delta, status", [(0, 200), (1, 413)])
def test_5_2_default_body_limit_exactly_10485760_bytes(api, delta, status):
    """§5.2: the default limit 10485760 bytes: exactly that many is accepted, one more is 413."""
    resp = api.import_(_body_of_size(10485760 + delta))
    assert resp.status_code == status


@pytest.mark.parametrize("delta, too_large", [(-1, False), (0, False), (1, True)])
def test_6_track_body_size_limit_413_only_above(api, state, delta, too_large):
    """§5.2 via §6: /track shares the body limit; exactly the limit is read, one byte more is 413."""
    limit = 4096
    state.update_config({"import.max_body_bytes": limit})
    core = jbody([{"event": "e", "properties": {"token": TOKEN, "distinct_id": "d"}}])
    body = core[:-1] + b" " * (limit + delta - len(core)) + b"]"
    resp = api.post("/track", body)
    if too_large:
        assert resp.status_code == 413 and stored(api, "raw") == []
    else:
        assert (resp.status_code, resp.data) == (200, b"1") and len(stored(api)) == 1


# --- §5.6 the seconds / milliseconds threshold -------------------------------------------------------------

THRESHOLD = 100_000_000_000  # 1e11


@pytest.mark.parametrize("t, kind", [
    (THRESHOLD - 1, int), (THRESHOLD, int), (THRESHOLD + 1, int),
    (THRESHOLD - 1, float), (THRESHOLD, float), (THRESHOLD + 1, float),
])
def test_5_6_ms_threshold_boundary(api, t, kind):
    """§5.6: |t| >= 1e11 is milliseconds, below it seconds. 1e11 - 1 read as seconds is year 5138 (V6);
    1e11 and above read as milliseconds is 1973, accepted and stored as that many ms."""
    resp = api.import_([event(time=kind(t))])
    if t < THRESHOLD:
        assert messages(resp) == [V6_TEXT]
        assert stored(api, "raw") == []
    else:
        assert resp.status_code == 200
        assert [r["meta"]["time_ms"] for r in stored(api)] == [t]


@pytest.mark.parametrize("t, ms", [(THRESHOLD - 1, False), (THRESHOLD, True)])
def test_6_track_ms_threshold_boundary(api, t, ms):
    """§5.6 on /track: the same threshold. A seconds reading beyond now + 1 h is dropped; the ms reading
    (1973) is older than 5 days, so it is kept raw only (§6) with its time in ms."""
    resp = api.post("/track", jbody([{"event": "e", "properties": {"token": TOKEN, "distinct_id": "d", "time": t}}]))
    assert resp.status_code == 200
    assert [r["meta"]["time_ms"] for r in stored(api, "raw")] == ([t] if ms else [])


# --- §5.4 V5: time >= 1971-01-01T00:00:00Z, on the full path (not only the fast one) -----------------------

MIN_S = 31_536_000  # 1971-01-01T00:00:00Z


@pytest.mark.parametrize("force_full_path", [False, True])
@pytest.mark.parametrize("t, ok", [
    (MIN_S - 1, False), (MIN_S, True), (MIN_S + 1, True),
    (MIN_S - 0.001, False), (float(MIN_S), True), (MIN_S + 0.001, True),
])
def test_5_4_v5_1971_lower_bound_both_sides(api, t, ok, force_full_path):
    """§5.4 V5 at 1971-01-01 - 1 ms / exactly / + 1 ms and ±1 s, integers and floats. `ip` in the
    properties keeps the event off the /import fast path (it needs normalising, §5.11), so the rule
    itself runs for integers too."""
    extra = {"ip": "203.0.113.9"} if force_full_path else {}
    resp = api.import_([event(time=t, **extra)])
    if ok:
        assert resp.status_code == 200
        assert [r["meta"]["time_ms"] for r in stored(api)] == [int(t * 1000)]
    else:
        assert messages(resp) == [V5_TEXT]
        assert stored(api, "raw") == []


# --- §6 the /track batch limit --------------------------------------------------------------------------------

def _track_batch(n: int) -> bytes:
    return jbody([{"event": "e", "properties": {"token": TOKEN, "distinct_id": f"d{i}", "time": NOW - 60}}
                  for i in range(n)])


@pytest.mark.parametrize("limit", [3, 2000])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_6_track_batch_limit_both_sides(api, state, limit, delta):
    """§6 / §5.2: /track takes at most `track.max_batch_records` (2000) objects: limit - 1 and limit are
    stored whole, limit + 1 is refused whole with the † text."""
    if limit != 2000:
        state.update_config({"track.max_batch_records": limit})
    n = limit + delta
    resp = api.post("/track", _track_batch(n), query={"verbose": "1"})
    if delta <= 0:
        assert resp.get_json() == {"error": None, "status": 1}
        assert len(stored(api)) == n
    else:
        assert resp.get_json() == {"error": f"request exceeds max batch size of {limit} records", "status": 0}
        assert stored(api, "raw") == []


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_5_2_import_batch_limit_both_sides(api, state, delta):
    """§5.2: /import takes at most `import.max_batch_records`: limit - 1 and limit stored, limit + 1 refused."""
    state.update_config({"import.max_batch_records": 3})
    resp = api.import_([event(n=i) for i in range(3 + delta)])
    if delta <= 0:
        assert resp.get_json()["num_records_imported"] == 3 + delta and len(stored(api)) == 3 + delta
    else:
        assert resp.status_code == 400 and stored(api, "raw") == []
        assert json.loads(resp.data)["error"] == "request exceeds max batch size of 3 records"


# --- §10 storage: receipt order, quarantine, view filters, the compaction day ------------------------------------

def test_10_rows_numbered_in_receipt_order_across_raw_and_quarantine(api, state):
    """§10: every accepted row gets the next number in receipt order, quarantined ones included; a quarantined
    object does not stop the rest of its batch being stored."""
    body = jbody([{"event": "e", "properties": {"token": "unknown-token", "distinct_id": "q1"}},
                  {"event": "e", "properties": {"token": TOKEN, "distinct_id": "a", "time": NOW - 60}},
                  {"event": "e", "properties": {"token": "unknown-token", "distinct_id": "q2"}},
                  {"event": "e", "properties": {"token": TOKEN, "distinct_id": "b", "time": NOW - 60}}])
    assert api.post("/track", body).data == b"1"
    api.import_([event(n=7)])
    raw = [r["meta"]["seq"] for r in stored(api, "raw")]
    quarantined = [r["meta"]["seq"] for r in stored(api, "quarantine")]
    assert [r["properties"]["distinct_id"] for r in stored(api, "raw")] == ["a", "b", "user-7"]
    assert (raw, quarantined) == ([2, 4, 5], [1, 3])


def test_10_event_store_ingest_counts_rows_entering_the_dedup_view():
    """§10 (Python API): `EventStore.ingest` answers how many rows entered the dedup view: not the quarantined
    ones, not the dropped ones."""
    from fakes.mixpanel.storage import EventStore, RequestMeta, Row

    def row(i, **kw):
        return Row(1, "e", f"d{i}", 1_000 + i, f"i{i}", False, {}, {}, **kw)

    store = EventStore()
    meta = RequestMeta("r", "/import", "us", 0, "json", "ua")
    rows = [row(0), row(1, quarantine="unknown_token"), row(2, dropped="ignore_property"), row(3)]
    assert store.ingest(rows, meta) == 2
    assert store.counts() == {"raw": 3, "dedup": 2, "quarantine": 1}


@pytest.mark.parametrize("query, expected", [
    ({"event": "Refund"}, ["u-2", "u-4"]),
    ({"distinct_id": "u-4"}, ["u-4"]),
    ({"distinct_id": "u-3"}, ["u-3"]),
])
def test_10_view_filters_keep_every_match(api, query, expected):
    """§10 `GET /_harness/events` filters: every matching row, wherever it stands (a non-matching row before
    or between the matches does not end the listing)."""
    api.import_([event("Purchase", n=1, distinct_id="u-1"), event("Refund", n=2, distinct_id="u-2"),
                 event("Purchase", n=3, distinct_id="u-3"), event("Refund", n=4, distinct_id="u-4")])
    assert [r["properties"]["distinct_id"] for r in api.events(**query)["events"]] == expected


def test_10_project_filter_keeps_every_match(api, state):
    """§10 extension `project_id`: rows of other projects before the matches do not end the listing."""
    state.update_config({"projects": [{"project_id": 1, "token": TOKEN, "secret": "s1"},
                                      {"project_id": 2, "token": "t2", "secret": "s2"}]})
    body = jbody([{"event": "e", "properties": {"token": tok, "distinct_id": d, "time": NOW - 60}}
                  for tok, d in (("t2", "x"), (TOKEN, "a"), ("t2", "y"), (TOKEN, "b"))])
    api.post("/track", body)
    assert [r["properties"]["distinct_id"] for r in api.events(project_id="1")["events"]] == ["a", "b"]
    assert [r["properties"]["distinct_id"] for r in api.events(project_id="2")["events"]] == ["x", "y"]


DAY_S = 86_400


@pytest.mark.parametrize("first_s, second_s, merged", [
    (0, DAY_S - 0.001, True),        # 00:00:00.000 and 23:59:59.999 of one UTC day
    (DAY_S - 0.001, DAY_S, False),   # 23:59:59.999 and the next day's 00:00:00.000
    (0, DAY_S, False),
])
def test_10_compaction_day_is_the_utc_day(api, state, first_s, second_s, merged):
    """§10 `dedup.mode = compaction`: the same (event, distinct_id, `$insert_id`) merges within one UTC day,
    from 00:00:00.000 to 23:59:59.999, and never across midnight."""
    state.update_config({"dedup.mode": "compaction"})
    midnight = (NOW // DAY_S - 3) * DAY_S
    api.import_([_dedup_event(time=midnight + first_s), _dedup_event(time=midnight + second_s)])
    assert len(stored(api)) == (1 if merged else 2)


def test_10_raw_view_shows_what_was_sent_views_the_normalised_copy(api):
    """§10 / §5.11: `view=raw` shows the properties as sent (`ip` included); the dedup view the normalised
    copy (`ip` removed on ingest)."""
    api.import_([event(ip="203.0.113.7")])
    assert stored(api, "raw")[0]["properties"]["ip"] == "203.0.113.7"
    assert "ip" not in stored(api)[0]["properties"]


def test_10_endpoint_filter_keeps_every_match(api):
    """§10 extension `endpoint`: rows of another endpoint before the matches do not end the listing."""
    track = jbody([{"event": "e", "properties": {"token": TOKEN, "distinct_id": "t", "time": NOW - 60}}])
    api.post("/track", track)
    api.import_([event(n=1)])
    api.post("/track", track.replace(b'"t"', b'"t2"'))
    api.import_([event(n=2)])
    assert [r["properties"]["distinct_id"] for r in api.events(endpoint="import")["events"]] == ["user-1", "user-2"]
    assert [r["properties"]["distinct_id"] for r in api.events(endpoint="track")["events"]] == ["t", "t2"]


def test_10_since_ms_filter_keeps_every_match_from_the_bound(api):
    """§10 extension `since_ms`: rows at or after the bound, wherever they stand in receipt order (an older row
    received first does not end the listing)."""
    bound = (NOW - 3600) * 1000
    api.import_([event(n=1, time=NOW - 7200), event(n=2, time=NOW - 3600), event(n=3, time=NOW - 7201),
                 event(n=4, time=NOW - 60)])
    found = api.events(since_ms=str(bound))["events"]
    assert [r["properties"]["distinct_id"] for r in found] == ["user-2", "user-4"]
