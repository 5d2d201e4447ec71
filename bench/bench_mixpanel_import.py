"""Benchmark: fake Mixpanel `/import` over loopback HTTP (mixpanel-ingestion.md §5; issue 3 targets:
≥ 60,000 events/s and ≥ 0.5× a bare endpoint on the same server that only reads and parses the body).

Strict mode, 2000-event JSON batches, keep-alive connections (http.client) from client processes.

    python bench/bench_mixpanel_import.py [--batches 40] [--clients 2] [--gzip]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import multiprocessing as mp
import statistics
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


def _client(port: int, path: str, bodies: list[bytes], headers: dict[str, str], out: mp.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.connect()
    failures = []
    started = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
    for body in bodies:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            failures.append(f"{resp.status} {data[:200]!r}")
    finished = time.perf_counter()
    conn.close()
    out.put((started, finished, failures))


def run(port: int, path: str, bodies: list[bytes], clients: int, gzipped: bool) -> float:
    """Send every body once over `clients` keep-alive connections, each in its own process (so the client
    does not share the server's interpreter lock); return events/s."""
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    ctx = mp.get_context("spawn")  # not fork: copy-on-write faults would slow the server down
    out = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(port, path, bodies[i::clients], headers, out)) for i in range(clients)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]  # the clients time themselves: process start-up is excluded
    for p in procs:
        p.join()
    elapsed = max(r[1] for r in results) - min(r[0] for r in results)
    failures = [f for r in results for f in r[2]]
    if failures:
        raise SystemExit(f"{path}: {len(failures)} failed requests, e.g. {failures[0]}")
    return len(bodies) * BATCH / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="2000-event batches per measured run")
    parser.add_argument("--clients", type=int, default=1, help="concurrent keep-alive connections (processes)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved runs per endpoint")
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
          f"{args.clients} keep-alive client process(es), {args.rounds} rounds")
    with FakeServer(app, name="mixpanel") as server:
        run(server.port, "/_bench/bare", bodies[:4], args.clients, args.gzip)  # warm-up
        bare_runs: list[float] = []
        imp_runs: list[float] = []
        ratios: list[float] = []
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            bare_runs.append(run(server.port, "/_bench/bare", bodies, args.clients, args.gzip))
            state.reset()
            imp_runs.append(run(server.port, "/import?strict=1", bodies, args.clients, args.gzip))
            ratios.append(imp_runs[-1] / bare_runs[-1])
        stored = state.model.store.counts()
    bare_best, imp_best = max(bare_runs), max(imp_runs)
    print(f"bare endpoint (read + parse): {bare_best:>10,.0f} events/s best, {statistics.median(bare_runs):>10,.0f} median")
    print(f"/import strict:               {imp_best:>10,.0f} events/s best, {statistics.median(imp_runs):>10,.0f} median")
    print(f"/import vs bare, same round:  {statistics.median(ratios):.2f}x median ({min(ratios):.2f}-{max(ratios):.2f})")
    print(f"stored after last run: {stored}")
    print(f"targets: >= 60,000 events/s: {'met' if imp_best >= 60_000 else 'NOT met'} (best); "
          f">= 0.5x bare: {'met' if statistics.median(ratios) >= 0.5 else 'NOT met'} (median ratio)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
