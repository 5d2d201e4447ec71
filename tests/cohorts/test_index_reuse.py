"""Issue 9 item 4, speed: the source is indexed once and the index serves every evaluation time and cohort;
nothing rescans the source per evaluation."""

from __future__ import annotations

from harness.cohorts import CohortEvaluator, CohortIndex, Event, PropertyChange, parse_definition

T = 1_700_000_000


class CountingSource:
    """A ``CohortSource`` that counts how often it is read."""

    def __init__(self) -> None:
        self.reads = 0

    def events(self):
        self.reads += 1
        return [Event("Email Click", f"d{i}", T + i, {"campaign_id": f"c{i % 3}"}) for i in range(30)]

    def property_changes(self):
        self.reads += 1
        return [PropertyChange(f"d{i}", T + i, "plan", "pro" if i % 2 else "free") for i in range(30)]


def test_the_source_is_read_once_for_many_times_and_cohorts():
    source = CountingSource()
    evaluator = CohortEvaluator(source)
    cohorts = [{"did_event": {"event": "Email Click", "within_days": 1, "where": {"campaign_id": "c1"}}},
               {"profile": {"property": "plan", "equals": "pro"}},
               {"not": {"did_event": {"event": "Email Click", "min_count": 2}}}]
    for t in range(T, T + 40, 5):
        for cohort in cohorts:
            evaluator.members(cohort, t)
        evaluator.changes(cohorts[0], T, t)
    assert source.reads == 2


def test_an_index_can_be_shared_by_evaluators():
    index = CohortIndex(CountingSource())
    assert CohortEvaluator(index).index is index


def test_a_where_narrowed_table_is_built_once_and_reused():
    index = CohortIndex(CountingSource())
    evaluator = CohortEvaluator(index)
    cohort = parse_definition({"did_event": {"event": "Email Click", "where": {"campaign_id": ["c0", "c2"]}}})
    first = evaluator.members(cohort, T + 100)
    assert len(first) == 20
    # Cached under the node's ``where``: asking again with a filter that keeps nothing returns the same table.
    table = index.events("Email Click", cohort.where, lambda event: False)
    assert len(table.rows) == 20
    assert evaluator.members(cohort, T + 200) == first
