"""The engine over real HTTP: fake Braze on a loopback port (`FakeFleet(mode="loopback")`), the engine
posting to `fleet["braze"].base_url`; time is the fleet's simulated clock only (braze-cohort-sync.md §2:
both transports go through the same wire code)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sync_kit import COHORT, DATA_IMPORT_KEY, HOUR, T0, TICK, SyncWorld, fail, ids

from fakes.fleet import FakeFleet


@pytest.fixture
def world() -> Iterator[SyncWorld]:
    with FakeFleet(["braze"], mode="loopback") as fleet:
        fleet.clock.set(T0)
        base_url = fleet["braze"].base_url
        assert base_url is not None and base_url.startswith("http://127.0.0.1:")
        yield SyncWorld(fleet, base_url)
        assert fleet.scheduler.failures == []


def test_membership_changes_at_the_next_tick_and_not_before_over_http(world):
    """§8.3 / §7: the segment "Mixpanel Cohorts includes X" is exact after the first sync; after users leave
    and join it changes at the next 2-hour tick (asserted at tick − 1 s and tick + 1 s)."""
    world.seed("u1", "u2", "u3", "u4")
    world.cohort({"d1": "u1", "d2": "u2", "d3": "u3", "dx": None})
    world.sync()
    assert world.segment() == {"u1", "u2", "u3"}
    world.clock.advance(1800)
    world.leave(["d1", "d2"])
    world.join({"d4": "u4"})
    world.clock.set(T0 + TICK - 1)
    assert world.segment() == {"u1", "u2", "u3"}
    world.clock.set(T0 + TICK + 1)
    assert world.segment() == {"u3", "u4"}
    assert world.segment(op="excludes") == {"u1", "u2"}


def test_data_import_key_invalidated_mid_sync_pauses_and_sends_nothing_more_over_http(world):
    """§8.9 / EC-10: the next request gets 401 `Invalid client secret`; the sync pauses with that reason
    and no further request reaches Braze."""
    world.engine.config = world.engine.config.with_keys({"mixpanel.request_latency_s": 1})
    members = ids("u", 3000)
    world.seed(*members)
    key = world.control("POST", "/_harness/keys")["key"]
    world.cohort({f"d{i}": m for i, m in enumerate(members)})
    sync = world.sync(connection=world.connect(key))
    world.clock.advance(2.5)  # /cohorts, batch 1 and batch 2 are in
    world.control("DELETE", f"/_harness/keys/{key}")
    world.clock.advance(3 * TICK)
    assert (sync.state, sync.pause_reason) == ("paused", "Invalid client secret")
    statuses = [e["status"] for e in world.partner_requests()]
    assert statuses == [201, 201, 201, 401]
    assert len(world.members()) == 2000
    assert world.engine.notifications[-1].reason == "Invalid client secret"


def test_outage_longer_than_three_days_loses_the_removals_over_http(world):
    """§8.7 / EC-25: the first successful run after the TTL is full; removals during the outage are lost,
    visible in Braze membership."""
    world.seed("a", "b", "c", "d")
    world.cohort({"da": "a", "db": "b", "dc": "c"})
    sync = world.sync()
    world.faults(fail(503, active_from=T0 + 1, active_until=T0 + 3 * 86400 + HOUR, message="Service Unavailable"))
    world.leave(["db"], at=T0 + HOUR)
    world.join({"dd": "d"}, at=T0 + HOUR)
    world.clock.set(T0 + 3 * 86400 + TICK)
    assert sync.last_run.kind == "full" and sync.last_run.outcome == "success"
    assert world.members() == {"a", "b", "c", "d"}
    assert world.segment() == {"a", "b", "c", "d"}


def test_a_dropped_connection_is_a_network_error_and_retried_over_http(world):
    """§8.6: network errors are transient (a real socket drop on loopback)."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults({"match": {"endpoint": "cohorts/users"}, "times": 2, "action": {"type": "drop_before_response"}})
    sync = world.sync()
    world.clock.advance(10)
    statuses = [r.status for r in sync.last_run.requests if r.endpoint == "cohorts/users"]
    assert statuses == [None, None, 201] and sync.last_run.outcome == "success"
    assert world.members() == {"u1"}
    assert world.braze_cohorts()[str(COHORT)]["declared"] is True


def test_the_default_data_import_key_works_over_http(world):
    """DESIGN.md §4 default credentials."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.sync(connection=world.connect(DATA_IMPORT_KEY))
    assert world.members() == {"u1"}
