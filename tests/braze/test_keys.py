"""braze-cohort-sync.md §5: partner keys and Data Import Keys."""

from __future__ import annotations

import uuid

import pytest

from fakes.core.errors import ControlError


def msg(response):
    return response.status_code, response.get_json()["message"]


def test_default_world(model):
    """§5 / DESIGN.md §4: mixpanel and amplitude partners; the default key on the Mixpanel tile."""
    assert model.partners.slugs() == ["amplitude", "mixpanel"]
    assert model.partners.get("mixpanel").keys == {"US": "harness-partner-key", "EU": "harness-partner-key"}
    key = model.keys.get("harness-data-import-key")
    assert (key.workspace, key.partner, key.active) == ("default", "mixpanel", True)
    assert model.workspace().cluster.instance == "US-01"
    assert model.workspace().partner_enabled("mixpanel")


def test_generate_key_is_uuid4_stamped_and_works(braze, model):
    """§5: generate_key → UUID4 string, created_at = simulated now; usable at once."""
    secret = model.generate_key()
    assert uuid.UUID(secret).version == 4
    assert model.keys.get(secret).created_at == braze.clock.now()
    assert braze.change("1", [], creds={"partner_api_key": "harness-partner-key", "client_secret": secret}).status_code == 201


def test_generated_keys_reproducible_from_seed():
    """DESIGN.md §6: same seed, same generated secrets."""
    from fakes.braze import new_state

    assert new_state(seed=7).model.generate_key() == new_state(seed=7).model.generate_key()
    assert new_state(seed=7).model.generate_key() != new_state(seed=8).model.generate_key()


def test_key_format_hex(model, state):
    state.update_config({"keys.format": "hex"})
    assert len(model.generate_key()) == 32


def test_new_key_does_not_revoke_old_by_default(braze, model):
    """§5 / Q-13 / EC-11 default: keys coexist until invalidated."""
    model.generate_key()
    assert braze.change("1", []).status_code == 201


def test_new_key_revokes_old_switch(braze, model):
    """§5 keys.new_key_revokes_old = true / EC-11: the old key is then rejected."""
    braze.state.update_config({"keys.new_key_revokes_old": True})
    new = model.generate_key()
    assert msg(braze.change("1", [])) == (401, "Invalid client secret")
    assert braze.change("1", [], creds={"partner_api_key": "harness-partner-key", "client_secret": new}).status_code == 201
    assert model.keys.get("harness-data-import-key").invalidated_at == braze.clock.now()


def test_invalidated_key_never_reactivated(model):
    """§5: invalidation is final; the customer generates a new key."""
    model.invalidate_key("harness-data-import-key")
    model.invalidate_key("harness-data-import-key")  # idempotent, stays invalid
    key = model.keys.get("harness-data-import-key")
    assert key.active is False
    with pytest.raises(ControlError):
        model.generate_key(secret="harness-data-import-key")


def test_unknown_key_or_workspace_or_partner(model):
    with pytest.raises(ControlError):
        model.invalidate_key("nope")
    with pytest.raises(ControlError):
        model.generate_key("no-such-workspace")
    with pytest.raises(ControlError):
        model.generate_key(None, "no-such-partner")


def test_register_partner_validation(model):
    """§5: register_partner(slug, keys={US, EU}); a key belongs to one partner."""
    model.register_partner("census", {"US": "pk-census"})
    assert model.partners.get("census").regions_of("pk-census") == {"US"}
    for slug, keys in (("bad slug", {"US": "k"}), ("x", {}), ("x", {"APAC": "k"}), ("x", {"US": ""}),
                       ("x", {"US": "harness-partner-key"})):
        with pytest.raises(ControlError):
            model.register_partner(slug, keys)


def test_disabled_partner_keeps_cohorts(braze, model):
    """§5: cohorts and membership of a disabled partner are kept."""
    braze.seed("u1")
    braze.declare("1", "A")
    braze.add("1", "u1")
    model.set_partner_enabled(None, "mixpanel", False)
    assert braze.member_ids("1") == {"u1"}
    assert len(model.list_cohorts()) == 1


def test_key_invalidated_mid_sync(braze, model):
    """EC-10 (Braze part): first batch lands, then the key is invalidated; later batches 401, 1,000 ids held."""
    users = model.users()
    users.add_many([{"external_id": f"u{i:04d}"} for i in range(2500)])
    ids = [f"u{i:04d}" for i in range(2500)]
    braze.declare("1", "Big")
    assert braze.add("1", *ids[:1000]).status_code == 201
    model.invalidate_key("harness-data-import-key")
    assert msg(braze.add("1", *ids[1000:2000])) == (401, "Invalid client secret")
    assert len(braze.member_ids("1")) == 1000
    new = model.generate_key()  # reconnect with a new key: the engine re-sends all 2,500
    creds = {"partner_api_key": "harness-partner-key", "client_secret": new}
    for start in range(0, 2500, 1000):
        assert braze.add("1", *ids[start:start + 1000], creds=creds).status_code == 201
    assert len(braze.member_ids("1")) == 2500
    assert braze.counters("1")["noop_add"] == 1000
