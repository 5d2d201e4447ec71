"""braze-cohort-sync.md §4.6: POST /partners/{partner}/cohorts declares or renames a cohort."""

from __future__ import annotations

import pytest

from fakes.braze.validation import parse_iso8601

NAME_ERR = (400, "name must be a non-empty string")
ID_ERR = (400, "cohort_id must be a valid string")
TIME_ERR = (400, "created_at must be a valid time as an ISO-8601 string")


def msg(response):
    return response.status_code, response.get_json()["message"]


def test_declare_creates_listed_cohort(braze, model):
    """§4.6: an unknown id creates the cohort with name, created_at and declared_at = now."""
    assert braze.declare("4211337", "Power users", "2021-01-21T19:20:30+05:00").status_code == 201
    (row,) = model.list_cohorts()
    assert (row["cohort_id"], row["name"], row["created_at"], row["member_count"]) == (
        "4211337", "Power users", "2021-01-21T19:20:30+05:00", 0)
    assert row["declared_at"] == braze.clock.now()


@pytest.mark.parametrize("cohort_id", [None, 4211337, "", ["1"], {"id": "1"}, True])
def test_declare_cohort_id_must_be_non_empty_string(braze, cohort_id):
    """§4.6: missing, null, non-string (numbers not coerced) or "" → InvalidCohortId."""
    assert msg(braze.declare(cohort_id)) == ID_ERR


def test_declare_cohort_id_missing(braze):
    body = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key",
            "name": "x", "created_at": "2021-01-21T19:20:30Z"}
    assert msg(braze.post("/partners/mixpanel/cohorts", body)) == ID_ERR


@pytest.mark.parametrize("name", [None, "", 5, ["a"]])
def test_declare_name_must_be_non_empty_string(braze, name):
    """§4.6: name missing, non-string or "" → InvalidName."""
    assert msg(braze.declare("1", name)) == NAME_ERR


def test_declare_whitespace_name_and_long_name_accepted(braze, model):
    """§4.6: whitespace-only is not empty; no maximum length."""
    assert braze.declare("1", "   ").status_code == 201
    assert braze.declare("2", "n" * 100_000).status_code == 201
    assert {r["cohort_id"]: len(r["name"]) for r in model.list_cohorts()} == {"1": 3, "2": 100_000}


@pytest.mark.parametrize("created_at", [None, 1611256830, "", "2021-01-21", "yesterday", "2021-13-01T00:00:00Z",
                                        "2021-01-21T25:00:00Z", "2021-01-21T19:20:30+25:00", "21-01-21T19:20Z"])
def test_declare_created_at_must_be_iso8601_datetime(braze, created_at):
    """§4.6: missing, non-string, date-only or unparsable → InvalidCreatedAt."""
    assert msg(braze.declare("1", "A", created_at)) == TIME_ERR


@pytest.mark.parametrize("text, epoch", [
    ("2021-01-21T19:20:30+05:00", 1611238830.0),
    ("2021-01-21T14:20:30Z", 1611238830.0),
    ("2021-01-21T14:20:30", 1611238830.0),  # no offset: UTC
    ("2021-01-21T14:20:30.250Z", 1611238830.25),
    ("2021-01-21T14:20Z", 1611238800.0),
    ("2021-01-21T09:20:30-0500", 1611238830.0),
])
def test_created_at_formats(text, epoch):
    """§4.6: ISO-8601 date and time with Z, offset or none (UTC)."""
    assert parse_iso8601(text) == pytest.approx(epoch)


def test_validation_order_cohort_id_then_name_then_created_at(braze):
    """§4.6: cohort_id → name → created_at."""
    assert msg(braze.declare(None, None, None)) == ID_ERR
    assert msg(braze.declare("1", None, None)) == NAME_ERR
    assert msg(braze.declare("1", "A", None)) == TIME_ERR


def test_redeclare_renames_keeps_created_at_and_membership(braze, model):
    """§4.6 / EC-27: a known id gets the new name, history kept, created_at kept, members untouched."""
    braze.seed("u1")
    braze.declare("1", "Old", "2021-01-21T19:20:30Z")
    braze.add("1", "u1")
    braze.clock.advance(60)
    assert braze.declare("1", "New", "2022-02-02T00:00:00Z").status_code == 201
    assert braze.last_journal()["effect"] == "renamed"
    cohort = model.cohort("1")
    assert cohort.name == "New" and cohort.created_at == "2021-01-21T19:20:30Z"
    assert [n for _, n in cohort.names] == ["Old", "New"]
    assert braze.member_ids("1") == {"u1"}
    assert model.filter_options() == [{"cohort_id": "1", "name": "New"}]
    assert model.filter_options(at=braze.clock.now() - 30) == [{"cohort_id": "1", "name": "Old"}]
    assert model.evaluate_segment({"mixpanel_cohorts": {"includes": "1"}})["count"] == 1


def test_redeclare_created_at_overwrite_switch(braze, model):
    """§3 braze.created_at_on_redeclare = overwrite."""
    braze.state.update_config({"braze.created_at_on_redeclare": "overwrite"})
    braze.declare("1", "Old", "2021-01-21T19:20:30Z")
    braze.declare("1", "Old", "2022-02-02T00:00:00Z")
    assert model.cohort("1").created_at == "2022-02-02T00:00:00Z"


def test_same_name_again_is_noop(braze, model):
    """§4.6: same name again is a no-op apart from the journal."""
    braze.declare("1", "A")
    braze.declare("1", "A")
    assert braze.last_journal()["effect"] == "unchanged"
    assert len(model.cohort("1").names) == 1
    assert len(braze.state.journal.find(path="/partners/mixpanel/cohorts")) == 2


def test_cohort_ids_are_scoped_by_partner_and_workspace(braze, model):
    """§4.6: unique within workspace + partner."""
    amp = model.generate_key(None, "amplitude")
    braze.declare("1", "Mixpanel one")
    braze.declare("1", "Amplitude one", slug="amplitude",
                  creds={"partner_api_key": "harness-amplitude-partner-key", "client_secret": amp})
    names = {(r["partner"], r["name"]) for r in model.list_cohorts()}
    assert names == {("mixpanel", "Mixpanel one"), ("amplitude", "Amplitude one")}


def test_unknown_top_level_fields_ignored(braze, model):
    """§4.3: unknown top-level fields are ignored."""
    assert braze.declare("1", "A", extra_field={"x": 1}, cohort_changes="nonsense").status_code == 201
