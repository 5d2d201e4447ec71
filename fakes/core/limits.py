"""How much a loopback server takes on before it pushes back (issue 13: availability under pressure).

One value object shared by `FakeServer`, the fleet's `ServerOptions` and `harness serve`'s options, so the
defaults live in one place. The defaults keep the control API answering while thousands of connections are
idle or slow, while clients refuse to read, and while requests wait in injected faults:

- requests under `/_harness` run on their own small pool of worker threads (`control_threads`), so neither
  ingestion load nor requests waiting in faults delay the call that would clear the faults;
- a request that waits in a fault (`latency`, `delay_ms`, `hang`, a `slow_body` trickle) lends its worker
  back: the pool starts a stand-in thread for the time of the wait (at most `fault_wait_threads` at once);
- at `connection_limit` open connections the least recently active connection with no request in progress
  is closed to make room; when every connection has a request in progress, a new one is closed at once
  (a clear failure instead of a connection that waits unanswered);
- a connection with nothing to do for `idle_timeout_s` is closed, and so is one whose client has not read
  any of its pending answers for that long.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_THREADS = 8


@dataclass(frozen=True)
class ServerLimits:
    threads: int = DEFAULT_THREADS
    """Worker threads for the fake's own routes."""
    control_threads: int = 2
    """Worker threads reserved for `/_harness` routes."""
    fault_wait_threads: int = 1000
    """At most this many stand-in workers while requests wait in faults; beyond it waits hold workers."""
    connection_limit: int = 10_000
    """Open connections on the plain port (each HTTPS connection holds one too, through the front door)."""
    idle_timeout_s: int = 120
    """A connection idle (or whose client does not read) this many seconds is closed."""
    tls_connection_limit: int = 10_000
    """Open connections on the HTTPS front door."""
    tls_handshake_timeout_s: float = 10.0
    """A TLS handshake not finished in this time is abandoned."""
    outbuf_high_watermark: int = 1024 * 1024
    """Pending answer bytes on one connection above which its next pipelined request waits (without a
    worker) until the client reads."""

    def __post_init__(self) -> None:
        for name, low, high in (("threads", 1, 1000), ("control_threads", 1, 100), ("fault_wait_threads", 0, 100_000),
                                ("connection_limit", 1, 1_000_000), ("tls_connection_limit", 1, 1_000_000),
                                ("idle_timeout_s", 1, 86_400), ("outbuf_high_watermark", 1, 2**40)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer between {low} and {high}, got {value!r}")
        value = self.tls_handshake_timeout_s
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 3600:
            raise ValueError(f"tls_handshake_timeout_s must be a number of seconds in (0, 3600], got {value!r}")


def open_files_wanted(limits: ServerLimits, *, servers: int = 1, tls: bool = False) -> int:
    """File descriptors `servers` loopback servers may hold at these limits (an HTTPS connection holds
    three: the client's, the relay's and the plain port's), plus a margin for everything else."""
    per_server = limits.connection_limit + (2 * limits.tls_connection_limit if tls else 0) + 64
    return servers * per_server + 256


def raise_open_file_limit(wanted: int) -> tuple[int, int]:
    """Raise this process's soft open-file limit toward `wanted`, never above the hard limit (a server
    process, e.g. `harness serve`, does this once at start): `(before, after)`; (-1, -1) where there is no
    such limit (Windows). Past the limit the server still answers: out of descriptors it closes its least
    recently active idle connection, or pauses accepting for a moment (`fakes.core.channel`)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return -1, -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return soft, soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft >= target:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, target
