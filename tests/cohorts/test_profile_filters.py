"""DESIGN.md §7.1 ``profile`` filters, on properties that are a timeline of value changes at simulated times
(braze-cohort-sync.md §8.1): the value at t is the last change at or before t; ``None`` unsets."""

from __future__ import annotations

import pytest

from harness.cohorts import CohortEvaluator, InMemoryCohortSource, PropertyChange

T = 1_700_000_000


def members(body, t, *changes):
    return CohortEvaluator(InMemoryCohortSource((), changes)).sorted_members({"profile": body}, t)


PEOPLE = (PropertyChange("pro", T, "plan", "pro"), PropertyChange("free", T, "plan", "free"),
          PropertyChange("team", T, "plan", "team"), PropertyChange("nameless", T, "age", 40),
          PropertyChange("flag", T, "plan", True))


@pytest.mark.parametrize(("body", "expected"), [
    ({"property": "plan", "equals": "pro"}, ["pro"]),
    ({"property": "plan", "in": ["pro", "team"]}, ["pro", "team"]),
    ({"property": "plan", "is_set": True}, ["flag", "free", "pro", "team"]),
    ({"property": "plan", "is_set": False}, ["nameless"]),
    ({"property": "plan", "not_set": True}, ["nameless"]),
    ({"property": "plan", "not_set": False}, ["flag", "free", "pro", "team"]),
    ({"property": "plan", "equals": True}, ["flag"]),
])
def test_equality_membership_and_presence(body, expected):
    assert members(body, T, *PEOPLE) == expected


AGES = tuple(PropertyChange(f"age{a}", T, "age", a) for a in (17, 18, 65)) + (
    PropertyChange("text", T, "age", "40"), PropertyChange("yes", T, "age", True))


@pytest.mark.parametrize(("op", "operand", "expected"), [
    ("gt", 17, ["age18", "age65"]),
    ("gte", 18, ["age18", "age65"]),
    ("lt", 65, ["age17", "age18"]),
    ("lte", 18, ["age17", "age18"]),
    ("gt", 17.5, ["age18", "age65"]),
])
def test_numeric_comparisons(op, operand, expected):
    assert members({"property": "age", op: operand}, T, *AGES) == expected


def test_a_non_number_never_passes_a_numeric_comparison():
    """Strings and booleans fail gt/lt (true is not 1), so they are also absent from the complement's failures."""
    assert "text" not in members({"property": "age", "gt": 0}, T, *AGES)
    assert "yes" not in members({"property": "age", "lt": 2}, T, *AGES)


def test_equals_is_json_equality_one_is_not_true():
    changes = (PropertyChange("one", T, "n", 1), PropertyChange("true", T, "n", True), PropertyChange("f", T, "n", 1.0))
    assert members({"property": "n", "equals": 1}, T, *changes) == ["f", "one"]


def test_the_value_at_t_is_the_last_change_at_or_before_t():
    changes = (PropertyChange("d1", T, "plan", "free"), PropertyChange("d1", T + 100, "plan", "pro"),
               PropertyChange("d1", T + 200, "plan", "free"))
    pro = {"property": "plan", "equals": "pro"}
    assert [members(pro, t, *changes) for t in (T, T + 99, T + 100, T + 199, T + 200)] == \
        [[], [], ["d1"], ["d1"], []]


def test_changes_need_not_arrive_in_time_order():
    changes = (PropertyChange("d1", T + 100, "plan", "pro"), PropertyChange("d1", T, "plan", "free"))
    assert members({"property": "plan", "equals": "pro"}, T + 150, *changes) == ["d1"]
    assert members({"property": "plan", "equals": "free"}, T + 50, *changes) == ["d1"]


def test_of_two_changes_at_one_time_the_later_listed_wins():
    changes = (PropertyChange("d1", T, "plan", "free"), PropertyChange("d1", T, "plan", "pro"))
    assert members({"property": "plan", "equals": "pro"}, T, *changes) == ["d1"]


def test_none_unsets_a_property():
    changes = (PropertyChange("d1", T, "plan", "pro"), PropertyChange("d1", T + 10, "plan", None))
    assert members({"property": "plan", "is_set": True}, T + 5, *changes) == ["d1"]
    assert members({"property": "plan", "not_set": True}, T + 10, *changes) == ["d1"]


def test_before_its_first_change_a_profile_is_unknown_not_unset():
    """Not in the universe before it exists, so not even ``not_set`` holds for it."""
    changes = (PropertyChange("d1", T, "plan", "pro"),)
    assert members({"property": "plan", "not_set": True}, T - 1, *changes) == []
    assert members({"property": "other", "not_set": True}, T, *changes) == ["d1"]
