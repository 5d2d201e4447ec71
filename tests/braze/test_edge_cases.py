"""braze-cohort-sync.md §10: the edge-case catalogue, one test per entry, asserting what Braze observes.

Cases that involve the cohort sync engine (§8, not built yet) are driven here by sending exactly the
requests §8.5 says the engine sends (declare, then adds in batches of 1,000, then removes); the engine's
own observables (run records, pauses, retry waits) wait for the engine and are listed in each docstring.
"""

from __future__ import annotations

import pytest

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}
INCLUDES = lambda cid: {"mixpanel_cohorts": {"includes": cid}}  # noqa: E731
EXCLUDES = lambda cid: {"mixpanel_cohorts": {"excludes": cid}}  # noqa: E731


def msg(response):
    return response.status_code, response.get_json()["message"]


def engine_run(braze, cohort_id, adds=(), removes=(), name=None, batch=1000, creds=None, stop_after=None):
    """The requests of one engine run (§8.5 steps 3-5): optional declare, adds first, then removes.

    Returns the statuses; stops at the first non-2xx (or after ``stop_after`` requests), like a failed run."""
    creds = creds or CREDS
    statuses = []
    if name is not None:
        statuses.append(braze.declare(cohort_id, name, "2024-01-01T00:00:00Z", creds=creds).status_code)
    requests = [{"user_ids": sorted(adds)[i:i + batch]} for i in range(0, len(adds), batch)]
    requests += [{"user_ids": sorted(removes)[i:i + batch], "should_remove": True} for i in range(0, len(removes), batch)]
    for change in requests:
        if stop_after is not None and len(statuses) >= stop_after:
            break
        status = braze.change(cohort_id, [change], creds=creds).status_code
        statuses.append(status)
        if status >= 300:
            break
    return statuses


def ids(n, prefix="u"):
    return [f"{prefix}{i:05d}" for i in range(n)]


@pytest.fixture
def seeded(braze, model):
    model.users().add_many([{"external_id": x} for x in ("a", "b", "c", "d", "old", "new", "u", "user1")])
    return braze


def test_ec01_user_without_braze_external_id(seeded):
    """EC-01: requests contain only `a` → Braze cohort = {a}. Waits for engine: B `not_eligible` row."""
    assert engine_run(seeded, "1", adds=["a"], name="A") == [201, 201]
    assert seeded.member_ids("1") == {"a"}


def test_ec02_custom_user_id_property(seeded, model):
    """EC-02: only the `account_id` values are sent; the profiles' other ids never join.
    Waits for engine: choosing the connection's User ID Property."""
    model.users().add_identified("acct-7")
    engine_run(seeded, "1", adds=["acct-7"], name="A")
    assert seeded.member_ids("1") == {"acct-7"}


def test_ec03_id_unknown_to_braze(seeded, model):
    """EC-03: 201; no profile created; membership unchanged; ignored_unknown +1."""
    before = len(model.users())
    assert engine_run(seeded, "1", adds=["ghost"], name="A") == [201, 201]
    assert len(model.users()) == before and seeded.member_ids("1") == set()
    assert seeded.counters("1")["ignored_unknown"] == 1


def test_ec04_profile_created_after_its_add(seeded, model):
    """EC-04: `late` sent at t1, profile created at t2 → not a member after t2.
    Waits for engine: no re-send until it leaves and re-enters or a full run."""
    engine_run(seeded, "1", adds=["late"], name="A")
    seeded.clock.advance(60)
    model.users().add_identified("late")
    seeded.clock.advance(60)
    assert seeded.member_ids("1") == set()


def test_ec05_device_id_of_identified_user(seeded, model):
    """EC-05: raw device_ids ["d1"] on an identified profile → 201; no change; ignored_identified_device +1."""
    model.users().add_identified("withdevice", devices=["d1"])
    seeded.declare("1", "A")
    assert seeded.change("1", [{"device_ids": ["d1"]}]).status_code == 201
    assert seeded.member_ids("1") == set()
    assert seeded.counters("1")["ignored_identified_device"] == 1


def test_ec06_device_id_of_anonymous_user(seeded, model):
    """EC-06: d9 on an anonymous profile → the profile becomes a member."""
    anon = model.users().add_anonymous(devices=["d9"])
    seeded.declare("1", "A")
    seeded.change("1", [{"device_ids": ["d9"]}])
    assert seeded.member_ids("1") == {anon.braze_id}


def test_ec07_anonymous_member_later_identified(seeded, model):
    """EC-07: added via d9 at t1, identified as u9 at t2, removal via d9 at t3 → still a member; removal via u9 works."""
    model.users().add_anonymous(devices=["d9"])
    seeded.declare("1", "A")
    seeded.change("1", [{"device_ids": ["d9"]}])
    seeded.clock.advance(10)
    model.users().identify("u9", device="d9")
    seeded.clock.advance(10)
    seeded.change("1", [{"device_ids": ["d9"], "should_remove": True}])
    assert seeded.member_ids("1") == {"u9"}
    seeded.change("1", [{"user_ids": ["u9"], "should_remove": True}])
    assert seeded.member_ids("1") == set()


def test_ec08_alias_pair_order(seeded, model):
    """EC-08: profile alias (email, a@x.io); swapped name/label ignored; exact pair → member."""
    model.users().add_identified("aliased", aliases=[("email", "a@x.io")])
    seeded.declare("1", "A")
    seeded.change("1", [{"aliases": [{"alias_name": "a@x.io", "alias_label": "email"}]}])
    assert seeded.member_ids("1") == set() and seeded.counters("1")["ignored_unknown"] == 1
    seeded.change("1", [{"aliases": [{"alias_name": "email", "alias_label": "a@x.io"}]}])
    assert seeded.member_ids("1") == {"aliased"}


def test_ec09_alias_as_single_object(seeded, model):
    """EC-09: `aliases: {alias_name, alias_label}` behaves as a one-element array."""
    model.users().add_identified("aliased", aliases=[("email", "a@x.io")])
    seeded.declare("1", "A")
    assert seeded.change("1", [{"aliases": {"alias_name": "email", "alias_label": "a@x.io"}}]).status_code == 201
    assert seeded.member_ids("1") == {"aliased"}


def test_ec10_key_invalidated_mid_sync(braze, model):
    """EC-10: 2,500 ids in 3 batches; key invalidated after batch 1 → batch 2 gets 401 Invalid client secret;
    Braze holds 1,000 ids; after reconnect with a new key the full re-send gives 2,500 (1,000 no-ops).
    Waits for engine: sync paused with that reason; reconnect."""
    everyone = ids(2500)
    model.users().add_many([{"external_id": x} for x in everyone])
    assert engine_run(braze, "1", everyone, name="Big", stop_after=2) == [201, 201]
    model.invalidate_key("harness-data-import-key")
    assert msg(braze.add("1", *everyone[1000:2000])) == (401, "Invalid client secret")
    assert len(braze.member_ids("1")) == 1000
    creds = {**CREDS, "client_secret": model.generate_key()}
    assert engine_run(braze, "1", everyone, creds=creds) == [201, 201, 201]
    assert len(braze.member_ids("1")) == 2500 and braze.counters("1")["noop_add"] == 1000


@pytest.mark.parametrize("revokes", [False, True])
def test_ec11_new_key_generated_old_still_used(seeded, model, revokes):
    """EC-11: default: syncs keep succeeding; with keys.new_key_revokes_old = true: as EC-10 (401)."""
    seeded.state.update_config({"keys.new_key_revokes_old": revokes})
    engine_run(seeded, "1", ["a"], name="A")
    model.generate_key()
    statuses = engine_run(seeded, "1", ["b"])
    assert statuses == ([401] if revokes else [201])
    assert seeded.member_ids("1") == ({"a"} if revokes else {"a", "b"})


@pytest.mark.parametrize("how", ["other_tile", "disabled"])
def test_ec12_partner_not_enabled(seeded, model, how):
    """EC-12: 401 Partner not enabled for client with client secret: <key>; no cohort declared.
    Waits for engine: sync paused."""
    if how == "other_tile":
        secret = model.generate_key(None, "amplitude")
    else:
        secret = "harness-data-import-key"
        model.set_partner_enabled(None, "mixpanel", False)
    creds = {**CREDS, "client_secret": secret}
    response = seeded.declare("1", "A", creds=creds)
    assert msg(response) == (401, f"Partner not enabled for client with client secret: {secret}")
    assert model.list_cohorts() == []


def test_ec13_wrong_instance_chosen(seeded, model):
    """EC-13: workspace on EU-01, connection set to US-01 → 401 Invalid client secret. Waits for engine: paused."""
    model.create_workspace("eu", "EU-01")
    creds = {**CREDS, "client_secret": model.generate_key("eu")}
    assert msg(seeded.declare("1", "A", creds=creds)) == (401, "Invalid client secret")
    assert model.list_cohorts(workspace_id="eu") == []


def test_ec14_eu_partner_key_on_us_cluster(braze, model):
    """EC-14: raw request with the EU partner key on a US cluster → 401 Invalid Partner API key."""
    model.register_partner("mixpanel", {"US": "pk-us", "EU": "pk-eu"})
    assert msg(braze.change("1", [], creds={**CREDS, "partner_api_key": "pk-eu"})) == (401, "Invalid Partner API key")


def test_ec15_slug_mismatch(braze):
    """EC-15: Mixpanel partner key on /partners/amplitude/… → 401 Unauthorized access."""
    assert msg(braze.change("1", [], slug="amplitude")) == (401, "Unauthorized access")


def test_ec16_auth_before_body(braze):
    """EC-16: bad partner key and malformed body → 401 Invalid Partner API key, not 400."""
    response = braze.post("/partners/mixpanel/cohorts/users", raw=b'{"partner_api_key": "bad", "cohort_changes": 7')
    assert msg(response) == (401, "Invalid Partner API key")
    response = braze.change(123, "x", creds={"partner_api_key": "bad"})
    assert msg(response) == (401, "Invalid Partner API key")


def test_ec17_credential_probe(braze, model):
    """EC-17: valid keys, cohort_changes [], never-declared id → 201; nothing listed; nothing held."""
    assert braze.change("never-declared", []).status_code == 201
    assert model.list_cohorts() == [] and model.filter_options() == []


def test_ec18_rate_limited_recovers(seeded, state):
    """EC-18: 429 on the first two attempts of a request; the third gets through; final membership as without
    limit. Waits for engine: retry after 2 s and 4 s; no pause."""
    state.update_config({"braze.rate_limit.per_hour": 2})
    seeded.declare("1", "A")
    seeded.add("1", "a")
    attempts = [seeded.add("1", "b").status_code for _ in range(2)]
    assert attempts == [429, 429]
    seeded.clock.advance(3600)  # the window slides on simulated time
    assert seeded.add("1", "b").status_code == 201
    state.update_config({"braze.rate_limit.per_hour": 250_000})
    state.faults.install({"id": "two429", "times": 2, "action": {"type": "rate_limit"}})
    assert [seeded.add("1", "c").status_code for _ in range(3)] == [429, 429, 201]
    assert seeded.member_ids("1") == {"a", "b", "c"}


@pytest.mark.parametrize("fault", [{"type": "rate_limit"},
                                   {"type": "status", "status": 503, "body": {"message": "Service Unavailable"}}])
def test_ec19_ec20_transient_errors_exhaust_retries(braze, model, state, fault):
    """EC-19 (429) / EC-20 (503): batch 2 fails six attempts; batch 1 stays applied; next run re-sends the
    whole diff and converges. Waits for engine: run failed_transient, sync stays active."""
    everyone = ids(2500)
    model.users().add_many([{"external_id": x} for x in everyone])
    assert engine_run(braze, "1", everyone, name="A", stop_after=2) == [201, 201]
    state.faults.install({"id": "burst", "times": 6, "match": {"endpoint": "cohorts/users"}, "action": fault})
    assert [braze.add("1", *everyone[1000:2000]).status_code for _ in range(6)] == [fault.get("status", 429)] * 6
    assert len(braze.member_ids("1")) == 1000
    assert engine_run(braze, "1", everyone) == [201, 201, 201]
    assert len(braze.member_ids("1")) == 2500


def test_ec21_exactly_1000_ids(braze):
    """EC-21: 600 user_ids + 400 device_ids in one request → 201, and all 1,000 are applied."""
    users = braze.model.users()
    users.add_many([{"external_id": x} for x in ids(600)])
    anonymous = {users.add_anonymous(devices=[d]).braze_id for d in ids(400, "d")}
    response = braze.change("1", [{"user_ids": ids(600), "device_ids": ids(400, "d")}])
    assert (response.status_code, response.get_json()) == (201, {"message": "success"})
    assert braze.member_ids("1") == set(ids(600)) | anonymous
    assert braze.last_journal()["counters"]["applied_add"] == 1000


def test_ec22_1001_ids(seeded):
    """EC-22: one more id → 400 TooManyIds; nothing applied. Waits for engine: batch_size 1,001 pauses."""
    seeded.declare("1", "A")
    response = seeded.change("1", [{"user_ids": ["a"] + ids(600)}, {"device_ids": ids(400, "d")}])
    assert msg(response) == (400, "Only 1,000 user_ids, device_ids, and aliases are allowed per request")
    assert seeded.member_ids("1") == set()
    assert engine_run(seeded, "1", ["a"] + ids(1000), batch=1001) == [400]


def test_ec23_duplicate_ids_count_toward_limit(braze):
    """EC-23: 1,001 entries with two identical → 400 as EC-22."""
    response = braze.change("1", [{"user_ids": ids(1000) + ["u00000"]}])
    assert msg(response) == (400, "Only 1,000 user_ids, device_ids, and aliases are allowed per request")


def test_ec24_duplicate_adds_after_restart(braze, model):
    """EC-24: run fails after batch 2 of 3; next run re-sends batches 1-3; final membership equals a clean run;
    repeats are noop_add; no error."""
    everyone = ids(2500)
    model.users().add_many([{"external_id": x} for x in everyone])
    engine_run(braze, "1", everyone, name="A", stop_after=3)  # declare + 2 batches
    assert engine_run(braze, "1", everyone) == [201, 201, 201]
    assert len(braze.member_ids("1")) == 2500
    assert braze.counters("1")["noop_add"] == 2000 and braze.counters("1")["applied_add"] == 2500


def test_ec25_removal_lost_after_long_outage(seeded):
    """EC-25: S0 = {a,b,c}; outage > 3 days; b leaves, d joins; first successful run is full (adds {a,c,d}, no
    remove) → Braze {a,b,c,d}. Waits for engine: snapshot expiry."""
    engine_run(seeded, "1", ["a", "b", "c"], name="A")
    seeded.clock.advance(4 * 86400)
    engine_run(seeded, "1", adds=["a", "c", "d"])
    assert seeded.member_ids("1") == {"a", "b", "c", "d"}


def test_ec26_outage_shorter_than_ttl(seeded):
    """EC-26: recovery after 2 days: diff vs S0 → add d, remove b → Braze {a,c,d}."""
    engine_run(seeded, "1", ["a", "b", "c"], name="A")
    seeded.clock.advance(2 * 86400)
    engine_run(seeded, "1", adds=["d"], removes=["b"])
    assert seeded.member_ids("1") == {"a", "c", "d"}


def test_ec27_rename(seeded, model):
    """EC-27: next run starts with /cohorts (same id, new name, original created_at); option list shows only
    the new name; members and segments unchanged."""
    engine_run(seeded, "1", ["a", "b"], name="Old name")
    before = model.evaluate_segment(INCLUDES("1"))
    seeded.clock.advance(7200)
    assert engine_run(seeded, "1", [], name="New name") == [201]
    assert model.filter_options() == [{"cohort_id": "1", "name": "New name"}]
    assert model.cohort("1").created_at == "2024-01-01T00:00:00Z"
    assert seeded.member_ids("1") == {"a", "b"}
    assert model.evaluate_segment(INCLUDES("1"))["members"] == before["members"]


def test_ec28_rename_after_one_time_export(seeded, model):
    """EC-28: no request is sent → Braze keeps the old name."""
    engine_run(seeded, "1", ["a"], name="Old name")
    seeded.clock.advance(86400)
    assert model.filter_options() == [{"cohort_id": "1", "name": "Old name"}]


def test_ec29_cohort_emptied(seeded, model):
    """EC-29: next run removes every snapshot id; still listed with 0 members; includes empty; excludes = universe."""
    engine_run(seeded, "1", ["a", "b"], name="A")
    engine_run(seeded, "1", removes=["a", "b"])
    (row,) = model.list_cohorts()
    assert row["member_count"] == 0 and model.filter_options() == [{"cohort_id": "1", "name": "A"}]
    assert model.evaluate_segment(INCLUDES("1"))["count"] == 0
    assert model.evaluate_segment(EXCLUDES("1"))["count"] == len(model.users().profiles())


def test_ec30_leave_and_reenter_between_runs(seeded):
    """EC-30: no request mentions the user → membership continuous."""
    engine_run(seeded, "1", ["a"], name="A")
    t0 = seeded.clock.now()
    seeded.clock.advance(7200)
    engine_run(seeded, "1")  # empty diff: nothing sent
    assert all(seeded.member_ids("1", at=t0 + s) == {"a"} for s in (0, 600, 3000, 7200))


def test_ec31_leave_at_one_run_back_at_the_next(seeded, model):
    """EC-31: removed by run k, added by run k+1 → a gap; a segment at a time in the gap excludes the user."""
    engine_run(seeded, "1", ["a"], name="A")
    seeded.clock.advance(7200)
    engine_run(seeded, "1", removes=["a"])
    t_gap = seeded.clock.now() + 3600
    seeded.clock.advance(7200)
    engine_run(seeded, "1", adds=["a"])
    assert model.evaluate_segment(INCLUDES("1"), at=t_gap)["count"] == 0
    assert "a" in {m["external_id"] for m in model.evaluate_segment(EXCLUDES("1"), at=t_gap)["members"]}
    assert model.evaluate_segment(INCLUDES("1"))["count"] == 1


def test_ec32_add_and_remove_of_one_id_in_one_request(seeded):
    """EC-32: [{u}, {u, should_remove}] → 201, not a member (last wins); reversed order: member."""
    seeded.declare("1", "A")
    assert seeded.change("1", [{"user_ids": ["u"]}, {"user_ids": ["u"], "should_remove": True}]).status_code == 201
    assert seeded.member_ids("1") == set()
    seeded.change("1", [{"user_ids": ["u"], "should_remove": True}, {"user_ids": ["u"]}])
    assert seeded.member_ids("1") == {"u"}


def test_ec33_one_profile_two_identifiers_one_request(seeded, model):
    """EC-33: add by external id, remove by alias of the same profile → as EC-32 on the resolved profile."""
    model.users().add_identified("p", aliases=[("email", "p@x.io")])
    seeded.declare("1", "A")
    seeded.change("1", [{"user_ids": ["p"]},
                        {"aliases": [{"alias_name": "email", "alias_label": "p@x.io"}], "should_remove": True}])
    assert seeded.member_ids("1") == set()


def test_ec34_readd_member_remove_non_member(seeded):
    """EC-34: 201; no change; noop_add / noop_remove."""
    seeded.declare("1", "A")
    seeded.add("1", "a")
    assert seeded.add("1", "a").status_code == 201
    assert seeded.remove("1", "b").status_code == 201
    assert seeded.member_ids("1") == {"a"}
    assert (seeded.counters("1")["noop_add"], seeded.counters("1")["noop_remove"]) == (1, 1)


def test_ec35_undeclared_cohort_id(seeded, model):
    """EC-35: /cohorts/users before /cohorts → 201; held, not listed; after /cohorts listed with the held members."""
    assert seeded.add("1", "a").status_code == 201
    assert model.filter_options() == [] and model.list_cohorts(include_held=False) == []
    seeded.declare("1", "A")
    assert model.filter_options() == [{"cohort_id": "1", "name": "A"}] and seeded.member_ids("1") == {"a"}


def test_ec36_concurrent_writes(seeded, model):
    """EC-36: a second, overlapping request on one cohort → 423 Resource locked. Waits for engine: retried as transient."""
    seeded.declare("1", "A")
    with model.cohort_locks.hold(("default", "mixpanel", "1")):
        assert msg(seeded.add("1", "a")) == (423, "Resource locked")
    assert seeded.add("1", "a").status_code == 201


def test_ec37_quoted_string_cohort_changes(braze):
    """EC-37: "cohort_changes": "[{...}]" → 400 InvalidCohortChanges text."""
    response = braze.change("1", '[{"user_ids": ["a"]}]')
    assert msg(response) == (400, "cohort_changes must be an array of objects each with key user_ids and/or "
                                  "device_ids mapping to an array of strings, or an aliases object")


def test_ec38_identifier_value_changes(seeded):
    """EC-38: next run removes `old` and adds `new` (default diff key) → Braze {new}."""
    engine_run(seeded, "1", ["old"], name="A")
    engine_run(seeded, "1", adds=["new"], removes=["old"])
    assert seeded.member_ids("1") == {"new"}


def test_ec39_one_cohort_over_two_connections(seeded, model):
    """EC-39: both connections write the same Braze cohort_id; a remove sent by either ends membership."""
    second = {**CREDS, "client_secret": model.generate_key()}
    engine_run(seeded, "1", ["a", "b"], name="A")
    engine_run(seeded, "1", ["a", "b"], name="A", creds=second)
    engine_run(seeded, "1", removes=["a"], creds=second)
    assert seeded.member_ids("1") == {"b"}
    assert len(model.list_cohorts()) == 1


def test_ec40_cohort_deleted_in_mixpanel(seeded, model):
    """EC-40: no request → Braze keeps name and members. Waits for engine: sync stopped."""
    engine_run(seeded, "1", ["a"], name="A")
    seeded.clock.advance(30 * 86400)
    assert model.filter_options() == [{"cohort_id": "1", "name": "A"}] and seeded.member_ids("1") == {"a"}


def test_ec41_61st_dynamic_sync(seeded, model):
    """EC-41: Braze side: any number of partner cohorts per workspace is accepted (a one-time export of the
    61st cohort lands). Waits for engine: DynamicSyncLimitExceeded on creation."""
    for n in range(61):
        assert engine_run(seeded, str(n), ["a"], name=f"Cohort {n}") == [201, 201]
    assert len(model.filter_options()) == 61


def test_ec42_cohort_over_10m_users(seeded, model):
    """EC-42: no request is sent → Braze has nothing for it. Waits for engine: sync paused with the limit reason."""
    assert model.list_cohorts() == [] and not seeded.state.journal.entries()


def test_ec43_sequential_syncs_on_one_connection(seeded):
    """EC-43: the second sync's first request is received after the first sync's run ends (journal order and
    simulated receive times). Waits for engine: the scheduling itself."""
    engine_run(seeded, "1", ["a"], name="First")
    seeded.clock.advance(5)
    engine_run(seeded, "2", ["b"], name="Second")
    entries = seeded.state.journal.entries()
    first = [e for e in entries if e["cohort_id"] == "1"]
    second = [e for e in entries if e["cohort_id"] == "2"]
    assert max(e["at"] for e in first) < min(e["at"] for e in second)
    assert max(e["id"] for e in first) < min(e["id"] for e in second)


def test_ec44_case_differences(seeded):
    """EC-44: sent `User1`, profile `user1` → ignored_unknown."""
    seeded.declare("1", "A")
    seeded.add("1", "User1")
    assert seeded.member_ids("1") == set() and seeded.counters("1")["ignored_unknown"] == 1


def test_ec45_historical_segment_query(seeded, model):
    """EC-45: a segment evaluated at a time before the first add excludes the member; after, includes."""
    t_before = seeded.clock.now()
    seeded.clock.advance(60)
    engine_run(seeded, "1", ["a"], name="A")
    assert model.evaluate_segment(INCLUDES("1"), at=t_before)["count"] == 0
    assert "a" in {m["external_id"] for m in model.evaluate_segment(EXCLUDES("1"), at=t_before)["members"]}
    assert [m["external_id"] for m in model.evaluate_segment(INCLUDES("1"))["members"]] == ["a"]
