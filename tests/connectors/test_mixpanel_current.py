"""Braze's Mixpanel Current, the reference Currents → Mixpanel connector (issue 9 item 2;
currents-to-mixpanel.md §10, mixpanel-ingestion.md §5.2, §5.8, §11), against the fake Mixpanel in-process.

Every test ends with the ledger check: each submitted event is in exactly one bucket."""

from __future__ import annotations

import pytest
from currents_kit import ANCHOR, currents_events, expected_by_insert_id, import_requests, mixpanel_events

from harness.connectors import CurrentOptions, MixpanelCurrent, MixpanelTarget, RetryPolicy


def _deliver(fleet, events, *, advance_s: float = 60, **kwargs) -> MixpanelCurrent:
    current = MixpanelCurrent(fleet.scheduler, **kwargs)
    current.submit(events)
    fleet.clock.advance(advance_s)
    return current


def _assert_accounted(current: MixpanelCurrent, submitted: int) -> None:
    report = current.report
    assert report.accounted()
    assert report.delivered + report.rejected + report.not_exported + report.discarded + report.pending == submitted


def test_every_exportable_event_arrives_exactly_as_the_mapping_says(fleet):
    """§10: the mapped events reach /import?strict=1; compared event by event, keyed by $insert_id."""
    events = currents_events(events=800)
    current = _deliver(fleet, events)
    expected = expected_by_insert_id(events)
    arrived = {e["properties"]["$insert_id"]: e for e in mixpanel_events(fleet)}
    assert sorted(arrived) == sorted(expected)
    differing = [k for k in expected if arrived[k] != expected[k]]
    assert differing == [], f"{len(differing)} differ, first: {expected[differing[0]]} != {arrived[differing[0]]}"
    assert current.report.delivered == len(expected) and current.report.pending == 0
    _assert_accounted(current, len(events))


def test_users_without_external_user_id_are_not_exported_and_say_why(fleet):
    """E2 (currents-to-mixpanel.md §2): no external_user_id, no Mixpanel event; the report says so."""
    events = currents_events(events=400)
    current = _deliver(fleet, events)
    anonymous = {e["id"] for e in events if not e["user"].get("external_user_id")}
    assert anonymous, "the world has anonymous users"
    skipped = {note.event_id: note.reason for note in current.report.notes("not_exported")}
    assert anonymous <= set(skipped)
    assert {skipped[i] for i in anonymous} <= {"no_external_user_id", "not_exported"}
    assert "no_external_user_id" in set(skipped.values())
    arrived = {e["properties"]["$insert_id"] for e in mixpanel_events(fleet)}
    assert not arrived & anonymous
    _assert_accounted(current, len(events))


def test_batches_hold_at_most_2000_events(fleet):
    """mixpanel-ingestion.md §5.2: 2000 events per request."""
    events = currents_events(events=5000)
    current = _deliver(fleet, events)
    counts = [entry["records_accepted"] for entry in import_requests(fleet)]
    delivered = current.report.delivered
    assert counts == [2000] * (delivered // 2000) + ([delivered % 2000] if delivered % 2000 else [])
    _assert_accounted(current, len(events))


def test_batches_stay_under_the_byte_limit(fleet):
    events = currents_events(events=300)
    options = CurrentOptions(max_batch_bytes=20_000)
    current = _deliver(fleet, events, options=options)
    bodies = [entry["body_bytes"] for entry in import_requests(fleet)]
    assert len(bodies) > 1 and max(bodies) <= 20_000
    assert current.report.pending == 0 and current.report.delivered == len(expected_by_insert_id(events))


def test_nothing_is_sent_before_the_flush_interval_and_flush_sends_at_once(fleet):
    events = currents_events(events=50)
    current = MixpanelCurrent(fleet.scheduler, options=CurrentOptions(flush_interval_s=30))
    current.submit(events)
    fleet.clock.advance(29)
    assert import_requests(fleet) == [] and current.waiting_for == "flush"
    fleet.clock.advance(1)
    assert len(import_requests(fleet)) == 1
    current.submit(currents_events(seed=4, events=20))
    current.flush()
    assert len(import_requests(fleet)) == 2 and current.waiting_for is None


def test_a_partly_invalid_batch_keeps_mixpanels_messages_and_resends_nothing(fleet):
    """§5.8: 400 with failed_records; the valid events are ingested. Here: events dated more than an hour
    in the fake's future (V6) are refused."""
    events = currents_events(events=300)
    times = sorted(e["time"] for e in events)
    fleet.clock.set(times[len(times) // 2] - 7200)  # the later half of the events is now in Mixpanel's future
    current = _deliver(fleet, events, advance_s=10)
    assert current.report.rejected > 0 and current.report.delivered > 0
    assert set(current.report.reasons("rejected")) == {
        "properties.time: 'properties.time' is invalid: must not be in the future"}
    requests_before = len(import_requests(fleet))
    fleet.clock.advance(3 * 86_400)
    assert len(import_requests(fleet)) == requests_before  # never resent
    _assert_accounted(current, len(events))


def test_a_413_splits_the_batch_until_it_fits(fleet):
    """§5.2: a body over import.max_body_bytes gets 413; the Current splits it in halves."""
    events = currents_events(events=400)
    fleet["mixpanel"].configure({"import.max_body_bytes": 30_000})
    current = _deliver(fleet, events)
    statuses = [entry["status"] for entry in import_requests(fleet)]
    assert 413 in statuses and statuses[-1] == 200
    assert current.report.delivered == len(expected_by_insert_id(events)) and current.report.rejected == 0
    assert len(mixpanel_events(fleet)) == current.report.delivered


def test_a_429_storm_and_5xx_bursts_leave_each_event_once_in_the_dedup_view(fleet):
    """§11 / §10: back-off on the simulated clock, then resend; Mixpanel's dedup makes one event."""
    events = currents_events(events=5000)
    fleet["mixpanel"].add_faults([  # the first two answers are lost after ingesting, then a storm of 429s
        {"id": "lost", "match": {"path": "/import"}, "nth": [1, 2], "ingest": True,
         "action": {"type": "status", "status": 503}},
        {"id": "storm", "match": {"path": "/import"}, "times": 7, "action": {"type": "rate_limit"}},
    ])
    current = _deliver(fleet, events, advance_s=3600)
    expected = expected_by_insert_id(events)
    dedup = mixpanel_events(fleet)
    assert len(dedup) == len(expected) == current.report.delivered
    assert len(mixpanel_events(fleet, "raw")) > len(dedup)  # the 503s after ingesting were resent
    assert current.report.retries >= 9
    _assert_accounted(current, len(events))


def test_back_off_grows_and_its_jitter_is_seeded(fleet):
    events = currents_events(events=20)
    fleet["mixpanel"].add_faults({"match": {"path": "/import"}, "times": 4, "action": {"type": "status",
                                                                                      "status": 500}})
    policy = RetryPolicy(base_s=1, factor=2, jitter=0.1)
    current = _deliver(fleet, events, advance_s=600, options=CurrentOptions(flush_interval_s=0, retry=policy),
                       seed=9)
    times = [entry["at"] for entry in import_requests(fleet)]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 4
    for attempt, gap in enumerate(gaps, start=1):
        assert 0.9 * 2 ** (attempt - 1) <= gap <= 1.1 * 2 ** (attempt - 1)
    assert current.report.delivered == len(expected_by_insert_id(events))


def test_after_max_attempts_the_batch_is_requeued_and_still_delivered(fleet):
    events = currents_events(events=20)
    fleet["mixpanel"].add_faults({"match": {"path": "/import"}, "times": 12, "action": {"type": "status",
                                                                                       "status": 502}})
    current = _deliver(fleet, events, advance_s=3600)
    assert current.report.delivered == len(expected_by_insert_id(events))
    assert len(import_requests(fleet)) == 13
    _assert_accounted(current, len(events))


def test_connection_errors_are_retried(fleet):
    events = currents_events(events=20)
    fleet["mixpanel"].add_faults({"match": {"path": "/import"}, "times": 2,
                                  "action": {"type": "drop_before_response", "mode": "rst"}})
    current = _deliver(fleet, events, advance_s=600)
    assert current.report.delivered == len(expected_by_insert_id(events)) and current.report.retries == 2


def test_refused_credentials_pause_the_current_and_a_probe_resumes_it(fleet):
    """§10: on 401 the Current stops sending and keeps its queue; a probe resumes it when they work again."""
    events = currents_events(events=100)
    t0 = fleet.clock.now()
    fleet["mixpanel"].add_faults({"match": {"path": "/import"}, "active_until": t0 + 5 * 3600,
                                  "action": {"type": "status", "status": 401}})
    current = _deliver(fleet, events, advance_s=3600)
    assert current.paused_since is not None and current.report.pending == len(expected_by_insert_id(events))
    assert current.waiting_for == "probe"
    fleet.clock.advance(5 * 3600)
    assert current.paused_since is None and current.report.delivered == len(expected_by_insert_id(events))
    _assert_accounted(current, len(events))


def test_credentials_refused_for_more_than_48_hours_discard_the_queue_and_report_it(fleet):
    """§10: "if that lasts more than 48 hours, the queued events are discarded for good"."""
    events = currents_events(events=100)
    current = _deliver(fleet, events, advance_s=60, target=MixpanelTarget(api_secret="wrong-secret"))
    exportable = len(expected_by_insert_id(events))
    fleet.clock.advance(47 * 3600)
    assert current.report.pending == exportable and current.report.discarded == 0
    fleet.clock.advance(2 * 3600)
    assert current.report.discarded == exportable and current.report.pending == 0
    assert set(current.report.reasons("discarded")) == {"credentials refused for more than 48 h"}
    assert mixpanel_events(fleet) == []
    _assert_accounted(current, len(events))


def test_a_service_account_authenticates_with_the_project_id(fleet):
    events = currents_events(events=30)
    target = MixpanelTarget(api_secret=None, service_account=("harness-sa", "harness-sa-secret"), project_id=1)
    current = _deliver(fleet, events, target=target)
    assert current.report.delivered == len(expected_by_insert_id(events))
    assert import_requests(fleet)[0]["query"]["project_id"] == ["1"]


def test_the_region_host_is_used(fleet):
    events = currents_events(events=30)
    current = _deliver(fleet, events, target=MixpanelTarget(region="eu"))
    assert current.report.delivered > 0
    assert {entry["headers"].get("Host") for entry in import_requests(fleet)} == {"api-eu.mixpanel.com"}


def test_unselected_event_types_count_as_not_exported(fleet):
    events = currents_events(events=200)
    current = _deliver(fleet, events, selects=lambda e: e["event_type"].startswith("users.behaviors."))
    assert current.report.reasons("not_exported")["type_not_selected"] > 0
    assert all(not e["event"].startswith("Email") for e in mixpanel_events(fleet))
    _assert_accounted(current, len(events))


def test_the_same_seed_gives_the_same_requests_at_the_same_simulated_times():
    from fakes.fleet import FakeFleet

    def run() -> list[tuple[float, int, int]]:
        with FakeFleet() as fleet:
            fleet.clock.set(ANCHOR + 60)
            fleet["mixpanel"].add_faults({"match": {"path": "/import"}, "probability": 0.5, "seed": 1,
                                          "action": {"type": "status", "status": 503}})
            _deliver(fleet, currents_events(events=3000), advance_s=3600, seed=5)
            return [(e["at"], e["status"], e["body_bytes"]) for e in import_requests(fleet)]

    first = run()
    assert len(first) > 2 and first == run()


def test_bad_targets_and_options_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="region"):
        MixpanelTarget(region="mars")
    with pytest.raises(ValueError, match="project_id"):
        MixpanelTarget(service_account=("u", "s"))
    with pytest.raises(ValueError, match="at least one"):
        CurrentOptions(max_batch_events=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)


def test_events_submitted_on_one_thread_while_another_moves_the_clock_are_all_accounted_for(fleet):
    """A control route may queue events while the clock runs the Current's flushes on another thread."""
    import threading

    events = currents_events(events=3000)
    current = MixpanelCurrent(fleet.scheduler, options=CurrentOptions(flush_interval_s=1, max_batch_events=200))

    def feed() -> None:
        for start in range(0, len(events), 100):
            current.submit(events[start:start + 100])

    feeder = threading.Thread(target=feed)
    feeder.start()
    while feeder.is_alive():
        fleet.clock.advance(1)
    feeder.join()
    fleet.clock.advance(60)
    assert current.report.pending == 0 and current.report.delivered == len(expected_by_insert_id(events))
    assert len(mixpanel_events(fleet)) == current.report.delivered
    _assert_accounted(current, len(events))
