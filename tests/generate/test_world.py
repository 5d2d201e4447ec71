"""A world from one seed (issue 5 §2)."""

from __future__ import annotations

import pytest

from harness.generate.world import (
    CAMPAIGN_DELIVERIES,
    ENTRY_SCHEDULED,
    ENTRY_TRIGGERED,
    WorldConfig,
    build_world,
)


@pytest.fixture(scope="module")
def world():
    return build_world(42)


def test_same_seed_same_world():
    assert build_world(5, WorldConfig(users=50)) == build_world(5, WorldConfig(users=50))
    assert build_world(5, WorldConfig(users=50)) != build_world(6, WorldConfig(users=50))


def test_world_holds_every_kind_of_user(world):
    users = world.users
    assert any(u.external_user_id and not u.becomes_identified for u in users), "identified"
    assert any(u.is_anonymous for u in users), "anonymous"
    assert any(u.aliases for u in users), "with aliases"
    assert any(len(u.devices) > 1 for u in users), "several devices"
    assert any(u.becomes_identified for u in users), "identified after being anonymous"
    shared = [u for u in users if u.phone and len(world.users_sharing_phone(u.phone)) > 1]
    assert shared, "several users sharing one phone number"


def test_external_ids_unique(world):
    ids = [u.external_user_id for u in world.users if u.external_user_id]
    assert len(ids) == len(set(ids))


def test_apps_per_platform_and_devices_consistent(world):
    platforms = {a.platform for a in world.apps}
    assert platforms == set(WorldConfig().platforms)
    apps = {a.app_id: a for a in world.apps}
    for user in world.users:
        for device in user.devices:
            assert apps[device.app_id].platform == device.platform
            assert (device.ad_id is None) == (device.ad_id_type is None)


def test_campaigns_cover_deliveries_variations_and_control_groups(world):
    assert {c.delivery for c in world.campaigns} == set(CAMPAIGN_DELIVERIES)
    assert all(c.variations for c in world.campaigns)
    assert any(c.has_control_group for c in world.campaigns)
    assert any(len(c.channels) > 1 for c in world.campaigns)


def test_canvases_have_variations_steps_and_both_entry_kinds(world):
    assert {c.entry for c in world.canvases} == {ENTRY_SCHEDULED, ENTRY_TRIGGERED}
    for canvas in world.canvases:
        assert canvas.variations and all(v.steps for v in canvas.variations)
        assert all(v.steps[0].channel for v in canvas.variations), "entry step sends a message"


def test_subscription_groups_per_channel(world):
    assert world.subscription_group("email") and world.subscription_group("sms")


def test_braze_user_store_shape_design_4(world):
    """DESIGN.md §4 `POST /_harness/users`: no external_id = anonymous."""
    store = world.braze_user_store()
    assert len(store) == len(world.users)
    anonymous = [e for e in store if "external_id" not in e]
    assert len(anonymous) == sum(u.is_anonymous for u in world.users)
    assert all(set(e) <= {"external_id", "aliases", "device_ids"} for e in store)


@pytest.mark.parametrize("bad", [WorldConfig(users=0), WorldConfig(anonymous_share=1.5), WorldConfig(platforms=("nokia",))])
def test_bad_world_config_is_a_clear_error(bad):
    with pytest.raises(ValueError):
        build_world(1, bad)


def test_fake_braze_takes_the_world_user_store(world):
    """DESIGN.md §3/§4: the world seeds the fake Braze through POST /_harness/users."""
    from fakes.braze.app import create_app

    answer = create_app().test_client().post("/_harness/users", json={"users": world.braze_user_store()})
    assert answer.status_code == 201
    users = answer.get_json()["users"]
    assert len(users) == len(world.users)
    assert sorted(u["external_id"] for u in users if u["external_id"]) == sorted(
        u.external_user_id for u in world.users if u.external_user_id)
