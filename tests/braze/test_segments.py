"""braze-cohort-sync.md §7: the "Mixpanel Cohorts" filter, combined filters, evaluation at time t."""

from __future__ import annotations

import pytest

from fakes.braze.segments import SegmentFilterError


@pytest.fixture
def world(braze, model):
    """u1, u2, u3 identified; anonymous d9. Cohort 1 = {u1, u2}, cohort 2 = {u2}."""
    users = model.users()
    for uid in ("u1", "u2", "u3"):
        users.add_identified(uid, attributes={"plan": "gold" if uid == "u1" else "free"})
    users.add_anonymous(devices=["d9"])
    braze.declare("1", "Power users")
    braze.declare("2", "Churn risk")
    braze.add("1", "u1", "u2")
    braze.add("2", "u2")
    return braze


def ext_ids(model, tree, at=None):
    result = model.evaluate_segment(tree, at=at)
    assert result["count"] == len(result["members"])
    return {m["external_id"] or "anon" for m in result["members"]}


def test_includes_and_excludes_short_form(world, model):
    """§7 / DESIGN.md §4: includes = members; excludes = every other profile of the universe."""
    assert ext_ids(model, {"mixpanel_cohorts": {"includes": "1"}}) == {"u1", "u2"}
    assert ext_ids(model, {"mixpanel_cohorts": {"excludes": "1"}}) == {"u3", "anon"}


def test_long_form_and_nesting(world, model):
    """§7: the spec's long form with and/or nested, by id and by name."""
    tree = {"and": [{"filter": "mixpanel_cohorts", "op": "includes", "cohort_id": "1"},
                    {"or": [{"filter": "mixpanel_cohorts", "op": "excludes", "cohort_name": "Churn risk"},
                            {"filter": "is_identified", "value": False}]}]}
    assert ext_ids(model, tree) == {"u1"}


def test_not_and_other_user_filters(world, model):
    """DESIGN.md §4: not; external id, braze id and attribute filters in the same style."""
    assert ext_ids(model, {"not": {"mixpanel_cohorts": {"includes": "1"}}}) == {"u3", "anon"}
    assert ext_ids(model, {"external_id_in": ["u3", "nope"]}) == {"u3"}
    assert ext_ids(model, {"is_identified": False}) == {"anon"}
    assert ext_ids(model, {"attribute": {"name": "plan", "equals": "gold"}}) == {"u1"}
    u2 = model.users().by_external_id("u2").braze_id
    assert ext_ids(model, {"filter": "braze_id_in", "values": [u2]}) == {"u2"}


def test_partner_cohorts_leaf(world, model):
    """§7: partner_cohorts with a partner slug; <slug>_cohorts short form for any registered partner."""
    assert ext_ids(model, {"filter": "partner_cohorts", "partner": "mixpanel", "op": "includes", "cohort_id": "2"}) == {"u2"}
    assert ext_ids(model, {"amplitude_cohorts": {"includes": "1"}}) == set()


@pytest.mark.parametrize("cohort_id", ["unknown"])
def test_unknown_held_or_empty_cohort(world, model, cohort_id):
    """§7: unknown, held or empty cohort: includes nobody, excludes the universe."""
    world.add("held", "u3")  # held: never declared
    world.declare("empty", "Empty")
    for cid in (cohort_id, "held", "empty"):
        assert ext_ids(model, {"mixpanel_cohorts": {"includes": cid}}) == set()
        assert ext_ids(model, {"mixpanel_cohorts": {"excludes": cid}}) == {"u1", "u2", "u3", "anon"}


def test_universe_at_time_t_and_historical_query(world, model):
    """§7 / EC-45: universe = profiles existing at t; membership at t from history."""
    t_before = world.clock.now() - 1
    assert model.evaluate_segment({"mixpanel_cohorts": {"includes": "1"}}, at=t_before)["count"] == 0
    assert model.evaluate_segment({"mixpanel_cohorts": {"excludes": "1"}}, at=t_before)["count"] == 0
    world.clock.advance(100)
    late = model.users().add_identified("late")
    world.clock.advance(100)
    model.users().delete(model.users().by_external_id("u3").braze_id)
    now = world.clock.now()
    assert "late" not in ext_ids(model, {"mixpanel_cohorts": {"excludes": "1"}}, at=now - 150)
    assert "u3" in ext_ids(model, {"mixpanel_cohorts": {"excludes": "1"}}, at=now - 1)
    assert ext_ids(model, {"mixpanel_cohorts": {"excludes": "1"}}, at=now) == {"late", "anon"}
    assert late.braze_id


def test_names_resolve_as_of_t_and_errors_name_candidates(world, model):
    """§7: cohort_name resolves to the single declared cohort with that name; errors name candidates."""
    world.declare("3", "Power users")
    with pytest.raises(SegmentFilterError, match="ambiguous: cohort ids 1, 3"):
        model.evaluate_segment({"mixpanel_cohorts": {"includes": {"name": "Power users"}}})
    with pytest.raises(SegmentFilterError, match="declared names: 'Churn risk', 'Power users', 'Power users'"):
        model.evaluate_segment({"mixpanel_cohorts": {"includes": {"name": "Nope"}}})


@pytest.mark.parametrize("tree, fragment", [
    ({"and": []}, "non-empty array"),
    ({"or": "x"}, "non-empty array"),
    ({}, "non-empty JSON object"),
    ("x", "non-empty JSON object"),
    ({"mixpanel_cohorts": {"contains": "1"}}, "expected"),
    ({"mixpanel_cohorts": {"includes": 1}}, "cohort id string"),
    ({"nope_cohorts": {"includes": "1"}}, "unknown partner"),
    ({"colour": "red"}, "unknown filter"),
    ({"filter": "mixpanel_cohorts", "op": "has", "cohort_id": "1"}, "op"),
    ({"filter": "mixpanel_cohorts", "op": "includes"}, "exactly one of"),
    ({"and": [{"is_identified": "yes"}]}, "filter.and[0].is_identified"),
    ({"a": 1, "b": 2}, "one filter per object"),
])
def test_bad_filter_trees_are_clear_errors(world, model, tree, fragment):
    """§7: an empty group or unknown leaf is an error naming the place."""
    with pytest.raises(SegmentFilterError) as info:
        model.evaluate_segment(tree)
    assert fragment in info.value.message


def test_filter_options_sorted_and_partner_disabled(world, model):
    """§7 / Q-25: options = declared cohorts by name then id; held not listed; disabled → empty, evaluation works."""
    world.add("held", "u3")
    assert model.filter_options() == [{"cohort_id": "2", "name": "Churn risk"}, {"cohort_id": "1", "name": "Power users"}]
    model.set_partner_enabled(None, "mixpanel", False)
    assert model.filter_options() == []
    assert ext_ids(model, {"mixpanel_cohorts": {"includes": "1"}}) == {"u1", "u2"}


def test_evaluation_is_read_only(world, model):
    before = model.list_cohorts()
    model.evaluate_segment({"or": [{"mixpanel_cohorts": {"includes": "1"}}, {"not": {"is_identified": True}}]})
    assert model.list_cohorts() == before


def test_hostile_nesting_is_a_clear_error(world, model):
    """§7: a tree nested deeper than any real segment is refused with a message, not a crash."""
    tree: dict = {"is_identified": True}
    for _ in range(500):
        tree = {"not": tree}
    with pytest.raises(SegmentFilterError, match="nest at most"):
        model.evaluate_segment(tree)
