"""Requests per second of the shared core's loopback server (waitress), keep-alive HTTP/1.1.

    python bench/bench_core_server.py [--seconds 3] [--connections 4] [--batch 50] [--pipeline 20]

Three servers, same client: a plain WSGI app (waitress's own ceiling), the core baseline fake's `POST /bare`
(Flask + journal + masking + fault check + JSON parse of the body) and the same with a fault rule installed
that never matches. Clients: N threads, each one keep-alive connection (http.client), then one pipelined
connection (20 requests in flight). The client runs on the same 2 cores, so figures are lower bounds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask, Response, request  # noqa: E402

from fakes.core.baseline import baseline_app, plain_wsgi_app  # noqa: E402
from fakes.core.server import FakeServer  # noqa: E402


def make_body(batch: int) -> bytes:
    event = {"event": "bench", "properties": {"distinct_id": "u1", "time": 1700000000000, "$insert_id": "x" * 16,
                                              "campaign_name": "c" * 20, "n": 1}}
    return json.dumps([event] * batch).encode()


def keep_alive_rps(port: int, body: bytes, seconds: float, connections: int) -> float:
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
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def pipelined_rps(port: int, body: bytes, seconds: float, depth: int) -> float:
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
    return done / (time.perf_counter() - started)


def wsgi_cost_us(app, body: bytes, rounds: int = 2000) -> float:
    """Microseconds per request for a direct WSGI call (no socket, no client): the app's own CPU cost."""
    import io

    def call() -> None:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/bare", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "bench",
        }
        b"".join(app(environ, lambda status, headers, exc_info=None: None))

    for _ in range(200):
        call()
    started = time.perf_counter()
    for _ in range(rounds):
        call()
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50, help="events per request body")
    parser.add_argument("--pipeline", type=int, default=20)
    args = parser.parse_args()
    body = make_body(args.batch)
    print(f"body: {len(body)} bytes ({args.batch} events); {args.connections} keep-alive connections; "
          f"pipeline depth {args.pipeline}; {args.seconds:g} s each")

    def wsgi_plain(environ, start_response):
        return plain_wsgi_app(environ, start_response)

    baseline_with_fault = baseline_app()
    baseline_with_fault.extensions["harness_state"].faults.install(
        {"match": {"path": "/never"}, "action": {"type": "status", "status": 500}}
    )
    bare_flask = Flask("bare")

    @bare_flask.post("/bare")
    def bare_flask_view():
        json.loads(request.get_data())
        return Response('{"status":1}', content_type="application/json")

    print(f"direct WSGI call (no socket): bare Flask {wsgi_cost_us(bare_flask, body):6.0f} us/request, "
          f"core baseline {wsgi_cost_us(baseline_app(), body):6.0f} us/request")
    for label, app in [
        ("plain WSGI (waitress ceiling)", wsgi_plain),
        ("bare Flask, no core", bare_flask),
        ("core baseline POST /bare", baseline_app()),
        ("core baseline + 1 fault rule", baseline_with_fault),
    ]:
        with FakeServer(app, port=0, name="bench") as server:
            keep_alive_rps(server.port, body, 0.3, args.connections)  # warm-up
            ka = keep_alive_rps(server.port, body, args.seconds, args.connections)
            pl = pipelined_rps(server.port, body, args.seconds, args.pipeline)
        print(f"{label:34s} keep-alive {ka:8.0f} req/s   pipelined {pl:8.0f} req/s")


if __name__ == "__main__":
    main()
