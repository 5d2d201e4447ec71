"""The loopback server's waitress subclasses: connection faults, large reads, parking, room at the limit.

- `HarnessTask` puts the harness's hooks in the WSGI environ (the cancel event, the TLS peer, a flush and
  the pool's `waiting()`), and turns `DropConnection` into a real dropped connection (FIN, or RST through
  SO_LINGER 0).
- `HarnessChannel` reads the rest of a request body in large reads, and never blocks a worker on a client
  that does not read: the wait for the client moves to the event loop (`park_if_unread`).
- `HarnessWSGIServer` makes room at the connection limit by closing the least recently active connection
  that has no request in progress, copes with running out of file descriptors, and closes connections
  whose client has read nothing of their pending answers for the idle timeout.
"""

from __future__ import annotations

import errno
import functools
import socket
import struct
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import WSGITask

from fakes.core import transport
from fakes.core.body_limit import DECLARED_KEY, LimitedParser, discard_prefix

RECV_BYTES = 256 * 1024
"""Largest socket read while a request body streams in. waitress's 8 KiB reads make a 1 MB /import batch
~130 trips through the event loop and request parser (see `HarnessChannel.handle_read`)."""
SMALL_READ_BYTES = 8192
"""Socket read between bodies (request lines and headers): waitress's default."""
ACCEPT_PAUSE_S = 0.1
"""Out of file descriptors with nothing to close: stop accepting this long (instead of spinning)."""


class DropConnection(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


class HarnessTask(WSGITask):
    """Adds the harness hooks to the environ and turns `DropConnection` into a real dropped connection."""

    wrote_header: bool  # waitress's own flag (its classes are untyped)

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        server = self.channel.server
        environ[transport.MODE_KEY] = "server"
        environ[transport.CANCEL_KEY] = getattr(server, "harness_cancel", None)
        dispatcher = server.task_dispatcher
        pool_for = getattr(dispatcher, "pool_for", None)
        if pool_for is not None:
            environ[transport.WAITING_KEY] = pool_for(self.channel).waiting
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
        except DropConnection as drop:
            # Nothing more goes out on this connection; pipelined requests behind it are dropped with it.
            self.close_on_finish = True
            if drop.mode == "rst":
                try:
                    self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            if not self.wrote_header:
                self.wrote_header = True  # keep waitress from writing a 500 of its own


class HarnessChannel(HTTPChannel):
    task_class = HarnessTask
    requests: list[Any]  # waitress's own list (its classes are untyped)
    parked = False
    """A pipelined request waits for the client to read earlier answers (no worker holds it)."""
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

    # -- clients that do not read ---------------------------------------------------------------------
    def _flush_outbufs_below_high_watermark(self) -> None:
        # waitress blocks the worker here until the client has read enough; the harness parks the
        # connection instead (`park_if_unread`, called when the next request is handed to a pool).
        return

    def park_if_unread(self) -> bool:
        """True (and parked) when more than the high watermark of answers waits for the client."""
        with self.outbuf_lock:
            if self.connected and self.total_outbufs_len > self.adj.outbuf_high_watermark:
                self.parked = True
                return True
        return False

    def handle_write(self) -> None:
        super().handle_write()
        if not self.parked:
            return
        with self.outbuf_lock:
            ready = self.connected and self.total_outbufs_len <= self.adj.outbuf_high_watermark
            if ready:
                self.parked = False
        if ready:
            self.server.add_task(self)  # the client read enough: run its next request

    def handle_close(self) -> None:
        if self.parked:
            self.parked = False
            with self.requests_lock:
                for request in self.requests:
                    request.close()
                self.requests = []
        super().handle_close()

    @property
    def evictable(self) -> bool:
        """No worker on it (idle keep-alive, a request still arriving, or parked): safe to close for room."""
        return not self.requests or self.parked


class HarnessWSGIServer(TcpWSGIServer):
    channel_class = HarnessChannel
    next_channel_cleanup: float  # waitress's own (its classes are untyped)
    harness_accept_paused_until = 0.0
    harness_refused = 0
    harness_evicted = 0

    def readable(self) -> bool:
        # waitress stops accepting at the connection limit, which locks every new client out while idle
        # connections hold the slots; the harness keeps accepting and makes room in handle_accept.
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        return bool(self.accepting) and now >= self.harness_accept_paused_until

    def handle_accept(self) -> None:
        try:
            pair = self.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE) and not self._evict_one():
                self.harness_accept_paused_until = time.time() + ACCEPT_PAUSE_S
                self.logger.warning("out of file descriptors: not accepting for %.1f s", ACCEPT_PAUSE_S)
            return
        if pair is None:
            return
        conn, addr = pair
        if len(self.active_channels) >= self.adj.connection_limit and not self._evict_one():
            self.harness_refused += 1
            conn.close()  # every connection has a request in progress: refuse at once rather than hang
            return
        try:
            self.set_socket_options(conn)
        except OSError:
            conn.close()
            return
        self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)

    def _evict_one(self) -> bool:
        victim = None
        for channel in self.active_channels.values():
            if getattr(channel, "evictable", False) and (
                victim is None or (channel.total_outbufs_len > 0, channel.last_activity)
                < (victim.total_outbufs_len > 0, victim.last_activity)
            ):
                victim = channel
        if victim is None:
            return False
        self.harness_evicted += 1
        victim.handle_close()
        return True

    def maintenance(self, now: float) -> None:
        # waitress closes idle connections; the harness also closes parked ones whose client read nothing
        # (closed here, on the event loop: a client that reads nothing never makes its socket writable, so a
        # will_close flag would never be acted on)
        cutoff = now - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            if getattr(channel, "evictable", False) and channel.last_activity < cutoff:
                channel.handle_close()
