"""The engine's configuration (braze-cohort-sync.md §3, the `mixpanel.*` keys) and the in-memory cohort
timelines behind the `CohortMembers` protocol (§8.1)."""

from __future__ import annotations

import pytest
from sync_kit import T0

from harness.connectors.cohort_sync import CohortInfo, CohortSyncConfig, CohortSyncConfigError, InMemoryCohorts
from harness.connectors.cohort_sync.config import KEYS

SPEC_DEFAULTS = {
    "mixpanel.dynamic_interval_s": 7200,
    "mixpanel.identifier_property": "$braze_external_id",
    "mixpanel.cohort_id_template": "{cohort_id}",
    "mixpanel.batch_size": 1000,
    "mixpanel.batch_order": "adds_first",
    "mixpanel.send_empty_runs": False,
    "mixpanel.declare_every_run": False,
    "mixpanel.retry.delays_s": (2, 4, 8, 16, 30),
    "mixpanel.retry.transient_statuses": ("429", "5xx", "423", "network_error"),
    "mixpanel.pause_statuses": ("400", "401", "403", "404", "4xx", "3xx"),
    "mixpanel.pause_scope": "sync",
    "mixpanel.snapshot_ttl_s": 259200,
    "mixpanel.diff_key": "export_id",
    "mixpanel.dynamic_sync_limit": 60,
    "mixpanel.max_cohort_users": 10_000_000,
    "mixpanel.rename_propagation": "next_run",
    "mixpanel.on_cohort_delete": "freeze",
    "mixpanel.on_sync_stop": "freeze",
    "mixpanel.resume": "next_tick",
    "mixpanel.request_latency_s": 0,
}


def test_every_mixpanel_key_of_the_spec_at_its_default():
    """§3: every `mixpanel.*` key, documented default."""
    assert CohortSyncConfig().to_keys() == SPEC_DEFAULTS
    assert set(KEYS) == set(SPEC_DEFAULTS)


def test_from_keys_takes_dotted_keys_and_lists():
    config = CohortSyncConfig.from_keys({"mixpanel.retry.delays_s": [1, 1], "mixpanel.dynamic_interval_s": 900})
    assert config.retry_delays_s == (1.0, 1.0) and config.dynamic_interval_s == 900
    assert config.with_keys({"mixpanel.batch_size": 10}).batch_size == 10
    with pytest.raises(CohortSyncConfigError, match="unknown cohort sync keys: mixpanel.bogus"):
        CohortSyncConfig.from_keys({"mixpanel.bogus": 1})


@pytest.mark.parametrize(("values", "named"), [
    ({"dynamic_interval_s": 0}, "mixpanel.dynamic_interval_s"),
    ({"dynamic_interval_s": "7200"}, "mixpanel.dynamic_interval_s"),
    ({"identifier_property": ""}, "mixpanel.identifier_property"),
    ({"cohort_id_template": "{nope}"}, "mixpanel.cohort_id_template"),
    ({"batch_size": 0}, "mixpanel.batch_size"),
    ({"batch_size": True}, "mixpanel.batch_size"),
    ({"batch_order": "random"}, "mixpanel.batch_order"),
    ({"send_empty_runs": 1}, "mixpanel.send_empty_runs"),
    ({"retry_delays_s": 5}, "mixpanel.retry.delays_s"),
    ({"retry_delays_s": (1, -1)}, "mixpanel.retry.delays_s"),
    ({"retry_transient_statuses": ("teapot",)}, "mixpanel.retry.transient_statuses"),
    ({"pause_statuses": ("40",)}, "mixpanel.pause_statuses"),
    ({"pause_scope": "project"}, "mixpanel.pause_scope"),
    ({"snapshot_ttl_s": -1}, "mixpanel.snapshot_ttl_s"),
    ({"diff_key": "email"}, "mixpanel.diff_key"),
    ({"dynamic_sync_limit": -1}, "mixpanel.dynamic_sync_limit"),
    ({"max_cohort_users": 1.5}, "mixpanel.max_cohort_users"),
    ({"rename_propagation": "later"}, "mixpanel.rename_propagation"),
    ({"on_cohort_delete": "drop"}, "mixpanel.on_cohort_delete"),
    ({"on_sync_stop": "drop"}, "mixpanel.on_sync_stop"),
    ({"resume": "soon"}, "mixpanel.resume"),
    ({"request_latency_s": -0.1}, "mixpanel.request_latency_s"),
])
def test_invalid_values_name_their_key(values, named):
    with pytest.raises(CohortSyncConfigError, match=named.replace(".", r"\.")):
        CohortSyncConfig(**values)


def test_status_classes():
    """§8.6 / §3: transient 429, 5xx, 423, network errors; pause 400/401/403/404, other 4xx, 3xx."""
    config = CohortSyncConfig()
    assert [config.is_transient(s) for s in (429, 500, 503, 423, None, 400, 302)] == [True] * 5 + [False] * 2
    assert [config.pauses(s) for s in (400, 401, 403, 404, 409, 302, 429, 503, None)] == [True] * 6 + [False] * 3
    narrow = CohortSyncConfig(retry_transient_statuses=(503,), pause_statuses=("4xx",))
    assert narrow.is_transient(503) and not narrow.is_transient(500) and not narrow.pauses(302)


def test_cohort_timelines_answer_as_of_a_time():
    cohorts = InMemoryCohorts()
    cohorts.add_cohort(1, "A", at=T0)
    cohorts.set_properties("d1", {"$braze_external_id": "u1", "plan": "pro"}, at=T0)
    cohorts.enter(1, ["d1", "d2"], at=T0 + 10)
    cohorts.leave(1, "d2", at=T0 + 20)
    cohorts.set_properties("d1", {"plan": None}, at=T0 + 30)
    cohorts.rename(1, "B", at=T0 + 40)
    cohorts.delete(1, at=T0 + 50)
    assert cohorts.cohort(1, T0 - 1) is None
    assert cohorts.cohort(1, T0 + 45) == CohortInfo(1, "B", "user", False)
    assert cohorts.cohort(1, T0 + 50) == CohortInfo(1, "B", "user", True)
    assert cohorts.count(1, T0 + 5) == 0 and cohorts.count(1, T0 + 15) == 2 and cohorts.count(1, T0 + 25) == 1
    (member,) = cohorts.members(1, T0 + 35)
    assert member.distinct_id == "d1" and dict(member.properties) == {"$braze_external_id": "u1"}
    assert cohorts.properties("d1", T0 + 25) == {"$braze_external_id": "u1", "plan": "pro"}
    with pytest.raises(ValueError, match="exists already"):
        cohorts.add_cohort(1, "again", at=T0)
    with pytest.raises(KeyError, match="no cohort 2"):
        cohorts.enter(2, ["d1"], at=T0)
