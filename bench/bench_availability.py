"""How fast the control API answers while the fake is under connection pressure (issue 13, availability).

    python bench/bench_availability.py [--idle 1000] [--slow-tls 1000] [--hangs 50] [--readers 20] [--calls 30]

One fake Mixpanel with HTTPS runs in its own process (so the load and the probes do not share its GIL).
For each scenario the script opens the load, then times `GET /_harness/health` and `GET /_harness/faults`
on fresh connections (plain and TLS: connect + handshake + request + answer), one after the other, and
prints best / median / p95 / max in ms, and how many probes got no answer within `--timeout` seconds:

- `quiet`: no load (the baseline of the same sitting);
- `idle+slow`: `--idle` plain connections that send nothing, and `--slow-tls` TLS connections that finish
  the handshake and then send half a request line;
- `hangs`: `--hangs` requests stuck in a `hang` fault (and as many again waiting in a 30 s `latency` fault);
- `non-readers`: `--readers` connections that pipeline 20 requests for a large journal answer each and
  never read;
- `all`: every load above at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SERVER_SCRIPT = r"""
import signal, sys, threading, resource
sys.path.insert(0, sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
from pathlib import Path
import fakes.mixpanel as mp
from fakes.core.server import FakeServer
from fakes.core.tls import issue_test_certificates, server_context
files = issue_test_certificates(Path(sys.argv[2]), mp.HOST_PATTERNS)
state = mp.new_state()
app = mp.create_app(state)
server = FakeServer(app, port=0, name="bench", tls_context=server_context(files.cert_pem, files.key_pem)).start()
print(server.port, server.https_base_url.rsplit(":", 1)[1], files.ca_pem, flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
server.stop()
"""


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    return (head + "Content-Type: application/json\r\n\r\n").encode() + body


def _read_answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-answer")
        body += chunk
    return head.split(b"\r\n", 1)[0]


def probe(port: int, path: str, timeout: float, tls: ssl.SSLContext | None) -> float | None:
    """Seconds for one control call on a fresh connection; None when it got no answer in time."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            sock = tls.wrap_socket(raw, server_hostname="localhost") if tls else raw
            sock.sendall(_request("GET", path))
            status = _read_answer(sock)
    except OSError:
        return None
    if b" 200 " not in status:
        return None
    return time.perf_counter() - started


def _control(port: int, method: str, path: str, body: bytes = b"") -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_request(method, path, body))
        _read_answer(sock)


@contextlib.contextmanager
def idle_and_slow(port: int, tls_port: int, ctx: ssl.SSLContext, idle: int, slow_tls: int) -> Iterator[None]:
    socks: list[socket.socket] = []
    try:
        for _ in range(idle):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=30))
        for _ in range(slow_tls):
            raw = socket.create_connection(("127.0.0.1", tls_port), timeout=30)
            socks.append(raw)
            tls = ctx.wrap_socket(raw, server_hostname="localhost")
            socks[-1] = tls
            tls.sendall(b"POST /import HTTP/1.1\r\nHo")
        yield
    finally:
        for sock in socks:
            sock.close()


@contextlib.contextmanager
def hangs(port: int, count: int) -> Iterator[None]:
    rules = (b'[{"id": "hang", "match": {"path": "/track"}, "action": {"type": "hang", "max_hang_ms": 30000}},'
             b' {"id": "slow", "match": {"path": "/engage"}, "action": {"type": "latency", "delay_ms": 30000}}]')
    _control(port, "POST", "/_harness/faults", rules)
    socks: list[socket.socket] = []
    try:
        for path in ("/track", "/engage"):
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                socks.append(sock)
                sock.sendall(_request("POST", path, b"data=e30%3D"))
        time.sleep(1.0)  # let them reach their faults
        yield
    finally:
        for sock in socks:
            sock.close()
        _control(port, "DELETE", "/_harness/faults")


@contextlib.contextmanager
def non_readers(port: int, count: int) -> Iterator[None]:
    # a journal of 200 requests with 20 KB bodies (404s are journalled too): each GET of it answers ~4 MB
    body = b'{"filler": "' + b"x" * 20000 + b'"}'
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for _ in range(200):
            sock.sendall(_request("POST", "/filler", body))
            _read_answer(sock)
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            socks.append(sock)
            sock.sendall(_request("GET", "/_harness/requests?limit=200") * 20)
        time.sleep(2.0)  # the first answers are built (the control lane's own work), then they are parked
        yield
    finally:
        for sock in socks:
            sock.close()
        _control(port, "DELETE", "/_harness/requests")


def measure(name: str, port: int, tls_port: int, ctx: ssl.SSLContext, args: argparse.Namespace) -> None:
    for label, target, tls in (("plain", port, None), ("tls", tls_port, ctx)):
        for path in ("/_harness/health", "/_harness/faults"):
            times: list[float] = []
            missed = 0
            for _ in range(args.calls):
                took = probe(target, path, args.timeout, tls)
                if took is None:
                    missed += 1
                else:
                    times.append(took * 1000)
            if times:
                times.sort()
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                figures = (f"best {times[0]:7.1f}  median {statistics.median(times):7.1f}  p95 {p95:7.1f}  "
                           f"max {times[-1]:7.1f} ms")
            else:
                figures = "no answers"
            print(f"{name:12s} {label:5s} {path:18s} {figures}  unanswered {missed}/{args.calls}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--slow-tls", type=int, default=1000)
    parser.add_argument("--hangs", type=int, default=50)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--scenarios", default="quiet,idle+slow,hangs,non-readers,all")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(REPO), tmp], stdout=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stdout is not None
            port_s, tls_port_s, ca = proc.stdout.readline().split()
            port, tls_port = int(port_s), int(tls_port_s)
            ctx = ssl.create_default_context(cafile=ca)
            print(f"load average {os.getloadavg()[0]:.1f}; {args.calls} probes per line; timeout {args.timeout:g} s")
            for scenario in args.scenarios.split(","):
                with contextlib.ExitStack() as stack:
                    if scenario in ("idle+slow", "all"):
                        stack.enter_context(idle_and_slow(port, tls_port, ctx, args.idle, args.slow_tls))
                    if scenario in ("hangs", "all"):
                        stack.enter_context(hangs(port, args.hangs))
                    if scenario in ("non-readers", "all"):
                        stack.enter_context(non_readers(port, args.readers))
                    measure(scenario, port, tls_port, ctx, args)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
