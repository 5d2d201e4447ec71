"""The shared pytest fixtures serve the fake Braze (DESIGN.md §4: in-process and server modes)."""

from __future__ import annotations

import requests

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}


def test_braze_fake_in_process(braze_fake):
    """`braze_fake`: requests to real Braze hosts reach the fake; same state as the handle."""
    braze_fake.state.model.users().add_identified("u1")
    url = "https://rest.iad-01.braze.com/partners/mixpanel/cohorts"
    declared = requests.post(url, json={**CREDS, "cohort_id": "1", "name": "A", "created_at": "2024-01-01T00:00:00Z"})
    added = requests.post(url + "/users", json={**CREDS, "cohort_id": "1", "cohort_changes": [{"user_ids": ["u1"]}]})
    assert (declared.status_code, added.status_code) == (201, 201)
    assert braze_fake.client.get("/_harness/cohorts").get_json()["cohorts"][0]["member_count"] == 1
    assert braze_fake.requests()[-1]["counters"]["applied_add"] == 1


def test_braze_server_loopback(braze_server):
    """`braze_server`: a loopback server; the control API and the partner endpoints over real HTTP."""
    assert requests.get(braze_server.url("/_harness/health"), timeout=5).json() == {"status": "ok", "service": "braze"}
    requests.post(braze_server.url("/_harness/users"), json={"users": [{"external_id": "u1"}]}, timeout=5)
    response = requests.post(braze_server.url("/partners/mixpanel/cohorts/users"), timeout=5,
                             json={**CREDS, "cohort_id": "1", "cohort_changes": [{"user_ids": ["u1"]}]})
    assert response.status_code == 201
    members = requests.get(braze_server.url("/_harness/cohorts/1/members"), timeout=5).json()["members"]
    assert [m["external_id"] for m in members] == ["u1"]


def test_braze_server_is_reset_between_tests(braze_server):
    assert requests.get(braze_server.url("/_harness/cohorts"), timeout=5).json() == {"cohorts": []}
