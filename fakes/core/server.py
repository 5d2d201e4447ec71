"""Server mode (DESIGN.md §4): a fake's app on a loopback port, served by waitress in a background thread.

    with FakeServer(app, port=0) as server:       # port 0: a free port
        requests.get(server.base_url + "/_harness/health")

waitress gives HTTP/1.1 keep-alive, answers pipelined requests in order, honours `Connection: close`, and
reads each request body completely before the app sees it (so every answer, faults included, follows a
fully read body; mixpanel-ingestion.md §2.3). The app adds Content-Length to every answer.

Connection faults are carried out on the real socket: the harness's waitress task (`fakes.core.channel`)
notices the `TransportFault` the app left in the environ and drops the connection before the answer (FIN, or
RST through SO_LINGER 0), after part of the body (mid-response), after a hang, or trickles the body
(slow_body). How the server stays available under pressure (a worker lane for `/_harness`, workers lent
back during fault waits, parking clients that do not read, room at the connection limit) is set by
`fakes.core.limits.ServerLimits` and done in `fakes.core.lanes` and `fakes.core.channel`.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from waitress import wasyncore

from fakes.core import transport
from fakes.core.channel import RECV_BYTES, SMALL_READ_BYTES, DropConnection, HarnessWSGIServer
from fakes.core.lanes import LaneDispatcher
from fakes.core.limits import DEFAULT_THREADS, ServerLimits
from fakes.core.tls_front_door import TlsFrontDoor

log = logging.getLogger("fakes.core.server")

__all__ = ["DEFAULT_THREADS", "RECV_BYTES", "FakeServer", "PortInUseError", "ServerLimits",
           "TransportFaultMiddleware"]

INBUF_OVERFLOW = 16 * 1024 * 1024
"""Request bodies up to this size stay in memory; larger ones spill to a temporary file (waitress's
default is 512 KiB, below a typical 2000-event batch). 16 MiB covers Mixpanel's 10 MB /import limit."""
OUTBUF_OVERFLOW = 16 * 1024 * 1024
"""Answers up to this size are buffered in memory (a full journal read can run to megabytes)."""
CLEANUP_INTERVAL_S = 5
"""How often idle connections and clients that read nothing are looked for (waitress's default is 30 s)."""


class PortInUseError(OSError):
    """The requested port is taken; the message is one clear line. `server` names the server (the fake)
    and `https` says whether it was its HTTPS port, so a caller can say which option to change."""

    def __init__(self, message: str, server: str | None = None, https: bool = False) -> None:
        super().__init__(message)
        self.server = server
        self.https = https


class TransportFaultMiddleware:
    """Carries out a `TransportFault` left by the app. Only meaningful under `HarnessWSGIServer`."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        app_iter = self.app(environ, capture)
        fault = transport.transport_fault(environ)
        if fault is None:
            start_response(captured["status"], captured["headers"])
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "x-harness-fault"]
        if fault.type == "hang":
            transport.wait(environ, (fault.max_hang_ms or 0) / 1000)
            raise DropConnection("fin")
        if fault.type == "drop_before_response":
            raise DropConnection(fault.mode)
        if fault.type == "drop_mid_response":
            start_response(captured["status"], headers)
            return self._cut(body, fault.sent_bytes or 0, environ)
        if fault.type == "slow_body":
            start_response(captured["status"], headers)
            return self._trickle(body, fault.bytes_per_s or 1, environ)
        start_response(captured["status"], headers)  # pragma: no cover - unknown type: answer normally
        return [body]

    @staticmethod
    def _cut(body: bytes, sent: int, environ: dict[str, Any]) -> Iterable[bytes]:
        if sent:
            yield body[:sent]
            flush = environ.get("harness.flush")
            if flush is not None:
                flush()
        raise DropConnection("fin")

    @staticmethod
    def _trickle(body: bytes, bytes_per_s: int, environ: dict[str, Any]) -> Iterable[bytes]:
        # About ten writes per second, each flushed at once so the client sees the trickle.
        step = max(1, bytes_per_s // 10)
        flush = environ.get("harness.flush")
        for start in range(0, len(body), step):
            yield body[start:start + step]
            if flush is not None:
                flush()
            if start + step < len(body) and transport.wait(environ, step / bytes_per_s):
                raise DropConnection("fin")  # server stopping


def _quiet_waitress_queue_warnings() -> None:
    # waitress warns "Task queue depth is N" whenever a request waits for a worker thread: normal under
    # load (pipelining, benchmarks), and noise on a user's terminal. Left alone if the user set a level.
    queue_logger = logging.getLogger("waitress.queue")
    if queue_logger.level == logging.NOTSET:
        queue_logger.setLevel(logging.ERROR)


class FakeServer:
    """One app on one loopback port. `start()` returns once the port is bound; `stop()` joins cleanly."""

    def __init__(
        self,
        app: Callable,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int | None = None,
        connection_limit: int | None = None,
        name: str = "fake",
        tls_context: ssl.SSLContext | None = None,
        tls_port: int = 0,
        limits: ServerLimits | None = None,
    ) -> None:
        """`limits` sets every limit (`fakes.core.limits`); `threads` / `connection_limit` override its own."""
        limits = limits or ServerLimits()
        overrides = {k: v for k, v in (("threads", threads), ("connection_limit", connection_limit)) if v is not None}
        self.limits = dataclasses.replace(limits, **overrides) if overrides else limits
        self.app = app
        self.tls_context = tls_context
        self.requested_tls_port = tls_port
        self._tls: TlsFrontDoor | None = None
        self.host = host
        self.requested_port = port
        self.name = name
        self._server: HarnessWSGIServer | None = None
        self._map: dict = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cancel = threading.Event()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.effective_port)

    @property
    def base_url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def https_base_url(self) -> str | None:
        """`https://host:port` of the TLS front door, when the server was given a TLS context."""
        if self._tls is None:
            return None
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"https://{host}:{self._tls.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> FakeServer:
        if self._server is not None:
            return self
        _quiet_waitress_queue_warnings()
        self._stopping.clear()
        self._cancel.clear()
        self._map = {}
        limits = self.limits
        dispatcher = LaneDispatcher(limits.threads, limits.control_threads, limits.fault_wait_threads)
        try:
            server = HarnessWSGIServer(
                TransportFaultMiddleware(self.app),
                map=self._map,
                dispatcher=dispatcher,
                **_adjustments(self.host, self.requested_port, limits),
            )
        except OSError as exc:
            dispatcher.shutdown(timeout=1)
            for obj in list(self._map.values()):
                try:
                    obj.close()
                except OSError:
                    pass
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise PortInUseError(
                    f"{self.name}: port {self.requested_port} on {self.host} is already in use", self.name
                ) from None
            raise PortInUseError(
                f"{self.name}: cannot listen on {self.host}:{self.requested_port}: {exc.strerror or exc}", self.name
            ) from None
        server.harness_cancel = self._cancel
        state = getattr(self.app, "extensions", {}).get("harness_state")  # fakes.core.context.STATE_EXTENSION
        server.harness_body_limit = getattr(state, "body_limit", None)
        self._server = server
        self._thread = threading.Thread(target=self._loop, name=f"harness-{self.name}-server", daemon=True)
        self._thread.start()
        if self.tls_context is not None:
            front = TlsFrontDoor(self.tls_context, (self.host, self.port), host=self.host,
                                 port=self.requested_tls_port, name=self.name,
                                 connection_limit=limits.tls_connection_limit,
                                 handshake_timeout_s=limits.tls_handshake_timeout_s,
                                 idle_timeout_s=limits.idle_timeout_s)
            try:
                front.start()
            except OSError as exc:
                self.stop()
                if exc.errno in (98, 48, 10048):
                    raise PortInUseError(
                        f"{self.name}: HTTPS port {self.requested_tls_port} on {self.host} is already in use",
                        self.name, https=True) from None
                raise PortInUseError(f"{self.name}: cannot listen for HTTPS on {self.host}:{self.requested_tls_port}: "
                                     f"{exc.strerror or exc}", self.name, https=True) from None
            self._tls = front
            server.harness_tls = front
        return self

    def _loop(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                wasyncore.loop(timeout=0.2, map=self._map, use_poll=True, count=1)
            except Exception:  # pragma: no cover - keep serving; waitress logs its own errors
                log.exception("%s server loop error", self.name)
                time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        server = self._server
        if server is None:
            return
        if self._tls is not None:
            self._tls.stop()
            self._tls = None
        self._cancel.set()  # wake hangs, latencies and trickles
        self._stopping.set()
        try:
            server.pull_trigger()
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        for obj in list(self._map.values()):
            try:
                obj.close()
            except OSError:
                pass
        self._map.clear()
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def stats(self) -> dict[str, int]:
        """Open connections and what the limits did: `connections` (plain port, HTTPS relays included),
        `parked` (waiting for their client to read), `evicted` / `refused` (at the connection limit),
        `fault_waits` (workers lent back while requests wait in faults), `tls_connections`, `tls_evicted`."""
        server = self._server
        if server is None:
            return {}
        channels = list(server.active_channels.values())  # a snapshot: the event loop may change it meanwhile
        dispatcher = server.task_dispatcher
        out = {
            "connections": len(channels),
            "parked": sum(1 for c in channels if getattr(c, "parked", False)),
            "evicted": server.harness_evicted,
            "refused": server.harness_refused,
            "fault_waits": dispatcher.main.stand_ins if isinstance(dispatcher, LaneDispatcher) else 0,
        }
        if self._tls is not None:
            out["tls_connections"] = self._tls.open_connections
            out["tls_evicted"] = self._tls.evicted
        return out

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _adjustments(host: str, port: int, limits: ServerLimits) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "threads": limits.threads,
        "connection_limit": limits.connection_limit,
        "ident": "",  # no "Server: waitress" header: the real services do not send it
        "clear_untrusted_proxy_headers": False,
        "channel_timeout": limits.idle_timeout_s,
        "cleanup_interval": min(CLEANUP_INTERVAL_S, limits.idle_timeout_s),
        "outbuf_high_watermark": limits.outbuf_high_watermark,
        "backlog": 1024,
        "log_socket_errors": False,
        "recv_bytes": SMALL_READ_BYTES,  # HarnessChannel reads more while a body streams in
        "inbuf_overflow": INBUF_OVERFLOW,
        "outbuf_overflow": OUTBUF_OVERFLOW,
    }
