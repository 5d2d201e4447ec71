"""FakeFleet: the one way to run a set of fakes (DESIGN.md §4, §7) on one simulated clock.

A fleet builds one state and one app per fake (by registry name) and runs them in one of three modes:

- ``"in-process"``: `requests` calls to the fakes' real host names are routed into the apps through one
  `responses` mock, and `httpx` calls through respx (`fakes.core.inprocess`), with no sockets;
- ``"loopback"``: each fake listens on a loopback port (waitress), optionally with an HTTPS front door;
- ``"both"``: both at once, on the same states, so a test can mix them.

Every fake gets the fleet's ONE `SimulatedClock` (`new_state(clock=...)`): moving the clock through any
fake's `POST /_harness/clock` moves every fake's time. Resetting a fake (`fleet["braze"].reset()` or its
`POST /_harness/reset`) clears its data, journal and faults and never moves that shared clock;
`FakeFleet.reset()` resets every member and puts the clock back to real time, since the fleet owns it.

    from fakes.fleet import FakeFleet

    with FakeFleet(mode="both") as fleet:                           # mixpanel and braze, one clock
        requests.post("https://api.mixpanel.com/import", ...)      # in-process
        requests.post(fleet["braze"].url("/_harness/users"), ...)  # loopback, same braze state
        fleet.clock.advance(3600)                                   # both fakes see the hour pass
        fleet["mixpanel"].requests()                                # its journal

`fleet.scheduler` (a `fakes.core.scheduler.Scheduler` on the fleet's clock) holds the due actions of
whatever runs beside the fakes (connector deliveries, retries, sync ticks): every forward move of the
clock, from Python or any fake's `POST /_harness/clock`, runs those that fall due inside it, in time
order, before it returns. `fleet.on_clock_moved(listener)` hears every jump of the clock.

The fleet knows nothing of `harness/` (DESIGN.md §7): the pytest plugin and `harness serve` build on it.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import responses
from flask import Flask
from flask.testing import FlaskClient

from fakes.core.access import allow_hosts
from fakes.core.clock import ClockListener, SimulatedClock
from fakes.core.inprocess import InProcessRoute
from fakes.core.limits import ServerLimits
from fakes.core.scheduler import Scheduler
from fakes.core.server import DEFAULT_THREADS, FakeServer
from fakes.core.state import FakeState
from fakes.core.tls import TlsFiles, server_context
from fakes.registry import FakeDescriptor, fake_names, load_fake

FleetMode = Literal["in-process", "loopback", "both"]
MODES: tuple[str, ...] = get_args(FleetMode)


@dataclass(frozen=True)
class ServerTls:
    """HTTPS for a loopback server: a TLS front door (relaying to the plain port) with this certificate."""

    context: ssl.SSLContext
    port: int = 0
    """HTTPS port; 0 picks a free one."""
    ca_pem: Path | None = None
    """The CA file a client trusts for this certificate (the harness test CA); None for a user's own."""

    @classmethod
    def from_files(cls, files: TlsFiles, port: int = 0) -> ServerTls:
        """HTTPS with the certificate of `fakes.core.tls.issue_test_certificates` (or a user's pair)."""
        return cls(server_context(files.cert_pem, files.key_pem), port, files.ca_pem)


@dataclass(frozen=True)
class ServerOptions:
    """How the fleet's loopback servers listen. `ports` and a `tls` mapping are keyed by fake name."""

    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    """Port per fake; a fake not listed (or 0) gets a free port."""
    threads: int = DEFAULT_THREADS
    tls: ServerTls | Mapping[str, ServerTls] | None = None
    """One `ServerTls` for every fake, one per fake name (those not listed have no HTTPS), or None."""
    limits: ServerLimits | None = None
    """Connection limit, timeouts, control lane... (`fakes.core.limits`); `threads` above wins over its own."""

    def port_of(self, name: str) -> int:
        return int(self.ports.get(name, 0))

    def tls_of(self, name: str) -> ServerTls | None:
        if self.tls is None or isinstance(self.tls, ServerTls):
            return self.tls
        return self.tls.get(name)


class FakeHandle:
    """One fake of a fleet: its state (the model), its Flask app, and how to reach it.

    In-process, call the fake's real host names (`base_url` is None); on loopback, `base_url` /
    `url(path)` (and `https_base_url`, trusted through `verify=handle.ca_pem`, when the server has TLS).
    """

    def __init__(self, descriptor: FakeDescriptor, state: FakeState, app: Flask, *, options: ServerOptions) -> None:
        self.descriptor = descriptor
        self.name = descriptor.name
        self.state = state
        self.app = app
        self._options = options
        self._route: InProcessRoute | None = None
        self._servers: list[FakeServer] = []

    def __repr__(self) -> str:
        where = self.base_url or ("in-process" if self._route is not None else "stopped")
        return f"<FakeHandle {self.name} {where}>"

    # -- where it is reached -------------------------------------------------------------------------
    @property
    def route(self) -> InProcessRoute | None:
        """The in-process route (None when the fake is not routed in-process)."""
        return self._route

    @property
    def server(self) -> FakeServer | None:
        """The loopback server (None when the fake does not listen on a port)."""
        return self._servers[0] if self._servers else None

    @property
    def base_url(self) -> str | None:
        """The loopback server's URL; None in-process (use the real host names)."""
        server = self.server
        return server.base_url if server is not None else None

    @property
    def https_base_url(self) -> str | None:
        """The HTTPS URL of the loopback server, when it has TLS."""
        server = self.server
        return server.https_base_url if server is not None else None

    @property
    def ca_pem(self) -> str | None:
        """The CA file to trust for `https_base_url` (`verify=handle.ca_pem`), when it is the harness CA."""
        tls = self._options.tls_of(self.name) if self.server is not None else None
        return str(tls.ca_pem) if tls is not None and tls.ca_pem is not None else None

    @property
    def client(self) -> FlaskClient:
        """A Flask test client on the same state (no sockets, no `responses`)."""
        return self.app.test_client()

    def url(self, path: str = "/") -> str:
        if self.base_url is None:
            raise RuntimeError(f"{self.name} runs in-process: call its real host names instead")
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- driving the fake ----------------------------------------------------------------------------
    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The fake's request journal, newest last."""
        return self.state.journal.entries(limit)

    def add_faults(self, rules: Any) -> list[dict[str, Any]]:
        """Install fault rules (one rule object or a list, as `POST /_harness/faults` takes them)."""
        return [rule.to_json() for rule in self.state.faults.install(rules)]

    def configure(self, values: Mapping[str, Any]) -> list[str]:
        """Change settings (dotted keys or nested objects); returns the keys that changed."""
        return self.state.update_config(values)

    def reset(self, *, seed: int | str | None = None) -> None:
        """Clear this fake's data, journal and fault rules; configuration and the shared clock stay."""
        self.state.reset(seed=seed)

    def serve(self) -> str:
        """Also serve this fake (same state) on a loopback port; returns its base URL.

        This is how an in-process fake is reached over real HTTP too; the server stops with the fleet."""
        if not self._servers:
            self._start_server(ServerOptions(host=self._options.host, threads=self._options.threads,
                                             limits=self._options.limits))
        url = self.base_url
        assert url is not None
        return url

    # -- run by the fleet ----------------------------------------------------------------------------
    def _start_route(self, mock: responses.RequestsMock) -> None:
        if self._route is None:
            self._route = InProcessRoute(self.app, self.descriptor.host_patterns, mock=mock).start()

    def _start_server(self, options: ServerOptions) -> None:
        if self._servers:
            return
        self._options = options
        tls = options.tls_of(self.name)
        server = FakeServer(self.app, host=options.host, port=options.port_of(self.name), threads=options.threads,
                            name=self.name, tls_context=tls.context if tls else None, tls_port=tls.port if tls else 0,
                            limits=options.limits)
        self._servers.append(server.start())

    def _stop(self) -> None:
        while self._servers:
            self._servers.pop().stop()
        if self._route is not None:
            self._route.stop()
            self._route = None


class FakeFleet:
    """A set of fakes (registry names; default every registered fake: mixpanel and braze) on one clock.

    Members are reachable by name (`fleet["mixpanel"]`, a `FakeHandle`) from construction on; `start()`
    (or `with`) runs them in `mode`; `stop()` stops routing and servers (states are kept, `start()` may
    run them again); `close()` stops for good and is idempotent. `add(name)` takes a fake in later, also
    while running. An unknown or unimportable fake raises `fakes.registry.FakeUnavailableError`.

    `clock`: join an existing clock (a runner's) instead of making one; the fleet then treats it as its
    own. `mock`: route in-process through this `responses` mock (its owner starts and stops it) instead of
    the fleet's own (`fleet.mock`, started with the fleet).
    """

    def __init__(
        self,
        names: Iterable[str] | None = None,
        *,
        mode: FleetMode = "in-process",
        seed: int | str = 0,
        configs: Mapping[str, Mapping[str, Any]] | None = None,
        servers: ServerOptions | None = None,
        clock: SimulatedClock | None = None,
        mock: responses.RequestsMock | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode: FleetMode = mode
        self.seed = seed
        self.clock = clock if clock is not None else SimulatedClock()
        self.scheduler = Scheduler.on(self.clock)
        self._own_mock = mock is None
        self.mock = mock if mock is not None else responses.RequestsMock(assert_all_requests_are_fired=False)
        self._servers = servers if servers is not None else ServerOptions()
        self._members: dict[str, FakeHandle] = {}
        self._clock_listeners: list[Callable[[], None]] = []
        self._lock = threading.RLock()
        self._running = False
        self._closed = False
        configs = configs or {}
        for name in names if names is not None else fake_names():
            self.add(name, config=configs.get(name))
        strays = sorted(set(configs) - set(self._members))
        if strays:
            raise ValueError(f"configs given for fakes not in the fleet: {', '.join(strays)}")

    # -- members -------------------------------------------------------------------------------------
    def add(self, name: str, *, config: Mapping[str, Any] | None = None, seed: int | str | None = None) -> FakeHandle:
        """Take the fake `name` into the fleet (on the fleet's clock); started at once if the fleet runs."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the fleet is closed")
            if name in self._members:
                raise ValueError(f"the fleet already has the fake {name!r}: use fleet[{name!r}]")
            descriptor = load_fake(name)
            state = descriptor.new_state(config, clock=self.clock, seed=self.seed if seed is None else seed)
            app = descriptor.create_app(state=state)
            allow_hosts(app, [*descriptor.host_patterns, *descriptor.tls_hostnames])  # the names it is reached by
            handle = FakeHandle(descriptor, state, app, options=self._servers)
            self._members[name] = handle
            if self._running:
                try:
                    self._start_member(handle)
                except BaseException:
                    del self._members[name]
                    handle._stop()
                    raise
            return handle

    def __getitem__(self, name: str) -> FakeHandle:
        try:
            return self._members[name]
        except KeyError:
            raise KeyError(f"no fake {name!r} in this fleet; members: {', '.join(self._members) or '(none)'}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __iter__(self) -> Iterator[FakeHandle]:
        return iter(list(self._members.values()))

    def __len__(self) -> int:
        return len(self._members)

    @property
    def names(self) -> list[str]:
        return list(self._members)

    @property
    def in_process(self) -> bool:
        return self.mode in ("in-process", "both")

    @property
    def loopback(self) -> bool:
        return self.mode in ("loopback", "both")

    @property
    def running(self) -> bool:
        return self._running

    def tls_hostnames(self) -> list[str]:
        """The host names an HTTPS test certificate must cover for every member."""
        return [host for handle in self for host in handle.descriptor.tls_hostnames]

    # -- running -------------------------------------------------------------------------------------
    def start(self, *, servers: ServerOptions | None = None) -> FakeFleet:
        """Run every member in the fleet's mode. `servers` replaces the loopback options given at
        construction (for a caller that decides ports or TLS from the members' configuration).
        If anything fails to start (a port in use), what did start is stopped again and the error raised."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the fleet is closed")
            if servers is not None:
                self._servers = servers
            if self._running:
                return self
            self._running = True
            try:
                if self.in_process and self._own_mock:
                    self.mock.start()
                for handle in self._members.values():
                    self._start_member(handle)
            except BaseException:
                self.stop()
                raise
            return self

    def _start_member(self, handle: FakeHandle) -> None:
        if self.in_process:
            handle._start_route(self.mock)
        if self.loopback:
            handle._start_server(self._servers)

    def stop(self) -> None:
        """Stop routing and serving (every server a member started, `serve()` ones too); states are kept."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            for handle in reversed(list(self._members.values())):
                handle._stop()
            if self.in_process and self._own_mock:
                self.mock.stop()
                self.mock.reset()

    def close(self) -> None:
        """Stop for good and detach the clock listeners. Calling it again does nothing."""
        with self._lock:
            if self._closed:
                return
            self.stop()
            for handle in self._members.values():
                handle._stop()  # servers a member's serve() started while the fleet was stopped
            for unsubscribe in self._clock_listeners:
                unsubscribe()
            self._clock_listeners.clear()
            self._closed = True

    def __enter__(self) -> FakeFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the shared clock ----------------------------------------------------------------------------
    def reset(self, *, seed: int | str | None = None) -> None:
        """A fresh start of the whole fleet: every member's data, journal and faults cleared (configuration
        kept), nothing left on the agenda, and the fleet's clock back to real time (only the fleet, its
        owner, moves it)."""
        for handle in self:
            handle.reset(seed=seed)
        self.scheduler.clear()
        self.clock.reset()

    def on_clock_moved(self, listener: ClockListener) -> Callable[[], None]:
        """Call `listener(old_now, new_now)` whenever the fleet's clock is set or advanced (through any
        fake's control API or `fleet.clock`); returns a function that detaches it. Detached at `close()`.
        This is where a scheduler runs the actions that fall due inside an advance."""
        unsubscribe = self.clock.subscribe(listener)
        with self._lock:
            self._clock_listeners.append(unsubscribe)
        return unsubscribe
