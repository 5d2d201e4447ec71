"""Issue 9 "Done when": a behavioural cohort ("Email Click at least once in the last 7 days") syncs to Braze;
the segment "Mixpanel Cohorts includes X" returns exactly the expected external ids after the first sync,
and after users leave and join it changes at the next 2-hour tick and not before (braze-cohort-sync.md §8.3,
§8.4). Expected members come from the oracle's events, not from the cohorts code."""

from __future__ import annotations

from pipeline_kit import COHORT_ID, EMAIL_CLICK_TYPE, TICK_S, click_by, config, expected_clickers

from harness.scenarios.pipeline import Pipeline


def test_the_cohort_syncs_and_the_segment_returns_the_expected_external_ids_after_the_first_sync(fleet):
    pipeline = Pipeline(fleet, config())
    observation = pipeline.start().observe()
    first_run = observation.runs[pipeline.syncs[COHORT_ID].sync_id][0]
    expected = expected_clickers(observation.expected, first_run.started_at)
    assert len(expected) >= 3, "too few clickers for a meaningful test"
    assert first_run.outcome == "success" and first_run.kind == "full"
    assert observation.cohort_members[COHORT_ID][first_run.started_at] == expected
    # Profiles carry $braze_external_id = the external id, so the Braze members are the distinct ids.
    assert observation.segments[COHORT_ID] == expected


def test_leaves_and_joins_show_at_the_next_two_hour_tick_and_not_before(fleet):
    pipeline = Pipeline(fleet, config())
    pipeline.start()
    sync = pipeline.syncs[COHORT_ID]
    created = sync.created_at
    oracle = pipeline.expected()
    clickers = set(expected_clickers(oracle, created))
    # A user who never clicked clicks an hour after the first sync: a join at the next tick.
    joiner = next(u for u in pipeline.world.users if u.external_user_id and u.external_user_id not in clickers)
    template = next(e for e in pipeline.stream if e["event_type"] == EMAIL_CLICK_TYPE.type_id)
    pipeline.advance(3600)
    pipeline.deliver([click_by(template, joiner, "pipeline-test-join-1", fleet.clock.now())])
    oracle = pipeline.expected()

    seen_leave = seen_join = False
    previous = sorted(clickers)
    for k in range(1, 7 * 24 // 2 + 2):  # every tick until the whole first window has aged out
        tick = created + k * TICK_S
        now_expected = expected_clickers(oracle, tick)
        if now_expected == previous:
            continue
        pipeline.advance(tick - 1 - fleet.clock.now())
        assert pipeline.segment(COHORT_ID) == previous, f"tick {k}: Braze changed before the tick"
        pipeline.advance(2)
        assert pipeline.segment(COHORT_ID) == now_expected, f"tick {k}: Braze did not follow the tick"
        seen_leave |= bool(set(previous) - set(now_expected))
        seen_join |= bool(set(now_expected) - set(previous))
        previous = now_expected
        if seen_leave and seen_join:
            break
    assert seen_leave and seen_join, "the stream gave no leave or no join to observe"
    assert joiner.external_user_id in pipeline.segment(COHORT_ID)


def test_the_adapter_rereads_fake_mixpanel_only_when_its_data_changed(in_process_fleet):
    pipeline = Pipeline(in_process_fleet, config())
    pipeline.start()
    reads = pipeline.cohorts.reads
    pipeline.advance(3 * TICK_S)  # three diff runs, nothing new ingested
    assert pipeline.cohorts.reads == reads
    template = next(e for e in pipeline.stream if e["event_type"] == EMAIL_CLICK_TYPE.type_id)
    user = next(u for u in pipeline.world.users if u.external_user_id)
    pipeline.deliver([click_by(template, user, "pipeline-test-reread", in_process_fleet.clock.now())])
    pipeline.advance(TICK_S)
    assert pipeline.cohorts.reads == reads + 1
    assert user.external_user_id in pipeline.segment(COHORT_ID)

