"""Requests per second of the shared core's loopback server (waitress), keep-alive HTTP/1.1.

    python bench/bench_core_server.py [--seconds 3] [--connections 4] [--batch 50] [--pipeline 20]

Apps compared, each served in its own process (so the client does not share the server's GIL):
- `plain`: a bare WSGI app that reads the body (waitress's own ceiling);
- `flask`: bare Flask, one route that parses the JSON body (no harness core);
- `core`: the core baseline fake's `POST /bare` (Flask + journal + masking + fault check + JSON parse),
  `fakes.core.baseline.baseline_app`;
- `core+fault`: the same with one installed fault rule that never matches.
Clients: N threads with one keep-alive connection each (http.client), then one connection with
`--pipeline` requests in flight. Besides req/s it prints the server's CPU time per request (from
/proc/<pid>/stat), which the other jobs on a shared machine disturb much less than wall-clock rates.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SERVER_SCRIPT = r"""
import json, sys, signal, threading
sys.path.insert(0, sys.argv[2])
from flask import Flask, Response, request
from fakes.core.baseline import baseline_app, plain_wsgi_app
from fakes.core.server import FakeServer

kind = sys.argv[1]
if kind == "plain":
    app = plain_wsgi_app
elif kind == "flask":
    app = Flask("bare")

    @app.post("/bare")
    def bare():
        json.loads(request.get_data())
        return Response('{"status":1}', content_type="application/json")
else:
    app = baseline_app()
    if kind == "core+fault":
        app.extensions["harness_state"].faults.install(
            {"match": {"path": "/never"}, "action": {"type": "status", "status": 500}})
server = FakeServer(app, port=0, name="bench", threads=int(sys.argv[3])).start()
print(server.port, flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
server.stop()
"""


def make_body(batch: int) -> bytes:
    event = {"event": "bench", "properties": {"distinct_id": "u1", "time": 1700000000000, "$insert_id": "x" * 16,
                                              "campaign_name": "c" * 20, "n": 1}}
    return json.dumps([event] * batch).encode()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def keep_alive(port: int, body: bytes, seconds: float, connections: int) -> int:
    counts = [0] * connections
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Content-Type": "application/json"}
        while time.perf_counter() < stop:
            conn.request("POST", "/bare", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"unexpected status {response.status}")
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def pipelined(port: int, body: bytes, seconds: float, depth: int) -> int:
    request = (
        f"POST /bare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    sock = socket.create_connection(("127.0.0.1", port))
    fp = sock.makefile("rb")
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        sock.sendall(request * depth)
        for _ in range(depth):
            fp.readline()  # status line
            length = 0
            while (line := fp.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            fp.read(length)
            done += 1
    sock.close()
    return done


def measure(kind: str, body: bytes, args: argparse.Namespace) -> str:
    proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, kind, str(REPO), str(args.threads)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        keep_alive(port, body, 0.3, args.connections)  # warm-up
        cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
        n_ka = keep_alive(port, body, args.seconds, args.connections)
        cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
        n_pl = pipelined(port, body, args.seconds, args.pipeline)
        cpu2, t2 = cpu_seconds(proc.pid), time.perf_counter()
    finally:
        proc.terminate()
        proc.wait(10)
    return (f"{kind:11s} keep-alive {n_ka / (t1 - t0):7.0f} req/s ({(cpu1 - cpu0) / n_ka * 1e6:5.0f} us CPU/req)   "
            f"pipelined {n_pl / (t2 - t1):7.0f} req/s ({(cpu2 - cpu1) / n_pl * 1e6:5.0f} us CPU/req)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50, help="events per request body")
    parser.add_argument("--pipeline", type=int, default=20)
    parser.add_argument("--apps", default="plain,flask,core,core+fault")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads (FakeServer default 8)")
    args = parser.parse_args()
    body = make_body(args.batch)
    print(f"body {len(body)} bytes ({args.batch} events); {args.connections} keep-alive connections; "
          f"pipeline depth {args.pipeline}; {args.threads} server threads; {args.seconds:g} s each; load average {os.getloadavg()[0]:.1f}")
    for kind in args.apps.split(","):
        print(measure(kind.strip(), body, args), flush=True)


if __name__ == "__main__":
    main()
