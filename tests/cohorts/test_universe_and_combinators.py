"""DESIGN.md §7.1 ``ids``, ``and``, ``or``, ``not``, over the universe at t: every distinct_id the source knows at
t, from an event visible at t or from a profile change at or before t (braze-cohort-sync.md §8.1)."""

from __future__ import annotations

from harness.cohorts import CohortEvaluator, CohortIndex, Event, InMemoryCohortSource, PropertyChange

T = 1_700_000_000
SOURCE = InMemoryCohortSource(
    [Event("Email Click", "clicker", T), Event("Email Click", "late", T, known_at=T + 50),
     Event("Open", "future", T + 100)],
    [PropertyChange("pro", T, "plan", "pro"), PropertyChange("clicker", T, "plan", "free"),
     PropertyChange("newcomer", T + 10, "plan", "pro")])
EVALUATOR = CohortEvaluator(SOURCE)


def members(definition, t=T):
    return EVALUATOR.sorted_members(definition, t)


def test_the_universe_is_every_id_known_at_t_from_events_or_profiles():
    index = CohortIndex(SOURCE)
    assert sorted(index.universe(T)) == ["clicker", "pro"]
    assert sorted(index.universe(T + 50)) == ["clicker", "late", "newcomer", "pro"]
    assert sorted(index.universe(T + 100)) == ["clicker", "future", "late", "newcomer", "pro"]


def test_ids_lists_members_that_mixpanel_knows_at_t():
    assert members({"ids": ["pro", "nobody", "newcomer"]}) == ["pro"]
    assert members({"ids": ["pro", "nobody", "newcomer"]}, T + 10) == ["newcomer", "pro"]


def test_not_is_the_universe_at_t_minus_the_cohort():
    assert members({"not": {"ids": ["pro"]}}) == ["clicker"]
    assert members({"not": {"ids": ["pro"]}}, T + 100) == ["clicker", "future", "late", "newcomer"]


def test_and_is_every_child_or_is_any_child():
    clicked = {"did_event": {"event": "Email Click", "within_days": 1}}
    free = {"profile": {"property": "plan", "equals": "free"}}
    pro = {"profile": {"property": "plan", "equals": "pro"}}
    assert members({"and": [clicked, free]}) == ["clicker"]
    assert members({"or": [clicked, pro]}, T + 50) == ["clicker", "late", "newcomer", "pro"]
    assert members({"and": [clicked, {"not": free}]}, T + 50) == ["late"]


def test_double_negation_is_the_cohort_itself():
    pro = {"profile": {"property": "plan", "equals": "pro"}}
    for t in (T - 1, T, T + 10, T + 100):
        assert members({"not": {"not": pro}}, t) == members(pro, t)


def test_an_empty_source_has_no_members_even_for_not():
    empty = CohortEvaluator(InMemoryCohortSource())
    assert empty.sorted_members({"not": {"ids": []}}, T) == []
