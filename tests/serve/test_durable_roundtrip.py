"""What `--state-dir` writes after each request rebuilds the same state (issue 13 item 1), in-process:
both fakes driven through their HTTP interface (Flask test client), then a fresh state replays the directory
without a clean stop and is compared with the live one, through a rewrite and a reset too."""

from __future__ import annotations

import base64
import gzip
import json
import time

import pytest

from fakes.braze import create_app as braze_app
from fakes.braze import new_state as braze_state
from fakes.braze.persistence import dump_world
from fakes.core.durable import DurableStore
from fakes.core.durable_log import LogCorrupt
from fakes.mixpanel import create_app as mixpanel_app
from fakes.mixpanel import new_state as mixpanel_state

SECRET = {"Authorization": "Basic " + base64.b64encode(b"harness-secret:").decode()}
CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}


def _reopen(new_state, directory):
    fresh = new_state()
    store = DurableStore(fresh, directory, rewrite_min_bytes=1 << 62)
    store.open()
    return fresh, store


def _mixpanel_traffic(client) -> None:
    now = int(time.time())
    events = [{"event": "e", "properties": {"time": now - 60, "distinct_id": f"u{k}", "$insert_id": f"i{k}",
                                            "ip": "1.2.3.4"}} for k in range(5)]
    assert client.post("/import?strict=1", json=events, headers=SECRET).status_code == 200
    assert client.post("/import?strict=1", json=events[:2], headers=SECRET).status_code == 200  # resends
    tracked = {"event": "t", "properties": {"token": "harness-token", "distinct_id": "u9", "time": now}}
    assert client.post("/track", data={"data": json.dumps(tracked)}).status_code == 200
    unknown = {"event": "q", "properties": {"token": "nobody", "distinct_id": "u9", "time": now}}
    client.post("/track", data={"data": json.dumps(unknown)})  # quarantined
    for ops in ({"$set": {"plan": "pro", "n": 1}}, {"$add": {"n": 2}}, {"$union": {"tags": ["a"]}}):
        update = {"$token": "harness-token", "$distinct_id": "u1", **ops}
        assert client.post("/engage", data={"data": json.dumps([update])}).status_code == 200
    gone = {"$token": "harness-token", "$distinct_id": "u2", "$set": {"x": 1}}
    client.post("/engage", data={"data": json.dumps([gone])})
    client.post("/engage", data={"data": json.dumps([{"$token": "harness-token", "$distinct_id": "u2",
                                                      "$delete": ""}])})
    group = {"$token": "harness-token", "$group_key": "company", "$group_id": "acme", "$set": {"size": 10}}
    assert client.post("/groups", data={"data": json.dumps([group])}).status_code == 200
    assert client.post("/_harness/lookup-tables", json={"name": "plans", "project_id": 1, "id": "t1"}).status_code == 201
    csv_body = gzip.compress(b"plan_id,name\np1,Pro\n")
    r = client.put("/lookup-tables/t1", data=csv_body, query_string={"project_id": "1"},
                   headers={**SECRET, "Content-Type": "text/csv", "Content-Encoding": "gzip"})
    assert r.status_code == 200, r.data
    assert client.put("/_harness/config", json={"journal.capacity": 321}).status_code == 200


def test_mixpanel_state_rebuilt_from_the_log(tmp_path):
    state = mixpanel_state()
    DurableStore(state, tmp_path).open()
    client = mixpanel_app(state).test_client()
    _mixpanel_traffic(client)
    fresh, store = _reopen(mixpanel_state, tmp_path)  # no clean stop: as after kill -9
    assert _kept(fresh.model.snapshot()) == _kept(state.model.snapshot())
    assert fresh.model.store.counts() == state.model.store.counts() == {"raw": 8, "dedup": 6, "quarantine": 1}
    assert [r.metadata() for r in fresh.model.events("raw")] == [r.metadata() for r in state.model.events("raw")]
    assert fresh.config["journal.capacity"] == 321
    store.rewrite(wait=True)  # one base from the state: the same again
    again, store2 = _reopen(mixpanel_state, tmp_path)
    assert _kept(again.model.snapshot()) == _kept(state.model.snapshot())
    store.close()
    store2.close()


def test_a_reset_in_the_log_forgets_what_came_before(tmp_path):
    state = mixpanel_state()
    DurableStore(state, tmp_path).open()
    client = mixpanel_app(state).test_client()
    _mixpanel_traffic(client)
    assert client.post("/_harness/reset", json={"seed": 7}).status_code == 200
    fresh, _ = _reopen(mixpanel_state, tmp_path)
    assert fresh.model.store.counts() == {"raw": 0, "dedup": 0, "quarantine": 0}
    assert fresh.seed == 7 and _kept(fresh.model.snapshot()) == _kept(state.model.snapshot())


def test_braze_world_rebuilt_from_the_log(tmp_path):
    state = braze_state()
    DurableStore(state, tmp_path).open()
    client = braze_app(state).test_client()
    users = [{"external_id": f"x{i}", "aliases": [{"alias_name": f"a{i}", "alias_label": "l"}],
              "device_ids": [f"d{i}"]} for i in range(6)] + [{"device_ids": ["anon-1"]}]
    created = client.post("/_harness/users", json={"users": users}).get_json()["users"]
    anonymous = created[-1]["braze_id"]
    for cohort in ("c1", "c2"):
        r = client.post("/partners/mixpanel/cohorts", json={**CREDS, "cohort_id": cohort, "name": cohort.upper(),
                                                            "created_at": "2024-01-01T00:00:00Z"})
        assert r.status_code == 201
    r = client.post("/partners/mixpanel/cohorts/users", json={**CREDS, "cohort_id": "c1", "cohort_changes": [
        {"user_ids": ["x0", "x1", "x2"]}, {"device_ids": ["anon-1"]}]})
    assert r.status_code == 201, r.data
    client.post("/partners/mixpanel/cohorts/users", json={**CREDS, "cohort_id": "c1", "cohort_changes": [
        {"user_ids": ["x1"], "should_remove": True}]})
    client.post("/partners/mixpanel/cohorts", json={**CREDS, "cohort_id": "c2", "name": "Renamed",
                                                    "created_at": "2024-01-01T00:00:00Z"})
    assert client.post(f"/_harness/braze/workspaces/default/users/{anonymous}/identify",
                       json={"external_id": "x3"}).status_code in (200, 409)  # a merge into x3, or refused
    client.delete(f"/_harness/braze/workspaces/default/users/{created[4]['braze_id']}")
    assert client.post("/_harness/keys", json={}).status_code in (200, 201)
    fresh, _ = _reopen(braze_state, tmp_path)
    assert dump_world(fresh.model) == dump_world(state.model)
    assert fresh.model.users().by_external_id("x0") is not None


def test_a_bad_row_in_the_log_names_the_file(tmp_path):
    state = braze_state()
    store = DurableStore(state, tmp_path)
    store.open()
    store.close()
    from fakes.core.durable_log import encode_record
    incr = tmp_path / "braze.incr.1"
    with open(incr, "ab") as fh:
        fh.write(encode_record({"data": {"members": [["default", "mixpanel", "nope", {"b": [[1, None]]}]]}}))
    with pytest.raises(LogCorrupt, match=r"braze\.incr\.1: record at byte 0: members\[0\]: unknown cohort"):
        DurableStore(braze_state(), tmp_path).open()


def test_event_cap_refuses_a_whole_batch(tmp_path):
    """`store.max_events`: the batch that would pass the cap is refused whole (507), nothing of it stored."""
    state = mixpanel_state({"store.max_events": 4})
    client = mixpanel_app(state).test_client()
    now = int(time.time())
    batch = [{"event": "e", "properties": {"time": now - 60, "distinct_id": "u", "$insert_id": f"i{k}"}}
             for k in range(3)]
    assert client.post("/import?strict=1", json=batch, headers=SECRET).status_code == 200
    r = client.post("/import?strict=1", json=batch, headers=SECRET)
    assert r.status_code == 507 and r.get_json()["status"] == "Insufficient Storage"
    assert "store.max_events=4" in r.get_json()["error"]
    assert state.model.store.counts()["raw"] == 3
    assert client.put("/_harness/config", json={"store.max_events": None}).status_code == 200
    assert client.post("/import?strict=1", json=batch, headers=SECRET).status_code == 200


def test_a_failed_write_is_answered_503_and_written_with_the_next_commit(tmp_path, monkeypatch):
    """A change that cannot be written is not acknowledged (503); the log never holds half a record."""
    import errno

    from fakes.core import durable_log

    state = mixpanel_state()
    store = DurableStore(state, tmp_path)
    store.open()
    client = mixpanel_app(state).test_client()
    real_append = durable_log.LogWriter.append
    calls = {"n": 0}

    def full_disk(self, record):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, record)

    monkeypatch.setattr(durable_log.LogWriter, "append", full_disk)
    now = int(time.time())
    batch = [{"event": "e", "properties": {"time": now - 60, "distinct_id": "u", "$insert_id": "i1"}}]
    r = client.post("/import?strict=1", json=batch, headers=SECRET)
    assert r.status_code == 503 and "No space left on device" in r.get_json()["detail"]
    batch[0]["properties"]["$insert_id"] = "i2"
    assert client.post("/import?strict=1", json=batch, headers=SECRET).status_code == 200
    fresh, _ = _reopen(mixpanel_state, tmp_path)
    assert [r.insert_id for r in fresh.model.events("raw")] == ["i1", "i2"]


@pytest.mark.parametrize("fake, head", [
    ("braze", {"data": {"meta": {"partners": [1], "keys": [], "workspaces": [], "default_workspace": "default"}}}),
    ("braze", {"data": {"meta": {"partners": [], "keys": [{"key": 5}], "workspaces": [],
                                 "default_workspace": "default"}}}),
    ("braze", {"data": {"users": {"default": [None]}}}),
    ("braze", {"data": {"users": {"default": [{"braze_id": "b", "created_at": "soon", "aliases": [],
                                               "device_ids": [], "attributes": {}}]}}}),
    ("braze", {"data": {"members": [[1, 2, 3, {"b": "x"}]]}}),
    ("braze", {"data": {"key_rng": "x"}}),
    ("braze", {"data": {"surprise": 1}}),
    ("mixpanel", {"config": {"journal.capacity": -5}}),
    ("mixpanel", {"reset": {"seed": True}}),
    ("mixpanel", {"data": {"pr": [{"key": [1, "u"], "properties": 5, "created_at": 0, "updates": 0}]}}),
    ("mixpanel", {"data": {"gp": [{"key": [1, ["company"]], "properties": {}}]}}),
    ("mixpanel", {"data": {"lt": [{}]}}),
    ("mixpanel", {"data": {"ev": {"metas": [[0, 1, 2, 3, 4, 5, 6, 7]], "lens": []}}}),
    ("mixpanel", {"data": {"ev": {"metas": [], "lens": [999]}}}),
    ("mixpanel", {"other": 1}),
])
def test_hostile_records_are_refused_in_one_line(tmp_path, fake, head):
    """Issue 13 item 3: restored state is checked row by row; a bad row is a LogCorrupt naming the file."""
    from fakes.core.durable_log import encode_record

    new_state = braze_state if fake == "braze" else mixpanel_state
    store = DurableStore(new_state(), tmp_path)
    store.open()
    store.close()
    with open(tmp_path / f"{fake}.incr.1", "ab") as fh:
        fh.write(encode_record(head))
    with pytest.raises(LogCorrupt, match=rf"{fake}\.incr\.1: record at byte 0: "):
        DurableStore(new_state(), tmp_path).open()


def _kept(snapshot: dict) -> dict:
    """What --state-dir keeps: everything but the failed-records inspection view (like the journal and the
    stats, it starts empty after a restart)."""
    return {k: v for k, v in snapshot.items() if k != "failed_records"}
