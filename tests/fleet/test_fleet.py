"""fakes.fleet.FakeFleet with the real fakes: one clock for every fake (DESIGN.md §7), reset of one fake
never moves it, in-process and loopback on the same states (DESIGN.md §4), and the fleet's life cycle."""

from __future__ import annotations

import socket

import pytest
import requests

from fakes.core import PortInUseError
from fakes.core.tls import issue_test_certificates
from fakes.fleet import FakeFleet, ServerOptions, ServerTls
from fakes.registry import FakeUnavailableError

MIXPANEL = "https://api.mixpanel.com"
BRAZE = "https://rest.iad-01.braze.com"
T0 = 1_700_000_000


def track(base: str, distinct_id: str) -> None:
    body = [{"event": "Opened", "properties": {"token": "harness-token", "distinct_id": distinct_id}}]
    assert requests.post(base + "/track", json=body, timeout=10).content == b"1"


def mixpanel_events(base: str) -> int:
    count: int = requests.get(base + "/_harness/events?view=raw", timeout=10).json()["count"]
    return count


def seed_braze_user(base: str, external_id: str) -> None:
    assert requests.post(base + "/_harness/users", json={"users": [{"external_id": external_id}]},
                         timeout=10).status_code < 300


def braze_users(base: str) -> int:
    everyone = {"filter": {"not": {"mixpanel_cohorts": {"includes": "no-such-cohort"}}}}
    count: int = requests.post(base + "/_harness/segments/evaluate", json=everyone, timeout=10).json()["count"]
    return count


@pytest.fixture
def fleet():
    with FakeFleet(mode="in-process") as fleet:
        yield fleet


def test_default_fleet_is_mixpanel_and_braze_by_name():
    """DESIGN.md §7: the fleet runs the registry's fakes, reachable by name."""
    fleet = FakeFleet()
    assert fleet.names == ["mixpanel", "braze"] and len(fleet) == 2 and "braze" in fleet
    assert [h.name for h in fleet] == ["mixpanel", "braze"]
    assert fleet["mixpanel"].state.service == "mixpanel" and fleet["braze"].state.service == "braze"
    with pytest.raises(KeyError, match="no fake 'ghost' in this fleet; members: mixpanel, braze"):
        fleet["ghost"]
    fleet.close()


def test_unknown_or_unimportable_fakes_are_clear_errors(monkeypatch):
    with pytest.raises(FakeUnavailableError, match="unknown fake 'ghost'"):
        FakeFleet(["mixpanel", "ghost"])
    monkeypatch.setenv("HARNESS_FAKE_MODULES", "ghost=no_such_module_fleet")
    with pytest.raises(FakeUnavailableError, match="cannot import no_such_module_fleet"):
        FakeFleet(["ghost"])
    with pytest.raises(ValueError, match="mode must be one of in-process, loopback, both"):
        FakeFleet(["braze"], mode="sideways")


def test_every_fake_gets_the_fleets_one_clock():
    """DESIGN.md §7 One clock: the fleet owns one SimulatedClock and hands it to every fake."""
    fleet = FakeFleet(["mixpanel"])
    braze = fleet.add("braze")
    assert all(handle.state.clock is fleet.clock for handle in fleet) and braze is fleet["braze"]
    with pytest.raises(ValueError, match="already has the fake 'braze'"):
        fleet.add("braze")
    fleet.close()


def test_both_fakes_see_one_advance(fleet):
    """DESIGN.md §4/§7: POST /_harness/clock on one fake moves the time of every fake of the fleet."""
    requests.post(MIXPANEL + "/_harness/clock", json={"now": T0}, timeout=10)
    requests.post(BRAZE + "/_harness/clock", json={"advance_s": 90}, timeout=10)
    for base in (MIXPANEL, BRAZE):
        clock = requests.get(base + "/_harness/clock", timeout=10).json()
        assert (clock["now"], clock["mode"]) == (T0 + 90, "frozen")
    assert fleet.clock.now() == T0 + 90


def test_resetting_one_fake_leaves_the_clock_and_the_other_fake_untouched(fleet):
    """DESIGN.md §7: resetting a fake never moves the shared clock; it clears only its own data."""
    fleet.clock.set(T0)
    track(MIXPANEL, "u1")
    seed_braze_user(BRAZE, "b1")
    assert (mixpanel_events(MIXPANEL), braze_users(BRAZE)) == (1, 1)

    assert requests.post(BRAZE + "/_harness/reset", timeout=10).status_code == 200
    assert braze_users(BRAZE) == 0
    assert mixpanel_events(MIXPANEL) == 1 and fleet["mixpanel"].requests() != []
    assert fleet.clock.now() == T0 and fleet.clock.frozen

    fleet["mixpanel"].reset()
    assert mixpanel_events(MIXPANEL) == 0 and fleet.clock.now() == T0


def test_fleet_reset_clears_every_member_and_puts_its_clock_back(fleet):
    """The fleet owns the clock, so a reset of the whole fleet also returns it to real time."""
    fleet["mixpanel"].configure({"import.max_batch_records": 10})
    fleet.clock.set(T0)
    track(MIXPANEL, "u1")
    seed_braze_user(BRAZE, "b1")
    fleet.reset()
    assert (mixpanel_events(MIXPANEL), braze_users(BRAZE)) == (0, 0)
    assert not fleet.clock.frozen
    assert fleet["mixpanel"].state.config["import.max_batch_records"] == 10  # configuration is kept


def test_in_process_and_loopback_share_one_state():
    """DESIGN.md §4: both modes share the same state object, so a test can mix them."""
    with FakeFleet(mode="both") as fleet:
        mixpanel, braze = fleet["mixpanel"], fleet["braze"]
        assert mixpanel.base_url is not None and mixpanel.base_url.startswith("http://127.0.0.1:")
        track(MIXPANEL, "in-process")
        track(mixpanel.url(), "loopback")
        assert mixpanel_events(mixpanel.base_url) == 2 == mixpanel_events(MIXPANEL)
        seed_braze_user(braze.url(), "b1")
        assert braze_users(BRAZE) == 1
        requests.post(braze.url("/_harness/clock"), json={"now": T0}, timeout=10)
        assert requests.get(MIXPANEL + "/_harness/clock", timeout=10).json()["now"] == T0


def test_an_in_process_member_can_also_serve_on_loopback(fleet):
    handle = fleet["mixpanel"]
    assert handle.base_url is None
    with pytest.raises(RuntimeError, match="runs in-process"):
        handle.url("/track")
    url = handle.serve()
    assert handle.serve() == url == handle.base_url
    track(MIXPANEL, "a")
    track(url, "b")
    assert mixpanel_events(url) == 2 and len(handle.requests()) == 2


def test_start_stop_close():
    """Context manager, stop keeps the states, close is idempotent and final."""
    fleet = FakeFleet(["braze"], mode="loopback")
    assert not fleet.running and fleet["braze"].base_url is None
    fleet.start()
    assert fleet.start() is fleet and fleet.running  # starting twice is harmless
    url = fleet["braze"].url("/_harness/health")
    assert requests.get(url, timeout=10).json() == {"status": "ok", "service": "braze"}
    seed_braze_user(fleet["braze"].url(), "b1")
    fleet.stop()
    assert not fleet.running and fleet["braze"].server is None
    fleet.start()
    assert braze_users(fleet["braze"].url()) == 1  # the state outlived the stop
    fleet.close()
    fleet.close()
    assert fleet["braze"].server is None
    with pytest.raises(RuntimeError, match="closed"):
        fleet.start()
    with pytest.raises(RuntimeError, match="closed"):
        fleet.add("mixpanel")


def test_a_member_added_while_running_starts_at_once():
    with FakeFleet(["mixpanel"], mode="both") as fleet:
        braze = fleet.add("braze", config={"braze.rate_limit.per_hour": 99})
        assert braze.state.clock is fleet.clock and braze.base_url is not None
        assert requests.get(BRAZE + "/_harness/health", timeout=10).json()["service"] == "braze"
        assert requests.get(braze.url("/_harness/config"), timeout=10).json()["config"][
            "braze.rate_limit.per_hour"] == 99


def test_a_port_in_use_stops_what_had_started():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        fleet = FakeFleet(mode="loopback", servers=ServerOptions(ports={"braze": busy.getsockname()[1]}))
        with pytest.raises(PortInUseError, match="braze: port"):
            fleet.start()
        assert not fleet.running and fleet["mixpanel"].server is None
        fleet.close()
    finally:
        busy.close()


def test_loopback_https_with_the_harness_test_ca(tmp_path):
    """mixpanel-ingestion.md §2.3: HTTPS front door; clients trust the CA the handle names."""
    fleet = FakeFleet(mode="loopback")
    files = issue_test_certificates(tmp_path, fleet.tls_hostnames())
    with fleet.start(servers=ServerOptions(tls=ServerTls.from_files(files))):
        for handle in fleet:
            assert handle.https_base_url is not None and handle.ca_pem == str(files.ca_pem)
            health = requests.get(handle.https_base_url + "/_harness/health", verify=handle.ca_pem, timeout=10)
            assert health.json()["service"] == handle.name


def test_clock_listeners_hear_every_move_until_close():
    """The scheduler's seam: listeners hear set/advance of the fleet's clock, from any fake's control API."""
    moves: list[tuple[float, float]] = []
    with FakeFleet() as fleet:
        fleet.on_clock_moved(lambda old, new: moves.append((old, new)))
        fleet.clock.set(T0)
        requests.post(BRAZE + "/_harness/clock", json={"advance_s": 60}, timeout=10)
    assert moves[-1] == (T0, T0 + 60) and len(moves) == 2
    fleet.clock.advance(1)
    assert len(moves) == 2  # detached at close
