"""braze-cohort-sync.md §4.3-§4.5: credentials in the body, checks A1-A5 in order, before the body."""

from __future__ import annotations

import pytest

PARTNER_KEY, DATA_IMPORT_KEY = "harness-partner-key", "harness-data-import-key"  # DESIGN.md §4 defaults
CREDS = {"partner_api_key": PARTNER_KEY, "client_secret": DATA_IMPORT_KEY}

EU_HOST = {"Host": "rest.fra-01.braze.eu"}


def msg(response):
    return response.status_code, response.get_json()["message"]


def test_valid_credentials_succeed_with_201_success(braze):
    """§4.10: success is 201 {"message":"success"} with JSON content type."""
    response = braze.change("1", [])
    assert response.status_code == 201
    assert response.get_json() == {"message": "success"}
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("key", [None, 42, "", "nope", ["harness-partner-key"]])
def test_a1_unknown_or_non_string_partner_key(braze, key):
    """§4.5 A1: partner_api_key must name a registered partner key."""
    assert msg(braze.change("1", [], creds={"partner_api_key": key, "client_secret": DATA_IMPORT_KEY})) == (
        401, "Invalid Partner API key")


def test_a1_missing_partner_key(braze):
    assert msg(braze.change("1", [], creds={"client_secret": DATA_IMPORT_KEY})) == (401, "Invalid Partner API key")


def test_a2_key_region_must_serve_cluster(braze, model):
    """§4.5 A2 / EC-14: an EU partner key on a US cluster is an invalid partner key, and vice versa."""
    model.register_partner("mixpanel", {"US": "pk-us", "EU": "pk-eu"})
    model.create_workspace("eu-ws", "EU-01")
    secret = model.generate_key("eu-ws", "mixpanel")
    us = {"partner_api_key": "pk-us", "client_secret": DATA_IMPORT_KEY}
    assert braze.change("1", [], creds={**us, "partner_api_key": "pk-eu"}).status_code == 401
    assert msg(braze.change("1", [], creds={**us, "partner_api_key": "pk-eu"})) == (401, "Invalid Partner API key")
    assert braze.change("1", [], creds=us).status_code == 201
    eu = {"partner_api_key": "pk-eu", "client_secret": secret}
    assert braze.change("1", [], creds=eu, headers=EU_HOST).status_code == 201
    assert msg(braze.change("1", [], creds={**eu, "partner_api_key": "pk-us"}, headers=EU_HOST)) == (
        401, "Invalid Partner API key")


def test_a2_other_clusters_accept_us_key_by_default(braze, model):
    """§5 / Q-24: AU/JP/ID/KR accept the US key (braze.other_clusters_key_region)."""
    model.register_partner("mixpanel", {"US": "pk-us", "EU": "pk-eu"})
    model.create_workspace("au", "AU-01")
    secret = model.generate_key("au", "mixpanel")
    au = {"Host": "rest.au-01.braze.com"}
    assert braze.change("1", [], creds={"partner_api_key": "pk-us", "client_secret": secret}, headers=au).status_code == 201
    assert braze.change("1", [], creds={"partner_api_key": "pk-eu", "client_secret": secret}, headers=au).status_code == 401
    braze.state.update_config({"braze.other_clusters_key_region": "EU"})
    assert braze.change("1", [], creds={"partner_api_key": "pk-eu", "client_secret": secret}, headers=au).status_code == 201


def test_a3_slug_mismatch_is_unauthorized_access(braze):
    """§4.5 A3 / EC-15: the Mixpanel partner key on /partners/amplitude/... → 401 Unauthorized access."""
    assert msg(braze.change("1", [], slug="amplitude")) == (401, "Unauthorized access")
    assert msg(braze.declare("1", slug="amplitude")) == (401, "Unauthorized access")


@pytest.mark.parametrize("secret", [None, 7, "", "unknown-secret", {"k": 1}])
def test_a4_unknown_client_secret(braze, secret):
    """§4.5 A4: client_secret must name an existing Data Import Key."""
    assert msg(braze.change("1", [], creds={"partner_api_key": PARTNER_KEY, "client_secret": secret})) == (
        401, "Invalid client secret")


def test_a4_invalidated_key(braze, model):
    """§4.5 A4 / §5: an invalidated key is rejected from the next request on."""
    model.invalidate_key(DATA_IMPORT_KEY)
    assert msg(braze.change("1", [])) == (401, "Invalid client secret")


def test_a4_workspace_must_live_on_resolved_cluster(braze, model):
    """§4.5 A4 with braze.enforce_workspace_cluster / EC-13: EU workspace key sent to a US host."""
    model.create_workspace("eu-ws", "EU-01")
    secret = model.generate_key("eu-ws", "mixpanel")
    creds = {"partner_api_key": PARTNER_KEY, "client_secret": secret}
    assert msg(braze.change("1", [], creds=creds)) == (401, "Invalid client secret")
    assert braze.change("1", [], creds=creds, headers=EU_HOST).status_code == 201
    braze.state.update_config({"braze.enforce_workspace_cluster": False})
    assert braze.change("1", [], creds=creds).status_code == 201


def test_a5_key_of_another_partners_tile(braze, model):
    """§4.5 A5 / EC-12: a key generated on another partner's tile."""
    secret = model.generate_key(None, "amplitude")
    assert msg(braze.change("1", [], creds={"partner_api_key": PARTNER_KEY, "client_secret": secret})) == (
        401, f"Partner not enabled for client with client secret: {secret}")


def test_a5_partner_disabled_for_workspace_and_reenabled(braze, model):
    """§4.5 A5 / §5: disabling keeps keys but rejects them; re-enabling restores them."""
    model.set_partner_enabled(None, "mixpanel", False)
    assert msg(braze.change("1", [])) == (401, f"Partner not enabled for client with client secret: {DATA_IMPORT_KEY}")
    model.set_partner_enabled(None, "mixpanel", True)
    assert braze.change("1", []).status_code == 201


def test_auth_checks_run_in_documented_order(braze, model):
    """§4.4/§4.5: A1 before A3 before A4 before A5."""
    model.set_partner_enabled(None, "mixpanel", False)
    bad_everything = {"partner_api_key": "bad", "client_secret": "bad"}
    assert msg(braze.change("1", [], slug="amplitude", creds=bad_everything))[1] == "Invalid Partner API key"
    assert msg(braze.change("1", [], slug="amplitude", creds={**CREDS, "client_secret": "bad"}))[1] == "Unauthorized access"
    assert msg(braze.change("1", [], creds={**CREDS, "client_secret": "bad"}))[1] == "Invalid client secret"


def test_auth_before_body_validation(braze):
    """§4.4 step 2 before 6 / EC-16: bad partner key with a malformed body → 401, not 400."""
    response = braze.post("/partners/mixpanel/cohorts/users",
                          {"partner_api_key": "bad", "cohort_id": 5, "cohort_changes": "x"})
    assert msg(response) == (401, "Invalid Partner API key")


def test_credentials_only_in_body_authorization_header_ignored(braze):
    """§4.3: an Authorization header neither authenticates nor breaks a request."""
    response = braze.post("/partners/mixpanel/cohorts/users", {"cohort_id": "1", "cohort_changes": []},
                          headers={"Authorization": f"Bearer {PARTNER_KEY}"})
    assert msg(response) == (401, "Invalid Partner API key")
    ok = braze.change("1", [], headers={"Authorization": "Bearer whatever"})
    assert ok.status_code == 201


def test_cluster_header_selects_cluster_for_loopback(braze, model):
    """§4.1: X-Harness-Braze-Cluster picks the cluster when the Host is not a Braze host; journalled."""
    model.create_workspace("eu-ws", "EU-02")
    secret = model.generate_key("eu-ws", "mixpanel")
    creds = {"partner_api_key": PARTNER_KEY, "client_secret": secret}
    assert braze.change("1", [], creds=creds, headers={"X-Harness-Braze-Cluster": "EU-02"}).status_code == 201
    assert braze.last_journal()["cluster"] == "EU-02"
    assert braze.change("1", [], creds=creds).status_code == 401
    assert braze.last_journal()["cluster"] == "US-01"


def test_unknown_cluster_header_is_a_400_naming_the_known_clusters(braze, model):
    """§4.1 (harness header): a value naming no instance is refused rather than silently using the default."""
    from fakes.braze.clusters import BY_INSTANCE

    r = braze.change("1", [], headers={"X-Harness-Braze-Cluster": "US-1"})
    assert r.status_code == 400
    assert r.get_json() == {"message": "X-Harness-Braze-Cluster: unknown Braze cluster 'US-1'; known clusters: "
                                       + ", ".join(BY_INSTANCE)}
    assert "US-01" in r.get_json()["message"] and "EU-02" in r.get_json()["message"]
    assert braze.change("1", [], headers={"X-Harness-Braze-Cluster": "eu-01"}).status_code != 400  # case-insensitive


def test_braze_settings_may_leave_out_their_braze_prefix(braze):
    """braze-cohort-sync.md §3: `max_ids_per_request` stands for `braze.max_ids_per_request` (old keys still work)."""
    r = braze.client.put("/_harness/config", json={"max_ids_per_request": 3, "rate_limit": {"per_hour": 11}})
    assert r.status_code == 200, r.get_json()
    values = braze.client.get("/_harness/config").get_json()["config"]
    assert values["braze.max_ids_per_request"] == 3 and values["braze.rate_limit.per_hour"] == 11
    assert braze.client.put("/_harness/config", json={"braze": {"max_ids_per_request": 4}}).status_code == 200
    assert braze.client.get("/_harness/config").get_json()["config"]["braze.max_ids_per_request"] == 4
    assert braze.client.put("/_harness/config", json={"no_such_key": 1}).status_code == 400
