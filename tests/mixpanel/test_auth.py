"""mixpanel-ingestion.md §4: the /import authentication matrix, resolution order and 401 bodies."""

from __future__ import annotations

import base64
import json

import pytest
from mpkit import SA_SECRET, SA_USER, SECRET, TOKEN, basic, event

INVALID = b'{"code":401,"error":"Invalid credentials","status":"Unauthorized"}'

PROJECTS = [
    {"project_id": 1, "token": TOKEN, "secret": SECRET,
     "service_accounts": [{"username": SA_USER, "secret": SA_SECRET, "role": "admin"},
                          {"username": "viewer", "secret": "v-secret", "role": "analyst"}],
     "bearer_tokens": ["oauth-1"]},
    {"project_id": 2, "token": "token-2", "secret": "secret-2",
     "service_accounts": [{"username": "owner-2", "secret": "o2", "role": "owner"}]},
]


@pytest.fixture
def two_projects(state):
    state.update_config({"projects": PROJECTS})
    return state


def imp(api, authorization=None, project_id=None, **kw):
    headers = {"Authorization": authorization} if authorization else {}
    query = {"strict": "1", **({"project_id": project_id} if project_id is not None else {})}
    return api.post("/import", b"[" + json.dumps(event()).encode() + b"]", query=query,
                    headers=headers, **kw)


def test_4_1_service_account_with_project_id(api, two_projects):
    """§4.1: service account (Admin/Owner) Basic + `project_id` accepted."""
    assert imp(api, basic(SA_USER, SA_SECRET), "1").status_code == 200
    assert imp(api, basic("owner-2", "o2"), "2").status_code == 200


def test_4_1_project_secret_without_project_id(api, two_projects):
    """§4.1: `Basic base64(secret:)`, no `project_id` needed."""
    assert imp(api, basic(SECRET)).status_code == 200


def test_4_1_secret_retirement_enforced_only_when_switched_on(api, state, clock):
    """§4.1: after 2027-03-03 (fake clock) the secret is refused only with `auth.secret_retired_enforce`."""
    clock.set(RETIRED_AT + 10)
    assert imp(api, basic(SECRET)).status_code == 200
    state.update_config({"auth.secret_retired_enforce": True})
    assert imp(api, basic(SECRET)).status_code == 401
    clock.set(RETIRED_AT - 10)
    assert imp(api, basic(SECRET)).status_code == 200


RETIRED_AT = 1_804_032_000  # 2027-03-03T00:00:00Z


def test_4_1_secret_retired_at_default_is_2027_03_03_midnight_utc(api, client, state, clock):
    """§4.1: the secret is retired on 2027-03-03 (00:00:00Z), not a day early: the whole of 2027-03-02
    still authenticates with enforcement on; 2027-03-03T00:00:00Z is refused."""
    assert client.get("/_harness/config").get_json()["config"]["auth.secret_retired_at"] == RETIRED_AT
    state.update_config({"auth.secret_retired_enforce": True})
    clock.set(RETIRED_AT - 1)  # 2027-03-02T23:59:59Z
    assert imp(api, basic(SECRET)).status_code == 200
    clock.set(RETIRED_AT)
    assert imp(api, basic(SECRET)).status_code == 401


def test_4_1_token_with_and_without_matching_project_id(api, two_projects):
    """§4.1 / Q11: token alone authenticates; token + matching `project_id` accepted, mismatch 401."""
    assert imp(api, basic(TOKEN)).status_code == 200
    assert imp(api, basic(TOKEN), "1").status_code == 200
    assert imp(api, basic(TOKEN), "2").data == INVALID


def test_4_1_bearer_only_listed_tokens(api, two_projects):
    """§4.1: OAuth bearer accepted only for `projects[].bearer_tokens`."""
    assert imp(api, "Bearer oauth-1").status_code == 200
    assert imp(api, "Bearer nope").status_code == 401


def test_4_1_plain_text_basic_user_secret(api, two_projects):
    """§4.1: a non-base64 `Basic user:secret` is read raw."""
    assert imp(api, f"Basic {SA_USER}:{SA_SECRET}", "1").status_code == 200


def test_4_1_api_key_only_is_no_credentials(api):
    """§4.1: the legacy `api_key` param is ignored: alone it is 401."""
    resp = api.post("/import", b"[]", query={"api_key": "whatever", "strict": "1"})
    assert resp.status_code == 401 and resp.data == INVALID


@pytest.mark.parametrize("endpoint", ["/track", "/engage", "/groups"])
def test_4_1_other_endpoints_ignore_authorization(api, endpoint):
    """§4.1: /track, /engage, /groups ignore any Authorization header or api_key."""
    body = (b'[{"event":"e","properties":{"token":"harness-token"}}]' if endpoint == "/track" else
            b'[{"$token":"harness-token","$distinct_id":"u","$group_key":"k","$group_id":"g","$set":{"a":1}}]')
    resp = api.post(endpoint, body, query={"api_key": "x"}, headers={"Authorization": basic("garbage", "pw")})
    assert resp.status_code == 200 and resp.data == b"1"


def test_4_2_service_account_needs_numeric_member_project_id(api, two_projects):
    """§4.2 step 2: `project_id` required, digits only, the account a member."""
    assert imp(api, basic(SA_USER, SA_SECRET)).status_code == 401
    assert imp(api, basic(SA_USER, SA_SECRET), "one").status_code == 401
    assert imp(api, basic(SA_USER, SA_SECRET), "2").status_code == 401
    assert imp(api, basic(SA_USER, "wrong"), "1").status_code == 401


def test_4_2_project_id_in_form_body(api, two_projects):
    """§4.2 / §3 R1: `project_id` may come in the urlencoded body."""
    resp = api.client.post("/import", data={"data": json.dumps([event()]), "project_id": "1", "strict": "1"},
                           headers={"Authorization": basic(SA_USER, SA_SECRET)})
    assert resp.status_code == 200


def test_4_2_low_role_is_401_never_403(api, two_projects):
    """§4.2 / Q13: a role below admin → 401."""
    resp = imp(api, basic("viewer", "v-secret"), "1")
    assert resp.status_code == 401 and resp.data == INVALID


def test_4_2_secret_with_other_project_id(api, two_projects):
    """§4.2 step 3: a secret with a different `project_id` → 401."""
    assert imp(api, basic(SECRET), "2").status_code == 401
    assert imp(api, basic(SECRET), "1").status_code == 200


@pytest.mark.parametrize("header", [None, "", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                                    "Digest abc", "Basic " + base64.b64encode(b":").decode()])
def test_4_2_missing_or_malformed_credentials(api, header):
    """§4.2 step 4: none, malformed, or no `:` → 401."""
    resp = imp(api, header)
    assert resp.status_code == 401 and resp.data == INVALID
    assert resp.headers["Content-Type"] == "application/json"


def test_4_3_401_ignores_strict_and_verbose(api):
    """§4.3: the 401 applies whatever strict/verbose say."""
    resp = api.post("/import", b"[]", query={"verbose": "1"}, headers={"Authorization": basic("bad")})
    assert resp.status_code == 401 and resp.data == INVALID


def test_4_3_observed_texts(api, two_projects, state):
    """§4.3 `auth.error_detail = observed`: the case-specific 2023 texts in the same envelope."""
    state.update_config({"auth.error_detail": "observed"})
    cases = [
        (basic("nobody", "x"), "1", "Not a valid service account username"),
        (basic(SA_USER, SA_SECRET), "2", "not a project member"),
        (basic("wrong-secret"), None,
         "Unauthorized, invalid project secret. See docs for more information: "
         "https://developer.mixpanel.com/reference/authentication#project-secret"),
        (basic(SECRET), "2", "Credentials in request did not match project_id URL parameter"),
    ]
    for header, pid, text in cases:
        resp = imp(api, header, pid)
        assert resp.status_code == 401
        assert resp.get_json() == {"code": 401, "error": text, "status": "Unauthorized"}


def test_2_3_reject_plain_http_switch(api, state):
    """§2.3 `auth.reject_plain_http`: secret-bearing calls over http → 401 with the §4.3 body."""
    assert imp(api, basic(SECRET)).status_code == 200
    state.update_config({"auth.reject_plain_http": True})
    assert imp(api, basic(SECRET)).data == INVALID
    assert imp(api, basic(SECRET), base_url="https://api.mixpanel.com").status_code == 200


def test_2_1_region_enforcement_import(api, state):
    """§2.1 `regions.enforce`: a wrong-region /import fails as if the project did not exist (401)."""
    resp = api.post("/eu/import", b'[' + json.dumps(event()).encode() + b']',
                    query={"strict": "1"}, headers={"Authorization": basic(SECRET)})
    assert resp.status_code == 200  # enforcement off by default
    state.update_config({"regions.enforce": True})
    resp = api.post("/eu/import", b'[' + json.dumps(event(n=1)).encode() + b']',
                    query={"strict": "1"}, headers={"Authorization": basic(SECRET)})
    assert resp.status_code == 401
