"""braze-cohort-sync.md §9 and DESIGN.md §4: the Braze control surface under /_harness."""

from __future__ import annotations

import pytest

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}


@pytest.fixture
def c(client):
    return client


def seed_and_sync(c):
    c.post("/_harness/users", json={"users": [
        {"external_id": "u1", "aliases": [{"alias_name": "a", "alias_label": "l"}], "device_ids": ["d1"]},
        {"device_ids": ["d9"]}]})
    c.post("/partners/mixpanel/cohorts", json={**CREDS, "cohort_id": "1", "name": "A",
                                               "created_at": "2021-01-21T19:20:30Z"})
    c.post("/partners/mixpanel/cohorts/users", json={**CREDS, "cohort_id": "1",
                                                     "cohort_changes": [{"user_ids": ["u1"], "device_ids": ["d9"]}]})


def test_health_names_braze(c):
    """DESIGN.md §4: GET /_harness/health."""
    assert c.get("/_harness/health").get_json() == {"status": "ok", "service": "braze"}


def test_short_forms_users_cohorts_members(c):
    """DESIGN.md §4: POST /_harness/users, GET /_harness/cohorts, GET /_harness/cohorts/<id>/members shapes."""
    seed_and_sync(c)
    (row,) = c.get("/_harness/cohorts").get_json()["cohorts"]
    assert {k: row[k] for k in ("cohort_id", "name", "created_at", "member_count")} == {
        "cohort_id": "1", "name": "A", "created_at": "2021-01-21T19:20:30Z", "member_count": 2}
    members = c.get("/_harness/cohorts/1/members").get_json()["members"]
    assert sorted((m["external_id"] or "", m["device_ids"], m["aliases"]) for m in members) == [
        ("", ["d9"], []), ("u1", ["d1"], [{"alias_name": "a", "alias_label": "l"}])]


def test_segments_evaluate_short_form(c):
    """DESIGN.md §4: POST /_harness/segments/evaluate {filter} → {count, members}."""
    seed_and_sync(c)
    body = c.post("/_harness/segments/evaluate", json={"filter": {"mixpanel_cohorts": {"includes": "1"}}}).get_json()
    assert body["count"] == 2 and len(body["members"]) == 2
    none = c.post("/_harness/segments/evaluate", json={"filter": {"not": {"mixpanel_cohorts": {"includes": "1"}}}})
    assert none.get_json()["count"] == 0


def test_members_and_segments_at_a_time(c, clock):
    """§9: ?at= and {"at"} accept epoch seconds or ISO-8601."""
    t0 = clock.now()
    seed_and_sync(c)
    assert c.get(f"/_harness/cohorts/1/members?at={t0 - 1}").get_json()["count"] == 0
    assert c.get("/_harness/cohorts/1/members?at=2000-01-01T00:00:00Z").get_json()["count"] == 0
    body = c.post("/_harness/segments/evaluate", json={"filter": {"mixpanel_cohorts": {"includes": "1"}}, "at": t0 - 1})
    assert body.get_json()["count"] == 0
    bad = c.get("/_harness/cohorts/1/members?at=yesterday")
    assert bad.status_code == 400 and "at must be" in bad.get_json()["error"]


def test_keys_generate_and_invalidate(c):
    """DESIGN.md §4: POST /_harness/keys, DELETE /_harness/keys/<key>."""
    made = c.post("/_harness/keys")
    assert made.status_code == 201
    key = made.get_json()["key"]
    ok = c.post("/partners/mixpanel/cohorts/users", json={**CREDS, "client_secret": key, "cohort_id": "1",
                                                          "cohort_changes": []})
    assert ok.status_code == 201
    assert c.delete(f"/_harness/keys/{key}").get_json()["active"] is False
    denied = c.post("/partners/mixpanel/cohorts/users", json={**CREDS, "client_secret": key, "cohort_id": "1",
                                                              "cohort_changes": []})
    assert denied.get_json() == {"message": "Invalid client secret"}
    assert c.delete("/_harness/keys/unknown").status_code == 404
    chosen = c.post("/_harness/keys", json={"key": "my-own-key", "partner": "mixpanel"})
    assert chosen.get_json()["key"] == "my-own-key"


def test_workspace_scoped_surface(c, clock):
    """§9: partners, workspaces, keys, partner switch, users, identify, cohorts, members, options, evaluate."""
    assert c.post("/_harness/braze/partners", json={"slug": "census", "keys": {"US": "pk-c"}}).status_code == 201
    assert "census" in [p["slug"] for p in c.get("/_harness/braze/partners").get_json()["partners"]]
    assert c.post("/_harness/braze/workspaces", json={"id": "eu", "cluster": "EU-01"}).status_code == 201
    key = c.post("/_harness/braze/workspaces/eu/keys", json={"partner": "mixpanel"}).get_json()["key"]
    users = c.post("/_harness/braze/workspaces/eu/users", json=[{"device_ids": ["d9"]}]).get_json()["users"]
    creds = {"partner_api_key": "harness-partner-key", "client_secret": key}
    host = {"Host": "rest.fra-01.braze.eu"}
    c.post("/partners/mixpanel/cohorts", json={**creds, "cohort_id": "5", "name": "EU cohort",
                                               "created_at": "2024-01-01T00:00:00Z"}, headers=host)
    c.post("/partners/mixpanel/cohorts/users", json={**creds, "cohort_id": "5",
                                                     "cohort_changes": [{"device_ids": ["d9"]}]}, headers=host)
    braze_id = users[0]["braze_id"]
    clock.advance(10)
    identified = c.post(f"/_harness/braze/workspaces/eu/users/{braze_id}/identify", json={"external_id": "u9"})
    assert identified.get_json()["external_id"] == "u9"
    assert c.get("/_harness/braze/workspaces/eu/cohorts").get_json()["cohorts"][0]["member_count"] == 1
    members = c.get("/_harness/braze/workspaces/eu/cohorts/5/members").get_json()["members"]
    assert members[0]["external_id"] == "u9"
    opts = c.get("/_harness/braze/workspaces/eu/filters/mixpanel_cohorts/options").get_json()
    assert opts == {"filter": "mixpanel_cohorts", "options": [{"cohort_id": "5", "name": "EU cohort"}]}
    ev = c.post("/_harness/braze/workspaces/eu/segments/evaluate",
                json={"filter": {"filter": "mixpanel_cohorts", "op": "includes", "cohort_id": "5"}})
    assert ev.get_json()["count"] == 1
    assert c.put("/_harness/braze/workspaces/eu/partners/mixpanel", json={"enabled": False}).status_code == 200
    assert c.get("/_harness/braze/workspaces/eu/filters/mixpanel_cohorts/options").get_json()["options"] == []
    assert c.delete(f"/_harness/braze/workspaces/eu/keys/{key}").get_json()["active"] is False
    assert c.delete(f"/_harness/braze/workspaces/eu/users/{braze_id}").get_json()["deleted_at"] is not None
    assert c.get("/_harness/braze/workspaces/eu/cohorts/5/members").get_json()["count"] == 0
    listed_keys = c.get("/_harness/braze/workspaces/eu/keys").get_json()["keys"]
    assert key not in str(listed_keys)  # masked in listings


@pytest.mark.parametrize("method, path, body, status", [
    ("post", "/_harness/users", {"users": []}, 400),
    ("post", "/_harness/users", {"users": [{"external_id": 5}]}, 400),
    ("post", "/_harness/users", None, 400),
    ("get", "/_harness/cohorts/nope/members", None, 404),
    ("post", "/_harness/segments/evaluate", {"filter": {"and": []}}, 400),
    ("post", "/_harness/segments/evaluate", {}, 400),
    ("post", "/_harness/segments/evaluate", [1], 400),
    ("post", "/_harness/braze/workspaces", {"id": "x", "cluster": "MARS-01"}, 400),
    ("post", "/_harness/braze/workspaces", {"id": "default"}, 409),
    ("get", "/_harness/braze/workspaces/nope/cohorts", None, 404),
    ("put", "/_harness/braze/workspaces/default/partners/mixpanel", {"enabled": "yes"}, 400),
    ("put", "/_harness/braze/workspaces/default/partners/nope", {"enabled": True}, 404),
    ("post", "/_harness/braze/partners", {"slug": "x"}, 400),
    ("get", "/_harness/braze/workspaces/default/filters/colour/options", None, 404),
    ("post", "/_harness/braze/workspaces/default/users/nope/identify", {"external_id": "u"}, 404),
    ("post", "/_harness/keys", {"key": 5}, 400),
])
def test_control_errors_are_clear_json(c, method, path, body, status):
    """DESIGN.md §6: bad control input → JSON error with a message, never a 500."""
    kwargs = {"json": body} if body is not None else {}
    response = getattr(c, method)(path, **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_reset_restores_default_world_keeps_config(c, state):
    """DESIGN.md §4: reset clears state, keeps configuration; the default key works again."""
    seed_and_sync(c)
    c.delete("/_harness/keys/harness-data-import-key")
    c.put("/_harness/config", json={"braze.rate_limit.per_hour": 99})
    assert c.post("/_harness/reset").status_code == 200
    assert c.get("/_harness/cohorts").get_json()["cohorts"] == []
    assert state.model.users().profiles() == []
    assert c.get("/_harness/config").get_json()["config"]["braze.rate_limit.per_hour"] == 99
    ok = c.post("/partners/mixpanel/cohorts/users", json={**CREDS, "cohort_id": "1", "cohort_changes": []})
    assert ok.status_code == 201


def test_partner_slug_config_routes_new_slug_after_reset(c):
    """§4.2 / Q-01: braze.partner_slug is configurable (default world rebuilt on reset)."""
    c.put("/_harness/config", json={"braze.partner_slug": "mixpanel-v2"})
    c.post("/_harness/reset")
    ok = c.post("/partners/mixpanel-v2/cohorts/users", json={**CREDS, "cohort_id": "1", "cohort_changes": []})
    assert ok.status_code == 201
    assert c.post("/partners/mixpanel/cohorts/users", json={**CREDS, "cohort_id": "1",
                                                            "cohort_changes": []}).status_code == 404


def test_config_schema_lists_braze_keys(c):
    """§3: every Braze key is visible (and changeable) through the shared /_harness/config."""
    settings = {item["key"]: item for item in c.get("/_harness/config/schema").get_json()["settings"]}
    assert settings["braze.undeclared_cohort_policy"]["choices"] == ["hold", "discard", "autoname"]
    assert settings["keys.new_key_revokes_old"]["default"] is False
    bad = c.put("/_harness/config", json={"braze.same_request_conflict": "first_wins"})
    assert bad.status_code == 400 and "braze.same_request_conflict" in bad.get_json()["error"]


def test_snapshot_and_restore_round_trip(braze, model, state):
    """harness serve --state-dir: the whole world (keys, profiles, cohorts, history, counters) survives."""
    import json

    from fakes.braze import new_state

    model.users().add_identified("u1", aliases=[("email", "a@x.io")], devices=["d1"])
    anon = model.users().add_anonymous(devices=["d9"])
    model.create_workspace("eu", "EU-01")
    eu_key = model.generate_key("eu")
    braze.declare("1", "Old")
    braze.change("1", [{"user_ids": ["u1", "ghost"], "device_ids": ["d9"]}])
    braze.clock.advance(60)
    braze.declare("1", "New")
    braze.remove("1", "u1")
    model.invalidate_key(model.generate_key())
    snap = json.loads(json.dumps(state.snapshot()))
    other = new_state(clock=braze.clock)
    other.restore(snap)
    other.clock.set(braze.clock.now())
    m2 = other.model
    assert m2.list_cohorts() == model.list_cohorts()
    assert m2.members("1", at=braze.clock.now() - 30) == model.members("1", at=braze.clock.now() - 30)
    assert [k.to_json(mask=False) for k in m2.keys.all()] == [k.to_json(mask=False) for k in model.keys.all()]
    assert m2.users().by_device("d9").braze_id == anon.braze_id
    assert m2.keys.get(eu_key).workspace == "eu"
    assert m2.generate_key() == model.generate_key()  # key generator continues where it was
    assert m2.users().add_anonymous().braze_id == model.users().add_anonymous().braze_id


@pytest.mark.parametrize("at", ["nan", "inf", "-inf", "2021-13-01T00:00:00Z"])
def test_at_must_be_a_finite_time(c, at):
    seed_and_sync(c)
    response = c.get(f"/_harness/cohorts/1/members?at={at}")
    assert response.status_code == 400 and "at must be" in response.get_json()["error"]


def test_deep_filter_over_http_is_400(c):
    tree: dict = {"is_identified": True}
    for _ in range(300):
        tree = {"not": tree}
    response = c.post("/_harness/segments/evaluate", json={"filter": tree})
    assert response.status_code == 400 and "nest at most" in response.get_json()["error"]
