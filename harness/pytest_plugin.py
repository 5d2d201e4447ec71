"""Pytest fixtures for the fakes (DESIGN.md §4: in-process and server modes), generic over the registry.

Registered through the `pytest11` entry point, so any project with the harness installed gets:

| fixture | scope | gives |
|---|---|---|
| `mixpanel_fake`, `braze_fake` | test | a `FakeHandle` with a fresh state; `requests` to the real host names |
| | | (`https://api.mixpanel.com`, `https://rest.iad-01.braze.com`, ...) are answered by the fake in-process |
| `mixpanel_server`, `braze_server` | server per session, reset before each test | a `FakeHandle` with `base_url` of a |
| | | loopback server (waitress); all session servers share one simulated clock |
| `harness_responses` | test | the one `responses.RequestsMock` every in-process fake of the test is routed through |
| `harness_fake_factory` | test | `make(name, config=None, seed=0)` → a new in-process `FakeHandle` |
| `harness_clock` | test | one `SimulatedClock` shared by every in-process fake of the test |
| `harness_tls_files` | session | the session's harness test CA (`ca_pem`) and server certificate |

Server fakes also carry the reference connectors' control routes (DESIGN.md §7.1, as under `harness
serve`); their cohorts, connections, syncs and Currents are dropped before each test.

Server handles also listen on HTTPS: `handle.https_base_url`, trusted through `verify=handle.ca_pem`.

Both kinds are `fakes.fleet.FakeFleet`s: one per test for the in-process fakes (on `harness_clock`, through
`harness_responses`), one per session for the servers. Before each test a server fixture gives its
fake a fresh start: configuration back to defaults, data, journal and faults cleared, and the session
clock back to real time (resetting a fake alone never moves the shared clock).

A fake that is not importable makes the test fail with one clear line. Fixtures are generated for every
name in `fakes.registry` (so `HARNESS_FAKE_MODULES` additions get `<name>_fake` / `<name>_server` too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest
import responses

from fakes.core import SimulatedClock
from fakes.core.tls import TlsFiles, issue_test_certificates
from fakes.fleet import FakeFleet, FakeHandle, ServerOptions, ServerTls
from fakes.registry import FakeUnavailableError, fake_names, load_fake

FakeFactory = Callable[..., FakeHandle]
"""`make(name, config=None, seed=0) -> FakeHandle`, the `harness_fake_factory` fixture."""


def _add(fleet: FakeFleet, name: str, config: Mapping[str, Any] | None = None, seed: int | str = 0) -> FakeHandle:
    try:
        return fleet.add(name, config=config, seed=seed)
    except FakeUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)


if TYPE_CHECKING:  # imported by the fixture itself: only server tests pay for the connectors
    from harness.connector_routes import ConnectorControl


@pytest.fixture
def harness_responses() -> Iterator[responses.RequestsMock]:
    """The `responses` mock all in-process fakes of a test share; loopback URLs pass through."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def harness_clock() -> SimulatedClock:
    """The one clock of every in-process fake of the test."""
    return SimulatedClock()


@pytest.fixture
def _harness_fleet(harness_responses: responses.RequestsMock, harness_clock: SimulatedClock) -> Iterator[FakeFleet]:
    """The test's in-process fleet: every fake of the test, on `harness_clock`, through `harness_responses`
    (so a project that overrides either fixture gets its own clock or mock used)."""
    with FakeFleet((), mode="in-process", clock=harness_clock, mock=harness_responses) as fleet:
        yield fleet


@pytest.fixture
def harness_fake_factory(_harness_fleet: FakeFleet) -> FakeFactory:
    """`make(name, config=None, seed=0)`: a fresh fake routed in-process for this test (one per name)."""

    def make(name: str, config: Mapping[str, Any] | None = None, seed: int | str = 0) -> FakeHandle:
        return _add(_harness_fleet, name, config, seed)

    return make


@pytest.fixture(scope="session")
def harness_tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """The session's harness test CA and server certificate (covers every registered fake's host names)."""
    hostnames: list[str] = []
    for name in fake_names():
        try:
            hostnames += load_fake(name).tls_hostnames
        except FakeUnavailableError:
            continue
    return issue_test_certificates(tmp_path_factory.mktemp("harness-tls"), hostnames)


@pytest.fixture(scope="session")
def _harness_session_fleet(harness_tls_files: TlsFiles) -> Iterator[FakeFleet]:
    """The session's loopback fleet, as under `harness serve`: one clock, HTTPS with the session's CA."""
    options = ServerOptions(tls=ServerTls.from_files(harness_tls_files))
    with FakeFleet((), mode="loopback", servers=options) as fleet:
        yield fleet


@pytest.fixture(scope="session")
def _harness_session_connectors(_harness_session_fleet: FakeFleet) -> Iterator[ConnectorControl]:
    """The connectors' control routes of the session's servers (mounted on each member as it is added)."""
    from harness.connector_routes import ConnectorControl

    control = ConnectorControl(_harness_session_fleet)
    yield control
    control.close()


def _in_process_fixture(name: str) -> Any:
    @pytest.fixture(name=f"{name}_fake")
    def fixture(harness_fake_factory: FakeFactory) -> FakeHandle:
        return harness_fake_factory(name)

    fixture.__doc__ = f"The fake {name}, in-process: requests to its real host names are answered by it."
    return fixture


def _server_fixture(name: str) -> Any:
    @pytest.fixture(name=f"{name}_server")
    def fixture(_harness_session_fleet: FakeFleet, _harness_session_connectors: ConnectorControl) -> FakeHandle:
        fleet = _harness_session_fleet
        handle = fleet[name] if name in fleet else _add(fleet, name)
        _harness_session_connectors.mount(handle)  # a no-op once mounted (always before its first request)
        _harness_session_connectors.reset()
        # A fresh start for every test: configuration back to defaults, then data, journal and faults,
        # then the clock (the fake's reset leaves the shared clock alone; the session fleet owns it).
        handle.configure({key: setting.default for key, setting in handle.state.config.settings.items()})
        handle.reset()
        fleet.clock.reset()
        return handle

    fixture.__doc__ = f"The fake {name} on a loopback server (one per session), reset before each test."
    return fixture


def _register_fixtures() -> None:
    try:
        names = fake_names()
    except FakeUnavailableError:
        names = ["mixpanel", "braze"]
    for fake_name in names:
        attr = fake_name.replace("-", "_")
        globals()[f"{attr}_fake"] = _in_process_fixture(fake_name)
        globals()[f"{attr}_server"] = _server_fixture(fake_name)


_register_fixtures()

__all__ = ["FakeHandle", "harness_clock", "harness_fake_factory", "harness_responses", "harness_tls_files"]
