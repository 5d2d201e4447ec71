"""The engine side of the edge-case catalogue (braze-cohort-sync.md §10), one test per case, named after
its id, against fake Braze in-process. Unless noted: default connection, dynamic interval 7,200 s, every
mentioned external id exists as a Braze profile (seeded through `POST /_harness/users`)."""

from __future__ import annotations

import pytest
from sync_kit import COHORT, DATA_IMPORT_KEY, HOUR, T0, TICK, fail, ids

from harness.connectors.cohort_sync import CohortInfo, DynamicSyncLimitExceeded, Member

INVALID_SECRET = "Invalid client secret"
TOO_MANY_IDS = "Only 1,000 user_ids, device_ids, and aliases are allowed per request"


def test_ec_01_user_without_braze_external_id_is_not_eligible(world):
    """EC-01: "Requests contain only a; Braze cohort = {a}; run record shows B not_eligible"."""
    world.seed("a")
    world.cohort({"A": "a", "B": None})
    sync = world.sync()
    assert world.sent_ids() == {"a"} and world.members() == {"a"}
    assert sync.last_run.row("B").operation == "not_eligible"


def test_ec_02_custom_user_id_property(world):
    """EC-02: "Only account_id values are sent" (connection User ID Property `account_id`)."""
    world.seed("acct-1", "ext-1")
    world.cohort({"d1": "ext-1"})
    world.cohorts.set_properties("d1", {"account_id": "acct-1"}, at=T0)
    world.sync(connection=world.connect(user_id_property="account_id"))
    assert world.sent_ids() == {"acct-1"} and world.members() == {"acct-1"}


def test_ec_04_profile_created_after_its_add_is_not_resent_while_in_the_snapshot(world):
    """EC-04: "Not a member after t2; the engine does not re-send it (in snapshot) until it leaves and
    re-enters or a full run happens"."""
    world.cohort({"dl": "late"})
    world.sync()  # t1: `late` has no Braze profile yet
    world.clock.advance(100)
    world.seed("late")  # t2
    world.clock.advance(2 * TICK)
    assert world.members() == set() and len(world.partner_requests("cohorts/users")) == 1
    world.leave(["dl"])
    world.clock.set(T0 + 3 * TICK)
    world.join({"dl": "late"})
    world.clock.set(T0 + 4 * TICK)
    assert world.sent_changes()[-2:] == [(True, ["late"]), (False, ["late"])]
    assert world.members() == {"late"}


def test_ec_10_key_invalidated_mid_sync_pauses_and_sends_nothing_more(make_world):
    """EC-10: "Batch 2: 401 Invalid client secret; sync paused with that reason; Braze holds 1,000 ids;
    after reconnect, next run re-sends all 2,500 (1,000 no-ops)"."""
    world = make_world(request_latency_s=1)  # /cohorts at T0, batch 1 at T0+1, batch 2 at T0+2
    members = ids("u", 2500)
    world.seed(*members)
    key = world.control("POST", "/_harness/keys")["key"]
    world.cohort({f"d{i}": m for i, m in enumerate(members)})
    connection = world.connect(key)
    sync = world.sync(connection=connection)
    world.clock.advance(1.5)
    world.control("DELETE", f"/_harness/keys/{key}")
    world.clock.advance(3 * TICK)
    assert (sync.state, sync.pause_reason) == ("paused", INVALID_SECRET)
    assert [r.status for r in sync.last_run.requests] == [201, 201, 401]
    assert len(world.members()) == 1000
    sent = len(world.partner_requests())
    world.clock.advance(TICK)
    assert len(world.partner_requests()) == sent  # nothing more
    world.engine.reconnect(connection.connection_id, data_import_key=DATA_IMPORT_KEY)
    world.clock.set(T0 + 5 * TICK + 10)
    assert sync.state == "active" and sync.last_run.kind == "full" and sync.last_run.counts["adds"] == 2500
    assert world.members() == set(members)
    assert world.braze_cohorts()[str(COHORT)]["counters"]["noop_add"] == 1000


@pytest.mark.parametrize("revokes", [False, True])
def test_ec_11_new_key_generated_while_the_old_one_is_used(world, revokes):
    """EC-11: "Default: syncs keep succeeding; with new_key_revokes_old = true: as EC-10"."""
    world.fleet["braze"].configure({"keys.new_key_revokes_old": revokes})
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.control("POST", "/_harness/keys")
    world.join({"d2": "u2"})
    world.clock.advance(TICK)
    if revokes:
        assert (sync.state, sync.pause_reason) == ("paused", INVALID_SECRET)
        assert world.members() == {"u1"}
    else:
        assert sync.state == "active" and world.members() == {"u1", "u2"}


@pytest.mark.parametrize("how", ["other_partner_tile", "partner_disabled"])
def test_ec_12_partner_not_enabled(world, how):
    """EC-12: "401 Partner not enabled for client with client secret: <key>; sync paused; no cohort declared"."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    if how == "other_partner_tile":
        key = world.control("POST", "/_harness/keys", {"partner": "amplitude"})["key"]
    else:
        key = DATA_IMPORT_KEY
        world.control("PUT", "/_harness/braze/workspaces/default/partners/mixpanel", {"enabled": False})
    sync = world.sync(connection=world.connect(key))
    assert (sync.state, sync.pause_reason) == ("paused", f"Partner not enabled for client with client secret: {key}")
    assert world.braze_cohorts() == {}


def test_ec_13_wrong_instance_chosen(world):
    """EC-13: workspace on EU-01, connection set to US-01: "401 Invalid client secret; paused"."""
    world.control("POST", "/_harness/braze/workspaces", {"id": "eu", "cluster": "EU-01"})
    key = world.control("POST", "/_harness/braze/workspaces/eu/keys")["key"]
    world.cohort({"d1": "u1"})
    sync = world.sync(connection=world.connect(key, braze_url="https://rest.iad-01.braze.com"))
    assert (sync.state, sync.pause_reason) == ("paused", INVALID_SECRET)
    right = world.sync(connection=world.connect(key, braze_url="https://rest.fra-01.braze.eu"))
    assert right.state == "active" and right.last_run.outcome == "success"


def test_ec_18_rate_limited_then_recovers(world):
    """EC-18: "Retries after 2 s and 4 s; run succeeds; no pause; final membership as without limit"."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    world.faults({"match": {"endpoint": "cohorts/users"}, "nth": [1, 2], "action": {"type": "rate_limit"}})
    sync = world.sync()
    world.clock.advance(10)
    changes = [r for r in sync.last_run.requests if r.endpoint == "cohorts/users"]
    assert [(r.status, r.wait_s, r.sent_at - T0) for r in changes] == [(429, 0, 0), (429, 2, 2), (201, 4, 6)]
    assert changes[0].message == "Rate Limited"
    assert sync.state == "active" and world.members() == {"u1", "u2"}


def _retries_exhausted_on_batch_2(world, action) -> None:
    members = ids("u", 1500)
    world.seed(*members)
    world.cohort({f"d{i}": m for i, m in enumerate(members)})
    world.faults({"match": {"endpoint": "cohorts/users"}, "nth": [2, 3, 4, 5, 6, 7], "action": action})
    sync = world.sync()
    world.clock.advance(120)
    assert sync.last_run.outcome == "failed_transient" and sync.state == "active"
    assert world.members() == set(members[:1000])  # batch 1 stays applied
    assert sync.snapshot is None
    world.clock.set(T0 + TICK + 1)
    assert [len(b) for _, b in world.sent_changes()[-2:]] == [1000, 500]  # the whole diff again
    assert sync.last_run.outcome == "success" and world.members() == set(members)


def test_ec_19_rate_limited_retries_exhausted(world):
    """EC-19: "Run failed_transient; batch 1 stays applied; sync active; next run re-sends the whole diff"."""
    _retries_exhausted_on_batch_2(world, {"type": "rate_limit"})


def test_ec_20_transient_5xx_mid_run(world):
    """EC-20: "503 burst as EC-19 → same as EC-19"."""
    _retries_exhausted_on_batch_2(world, {"type": "status", "status": 503, "body": {"message": "Service Unavailable"}})


def test_ec_22_batch_size_1001_pauses_with_too_many_ids(make_world):
    """EC-22: "400 Only 1,000 user_ids, device_ids, and aliases are allowed per request; nothing applied;
    engine with batch_size 1,001 pauses"."""
    world = make_world(batch_size=1001)
    members = ids("u", 1001)
    world.seed(*members)
    world.cohort({f"d{i}": m for i, m in enumerate(members)})
    sync = world.sync()
    assert (sync.state, sync.pause_reason) == ("paused", TOO_MANY_IDS)
    assert world.members() == set()


def test_ec_24_duplicate_adds_after_a_restart_are_noops(world):
    """EC-24: "Batches 1–3 re-sent; final membership equals a clean run; repeats are noop_add; no error"."""
    members = ids("u", 2500)
    world.seed(*members)
    world.cohort({f"d{i}": m for i, m in enumerate(members)})
    world.faults(fail(503, nth=[3, 4, 5, 6, 7, 8]))
    sync = world.sync()
    world.clock.set(T0 + TICK)
    assert [r.outcome for r in sync.runs] == ["failed_transient", "success"]
    assert [len(b) for _, b in world.sent_changes()[-3:]] == [1000, 1000, 500]
    assert world.members() == set(members)
    counters = world.braze_cohorts()[str(COHORT)]["counters"]
    assert counters["noop_add"] == 2000 and counters["applied_add"] == 2500


def test_ec_25_removal_lost_after_an_outage_longer_than_the_snapshot_ttl(world):
    """EC-25: "First successful run is full: adds {a,c,d}, no remove; Braze {a,b,c,d}; b stays until it
    re-enters and leaves"."""
    world.seed("a", "b", "c", "d")
    world.cohort({"da": "a", "db": "b", "dc": "c"})
    sync = world.sync()
    world.faults(fail(503, active_from=T0 + 1, active_until=T0 + 3 * 86400 + HOUR))
    world.leave(["db"], at=T0 + HOUR)
    world.join({"dd": "d"}, at=T0 + HOUR)
    world.clock.set(T0 + 3 * 86400 + TICK)
    recovered = sync.last_run
    assert (recovered.kind, recovered.outcome, recovered.counts["removes"]) == ("full", "success", 0)
    assert world.sent_changes()[-1] == (False, ["a", "c", "d"])
    assert world.segment() == {"a", "b", "c", "d"}
    world.join({"db": "b"})
    world.clock.advance(TICK)
    assert world.segment() == {"a", "b", "c", "d"}
    world.leave(["db"])
    world.clock.advance(TICK)
    assert world.segment() == {"a", "c", "d"}


def test_ec_26_outage_shorter_than_the_ttl_converges_by_diff(world):
    """EC-26: recovery after 2 days: "Diff vs S0: add d, remove b; Braze {a,c,d}"."""
    world.seed("a", "b", "c", "d")
    world.cohort({"da": "a", "db": "b", "dc": "c"})
    sync = world.sync()
    world.faults(fail(503, active_from=T0 + 1, active_until=T0 + 2 * 86400 - HOUR))
    world.leave(["db"], at=T0 + HOUR)
    world.join({"dd": "d"}, at=T0 + HOUR)
    world.clock.set(T0 + 2 * 86400 + 1)
    assert (sync.last_run.kind, sync.last_run.outcome) == ("diff", "success")
    assert world.sent_changes()[-2:] == [(False, ["d"]), (True, ["b"])]
    assert world.segment() == {"a", "c", "d"}


def test_ec_27_rename_is_declared_at_the_next_run(world):
    """EC-27: "Next run starts with /cohorts (same id, new name, original created_at); option list shows only
    the new name; members and segments unchanged"."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.cohorts.rename(COHORT, "Clicked email (7 d)", at=T0 + HOUR)
    world.join({"d2": "u2"}, at=T0 + HOUR)
    world.clock.set(T0 + TICK)
    assert [r.endpoint for r in sync.last_run.requests] == ["cohorts", "cohorts/users"]
    first, second = [e for e in world.partner_requests("cohorts")]
    assert second["at"] == T0 + TICK and '"Clicked email (7 d)"' in second["body"]
    options = world.control("GET", "/_harness/braze/workspaces/default/filters/mixpanel_cohorts/options")["options"]
    assert options == [{"cohort_id": str(COHORT), "name": "Clicked email (7 d)"}]
    assert world.braze_cohorts()[str(COHORT)]["created_at"] == "2023-11-14T22:13:20Z"
    assert world.members() == world.segment() == {"u1", "u2"}


def test_ec_28_rename_after_a_one_time_export_is_never_sent(world):
    """EC-28: "No request; Braze keeps the old name"."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.sync(type="one_time")
    sent = len(world.partner_requests())
    world.cohorts.rename(COHORT, "Renamed", at=T0 + HOUR)
    world.clock.advance(3 * TICK)
    assert len(world.partner_requests()) == sent
    assert world.braze_cohorts()[str(COHORT)]["name"] == "Clicked email"


def test_ec_29_cohort_emptied(world):
    """EC-29: "Next run removes every snapshot id; cohort still listed with 0 members; includes empty,
    excludes = universe"."""
    world.seed("u1", "u2", "other")
    world.cohort({"d1": "u1", "d2": "u2"})
    world.sync()
    world.leave(["d1", "d2"])
    world.clock.advance(TICK)
    assert world.sent_changes()[-1] == (True, ["u1", "u2"])
    assert world.braze_cohorts()[str(COHORT)]["member_count"] == 0
    assert world.segment() == set()
    assert world.segment(op="excludes") == {"u1", "u2", "other"}


def test_ec_30_leave_and_reenter_between_two_runs_is_a_noop(world):
    """EC-30: "No request mentions the user (no-op); membership continuous"."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    sync = world.sync()
    world.leave(["d1"], at=T0 + 600)
    world.join({"d1": "u1"}, at=T0 + 3000)
    world.clock.advance(TICK)
    assert "u1" not in {i for _, b in world.sent_changes()[1:] for i in b}
    assert sync.last_run.row("d1").operation == "no-op"
    assert all("u1" in world.members(at=T0 + t) for t in (1, 600, 3000, TICK, TICK + 1))


def test_ec_31_leave_at_one_run_back_at_the_next_leaves_a_gap(world):
    """EC-31: "Membership gap between the two receive times; segment at a time in the gap excludes the user"."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.sync()
    world.leave(["d1"], at=T0 + 600)
    world.clock.set(T0 + TICK + 1)
    world.join({"d1": "u1"})
    world.clock.set(T0 + 2 * TICK + 1)
    assert world.segment(at=T0 + TICK - 1) == {"u1"}
    assert world.segment(at=T0 + TICK + 60) == set()
    assert world.segment(at=T0 + 2 * TICK) == {"u1"}


def test_ec_36_resource_locked_is_retried_as_transient(world):
    """EC-36: "Second: 423 Resource locked; engine retries it as transient" — the engine sends one request at
    a time, so it meets 423 only when another writer holds the cohort; a fault rule stands in for that
    writer (§4.12: "Sequential clients, like the engine, never see it unless a fault rule forces it")."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(423, times=1, message="Resource locked"))
    sync = world.sync()
    world.clock.advance(10)
    changes = [(r.status, r.message, r.wait_s) for r in sync.last_run.requests if r.endpoint == "cohorts/users"]
    assert changes == [(423, "Resource locked", 0), (201, "success", 2)]
    assert sync.state == "active" and world.members() == {"u1"}


def test_ec_38_identifier_value_change_removes_old_and_adds_new(world):
    """EC-38: "Next run: remove old, add new (default diff key)"."""
    world.seed("old", "new")
    world.cohort({"d1": "old"})
    world.sync()
    world.cohorts.set_properties("d1", {"$braze_external_id": "new"}, at=T0 + HOUR)
    world.clock.advance(TICK)
    assert world.sent_changes()[1:] == [(False, ["new"]), (True, ["old"])]
    assert world.members() == {"new"}


def test_ec_39_one_cohort_over_two_connections(world):
    """EC-39: "Both write the same Braze cohort_id; a remove sent by either ends membership"."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    first = world.sync(connection=world.connect())
    world.clock.advance(HOUR)
    second = world.sync(connection=world.connect())
    assert {e["path"] for e in world.partner_requests()} == {"/partners/mixpanel/cohorts",
                                                            "/partners/mixpanel/cohorts/users"}
    assert list(world.braze_cohorts()) == [str(COHORT)]
    world.leave(["d1"])
    world.clock.set(T0 + TICK + 1)  # the first sync's tick removes u1; the second's comes an hour later
    assert first.last_run.counts["removes"] == 1 and len(second.runs) == 1
    assert world.members() == {"u2"}
    world.clock.set(T0 + TICK + HOUR + 1)
    assert world.braze_cohorts()[str(COHORT)]["counters"]["noop_remove"] == 1


@pytest.mark.parametrize("policy", ["freeze", "empty"])
def test_ec_40_cohort_deleted_between_runs(make_world, policy):
    """EC-40: "Sync stopped; no request; Braze keeps name and members" (`on_cohort_delete = freeze`);
    `empty` sends removes for the snapshot first (§8.9)."""
    world = make_world(on_cohort_delete=policy)
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    sync = world.sync()
    sent = len(world.partner_requests())
    world.cohorts.delete(COHORT, at=T0 + HOUR)
    world.clock.advance(3 * TICK)
    assert sync.state == "stopped" and sync.stop_reason == "cohort deleted"
    assert world.braze_cohorts()[str(COHORT)]["name"] == "Clicked email"
    if policy == "freeze":
        assert len(world.partner_requests()) == sent and world.members() == {"u1", "u2"}
    else:
        assert world.sent_changes()[-1] == (True, ["u1", "u2"]) and world.members() == set()
        assert sync.last_run.kind == "empty" and sync.snapshot is None


def test_ec_41_the_61st_dynamic_sync_fails_one_time_exports_still_allowed(world):
    """EC-41: "Creation fails DynamicSyncLimitExceeded; one-time export still allowed" (§8.8: active and
    paused syncs count)."""
    world.cohort({"d1": "u1"})
    connection = world.connect()
    made = [world.sync(connection=connection) for _ in range(60)]
    with pytest.raises(DynamicSyncLimitExceeded):
        world.sync(connection=connection)
    assert world.sync(connection=connection, type="one_time").state == "completed"
    world.engine.stop_sync(made[0].sync_id)
    assert world.sync(connection=connection).type == "dynamic"


class _HugeCohort:
    """A predicate cohort of 10,000,001 members, counted without being listed."""

    def cohort(self, cohort_id: int, at: float) -> CohortInfo:
        return CohortInfo(cohort_id, "Everyone")

    def count(self, cohort_id: int, at: float) -> int:
        return 10_000_001

    def members(self, cohort_id: int, at: float) -> list[Member]:
        raise AssertionError("the engine must not list a cohort over the limit")


def test_ec_42_cohort_over_ten_million_users_pauses_without_a_request(world):
    """EC-42: "No request; sync paused with limit reason" (§8.5 step 1, checked before eligibility)."""
    world.engine.cohorts = _HugeCohort()
    sync = world.sync()
    assert (sync.state, sync.pause_reason) == ("paused", "cohort exceeds 10,000,000 users")
    assert sync.last_run.outcome == "paused" and sync.last_run.requests == []
    assert world.partner_requests() == []


def test_ec_43_sequential_syncs_on_one_connection(world):
    """EC-43: "Second sync's first request is received after the first sync's run ends" (first retrying)."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"}, cohort_id=1, name="One")
    world.cohort({"d2": "u2"}, cohort_id=2, name="Two")
    world.faults({**fail(503, times=3), "match": {"endpoint": "cohorts/users", "cohort_id": "1"}})
    connection = world.connect()
    first = world.sync(cohort_id=1, connection=connection)
    second = world.sync(cohort_id=2, connection=connection)
    world.clock.advance(60)
    assert first.last_run.finished_at == T0 + 14  # retries after 2, 4, 8 s
    received = [(e["at"], e["body"]) for e in world.partner_requests()]
    second_first = min(at for at, body in received if '"cohort_id":"2"' in body.replace(" ", ""))
    assert second_first == T0 + 14 >= first.last_run.finished_at
    assert second.last_run.started_at == T0 + 14
