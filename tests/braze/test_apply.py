"""braze-cohort-sync.md §4.9: resolving entries, set semantics, conflicts, history, held cohorts, counters."""

from __future__ import annotations

import pytest

ZERO = {"applied_add": 0, "applied_remove": 0, "noop_add": 0, "noop_remove": 0, "ignored_unknown": 0,
        "ignored_identified_device": 0}


def counts(**kw):
    return {**ZERO, **kw}


@pytest.fixture
def world(braze, model):
    """Profiles: u1 (identified, alias email/a@x.io, device d1), anonymous d9, alias-only anonymous."""
    users = model.users()
    users.add_identified("u1", aliases=[("email", "a@x.io")], devices=["d1"])
    users.add_identified("u2")
    users.add_anonymous(devices=["d9"])
    users.add_anonymous(aliases=[("ext", "anon-1")])
    braze.declare("1", "A")
    return braze


def test_user_ids_resolve_external_ids(world):
    """§4.9: a user_ids value resolves to the identified profile with that external_id."""
    assert world.add("1", "u1", "u2").status_code == 201
    assert world.member_ids("1") == {"u1", "u2"}
    assert world.last_journal()["counters"] == counts(applied_add=2)


def test_unknown_ids_ignored_counted_never_create_profiles(world, model):
    """§4.9 / EC-03: unknown id → 201, no profile created, ignored_unknown +1."""
    before = len(model.users())
    assert world.add("1", "ghost").status_code == 201
    assert len(model.users()) == before
    assert world.member_ids("1") == set()
    assert world.counters("1")["ignored_unknown"] == 1


def test_device_of_identified_profile_ignored(world):
    """§4.9 / §6 / EC-05: device id on an identified profile → no change, ignored_identified_device +1."""
    assert world.change("1", [{"device_ids": ["d1"]}]).status_code == 201
    assert world.member_ids("1") == set()
    assert world.last_journal()["counters"] == counts(ignored_identified_device=1)


def test_device_of_anonymous_profile_adds_it(world, model):
    """§4.9 / EC-06: device id on an anonymous profile → the profile becomes a member."""
    world.change("1", [{"device_ids": ["d9"]}])
    anon = model.users().by_device("d9")
    assert world.member_ids("1") == {anon.braze_id}


def test_unknown_device_ignored_unknown(world):
    world.change("1", [{"device_ids": ["nope"]}])
    assert world.last_journal()["counters"] == counts(ignored_unknown=1)


def test_alias_exact_pair_matches_swapped_does_not(world):
    """§4.9 / §4.7 / EC-08: alias matched on the exact (alias_name, alias_label) pair; never repaired."""
    world.change("1", [{"aliases": [{"alias_name": "a@x.io", "alias_label": "email"}]}])
    assert world.member_ids("1") == set()
    assert world.last_journal()["counters"] == counts(ignored_unknown=1)
    world.change("1", [{"aliases": [{"alias_name": "email", "alias_label": "a@x.io"}]}])
    assert world.member_ids("1") == {"u1"}


def test_alias_only_anonymous_profile_matchable(world, model):
    """§4.9 / Q-21: alias-only anonymous profiles are matched by alias."""
    world.change("1", [{"aliases": {"alias_name": "ext", "alias_label": "anon-1"}}])
    assert world.member_ids("1") == {model.users().by_alias("ext", "anon-1").braze_id}


def test_set_semantics_noop_add_and_noop_remove(world):
    """§4.9 / EC-34: re-adding a member or removing a non-member is a no-op, counted."""
    world.add("1", "u1")
    world.add("1", "u1")
    assert world.last_journal()["counters"] == counts(noop_add=1)
    world.remove("1", "u2")
    assert world.last_journal()["counters"] == counts(noop_remove=1)
    assert world.member_ids("1") == {"u1"}


@pytest.mark.parametrize("policy, order, member", [
    ("last_wins", "add_then_remove", False), ("last_wins", "remove_then_add", True),
    ("add_wins", "add_then_remove", True), ("add_wins", "remove_then_add", True),
    ("remove_wins", "add_then_remove", False), ("remove_wins", "remove_then_add", False),
])
def test_same_request_conflict_policies(world, policy, order, member):
    """§4.9 / §3 braze.same_request_conflict / EC-32."""
    world.state.update_config({"braze.same_request_conflict": policy})
    add, rem = {"user_ids": ["u1"]}, {"user_ids": ["u1"], "should_remove": True}
    world.change("1", [add, rem] if order == "add_then_remove" else [rem, add])
    assert ("u1" in world.member_ids("1")) is member
    journal = world.last_journal()["counters"]
    assert sum(journal.values()) == 2  # every entry counted exactly once


def test_conflict_across_identifiers_of_one_profile(world):
    """§4.9 / EC-33: add by external id, remove by alias of the same profile → last wins on the profile."""
    world.change("1", [{"user_ids": ["u1"]},
                       {"aliases": [{"alias_name": "email", "alias_label": "a@x.io"}], "should_remove": True}])
    assert world.member_ids("1") == set()
    world.change("1", [{"aliases": [{"alias_name": "email", "alias_label": "a@x.io"}], "should_remove": True},
                       {"user_ids": ["u1"]}])
    assert world.member_ids("1") == {"u1"}


def test_processing_order_inside_object(world):
    """§4.9: inside an object user_ids, then device_ids, then aliases; objects in array order."""
    world.change("1", [{"aliases": [{"alias_name": "email", "alias_label": "a@x.io"}], "user_ids": ["u1"]}])
    counters = world.last_journal()["counters"]
    assert counters == counts(applied_add=1, noop_add=1)


def test_membership_history_intervals_at_receive_time(world, model):
    """§4.9: intervals [added_at, removed_at) stamped with the simulated receive time."""
    t0 = world.clock.now()
    world.add("1", "u1")
    world.clock.advance(100)
    world.remove("1", "u1")
    world.clock.advance(100)
    world.add("1", "u1")
    (row,) = model.members("1")
    assert row["intervals"] == [{"added_at": t0, "removed_at": t0 + 100}, {"added_at": t0 + 200, "removed_at": None}]
    assert world.member_ids("1", at=t0 + 50) == {"u1"}
    assert world.member_ids("1", at=t0 + 150) == set()
    assert world.member_ids("1", at=t0 - 1) == set()


def test_segments_lag_stamps_changes_later(world):
    """§3 segments.lag_s: the change becomes visible lag_s after receipt."""
    world.state.update_config({"segments.lag_s": 30})
    t0 = world.clock.now()
    world.add("1", "u1")
    assert world.member_ids("1", at=t0 + 10) == set()
    assert world.member_ids("1", at=t0 + 30) == {"u1"}
    world.add("1", "u1")  # already a member for set semantics even before it is visible
    assert world.last_journal()["counters"] == counts(noop_add=1)


def test_adds_never_retroactive_profile_created_later(world, model):
    """§4.9 / EC-04: a profile created after its add is not a member."""
    world.add("1", "late")
    world.clock.advance(10)
    model.users().add_identified("late")
    assert world.member_ids("1") == set()


def test_profile_created_in_the_future_does_not_match_yet(world, model):
    model.users().add_identified("future", at=world.clock.now() + 100)
    world.add("1", "future")
    assert world.last_journal()["counters"] == counts(ignored_unknown=1)


def test_deleting_a_profile_closes_its_intervals(world, model):
    """§4.9 / §6: deleting a profile closes its open intervals at the deletion time."""
    world.add("1", "u1")
    world.clock.advance(50)
    profile = model.users().by_external_id("u1")
    model.users().delete(profile.braze_id)
    assert model.cohort("1").membership.intervals(profile.braze_id)[-1].end == world.clock.now()
    assert world.member_ids("1") == set()
    world.add("1", "u1")  # external id of a deleted profile no longer resolves
    assert world.last_journal()["counters"] == counts(ignored_unknown=1)


def test_case_sensitive_matching_default_and_switch(world):
    """§4.9 / §3 braze.case_sensitive_ids / EC-44: 'User1' does not match 'u1'-style ids by default."""
    world.model.users().add_identified("user1")
    world.add("1", "User1")
    assert world.last_journal()["counters"] == counts(ignored_unknown=1)
    world.state.update_config({"braze.case_sensitive_ids": False})
    world.add("1", "User1")
    assert world.member_ids("1") == {"user1"}


def test_cumulative_counters_per_cohort(world):
    """§4.9: counters cumulative per cohort, per request in the journal, never in the response."""
    world.add("1", "u1", "ghost")
    response = world.remove("1", "u1", "u2")
    assert response.get_json() == {"message": "success"}
    assert world.counters("1") == counts(applied_add=1, applied_remove=1, noop_remove=1, ignored_unknown=1)


# --- undeclared cohorts (§4.9, EC-35, EC-17) --------------------------------------------------------
def test_undeclared_cohort_held_then_listed_with_members(braze, model):
    """§4.9 hold / EC-35: /cohorts/users before /cohorts → 201, held, not listed; after /cohorts listed with members."""
    braze.seed("u1")
    assert braze.add("9", "u1").status_code == 201
    assert model.filter_options() == []
    assert [r["held"] for r in model.list_cohorts()] == [True]
    assert model.evaluate_segment({"mixpanel_cohorts": {"includes": "9"}})["count"] == 0
    braze.declare("9", "Late name")
    assert braze.last_journal()["effect"] == "declared_held"
    assert model.filter_options() == [{"cohort_id": "9", "name": "Late name"}]
    assert braze.member_ids("9") == {"u1"}
    assert model.evaluate_segment({"mixpanel_cohorts": {"includes": "9"}})["count"] == 1


def test_empty_change_list_on_undeclared_id_creates_nothing(braze, model):
    """§4.9 / EC-17: the credential probe creates nothing, held or listed."""
    assert braze.change("never-declared", []).status_code == 201
    assert model.list_cohorts() == []


def test_undeclared_policy_discard(braze, model):
    """§3 braze.undeclared_cohort_policy = discard: accepted, dropped."""
    braze.state.update_config({"braze.undeclared_cohort_policy": "discard"})
    braze.seed("u1")
    assert braze.add("9", "u1").status_code == 201
    assert model.list_cohorts() == []
    assert braze.last_journal()["counters"]["discarded"] == 1


def test_undeclared_policy_autoname(braze, model):
    """§3 braze.undeclared_cohort_policy = autoname: declared with the id as name."""
    braze.state.update_config({"braze.undeclared_cohort_policy": "autoname"})
    braze.seed("u1")
    braze.add("9", "u1")
    assert model.filter_options() == [{"cohort_id": "9", "name": "9"}]
    assert braze.member_ids("9") == {"u1"}
