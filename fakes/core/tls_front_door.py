"""The TLS front door of server mode (mixpanel-ingestion.md §2.3): HTTPS in front of the fake's plain port.

Each TLS connection is relayed byte for byte to its own connection on the plain port, so keep-alive,
pipelining and `Connection: close` behave exactly as over plain HTTP, and so do connection faults:

- the fake closes (FIN drop, end of a hang, a cut mid-response, `Connection: close`): the relayed bytes are
  flushed, then TLS `close_notify` and FIN, so the client reads a clean end of stream, as over plain HTTP;
- the fake resets (drop mode `rst`): the TLS connection is reset too (SO_LINGER 0), nothing more is sent.

One asyncio event loop in one thread serves every connection (the standard library's TLS over memory BIOs,
so reads and writes of one connection never race as they would across two threads). At most
`connection_limit` connections are open: at the limit the least recently active one is closed to make room.
A handshake not finished in `handshake_timeout_s` is abandoned. Back-pressure runs both ways (a client that
does not read stops the reads from the fake, and so parks its requests there); a connection whose client
has read nothing for `idle_timeout_s` while answers wait for it is closed, as the plain port does.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
import struct
import sys
import threading
import time
from typing import Any

log = logging.getLogger("fakes.core.tls")

ACCEPT_PAUSE_S = 0.1
SHUTDOWN_TIMEOUT_S = 5.0
"""How long a closing TLS connection waits for the client's own close_notify (Python >= 3.11)."""


class TlsFrontDoor:
    """Listens on (host, port) for TLS and relays each connection to the plain backend port."""

    def __init__(self, context: ssl.SSLContext, backend: tuple[str, int], *, host: str = "127.0.0.1", port: int = 0,
                 name: str = "fake", connection_limit: int = 10_000, handshake_timeout_s: float = 10.0,
                 idle_timeout_s: float = 120.0) -> None:
        self.context = context
        self.peers: dict[tuple[str, int], tuple[str, int, int]] = {}
        """Relay socket address (as the backend sees it) -> (client host, client port, TLS port)."""
        self.backend = backend
        self.host = host
        self.requested_port = port
        self.name = name
        self.connection_limit = connection_limit
        self.handshake_timeout_s = handshake_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.evicted = 0
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._relays: set[_Relay] = set()
        self._port = 0

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("TLS front door not started")
        return self._port

    @property
    def open_connections(self) -> int:
        return len(self._relays)

    def start(self) -> TlsFrontDoor:
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.requested_port))
            listener.listen(1024)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self._port = int(listener.getsockname()[1])
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_log_loop_error)
        self._loop = loop
        self._thread = threading.Thread(target=self._run, args=(loop, listener), name=f"harness-{self.name}-tls",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self, loop: asyncio.AbstractEventLoop, listener: socket.socket) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.create_task(self._accept_loop(listener))
            loop.call_later(self._sweep_interval, self._sweep)
            loop.run_forever()
            # stopping: let the accept loop, handshakes and connects unwind before the loop closes
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            listener.close()
            loop.close()

    async def _accept_loop(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _addr = await loop.sock_accept(listener)
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    if not self._evict_one():
                        await asyncio.sleep(ACCEPT_PAUSE_S)
                    continue
                if listener.fileno() == -1:
                    return  # closed: stopping
                continue  # a connection that went away before it was accepted
            if len(self._relays) >= self.connection_limit and not self._evict_one():
                conn.close()
                continue
            relay = _Relay(self, conn)
            self._relays.add(relay)
            relay.task = loop.create_task(relay.handshake())
            relay.task.add_done_callback(relay.handshake_ended)

    @property
    def _sweep_interval(self) -> float:
        return min(5.0, self.idle_timeout_s / 2)

    def _sweep(self) -> None:
        # a client that reads nothing while answers wait: the fake stopped hearing from this relay (it reads
        # no more), so the relay gives up on its own, after the same idle timeout
        cutoff = time.monotonic() - self.idle_timeout_s
        for relay in [r for r in self._relays if r.stalled and r.last_activity < cutoff]:
            relay.abort()
        assert self._loop is not None
        self._loop.call_later(self._sweep_interval, self._sweep)

    def _evict_one(self) -> bool:
        if not self._relays:
            return False
        victim = min(self._relays, key=lambda r: r.last_activity)
        self.evicted += 1
        victim.close()
        return True

    def forget(self, relay: _Relay) -> None:
        self._relays.discard(relay)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(self._shutdown)
        if thread is not None:
            thread.join(5)
        self._loop = None
        self._thread = None
        self._listener = None

    def _shutdown(self) -> None:
        assert self._loop is not None
        for relay in list(self._relays):
            relay.abort()
        self._relays.clear()
        self.peers.clear()
        self._loop.stop()


class _Relay:
    """One TLS client and its connection to the fake's plain port."""

    def __init__(self, door: TlsFrontDoor, sock: socket.socket) -> None:
        self.door = door
        self.sock = sock
        self.last_activity = time.monotonic()
        self.task: asyncio.Task | None = None
        self.client: asyncio.Transport | None = None
        self.backend: asyncio.Transport | None = None
        self.pending: list[bytes] = []
        self.client_eof = False
        self.stalled = False
        """The client does not read: the answers wait in the relay, reads from the fake are paused."""
        self.peer_key: tuple[str, int] | None = None
        self.done = False

    async def handshake(self) -> None:
        loop = asyncio.get_running_loop()
        extra: dict[str, Any] = {"ssl_shutdown_timeout": SHUTDOWN_TIMEOUT_S} if sys.version_info >= (3, 11) else {}
        try:
            await loop.connect_accepted_socket(lambda: _ClientSide(self), self.sock, ssl=self.door.context,
                                               ssl_handshake_timeout=self.door.handshake_timeout_s, **extra)
        except (OSError, asyncio.TimeoutError, asyncio.CancelledError):
            self.sock.close()  # a failed or abandoned handshake: nothing to answer
            self.finish()
            return
        if self.done:
            return
        try:
            await loop.create_connection(lambda: _BackendSide(self), *self.door.backend)
        except OSError:
            self.abort()

    def handshake_ended(self, task: asyncio.Task) -> None:
        # Evicted before its task first ran (one burst of accepts from a backlog, as on a starved loop): the
        # coroutine never started, so nothing above closed the socket and the client would wait forever.
        if task.cancelled() and self.client is None:
            self.sock.close()
            self.finish()

    # -- events from the two sides --------------------------------------------------------------------
    def backend_ready(self, transport: asyncio.Transport) -> None:
        self.backend = transport
        client = self.client
        if self.done or client is None:
            transport.close()
            return
        # Registered before any byte is relayed, so the server can tell this is an HTTPS request.
        self.peer_key = transport.get_extra_info("sockname")[:2]
        peer = client.get_extra_info("peername")
        self.door.peers[self.peer_key] = (peer[0], peer[1], self.door.port)
        for data in self.pending:
            transport.write(data)
        self.pending.clear()
        if self.client_eof:
            transport.write_eof()
        client.resume_reading()

    def from_client(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        if self.backend is not None:
            self.backend.write(data)
        else:
            self.pending.append(data)
            if self.client is not None:
                self.client.pause_reading()  # until the fake's side is connected

    def client_finished_sending(self) -> None:
        self.client_eof = True
        if self.backend is not None and self.backend.can_write_eof():
            self.backend.write_eof()  # the client is done sending; the fake still answers

    def from_backend(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        if self.client is not None:
            self.client.write(data)

    def backend_closed(self, reset: bool) -> None:
        if reset:
            self.abort(reset=True)  # drop mode rst: the client's connection is reset too
        else:
            self.close()  # the relayed bytes are flushed, then close_notify and FIN

    def client_closed(self) -> None:
        if self.backend is not None:
            self.backend.close()
        self.finish()

    # -- ending ---------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.task is not None and self.client is None:
            self.task.cancel()  # still in the handshake
        if self.client is not None:
            self.client.close()
        if self.backend is not None:
            self.backend.close()
        self.finish()

    def abort(self, reset: bool = False) -> None:
        if self.task is not None and self.client is None:
            self.task.cancel()
        client = self.client
        if client is not None:
            if reset:
                raw = client.get_extra_info("socket")
                with contextlib.suppress(OSError, AttributeError):
                    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.abort()
        if self.backend is not None:
            self.backend.abort()
        self.finish()

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        if self.peer_key is not None:
            self.door.peers.pop(self.peer_key, None)
        self.door.forget(self)


class _ClientSide(asyncio.Protocol):
    def __init__(self, relay: _Relay) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.relay.client = transport
        self.relay.last_activity = time.monotonic()

    def data_received(self, data: bytes) -> None:
        self.relay.from_client(data)

    def eof_received(self) -> bool | None:
        self.relay.client_finished_sending()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.client_closed()

    def pause_writing(self) -> None:  # the client does not read: stop reading from the fake
        self.relay.stalled = True
        if self.relay.backend is not None:
            self.relay.backend.pause_reading()

    def resume_writing(self) -> None:
        self.relay.stalled = False
        self.relay.last_activity = time.monotonic()
        if self.relay.backend is not None and not self.relay.backend.is_closing():
            self.relay.backend.resume_reading()


class _BackendSide(asyncio.Protocol):
    def __init__(self, relay: _Relay) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.relay.backend_ready(transport)

    def data_received(self, data: bytes) -> None:
        self.relay.from_backend(data)

    def eof_received(self) -> bool | None:
        self.relay.backend_closed(reset=False)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.backend_closed(reset=isinstance(exc, ConnectionResetError))

    def pause_writing(self) -> None:  # the fake does not read: stop reading from the client
        if self.relay.client is not None:
            self.relay.client.pause_reading()

    def resume_writing(self) -> None:
        if self.relay.client is not None and not self.relay.client.is_closing():
            self.relay.client.resume_reading()


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Clients that vanish mid-handshake or mid-write are normal here; keep them off the user's terminal.
    log.debug("TLS front door: %s", context.get("message"), exc_info=context.get("exception"))
