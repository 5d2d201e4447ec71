"""Membership over time (issue 9 item 4; braze-cohort-sync.md §8.1 "membership as a timeline of enter/leave
events per distinct_id"): who enters and leaves when, computed exactly from the change points."""

from __future__ import annotations

from harness.cohorts import DAY_S, CohortEvaluator, Event, InMemoryCohortSource, MembershipChange, PropertyChange

T = 1_700_000_000
CLICKED_7D = {"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7}}


def changes(definition, t0, t1, events=(), property_changes=()):
    evaluator = CohortEvaluator(InMemoryCohortSource(events, property_changes))
    return [tuple(c) for c in evaluator.changes(definition, t0, t1)]


def test_a_click_enters_at_its_time_and_leaves_seven_days_later():
    assert changes(CLICKED_7D, T - DAY_S, T + 30 * DAY_S, [Event("Email Click", "d1", T)]) == [
        (T, "d1", "enter"), (T + 7 * DAY_S, "d1", "leave")]


def test_a_second_click_in_the_window_extends_membership_without_a_change():
    events = [Event("Email Click", "d1", T), Event("Email Click", "d1", T + 3 * DAY_S)]
    assert changes(CLICKED_7D, T - 1, T + 30 * DAY_S, events) == [(T, "d1", "enter"), (T + 10 * DAY_S, "d1", "leave")]


def test_a_late_ingested_event_enters_when_mixpanel_learns_of_it():
    events = [Event("Email Click", "d1", T, known_at=T + 3600)]
    assert changes(CLICKED_7D, T - 1, T + 30 * DAY_S, events) == [(T + 3600, "d1", "enter"),
                                                                   (T + 7 * DAY_S, "d1", "leave")]


def test_profile_changes_move_members_in_and_out():
    pro = {"profile": {"property": "plan", "equals": "pro"}}
    timeline = [PropertyChange("d1", T, "plan", "free"), PropertyChange("d1", T + 100, "plan", "pro"),
                PropertyChange("d1", T + 200, "plan", None)]
    assert changes(pro, T - 1, T + 1000, property_changes=timeline) == [(T + 100, "d1", "enter"),
                                                                        (T + 200, "d1", "leave")]


def test_changes_are_in_the_half_open_span_t0_t1():
    events = [Event("Email Click", "d1", T)]
    assert changes(CLICKED_7D, T, T + 30 * DAY_S, events) == [(T + 7 * DAY_S, "d1", "leave")]  # member at t0
    assert changes(CLICKED_7D, T - 1, T, events) == [(T, "d1", "enter")]
    assert changes(CLICKED_7D, T - 1, T + 7 * DAY_S - 1, events) == [(T, "d1", "enter")]


def test_not_enters_when_an_id_becomes_known_and_leaves_on_the_event():
    never_clicked = {"not": CLICKED_7D}
    assert changes(never_clicked, T - DAY_S, T + 10 * DAY_S,
                   [Event("Open", "d1", T - 100), Event("Email Click", "d1", T)]) == [
        (T - 100, "d1", "enter"), (T, "d1", "leave"), (T + 7 * DAY_S, "d1", "enter")]


def test_a_change_is_a_named_tuple_of_time_distinct_id_and_kind():
    evaluator = CohortEvaluator(InMemoryCohortSource([Event("Email Click", "d1", T)]))
    (first, _) = evaluator.changes(CLICKED_7D, T - 1, T + 8 * DAY_S)
    assert first == MembershipChange(T, "d1", "enter")
    assert (first.time, first.distinct_id, first.change) == (T, "d1", "enter")


def test_changes_replayed_on_the_members_at_t0_give_the_members_at_every_tick():
    """The sync engine's view: one 2-hour tick after another (braze-cohort-sync.md §8.3)."""
    events = [Event("Email Click", f"d{i}", T + i * 5000) for i in range(20)]
    evaluator = CohortEvaluator(InMemoryCohortSource(events))
    t0, tick = T - 3600, 7200
    members = set(evaluator.members(CLICKED_7D, t0))
    timeline = evaluator.changes(CLICKED_7D, t0, t0 + 120 * tick)
    for k in range(1, 121):
        at = t0 + k * tick
        for change in timeline:
            if at - tick < change.time <= at:
                (members.add if change.change == "enter" else members.discard)(change.distinct_id)
        assert members == evaluator.members(CLICKED_7D, at), at
