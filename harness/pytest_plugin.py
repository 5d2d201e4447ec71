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

The plugin loads lazily: importing it costs only `fakes.registry` (the fake names the fixtures are made
for); Flask, `responses`, the fakes and the connectors are imported by the first fixture a test asks for,
so a project that has the package installed but does not use these fixtures starts as fast as without it.

A fake that is not importable makes the test fail with one clear line. Fixtures are generated for every
name in `fakes.registry` (so `HARNESS_FAKE_MODULES` additions get `<name>_fake` / `<name>_server` too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from fakes.registry import FakeUnavailableError, fake_names

if TYPE_CHECKING:  # imported inside the fixtures: a test run that uses none of them never pays for them
    import responses

    from fakes.core import SimulatedClock
    from fakes.core.tls import TlsFiles
    from fakes.fleet import FakeFleet, FakeHandle
    from harness.connector_routes import ConnectorControl

FakeFactory = Callable[..., "FakeHandle"]
"""`make(name, config=None, seed=0) -> FakeHandle`, the `harness_fake_factory` fixture."""


def _add(fleet: FakeFleet, name: str, config: Mapping[str, Any] | None = None, seed: int | str = 0) -> FakeHandle:
    try:
        return fleet.add(name, config=config, seed=seed)
    except FakeUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def harness_responses() -> Iterator[responses.RequestsMock]:
    """The `responses` mock all in-process fakes of a test share; loopback URLs pass through."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def harness_clock() -> SimulatedClock:
    """The one simulated clock of every in-process fake of the test (set or advance it; nothing sleeps)."""
    from fakes.core import SimulatedClock

    return SimulatedClock()


@pytest.fixture
def _harness_fleet(harness_responses: responses.RequestsMock, harness_clock: SimulatedClock) -> Iterator[FakeFleet]:
    """The test's in-process fleet: every fake of the test, on `harness_clock`, through `harness_responses`
    (so a project that overrides either fixture gets its own clock or mock used)."""
    from fakes.fleet import FakeFleet

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
    from fakes.core.tls import issue_test_certificates
    from fakes.registry import load_fake

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
    from fakes.fleet import FakeFleet, ServerOptions, ServerTls

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
    def fixture(harness_fake_factory: FakeFactory) -> FakeHandle:
        return harness_fake_factory(name)

    # The description `pytest --fixtures` shows is the function's own: set before pytest wraps it.
    fixture.__doc__ = (f"The fake {name}, in-process, fresh for the test: `requests` calls to its real host names "
                       "are answered by it (no sockets). A `FakeHandle`: `.state`, `.requests()`, "
                       "`.configure(...)`, `.add_faults(...)`.")
    return pytest.fixture(name=f"{name}_fake")(fixture)


def _server_fixture(name: str) -> Any:
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

    fixture.__doc__ = (f"The fake {name} on a loopback server (one per session, HTTP and HTTPS), reset before "
                       "each test: `.base_url`, `.https_base_url`, `.ca_pem`, for clients in any language.")
    return pytest.fixture(name=f"{name}_server")(fixture)


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


def __getattr__(name: str) -> Any:
    """`FakeHandle`, re-exported for annotations in users' tests, imported when first asked for."""
    if name == "FakeHandle":
        from fakes.fleet import FakeHandle

        return FakeHandle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FakeHandle", "harness_clock", "harness_fake_factory", "harness_responses", "harness_tls_files"]
