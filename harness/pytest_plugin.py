"""Pytest fixtures for the fakes (DESIGN.md §4: in-process and server modes), generic over the registry.

Registered through the `pytest11` entry point, so any project with the harness installed gets:

| fixture | scope | gives |
|---|---|---|
| `mixpanel_fake`, `braze_fake` | test | a `FakeHandle` with a fresh state; `requests` to the real host names (`https://api.mixpanel.com`, `https://rest.iad-01.braze.com`, ...) are answered by the fake in-process |
| `mixpanel_server`, `braze_server` | server per session, reset before each test | a `FakeHandle` with `base_url` of a loopback server (waitress); all session servers share one simulated clock |
| `harness_responses` | test | the one `responses.RequestsMock` every in-process fake of the test is routed through |
| `harness_fake_factory` | test | `make(name, config=None, seed=0)` → a new in-process `FakeHandle` |
| `harness_clock` | test | one `SimulatedClock` shared by every in-process fake of the test |
| `harness_tls_files` | session | the session's harness test CA (`ca_pem`) and server certificate |

Server handles also listen on HTTPS: `handle.https_base_url`, trusted through `verify=handle.ca_pem`.

A fake that is not importable makes the test fail with one clear line. Fixtures are generated for every
name in `fakes.registry` (so `HARNESS_FAKE_MODULES` additions get `<name>_fake` / `<name>_server` too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses

from fakes.core import FakeServer, InProcessRoute, SimulatedClock
from fakes.registry import FakeDescriptor, FakeUnavailableError, fake_names, load_fake


@dataclass
class FakeHandle:
    """One running fake: its state (the model), its Flask app, and how to reach it."""

    name: str
    state: Any
    app: Any
    base_url: str | None = None
    """The loopback server's URL (server mode); None in-process (use the real host names)."""
    route: InProcessRoute | None = None
    server: FakeServer | None = None
    https_base_url: str | None = None
    """Server mode: the HTTPS URL (certificate from the session's harness test CA)."""
    ca_pem: str | None = None
    """Server mode: the CA file to trust for `https_base_url` (`verify=handle.ca_pem`)."""
    extra_servers: list[FakeServer] = field(default_factory=list)

    @property
    def client(self) -> Any:
        """A Flask test client on the same state (no sockets, no `responses`)."""
        return self.app.test_client()

    def url(self, path: str = "/") -> str:
        if self.base_url is None:
            raise RuntimeError(f"{self.name} runs in-process: call its real host names instead")
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The fake's request journal, newest last."""
        return self.state.journal.entries(limit)

    def add_faults(self, rules: Any) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self.state.faults.install(rules)]

    def configure(self, values: Mapping[str, Any]) -> list[str]:
        return self.state.update_config(values)

    def reset(self, *, seed: int | str | None = None) -> None:
        self.state.reset(seed=seed)

    def serve(self) -> str:
        """Also serve this fake (same state) on a loopback port; returns its base URL. Stopped with the test.

        This is how one test mixes modes: in-process calls and real HTTP land in the same state."""
        if self.base_url is None:
            server = FakeServer(self.app, port=0, name=self.name).start()
            self.extra_servers.append(server)
            self.base_url = server.base_url
        return self.base_url

    def close(self) -> None:
        for server in self.extra_servers:
            server.stop()
        self.extra_servers.clear()


def _load(name: str) -> FakeDescriptor:
    try:
        return load_fake(name)
    except FakeUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
        raise  # pragma: no cover - pytest.fail raises


@pytest.fixture
def harness_responses() -> Iterator[responses.RequestsMock]:
    """The `responses` mock all in-process fakes of a test share; loopback URLs pass through."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def harness_clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def harness_fake_factory(harness_responses: responses.RequestsMock, harness_clock: SimulatedClock):
    """`make(name, config=None, seed=0)`: a fresh fake routed in-process for this test."""
    handles: list[FakeHandle] = []

    def make(name: str, config: Mapping[str, Any] | None = None, seed: int | str = 0) -> FakeHandle:
        fake = _load(name)
        state = fake.new_state(config, clock=harness_clock, seed=seed)
        app = fake.create_app(state=state)
        route = InProcessRoute(app, fake.host_patterns, mock=harness_responses).start()
        handle = FakeHandle(name, state, app, route=route)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.close()
        if handle.route is not None:
            handle.route.stop()


@pytest.fixture(scope="session")
def harness_tls_files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The session's harness test CA and server certificate (covers every registered fake's host names)."""
    from fakes.core.tls import issue_test_certificates

    hostnames: list[str] = []
    for name in fake_names():
        try:
            fake = load_fake(name)
        except FakeUnavailableError:
            continue
        hostnames += list(getattr(fake.module, "TLS_HOSTNAMES", fake.host_patterns))
    return issue_test_certificates(tmp_path_factory.mktemp("harness-tls"), hostnames)


@pytest.fixture(scope="session")
def _harness_session_clock() -> SimulatedClock:
    """One clock for every session server, as under `harness serve`."""
    return SimulatedClock()


@pytest.fixture(scope="session")
def _harness_session_servers() -> Iterator[dict[str, FakeHandle]]:
    servers: dict[str, FakeHandle] = {}
    yield servers
    for handle in servers.values():
        if handle.server is not None:
            handle.server.stop()


def _in_process_fixture(name: str):
    @pytest.fixture(name=f"{name}_fake")
    def fixture(harness_fake_factory) -> FakeHandle:
        return harness_fake_factory(name)

    fixture.__doc__ = f"The fake {name}, in-process: requests to its real host names are answered by it."
    return fixture


def _server_fixture(name: str):
    @pytest.fixture(name=f"{name}_server")
    def fixture(_harness_session_servers: dict[str, FakeHandle], harness_tls_files: Any,
                _harness_session_clock: SimulatedClock) -> FakeHandle:
        handle = _harness_session_servers.get(name)
        if handle is None:
            from fakes.core.tls import server_context

            fake = _load(name)
            state = fake.new_state(None, clock=_harness_session_clock)
            app = fake.create_app(state=state)
            context = server_context(harness_tls_files.cert_pem, harness_tls_files.key_pem)
            server = FakeServer(app, port=0, name=name, tls_context=context).start()
            handle = FakeHandle(name, state, app, base_url=server.base_url, server=server,
                                https_base_url=server.https_base_url, ca_pem=str(harness_tls_files.ca_pem))
            _harness_session_servers[name] = handle
        # A fresh start for every test: configuration back to defaults, then data, journal, faults, clock.
        defaults = {key: setting.default for key, setting in handle.state.config.settings.items()}
        handle.state.update_config(defaults)
        handle.state.reset()
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
