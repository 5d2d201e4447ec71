"""The loopback server stays available under pressure (issue 13 item 2; DESIGN.md §4 control API): health
and the control API answer on a fresh connection while 1,000 plain and 1,000 TLS connections are idle or
slow, while 50 requests hang and more wait in latency faults, and while clients pipeline large answers and
never read; at the connection limits, room is made. `fakes.core.limits.ServerLimits` sets the limits.

Latency is measured (see bench/bench_availability.py for the figures); the assertions are functional, with
a generous bound (`ANSWER_BOUND_S`) that only a lock-out (waiting for a 30 s fault) would break.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from raw_http_client import read_response, request_bytes
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import FakeServer
from fakes.core.limits import ServerLimits
from fakes.core.tls import issue_test_certificates, server_context
from fakes.core.tls_front_door import TlsFrontDoor

ANSWER_BOUND_S = 10.0
"""Far above the <100 ms the bench measures, far below the 30 s faults that would otherwise block."""
SLOW_PLAIN = 1000
SLOW_TLS = 1000
HANGS = 50
LATENCIES = 20
FDS_NEEDED = 4 * SLOW_PLAIN + 6 * SLOW_TLS // 2 + 1000  # client + server ends, TLS relays, margin


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return issue_test_certificates(tmp_path_factory.mktemp("tls"), ["api.standin.test"])


@pytest.fixture(scope="module")
def client_tls(tls_files) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls_files.ca_pem))


@contextlib.contextmanager
def serving(app, tls_files, **limits) -> Iterator[FakeServer]:
    context = server_context(tls_files.cert_pem, tls_files.key_pem)
    with FakeServer(app, port=0, name="standin", tls_context=context, limits=ServerLimits(**limits)) as srv:
        yield srv


@contextlib.contextmanager
def open_file_limit(needed: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
    if soft == resource.RLIM_INFINITY or soft >= needed:
        yield
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def tls_port(srv: FakeServer) -> int:
    assert srv.https_base_url is not None
    return int(srv.https_base_url.rsplit(":", 1)[1])


def call(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         tls: ssl.SSLContext | None = None) -> tuple[int, bytes, float]:
    """One request on a fresh connection: (status, body, seconds from connect to the whole answer)."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_BOUND_S) as raw:
        sock = tls.wrap_socket(raw, server_hostname="localhost") if tls else raw
        sock.sendall(request_bytes(method, path, body, {"Connection": "close", **(headers or {})}))
        answer = read_response(sock.makefile("rb"))
    return answer.status, answer.body, time.perf_counter() - started


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll a real condition (connections opening, workers waiting): never simulated time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def closed_by_server(socks: list[socket.socket]) -> int:
    """How many of these plain client sockets the server has closed (readable at once = EOF or reset)."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    try:
        return len(selector.select(timeout=0))
    finally:
        selector.close()


def test_health_answers_under_1000_slow_plain_and_tls_connections_and_50_hangs(app, state, tls_files, client_tls,
                                                                               record_property):
    """Issue 13's acceptance: health (and the control API, and ingestion) answer on fresh connections."""
    socks: list[socket.socket] = []
    fds_before = open_fds()
    with open_file_limit(FDS_NEEDED), serving(app, tls_files) as srv:
        state.faults.install([
            {"id": "hang", "match": {"user_agent": "hang-me"}, "action": {"type": "hang", "max_hang_ms": 30_000}},
            {"id": "wait", "match": {"user_agent": "wait-me"}, "action": {"type": "latency", "delay_ms": 30_000}},
        ])
        try:
            for n in range(SLOW_PLAIN):  # half idle, half stuck in the middle of a request line
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                socks.append(sock)
                if n % 2:
                    sock.sendall(b"POST /ingest HTTP/1.1\r\nHo")
            plain_slow = list(socks)
            for _ in range(SLOW_TLS):  # handshake done, then half a request
                raw = socket.create_connection(("127.0.0.1", tls_port(srv)), timeout=30)
                socks.append(raw)
                tls = client_tls.wrap_socket(raw, server_hostname="localhost")
                socks[-1] = tls
                tls.sendall(b"POST /ingest HTTP/1.1\r\nHo")
            for agent, count in (("hang-me", HANGS), ("wait-me", LATENCIES)):
                for _ in range(count):
                    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                    socks.append(sock)
                    sock.sendall(request_bytes("POST", "/ingest", b"{}", {**AUTH, "User-Agent": agent}))
            wait_until(lambda: srv.stats()["fault_waits"] >= HANGS + LATENCIES, "requests waiting in faults")
            wait_until(lambda: srv.stats()["tls_connections"] >= SLOW_TLS, "TLS connections")
            stats = srv.stats()
            assert stats["connections"] >= SLOW_PLAIN + SLOW_TLS + HANGS + LATENCIES
            assert stats["evicted"] == stats["refused"] == stats["tls_evicted"] == 0

            timings = {}
            for label, port, tls_ctx in (("plain", srv.port, None), ("tls", tls_port(srv), client_tls)):
                status, body, timings[label] = call(port, "GET", "/_harness/health", tls=tls_ctx)
                assert (status, json.loads(body)) == (200, {"service": "standin", "status": "ok"})
            status, _, timings["ingest"] = call(srv.port, "POST", "/ingest", b'{"n": 1}', AUTH)
            assert status == 200  # fault waits do not hold the workers ingestion needs either
            status, _, timings["clear_faults"] = call(srv.port, "DELETE", "/_harness/faults")
            assert status == 200 and state.faults.rules() == []
            record_property("latency_s", timings)
            assert max(timings.values()) < ANSWER_BOUND_S

            assert closed_by_server(plain_slow) == 0  # the server held every slow connection
            assert srv.stats()["tls_connections"] >= SLOW_TLS
        finally:
            for sock in socks:
                sock.close()
    wait_until(lambda: open_fds() <= fds_before + 2, "every socket to be closed", timeout=30)


def test_requests_waiting_in_faults_lend_their_worker_back(app, state, tls_files):
    """One worker thread, five requests in 30 s latency faults: a sixth request is still served at once."""
    state.faults.install({"match": {"user_agent": "wait-me"}, "action": {"type": "latency", "delay_ms": 30_000}})
    socks: list[socket.socket] = []
    with serving(app, tls_files, threads=1) as srv:
        try:
            for _ in range(5):
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                socks.append(sock)
                sock.sendall(request_bytes("POST", "/ingest", b"{}", {**AUTH, "User-Agent": "wait-me"}))
            wait_until(lambda: srv.stats()["fault_waits"] == 5, "five requests waiting")
            status, body, took = call(srv.port, "POST", "/ingest", b'{"n": 1}', AUTH)
            assert status == 200 and took < ANSWER_BOUND_S
        finally:
            for sock in socks:
                sock.close()


def test_the_control_lane_answers_when_every_fake_worker_is_held(app, state, tls_files):
    """No stand-ins (fault_wait_threads=0) and a hang holding the only worker: /_harness still answers,
    and clearing the faults from there lets the fake's routes answer again."""
    state.faults.install({"id": "stuck", "times": 1, "action": {"type": "hang", "max_hang_ms": 30_000}})
    with serving(app, tls_files, threads=1, fault_wait_threads=0) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as stuck:
            stuck.sendall(request_bytes("GET", "/ingest", headers=AUTH))
            wait_until(lambda: state.faults.rules()[0]["fired"] == 1, "the hang to fire")
            status, _, took = call(srv.port, "GET", "/_harness/health")
            assert status == 200 and took < ANSWER_BOUND_S
            assert call(srv.port, "DELETE", "/_harness/faults")[0] == 200
            stuck.close()  # the hang keeps its worker until it ends (or the server stops): no stand-in here


def test_clients_that_pipeline_large_answers_and_never_read_hold_no_worker(app, state, tls_files, client_tls):
    """Non-reading clients are parked (no worker holds them) and closed after the idle timeout. Over TLS the
    front door stops reading from the fake while its client does not read, so they end up the same way."""
    for n in range(40):  # a journal whose full read is ~1 MB
        state.journal.append({"id": n, "body": "x" * 25_000})
    greedy = request_bytes("GET", "/_harness/requests?limit=40") * 30
    socks: list[socket.socket] = []
    with serving(app, tls_files, threads=2, control_threads=1, idle_timeout_s=3,
                 outbuf_high_watermark=256 * 1024) as srv:
        try:
            for n in range(6):  # more than all the workers together; the last two over TLS
                raw = socket.create_connection(("127.0.0.1", tls_port(srv) if n >= 4 else srv.port), timeout=30)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock = client_tls.wrap_socket(raw, server_hostname="localhost") if n >= 4 else raw
                socks.append(sock)
                sock.sendall(greedy)
            wait_until(lambda: srv.stats()["parked"] >= 4, "the plain non-readers to be parked")
            status, _, took = call(srv.port, "GET", "/_harness/health")
            assert status == 200 and took < ANSWER_BOUND_S
            status, _, took = call(tls_port(srv), "GET", "/_harness/faults", tls=client_tls)
            assert status == 200 and took < ANSWER_BOUND_S
            assert call(srv.port, "POST", "/ingest", b'{"n": 1}', AUTH)[0] == 200
            # nothing read for idle_timeout_s: the server gives up on every one of them
            wait_until(lambda: srv.stats()["connections"] == 0 and srv.stats()["tls_connections"] == 0,
                       "the non-readers to be closed")
        finally:
            for sock in socks:
                sock.close()


def test_at_the_connection_limit_the_least_recently_active_idle_connection_makes_room(app, state, tls_files):
    socks: list[socket.socket] = []
    with serving(app, tls_files, connection_limit=20) as srv:
        try:
            for _ in range(40):
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=30))
                wait_until(lambda: srv.stats()["connections"] + srv.stats()["evicted"] == len(socks), "accept")
            status, _, _ = call(srv.port, "GET", "/_harness/health")
            assert status == 200
            stats = srv.stats()
            assert stats["connections"] <= 20 and stats["evicted"] >= 21
            assert closed_by_server(socks[:20]) == 20  # the oldest went first
            assert closed_by_server(socks[-10:]) == 0
        finally:
            for sock in socks:
                sock.close()


def test_when_every_connection_has_a_request_in_progress_a_new_one_is_refused_at_once(app, state, tls_files):
    """No silent lock-out: the new connection ends at once (it never waits unanswered)."""
    socks: list[socket.socket] = []
    state.faults.install({"action": {"type": "hang", "max_hang_ms": 30_000}})
    with serving(app, tls_files, connection_limit=3) as srv:
        try:
            for _ in range(3):
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                socks.append(sock)
                sock.sendall(request_bytes("GET", "/ingest", headers=AUTH))
            wait_until(lambda: srv.stats()["fault_waits"] == 3, "three hanging requests")
            with socket.create_connection(("127.0.0.1", srv.port), timeout=ANSWER_BOUND_S) as late:
                late.sendall(request_bytes("GET", "/_harness/health"))
                with contextlib.suppress(ConnectionResetError):
                    assert late.recv(1024) == b""
            assert srv.stats()["refused"] == 1
        finally:
            for sock in socks:
                sock.close()


def test_at_the_tls_connection_limit_room_is_made(app, state, tls_files, client_tls):
    socks: list[socket.socket] = []
    with serving(app, tls_files, tls_connection_limit=10) as srv:
        try:
            for _ in range(20):
                raw = socket.create_connection(("127.0.0.1", tls_port(srv)), timeout=30)
                socks.append(client_tls.wrap_socket(raw, server_hostname="localhost"))
            status, _, _ = call(tls_port(srv), "GET", "/_harness/health", tls=client_tls)
            assert status == 200
            assert srv.stats()["tls_connections"] <= 10 and srv.stats()["tls_evicted"] >= 10
        finally:
            for sock in socks:
                sock.close()


def test_tls_clients_that_never_finish_the_handshake_are_dropped_and_make_room(app, state, tls_files, client_tls):
    """A TLS connection that sends nothing is closed after tls_handshake_timeout_s, and at the TLS limit the
    oldest of them makes room for a real client."""
    socks: list[socket.socket] = []
    with serving(app, tls_files, tls_connection_limit=10, tls_handshake_timeout_s=0.5) as srv:
        try:
            for _ in range(20):
                socks.append(socket.create_connection(("127.0.0.1", tls_port(srv)), timeout=30))
            status, _, _ = call(tls_port(srv), "GET", "/_harness/health", tls=client_tls)
            assert status == 200
            for sock in socks:  # every silent one ends (evicted, or its handshake abandoned)
                with contextlib.suppress(ConnectionResetError):
                    assert sock.recv(1024) == b""
            wait_until(lambda: srv.stats()["tls_connections"] == 0, "the TLS front door to be empty")
        finally:
            for sock in socks:
                sock.close()


def test_silent_tls_clients_evicted_before_their_handshake_began_are_closed_too(tls_files):
    """The same as above on a starved machine: the front door's loop runs late, finds all 20 clients in the
    accept backlog and accepts them in one burst, so the limit evicts relays whose handshake never began.
    The loop is held with an event (not a sleep) so that the burst happens every time."""
    gate = threading.Event()
    front = TlsFrontDoor(server_context(tls_files.cert_pem, tls_files.key_pem), ("127.0.0.1", 9),
                         connection_limit=10, handshake_timeout_s=0.5).start()
    socks: list[socket.socket] = []
    try:
        assert front._loop is not None
        front._loop.call_soon_threadsafe(gate.wait)
        for _ in range(20):
            socks.append(socket.create_connection(("127.0.0.1", front.port), timeout=30))
        gate.set()
        for sock in socks:
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1024) == b""
        assert front.evicted >= 10
        wait_until(lambda: front.open_connections == 0, "the TLS front door to be empty")
    finally:
        gate.set()
        for sock in socks:
            sock.close()
        front.stop()


@pytest.mark.parametrize("field, value, message", [
    ("threads", 0, "threads must be an integer between 1 and 1000"),
    ("connection_limit", True, "connection_limit must be an integer"),
    ("idle_timeout_s", 0, "idle_timeout_s must be an integer between 1 and 86400"),
    ("tls_handshake_timeout_s", float("nan"), "tls_handshake_timeout_s must be a number of seconds"),
])
def test_limits_are_checked(field, value, message):
    with pytest.raises(ValueError, match=message):
        ServerLimits(**{field: value})
