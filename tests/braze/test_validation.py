"""braze-cohort-sync.md §4.7-§4.8: accepted shapes of /cohorts/users and validation in order."""

from __future__ import annotations

import pytest

CHANGES_ERR = (400, "cohort_changes must be an array of objects each with key user_ids and/or device_ids "
                    "mapping to an array of strings, or an aliases object")
ID_ERR = (400, "cohort_id must be a valid string")
TOO_MANY = (400, "Only 1,000 user_ids, device_ids, and aliases are allowed per request")


def msg(response):
    return response.status_code, response.get_json()["message"]


@pytest.fixture
def declared(braze):
    braze.declare("1", "A")
    return braze


@pytest.mark.parametrize("cohort_id", [None, 1, "", [], {}, False])
def test_cohort_id_must_be_non_empty_string(declared, cohort_id):
    """§4.8 rule 1."""
    assert msg(declared.change(cohort_id, [{"user_ids": ["u"]}])) == ID_ERR


@pytest.mark.parametrize("changes", [
    None,  # missing/null
    "[{\"user_ids\": [\"u\"]}]",  # EC-37 quoted string
    {"user_ids": ["u"]},  # object, not array
    ["u1"],  # element not an object
    [{}],  # none of the id keys
    [{"should_remove": True}],
    [{"user_ids": "u1"}],
    [{"user_ids": [1, 2]}],
    [{"user_ids": ["a", None]}],
    [{"device_ids": {"d": 1}}],
    [{"aliases": "email:a@x.io"}],
    [{"aliases": [{"alias_name": "email"}]}],
    [{"aliases": [{"alias_name": "email", "alias_label": 5}]}],
    [{"aliases": ["email"]}],
    [{"user_ids": ["u"], "should_remove": "true"}],  # the string "true" is rejected
    [{"user_ids": ["u"], "should_remove": 1}],
])
def test_cohort_changes_shape(declared, changes):
    """§4.8 rule 2: every listed shape error answers InvalidCohortChanges."""
    assert msg(declared.change("1", changes)) == CHANGES_ERR


def test_cohort_changes_missing(declared):
    body = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key", "cohort_id": "1"}
    assert msg(declared.post("/partners/mixpanel/cohorts/users", body)) == CHANGES_ERR


@pytest.mark.parametrize("changes, members", [
    ([], set()),  # empty array: valid, no change
    ([{"user_ids": []}], set()),
    ([{"user_ids": ["u"], "device_ids": ["d"], "aliases": [{"alias_name": "n", "alias_label": "l"}]}],
     {"u", "device d", "alias n/l"}),
    ([{"aliases": {"alias_name": "n", "alias_label": "l"}}], {"alias n/l"}),  # single alias object
    ([{"user_ids": ["u"], "should_remove": False}], {"u"}),
    ([{"user_ids": ["u"], "should_remove": None}], {"u"}),  # null_as_absent
    ([{"user_ids": ["u"], "device_ids": None}], {"u"}),  # null_as_absent
    ([{"user_ids": ["u"], "extra": 1, "aliases": [{"alias_name": "n", "alias_label": "l", "x": 2}]}],
     {"u", "alias n/l"}),
])
def test_accepted_shapes(declared, changes, members):
    """§4.7: every accepted shape answers 201 `{"message":"success"}` and applies what it names: the
    identified profile `u`, the anonymous profile owning device `d`, the one carrying alias n/l."""
    users = declared.model.users()
    names = {"u": "u", users.add_anonymous(devices=["d"]).braze_id: "device d",
             users.add_anonymous(aliases=[("n", "l")]).braze_id: "alias n/l"}
    users.add_identified("u")
    resp = declared.change("1", changes)
    assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
    assert {names[m] for m in declared.member_ids("1")} == members
    assert declared.counters("1")["applied_add"] == len(members)


def test_null_as_absent_off_rejects_nulls(declared):
    """§3 braze.null_as_absent = false: a null id key or should_remove is a shape error."""
    declared.state.update_config({"braze.null_as_absent": False})
    assert msg(declared.change("1", [{"user_ids": ["u"], "device_ids": None}])) == CHANGES_ERR
    assert msg(declared.change("1", [{"user_ids": ["u"], "should_remove": None}])) == CHANGES_ERR


def test_allow_empty_change_object_switch(declared):
    """§3 braze.allow_empty_change_object."""
    declared.seed("u")
    assert msg(declared.change("1", [{}, {"user_ids": ["u"]}])) == CHANGES_ERR
    assert declared.member_ids("1") == set()  # a rejected request applies nothing
    declared.state.update_config({"braze.allow_empty_change_object": True})
    resp = declared.change("1", [{}, {"user_ids": ["u"]}])
    assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
    assert declared.member_ids("1") == {"u"}  # the empty object changes nothing, the next one applies
    assert declared.last_journal()["counters"]["applied_add"] == 1


def test_exactly_1000_combined_ids_accepted(declared):
    """§4.8 rule 3 / EC-21: 600 user_ids + 400 device_ids in one request → 201."""
    declared.model.users().add_many([{"external_id": f"u{i}"} for i in range(600)])
    changes = [{"user_ids": [f"u{i}" for i in range(600)], "device_ids": [f"d{i}" for i in range(400)]}]
    resp = declared.change("1", changes)
    assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
    assert declared.member_ids("1") == {f"u{i}" for i in range(600)}
    counters = declared.last_journal()["counters"]
    assert (counters["applied_add"], counters["ignored_unknown"]) == (600, 400)  # all 1,000 ids were read


def test_1001_combined_ids_rejected_and_nothing_applied(declared):
    """§4.8 rule 3 / EC-22: one more id → TooManyIds; nothing applied."""
    declared.seed("u0")
    changes = [{"user_ids": [f"u{i}" for i in range(600)]},
               {"device_ids": [f"d{i}" for i in range(300)],
                "aliases": [{"alias_name": "n", "alias_label": str(i)} for i in range(101)]}]
    assert msg(declared.change("1", changes)) == TOO_MANY
    assert declared.member_ids("1") == set()
    assert sum(declared.counters("1").values()) == 0


def test_duplicates_count_toward_limit(declared):
    """§4.8 rule 3 / EC-23: counted before de-duplication."""
    ids = [f"u{i}" for i in range(999)] + ["u0", "u0"]
    assert msg(declared.change("1", [{"user_ids": ids}])) == TOO_MANY


def test_validation_order(declared):
    """§4.8: cohort_id → cohort_changes shape → id count."""
    too_many_and_bad = [{"user_ids": ["u"] * 1001}, "not an object"]
    assert msg(declared.change(5, too_many_and_bad)) == ID_ERR
    assert msg(declared.change("1", too_many_and_bad)) == CHANGES_ERR
    assert msg(declared.change("1", [{"user_ids": ["u"] * 1001}])) == TOO_MANY


def test_max_ids_configurable_for_negative_tests(declared):
    """§3 braze.max_ids_per_request (the message stays the upstream text)."""
    declared.state.update_config({"braze.max_ids_per_request": 2})
    assert msg(declared.change("1", [{"user_ids": ["a", "b", "c"]}])) == TOO_MANY
    assert declared.change("1", [{"user_ids": ["a", "b"]}]).status_code == 201


# --- malformed bodies (§4.3): never a 500, auth first ------------------------------------------------
@pytest.mark.parametrize("raw", [
    b"", b"{", b"not json", b"[1, 2, 3]", b"\"a string\"", b"null", b"42",
    b"\xff\xfe\xfa garbage", b"{\"partner_api_key\": \"harness-partner-key\", \xff}",
    b"[" * 100_000 + b"]" * 100_000,  # absurd nesting
    b"{\"cohort_id\": NaN}",
    b"{\"x\": 1" + b"9" * 10_000 + b"}",  # number beyond the int conversion limit
])
@pytest.mark.parametrize("path", ["/partners/mixpanel/cohorts", "/partners/mixpanel/cohorts/users"])
def test_unparsable_or_non_object_body_reads_as_empty_object(braze, raw, path):
    """§4.3: a body that is not a JSON object is {}; auth first → 401 Invalid Partner API key."""
    assert msg(braze.post(path, raw=raw)) == (401, "Invalid Partner API key")


def test_utf16_json_is_still_json(braze):
    """§4.3: JSON detection follows RFC 8259 encodings; credentials in UTF-16 still authenticate."""
    import json
    raw = json.dumps({"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key",
                      "cohort_id": "1", "cohort_changes": [{"user_ids": ["ü-1"]}]}).encode("utf-16")
    braze.declare("1", "A")
    braze.seed("ü-1")
    resp = braze.post("/partners/mixpanel/cohorts/users", raw=raw)
    assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
    assert braze.member_ids("1") == {"ü-1"}  # the UTF-16 body was read, not only authenticated


def test_body_parsed_whatever_the_content_type(braze):
    """§4.3: parsed as JSON whatever the Content-Type unless braze.require_json_content_type."""
    import json
    raw = json.dumps({"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key",
                      "cohort_id": "1", "cohort_changes": []}).encode()
    assert braze.post("/partners/mixpanel/cohorts/users", raw=raw, content_type="text/plain").status_code == 201
    braze.state.update_config({"braze.require_json_content_type": True})
    response = braze.post("/partners/mixpanel/cohorts/users", raw=raw, content_type="text/plain")
    assert msg(response) == (401, "Invalid Partner API key")
    assert braze.post("/partners/mixpanel/cohorts/users", raw=raw).status_code == 201


def test_huge_body_gets_413_and_server_keeps_serving(braze):
    """Harness guard braze.max_body_bytes: a body over the cap → 413, nothing applied, next request fine."""
    braze.state.update_config({"braze.max_body_bytes": 1000})
    response = braze.post("/partners/mixpanel/cohorts/users", raw=b"{" + b" " * 5000 + b"}")
    assert msg(response) == (413, "Request body too large")
    assert braze.change("1", []).status_code == 201


def test_huge_valid_body_with_too_many_ids(declared):
    """A 1 MB body of 100,000 ids → TooManyIds, not a crash."""
    ids = [f"user-{i:06d}" for i in range(100_000)]
    assert msg(declared.change("1", [{"user_ids": ids}])) == TOO_MANY


def test_rejected_request_changes_nothing(declared):
    """§4.8: a rejected request changes nothing (membership and counters)."""
    declared.seed("a", "b")
    declared.add("1", "a")
    before = (declared.member_ids("1"), declared.counters("1"))
    declared.change("1", [{"user_ids": ["b"]}, {"user_ids": ["a"], "should_remove": "yes"}])
    assert (declared.member_ids("1"), declared.counters("1")) == before


def test_other_methods_405_unknown_paths_404_trailing_slash_404(braze):
    """§4.2: 405 Method Not Allowed; unknown paths and trailing slash 404 Not Found; no read endpoint."""
    for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = braze.client.open("/partners/mixpanel/cohorts/users", method=method)
        assert msg(response) == (405, "Method Not Allowed")
        assert response.headers["Allow"] == "POST"
    assert braze.client.head("/partners/mixpanel/cohorts").status_code == 405
    assert msg(braze.client.get("/partners/mixpanel/cohorts")) == (405, "Method Not Allowed")
    for path in ("/partners/mixpanel/cohorts/", "/partners/mixpanel/cohorts/users/", "/partners/mixpanel/users",
                 "/partners/unknown-partner/cohorts", "/partners/mixpanel", "/cohorts"):
        assert msg(braze.client.post(path, json={})) == (404, "Not Found")
