"""Property tests (hypothesis): hostile bodies never crash the wire; membership follows set semantics."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.braze import create_app, new_state
from fakes.braze.errors import CATALOGUE
from fakes.core.clock import SimulatedClock

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}
DOCUMENTED = {(cls.status, cls().message) for cls in CATALOGUE if "{" not in cls.template}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ids = st.lists(st.sampled_from(["u1", "u2", "u3", "ghost", "d9", "x"]) | st.integers(), max_size=5)
alias = st.fixed_dictionaries({"alias_name": st.sampled_from(["email", "x", 1]),
                               "alias_label": st.sampled_from(["a@x.io", "email", None])})
change = st.dictionaries(
    st.sampled_from(["user_ids", "device_ids", "aliases", "should_remove", "extra"]),
    ids | alias | st.lists(alias, max_size=2) | st.booleans() | st.none() | json_values,
    max_size=4,
)
bodies = st.fixed_dictionaries(
    {},
    optional={"partner_api_key": st.just(CREDS["partner_api_key"]) | json_values,
              "client_secret": st.just(CREDS["client_secret"]) | json_values,
              "cohort_id": st.sampled_from(["1", "2", ""]) | json_values,
              "cohort_changes": st.lists(change | json_values, max_size=3) | json_values,
              "name": st.text(max_size=5) | json_values,
              "created_at": st.sampled_from(["2021-01-21T19:20:30Z", "2021-01-21"]) | json_values},
)


def _app():
    state = new_state(clock=SimulatedClock(1_700_000_000))
    state.model.users().add_identified("u1", devices=["d1"])
    state.model.users().add_anonymous(devices=["d9"])
    return state, create_app(state).test_client()


STATE, CLIENT = _app()


@settings(max_examples=150)
@given(body=bodies, endpoint=st.sampled_from(["cohorts", "cohorts/users"]))
def test_any_json_body_gets_a_documented_answer(body, endpoint):
    """§4.3-§4.10: whatever the body, the answer is 201 success or a documented {"message"} error; never 500."""
    response = CLIENT.post(f"/partners/mixpanel/{endpoint}", data=json.dumps(body), content_type="application/json")
    payload = response.get_json()
    if response.status_code == 201:
        assert payload == {"message": "success"}
    else:
        assert (response.status_code, payload["message"]) in DOCUMENTED, (response.status_code, payload)


@settings(max_examples=150)
@given(raw=st.binary(max_size=200))
def test_any_bytes_get_401_never_500(raw):
    """§4.3: bytes that are not a JSON object with credentials → 401 Invalid Partner API key."""
    response = CLIENT.post("/partners/mixpanel/cohorts/users", data=raw)
    assert (response.status_code, response.get_json()) == (401, {"message": "Invalid Partner API key"})


operations = st.lists(st.tuples(st.booleans(), st.lists(st.sampled_from([f"p{i}" for i in range(8)] + ["ghost"]),
                                                        max_size=6)), max_size=12)


@settings(max_examples=60)
@given(ops=operations)
def test_membership_is_a_set_applied_in_order(ops):
    """§4.9: adds/removes are idempotent set operations; counters add up to the entries sent."""
    state = new_state(clock=SimulatedClock(1_700_000_000))
    state.model.users().add_many([{"external_id": f"p{i}"} for i in range(8)])
    client = create_app(state).test_client()
    expected: set[str] = set()
    sent = 0
    for remove, batch in ops:
        state.clock.advance(1)
        body = {**CREDS, "cohort_id": "c", "cohort_changes": [{"user_ids": batch, "should_remove": remove}]}
        assert client.post("/partners/mixpanel/cohorts/users", json=body).status_code == 201
        known = {x for x in batch if x != "ghost"}
        expected = expected - known if remove else expected | known
        sent += len(batch)
    cohort = state.model.workspace().cohorts.get("mixpanel", "c")
    members = {state.model.users().get(b).external_id for b in cohort.membership.current} if cohort else set()
    assert members == expected
    if cohort:
        assert sum(cohort.counters.values()) == sent
        # history agrees with the current set at the last instant
        assert cohort.membership.members_at(state.clock.now()) == cohort.membership.current
