"""Server mode (DESIGN.md §4): a fake's app on a loopback port, served by waitress in a background thread.

    with FakeServer(app, port=0) as server:       # port 0: a free port
        requests.get(server.base_url + "/_harness/health")

waitress gives HTTP/1.1 keep-alive, answers pipelined requests in order, honours `Connection: close`, and
reads each request body completely before the app sees it (so every answer, faults included, follows a
fully read body; mixpanel-ingestion.md §2.3). The app adds Content-Length to every answer.

Connection faults are carried out on the real socket: a small subclass of waitress's task notices the
`TransportFault` the app left in the environ and drops the connection before the answer (FIN, or RST through
SO_LINGER 0), after part of the body (mid-response), after a hang, or trickles the body (slow_body).
"""

from __future__ import annotations

import functools
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from fakes.core import transport
from fakes.core.body_limit import DECLARED_KEY, LimitedParser, discard_prefix
from fakes.core.tls import TlsFrontDoor

log = logging.getLogger("fakes.core.server")

DEFAULT_THREADS = 8
DEFAULT_CONNECTION_LIMIT = 1000  # mixpanel-import opens up to 100 sockets per run

RECV_BYTES = 256 * 1024
"""Largest socket read while a request body streams in. waitress's 8 KiB reads make a 1 MB /import batch
~130 trips through the event loop and request parser (see `_HarnessChannel.handle_read`)."""
SMALL_READ_BYTES = 8192
"""Socket read between bodies (request lines and headers): waitress's default."""
INBUF_OVERFLOW = 16 * 1024 * 1024
"""Request bodies up to this size stay in memory; larger ones spill to a temporary file (waitress's
default is 512 KiB, below a typical 2000-event batch). 16 MiB covers Mixpanel's 10 MB /import limit."""
OUTBUF_OVERFLOW = 16 * 1024 * 1024
"""Answers up to this size are buffered in memory (a full journal read can run to megabytes)."""


class PortInUseError(OSError):
    """The requested port is taken; the message is one clear line."""


class _DropConnection(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


class _HarnessTask(WSGITask):
    """Adds the cancel event to the environ and turns `_DropConnection` into a real dropped connection."""

    wrote_header: bool  # waitress's own flag (its classes are untyped)

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        server = self.channel.server
        environ[transport.MODE_KEY] = "server"
        environ[transport.CANCEL_KEY] = getattr(server, "harness_cancel", None)
        front_door = getattr(server, "harness_tls", None)
        if front_door is not None:
            try:
                peer = front_door.peers.get((environ.get("REMOTE_ADDR"), int(environ.get("REMOTE_PORT") or 0)))
            except ValueError:
                peer = None
            if peer is not None:
                # Arrived through the TLS front door: show the request as the client made it.
                environ["wsgi.url_scheme"] = "https"
                environ["HTTPS"] = "on"
                environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = peer[0], str(peer[1])
                environ["SERVER_PORT"] = str(peer[2])
        environ["harness.flush"] = self._flush_now
        declared = getattr(self.request, "harness_declared", None)
        if declared is not None:
            environ[DECLARED_KEY] = declared  # refused unread: the fake answers its 413 (body_limit.py)
        return environ

    def _flush_now(self) -> None:
        channel = self.channel
        with channel.outbuf_lock:
            channel._flush_some(do_close=False)

    def service(self) -> None:
        try:
            super().service()
        except _DropConnection as drop:
            # Nothing more goes out on this connection; pipelined requests behind it are dropped with it.
            self.close_on_finish = True
            if drop.mode == "rst":
                try:
                    self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            if not self.wrote_header:
                self.wrote_header = True  # keep waitress from writing a 500 of its own


class _HarnessChannel(HTTPChannel):
    task_class = _HarnessTask
    harness_discard = 0  # bytes of a refused body still to drop as they arrive (body_limit.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser_class = functools.partial(LimitedParser, channel=self)

    def received(self, data: bytes) -> bool:
        if self.harness_discard:
            data = discard_prefix(self, data)
        return bool(super().received(data)) if data else True

    def handle_read(self) -> None:
        # waitress 3's handle_read, reading up to the rest of the current body (at most RECV_BYTES) instead
        # of a fixed size. Large reads between requests would take in a whole pipelined burst at once; the
        # event loop then spins on the queued answers' buffer lock (pipelined throughput fell 10x), whereas
        # reading exactly the rest of a body never reaches into the next request.
        try:
            data = self.recv(self._read_size())
        except OSError:
            if self.adj.log_socket_errors:
                self.logger.exception("Socket error")
            self.handle_close()
            return
        if data:
            self.last_activity = time.time()
            self.received(data)
        else:
            self.connected = False  # the client disconnected

    def _read_size(self) -> int:
        receiver = getattr(self.request, "body_rcv", None)
        remain = getattr(receiver, "remain", 0)  # a fixed-length body still coming; chunked bodies have none
        return min(remain, RECV_BYTES) if remain > SMALL_READ_BYTES else SMALL_READ_BYTES


class _HarnessWSGIServer(TcpWSGIServer):
    channel_class = _HarnessChannel


class TransportFaultMiddleware:
    """Carries out a `TransportFault` left by the app. Only meaningful under `_HarnessWSGIServer`."""

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
            raise _DropConnection("fin")
        if fault.type == "drop_before_response":
            raise _DropConnection(fault.mode)
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
        raise _DropConnection("fin")

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
                raise _DropConnection("fin")  # server stopping


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
        threads: int = DEFAULT_THREADS,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
        name: str = "fake",
        tls_context: ssl.SSLContext | None = None,
        tls_port: int = 0,
    ) -> None:
        self.app = app
        self.tls_context = tls_context
        self.requested_tls_port = tls_port
        self._tls: TlsFrontDoor | None = None
        self.host = host
        self.requested_port = port
        self.threads = threads
        self.connection_limit = connection_limit
        self.name = name
        self._server: _HarnessWSGIServer | None = None
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
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(self.threads)
        try:
            server = _HarnessWSGIServer(
                TransportFaultMiddleware(self.app),
                map=self._map,
                dispatcher=dispatcher,
                **_adjustments(self.host, self.requested_port, self.threads, self.connection_limit),
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
                    f"{self.name}: port {self.requested_port} on {self.host} is already in use"
                ) from None
            raise PortInUseError(
                f"{self.name}: cannot listen on {self.host}:{self.requested_port}: {exc.strerror or exc}"
            ) from None
        server.harness_cancel = self._cancel
        state = getattr(self.app, "extensions", {}).get("harness_state")  # fakes.core.context.STATE_EXTENSION
        server.harness_body_limit = getattr(state, "body_limit", None)
        self._server = server
        self._thread = threading.Thread(target=self._loop, name=f"harness-{self.name}-server", daemon=True)
        self._thread.start()
        if self.tls_context is not None:
            front = TlsFrontDoor(self.tls_context, (self.host, self.port), host=self.host,
                                 port=self.requested_tls_port, name=self.name)
            try:
                front.start()
            except OSError as exc:
                self.stop()
                if exc.errno in (98, 48, 10048):
                    raise PortInUseError(
                        f"{self.name}: HTTPS port {self.requested_tls_port} on {self.host} is already in use"
                    ) from None
                raise PortInUseError(f"{self.name}: cannot listen for HTTPS on {self.host}:{self.requested_tls_port}: "
                                     f"{exc.strerror or exc}") from None
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

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _adjustments(host: str, port: int, threads: int, connection_limit: int) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "threads": threads,
        "connection_limit": connection_limit,
        "ident": "",  # no "Server: waitress" header: the real services do not send it
        "clear_untrusted_proxy_headers": False,
        "channel_timeout": 120,
        "log_socket_errors": False,
        "recv_bytes": SMALL_READ_BYTES,  # _HarnessChannel reads more while a body streams in
        "inbuf_overflow": INBUF_OVERFLOW,
        "outbuf_overflow": OUTBUF_OVERFLOW,
    }
