"""Exact rules of the fake Braze pinned so a one-token change fails a test (issue 14), through the partner
HTTP endpoints with the stored membership read back."""

from __future__ import annotations

import pytest

from fakes.core.errors import ControlError

ZERO = {"applied_add": 0, "applied_remove": 0, "noop_add": 0, "noop_remove": 0, "ignored_unknown": 0,
        "ignored_identified_device": 0}


def alias(name: str, label: str) -> dict[str, str]:
    return {"alias_name": name, "alias_label": label}


@pytest.fixture
def aliased(braze, model):
    """Two identified profiles sharing an alias name under different labels, and one sharing a label under
    another name; plus an alias-only anonymous profile."""
    users = model.users()
    users.add_identified("by-email", aliases=[("shared-name", "email")])
    users.add_identified("by-phone", aliases=[("shared-name", "phone")])
    users.add_identified("other-name", aliases=[("another-name", "email")])
    anon = users.add_anonymous(aliases=[("anon-name", "anon-label")])
    braze.declare("1", "A")
    braze.anon_id = anon.braze_id
    return braze


@pytest.mark.parametrize("name, label, expected", [
    ("shared-name", "email", {"by-email"}),
    ("shared-name", "phone", {"by-phone"}),
    ("another-name", "email", {"other-name"}),
])
def test_4_9_alias_resolves_the_exact_name_label_pair(aliased, name, label, expected):
    """§4.9: an alias object resolves to the profile carrying exactly that (alias_name, alias_label) pair:
    two profiles sharing a name (or a label) are told apart by the other half."""
    resp = aliased.change("1", [{"aliases": [alias(name, label)]}])
    assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
    assert aliased.member_ids("1") == expected
    assert aliased.last_journal()["counters"] == {**ZERO, "applied_add": 1}


@pytest.mark.parametrize("name, label", [
    ("shared-name", "push"),       # a known name, a label no profile has with it
    ("shared-name", "Email"),      # the label in another case (matching is case-sensitive)
    ("unknown-name", "email"),     # a known label, a name no profile has with it
    ("email", "shared-name"),      # the pair swapped
    ("anon-name", "email"),        # the anonymous profile's name with another profile's label
])
def test_4_9_alias_half_match_is_ignored_unknown(aliased, name, label):
    """§4.9: an alias whose name matches but label does not (or the reverse) resolves to nobody: 201,
    `ignored_unknown` counted, no member, no profile created."""
    users_before = len(aliased.model.users())
    resp = aliased.change("1", [{"aliases": [alias(name, label)]}])
    assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
    assert aliased.member_ids("1") == set()
    assert aliased.last_journal()["counters"] == {**ZERO, "ignored_unknown": 1}
    assert len(aliased.model.users()) == users_before


def test_4_9_alias_removal_needs_the_exact_pair(aliased):
    """§4.9: a remove by alias touches only the profile with that exact pair."""
    aliased.change("1", [{"user_ids": ["by-email", "by-phone"]}])
    aliased.change("1", [{"aliases": [alias("shared-name", "phone")], "should_remove": True}])
    assert aliased.member_ids("1") == {"by-email"}
    aliased.change("1", [{"aliases": [alias("shared-name", "push")], "should_remove": True}])
    assert aliased.member_ids("1") == {"by-email"}
    assert aliased.last_journal()["counters"] == {**ZERO, "ignored_unknown": 1}


def test_4_9_alias_exact_pair_case_insensitive_mode(aliased, state):
    """§4.9 `braze.case_sensitive_ids = false`: the pair is folded, but both halves still must match."""
    state.update_config({"braze.case_sensitive_ids": False})
    aliased.change("1", [{"aliases": [alias("SHARED-NAME", "Phone")]}])
    assert aliased.member_ids("1") == {"by-phone"}
    aliased.change("1", [{"aliases": [alias("SHARED-NAME", "push")]}])
    assert aliased.member_ids("1") == {"by-phone"}
    assert aliased.last_journal()["counters"] == {**ZERO, "ignored_unknown": 1}


# --- §4.6 created_at: ISO-8601 date-time, offsets within ±23:59, fractions kept exactly -------------------------

@pytest.mark.parametrize("text, epoch", [
    ("2021-01-21T14:20:30Z", 1611238830.0),
    ("2021-01-21T14:20Z", 1611238800.0),           # no seconds: 0
    ("2021-01-21T14:20:30.250Z", 1611238830.25),   # the fraction is added, exactly
    ("2021-01-21T14:20:30.5", 1611238830.5),
    ("2021-01-21T19:20:30+05", 1611238830.0),      # hours only: minutes are 0
    ("2021-01-21T19:50:30+05:30", 1611238830.0),
    ("2021-01-21T14:21:30+00:01", 1611238830.0),
    ("2021-01-22T14:19:30+23:59", 1611238830.0),   # the largest offset
    ("2021-01-20T14:21:30-23:59", 1611238830.0),
])
def test_4_6_created_at_parses_exactly(text, epoch):
    """§4.6: ISO-8601 date-times (Z, an offset up to ±23:59, none = UTC, a fraction) give the exact epoch."""
    from fakes.braze.validation import parse_iso8601

    assert parse_iso8601(text) == epoch


@pytest.mark.parametrize("offset, ok", [
    ("+23:59", True), ("+24:00", False), ("+23:60", False), ("+00:59", True), ("-23:59", True), ("-24:00", False),
])
def test_4_6_created_at_offset_bounds_over_http(braze, offset, ok):
    """§4.6 through the wire: an offset beyond ±23:59 is not a valid time (InvalidCreatedAt, nothing stored)."""
    resp = braze.declare("1", "A", f"2021-01-21T14:20:30{offset}")
    if ok:
        assert (resp.status_code, resp.get_json()) == (201, {"message": "success"})
        assert braze.model.cohort("1").name == "A"
    else:
        assert (resp.status_code, resp.get_json()["message"]) == (
            400, "created_at must be a valid time as an ISO-8601 string")
        with pytest.raises(ControlError):  # no cohort was created
            braze.model.cohort("1")
