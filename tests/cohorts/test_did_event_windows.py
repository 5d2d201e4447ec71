"""DESIGN.md §7.1 ``did_event``: counts in a window, with harness-default boundaries (README.md): "in the last
D days" at t is event time in ``(t − D·86400, t]``, ``from``/``to`` is ``[from, to]``, events after t or not yet
ingested at t never count; ``where`` is JSON equality, a list meaning "any of"."""

from __future__ import annotations

from harness.cohorts import DAY_S, CohortEvaluator, Event, InMemoryCohortSource, PropertyChange

T = 1_700_000_000


def members(definition, t, *events, changes=()):
    return CohortEvaluator(InMemoryCohortSource(events, changes)).sorted_members(definition, t)


def clicked(days=7, **body):
    return {"did_event": {"event": "Email Click", "within_days": days, **body}}


def test_last_d_days_excludes_the_instant_exactly_d_days_ago():
    event = Event("Email Click", "d1", T)
    assert members(clicked(), T + 7 * DAY_S - 1, event) == ["d1"]
    assert members(clicked(), T + 7 * DAY_S, event) == []


def test_last_d_days_includes_an_event_at_t_itself():
    assert members(clicked(), T, Event("Email Click", "d1", T)) == ["d1"]


def test_events_after_t_never_count():
    assert members(clicked(), T - 1, Event("Email Click", "d1", T)) == []
    ever = {"did_event": {"event": "Email Click"}}
    assert members(ever, T - 1, Event("Email Click", "d1", T)) == []


def test_fractional_days_are_seconds_of_a_day():
    event = Event("Email Click", "d1", T)
    assert members(clicked(days=0.5), T + DAY_S // 2 - 1, event) == ["d1"]
    assert members(clicked(days=0.5), T + DAY_S // 2, event) == []


def test_from_to_is_closed_at_both_ends():
    window = {"did_event": {"event": "Email Click", "from": T, "to": T + 100}}
    at_start, at_end = Event("Email Click", "a", T), Event("Email Click", "b", T + 100)
    before, after = Event("Email Click", "c", T - 1), Event("Email Click", "d", T + 101)
    assert members(window, T + 1000, at_start, at_end, before, after) == ["a", "b"]


def test_from_to_counts_only_what_has_happened_by_t():
    window = {"did_event": {"event": "Email Click", "from": T, "to": T + 100}}
    events = (Event("Email Click", "a", T), Event("Email Click", "b", T + 50))
    assert members(window, T + 10, *events) == ["a"]
    assert members(window, T - 10, *events) == []


def test_open_ended_from_or_to():
    events = (Event("Email Click", "a", T), Event("Email Click", "b", T + 50))
    assert members({"did_event": {"event": "Email Click", "from": T + 1}}, T + 60, *events) == ["b"]
    assert members({"did_event": {"event": "Email Click", "to": T + 1}}, T + 60, *events) == ["a"]


def test_an_event_not_yet_ingested_at_t_does_not_count():
    late = Event("Email Click", "d1", T, known_at=T + 3600)
    assert members(clicked(), T + 3599, late) == []
    assert members(clicked(), T + 3600, late) == ["d1"]


def test_a_late_event_still_leaves_the_window_d_days_after_its_time():
    late = Event("Email Click", "d1", T, known_at=T + DAY_S)
    assert members(clicked(days=1), T + DAY_S - 1, late) == []  # not ingested yet
    assert members(clicked(days=1), T + DAY_S, late) == []  # ingested, but its time has left the window


def test_min_max_and_exactly_count_events_in_the_window():
    events = [Event("Email Click", "twice", T), Event("Email Click", "twice", T + 1),
              Event("Email Click", "once", T), Event("Email Click", "thrice", T)] + \
             [Event("Email Click", "thrice", T + i) for i in (1, 2)]
    t = T + 10
    assert members(clicked(min_count=2), t, *events) == ["thrice", "twice"]
    assert members(clicked(exactly=2), t, *events) == ["twice"]
    assert members(clicked(min_count=1, max_count=2), t, *events) == ["once", "twice"]


def test_at_most_and_exactly_zero_include_those_who_never_did_it():
    events = (Event("Email Click", "clicker", T), Event("Open", "opener", T))
    assert members(clicked(max_count=0), T + 1, *events, changes=[PropertyChange("quiet", T, "plan", "pro")]) == \
        ["opener", "quiet"]
    assert members(clicked(exactly=0), T + 1, *events) == ["opener"]


def test_where_matches_event_properties_by_equality():
    events = (Event("Email Click", "c1", T, {"campaign_id": "c1"}),
              Event("Email Click", "c2", T, {"campaign_id": "c2"}), Event("Email Click", "none", T, {}))
    assert members(clicked(where={"campaign_id": "c1"}), T, *events) == ["c1"]


def test_where_with_a_list_means_any_of():
    events = [Event("Email Click", c, T, {"campaign_id": c}) for c in ("c1", "c2", "c3")]
    assert members(clicked(where={"campaign_id": ["c1", "c3"]}), T, *events) == ["c1", "c3"]


def test_where_is_json_equality_true_is_not_one():
    events = (Event("Email Click", "flag", T, {"n": True}), Event("Email Click", "one", T, {"n": 1}),
              Event("Email Click", "float", T, {"n": 1.0}))
    assert members(clicked(where={"n": 1}), T, *events) == ["float", "one"]
    assert members(clicked(where={"n": True}), T, *events) == ["flag"]


def test_where_needs_every_listed_property():
    events = (Event("Email Click", "both", T, {"a": 1, "b": 2}), Event("Email Click", "a_only", T, {"a": 1}))
    assert members(clicked(where={"a": 1, "b": 2}), T, *events) == ["both"]


def test_where_counts_only_matching_events_toward_min_count():
    events = (Event("Email Click", "d1", T, {"campaign_id": "c1"}),
              Event("Email Click", "d1", T, {"campaign_id": "c2"}))
    assert members(clicked(min_count=2), T, *events) == ["d1"]
    assert members(clicked(min_count=2, where={"campaign_id": "c1"}), T, *events) == []


def test_other_event_names_never_count():
    assert members(clicked(), T, Event("Email Open", "d1", T)) == []
