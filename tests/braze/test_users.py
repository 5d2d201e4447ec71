"""braze-cohort-sync.md §6: the Braze user store."""

from __future__ import annotations

import pytest

from fakes.core.errors import ControlError


@pytest.fixture
def users(model):
    return model.users()


def test_identified_and_anonymous_profiles(users, clock):
    """§6: identified = has external_id; anonymous = none; braze_id harness-generated and unique."""
    u1 = users.add_identified("u1", aliases=[("email", "a@x.io")], devices=["d1"])
    anon = users.add_anonymous(devices=["d9"])
    assert u1.braze_id != anon.braze_id and len(u1.braze_id) == 24
    assert (u1.external_id, u1.identified_at, u1.created_at) == ("u1", clock.now(), clock.now())
    assert (anon.external_id, anon.identified_at) == (None, None)
    assert users.by_external_id("u1") is u1 and users.by_device("d9") is anon
    assert users.by_alias("email", "a@x.io") is u1


@pytest.mark.parametrize("call", [
    lambda s: s.add_identified("u1"),
    lambda s: s.add_anonymous(devices=["d1"]),
    lambda s: s.add_anonymous(aliases=[("email", "a@x.io")]),
])
def test_identifiers_unique_in_workspace(users, call):
    """§6: external_id, alias pairs and device ids are unique in the workspace."""
    users.add_identified("u1", aliases=[("email", "a@x.io")], devices=["d1"])
    with pytest.raises(ControlError):
        call(users)


def test_identify_keeps_braze_id_devices_aliases_and_membership(braze, users):
    """§6 / EC-07: identify keeps braze_id, devices, aliases, membership; from t on devices stop matching."""
    anon = users.add_anonymous(devices=["d9"], aliases=[("ext", "a9")])
    braze.declare("1", "A")
    braze.change("1", [{"device_ids": ["d9"]}])
    braze.clock.advance(10)
    identified = users.identify("u9", device="d9")
    assert identified.braze_id == anon.braze_id and identified.identified_at == braze.clock.now()
    assert identified.device_ids == {"d9"} and identified.aliases == {("ext", "a9")}
    assert braze.member_ids("1") == {"u9"}
    braze.clock.advance(10)
    braze.change("1", [{"device_ids": ["d9"]}], should_remove=None)
    braze.change("1", [{"device_ids": ["d9"], "should_remove": True}])
    assert braze.last_journal()["counters"]["ignored_identified_device"] == 1
    assert braze.member_ids("1") == {"u9"}  # removal via the device is ignored
    braze.remove("1", "u9")
    assert braze.member_ids("1") == set()


def test_identify_conflict_reject(users):
    """§6 users.identify_conflict = reject: the call fails and nothing changes."""
    users.add_identified("u1")
    anon = users.add_anonymous(devices=["d9"])
    with pytest.raises(ControlError) as info:
        users.identify("u1", device="d9")
    assert info.value.status == 409
    assert anon.external_id is None and users.by_device("d9") is anon


def test_identify_conflict_merge_moves_devices_aliases_and_open_memberships(braze, users):
    """§6 users.identify_conflict = merge."""
    braze.state.update_config({"users.identify_conflict": "merge"})
    owner = users.add_identified("u1")
    anon = users.add_anonymous(devices=["d9"], aliases=[("ext", "a9")])
    braze.declare("1", "A")
    braze.change("1", [{"device_ids": ["d9"]}])
    braze.clock.advance(5)
    merged = users.identify("u1", braze_id=anon.braze_id)
    assert merged is owner and owner.device_ids == {"d9"} and ("ext", "a9") in owner.aliases
    assert anon.deleted_at == braze.clock.now()
    assert braze.member_ids("1") == {"u1"}


def test_already_identified_cannot_be_identified_again(users):
    users.add_identified("u1")
    with pytest.raises(ControlError):
        users.identify("u2", braze_id=users.by_external_id("u1").braze_id)


def test_delete_frees_identifiers(users, clock):
    """§6: deletion stamped with simulated time; identifiers free for reuse."""
    u1 = users.add_identified("u1", devices=["d1"])
    users.delete(u1.braze_id)
    assert u1.deleted_at == clock.now()
    assert users.by_external_id("u1") is None
    assert users.add_identified("u1", devices=["d1"]).braze_id != u1.braze_id


def test_add_alias_and_device_later(users):
    p = users.add_anonymous()
    users.add_alias(p.braze_id, "email", "z@x.io")
    users.add_device(p.braze_id, "dz")
    assert users.by_alias("email", "z@x.io") is p and users.by_device("dz") is p


def test_add_many_is_all_or_nothing(users):
    """§6 seeding: a batch with one bad user creates nobody."""
    users.add_identified("taken")
    for batch in ([{"external_id": "a"}, {"external_id": "taken"}],
                  [{"external_id": "a"}, {"external_id": "a"}],
                  [{"device_ids": ["d"]}, {"devices": ["d"]}],
                  [{"external_id": "a"}, {"aliases": [{"alias_name": "x"}]}],
                  [{"external_id": "a"}, "nope"],
                  [{"external_id": "a", "colour": "red"}]):
        with pytest.raises(ControlError):
            users.add_many(batch)
    assert [p.external_id for p in users.profiles()] == ["taken"]


def test_python_and_http_seeding_produce_identical_state(braze, model, state):
    """§6: seeding from Python and through the control API give the same profiles."""
    from fakes.braze import create_app, new_state

    other = new_state(clock=braze.clock)
    client = create_app(other).test_client()
    spec = {"users": [{"external_id": "u1", "aliases": [{"alias_name": "a", "alias_label": "l"}],
                       "device_ids": ["d1"]}, {"device_ids": ["d9"]}]}
    assert client.post("/_harness/users", json=spec).status_code == 201
    model.users().add_identified("u1", aliases=[("a", "l")], devices=["d1"])
    model.users().add_anonymous(devices=["d9"])
    dump = lambda s: [p.to_json() for p in s.model.users().profiles()]  # noqa: E731
    assert dump(other) == dump(state)
