"""Benchmark: fake Mixpanel `/import` over loopback HTTP (mixpanel-ingestion.md §5; issue 3 targets:
≥ 60,000 events/s and ≥ 0.5× a bare endpoint on the same server that only reads and parses the body).

Strict mode, 2000-event JSON batches, keep-alive connections (http.client), a few client threads.

    python bench/bench_mixpanel_import.py [--batches 40] [--clients 2] [--gzip]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import threading
import time
import uuid

from flask import Blueprint, Response, request

from fakes.core import FakeServer
from fakes.mixpanel import create_app, new_state
from fakes.mixpanel.decoding import loads

BATCH = 2000
AUTH = "Basic " + base64.b64encode(b"harness-secret:").decode()


def make_batch(k: int, now: int) -> bytes:
    """2000 Braze-Currents-like events (about 330 bytes each)."""
    events = []
    for i in range(BATCH):
        events.append({"event": "[Braze Custom Event] purchase_completed", "properties": {
            "time": now - 3600 - i, "distinct_id": f"user-{(k * BATCH + i) % 50_000}",
            "$insert_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{k}-{i}")), "token": "harness-token", "$partner_id": "braze",
            "campaign_name": "Spring sale 2026", "app_id": "a1b2c3d4-e5f6", "platform": "ios",
            "os_version": "iOS 17.4", "device_model": "iPhone15,2", "[Custom event property] amount": 12.5,
            "[Custom event property] currency": "EUR", "is_test": False}})
    return json.dumps(events, separators=(",", ":")).encode()


bare = Blueprint("bench_bare", __name__)


@bare.post("/_bench/bare")
def bare_endpoint() -> Response:
    """Reads and parses the body with the fake's own JSON reader, nothing else."""
    body = request.get_data()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    records = loads(body)
    return Response(b'{"n":%d}' % len(records), 200, content_type="application/json")


def run(port: int, path: str, bodies: list[bytes], clients: int, gzipped: bool) -> float:
    """Send every body once, spread over `clients` keep-alive connections; return events/s."""
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    chunks = [bodies[i::clients] for i in range(clients)]
    failures: list[str] = []

    def client(mine: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in mine:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                failures.append(f"{resp.status} {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{path}: {len(failures)} failed requests, e.g. {failures[0]}")
    return len(bodies) * BATCH / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="2000-event batches per measured run")
    parser.add_argument("--clients", type=int, default=2, help="concurrent keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="runs per endpoint; the best is reported")
    parser.add_argument("--gzip", action="store_true", help="gzip the bodies (as mixpanel-import does)")
    args = parser.parse_args()

    state = new_state()
    app = create_app(state)
    app.register_blueprint(bare)
    now = int(state.clock.now())
    bodies = [make_batch(k, now) for k in range(args.batches)]
    if args.gzip:
        bodies = [gzip.compress(b, 6) for b in bodies]
    size = sum(map(len, bodies)) / len(bodies)
    print(f"batches: {args.batches} x {BATCH} events, {size / 1024:.0f} KiB each{' (gzip)' if args.gzip else ''}, "
          f"{args.clients} keep-alive clients, best of {args.rounds}")
    with FakeServer(app, name="mixpanel") as server:
        run(server.port, "/_bench/bare", bodies[:4], args.clients, args.gzip)  # warm-up
        bare_best = imp_best = 0.0
        for _ in range(args.rounds):
            bare_best = max(bare_best, run(server.port, "/_bench/bare", bodies, args.clients, args.gzip))
            state.reset()
            imp_best = max(imp_best, run(server.port, "/import?strict=1", bodies, args.clients, args.gzip))
        stored = state.store.counts()
    print(f"bare endpoint (read + parse): {bare_best:>10,.0f} events/s")
    print(f"/import strict:               {imp_best:>10,.0f} events/s   ({imp_best / bare_best:.2f}x bare)")
    print(f"stored after last run: {stored}")
    print(f"targets: >= 60,000 events/s: {'met' if imp_best >= 60_000 else 'NOT met'}; "
          f">= 0.5x bare: {'met' if imp_best >= 0.5 * bare_best else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
