"""Throughput of the fake Braze partner cohort import over loopback HTTP.

Measures ids applied per second through ``POST /partners/mixpanel/cohorts/users`` with 1,000-id
requests (target >= 100,000 ids/s), with every id resolving to a real profile so each entry is an
applied add or remove (adds, then removes of the same ids: the cohort ends empty).

    python bench/bench_braze_cohorts.py [--users 100000] [--rounds 2] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time

import requests

from fakes.braze import create_app, new_state
from fakes.core import FakeServer

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}
PATH = "/partners/mixpanel/cohorts/users"


def _warm_up(_: int) -> None:
    time.sleep(0.2)


def _client(url: str, bodies: list[bytes], rounds: int) -> tuple[list[float], list[str]]:
    latencies, failures = [], []
    with requests.Session() as session:
        for _ in range(rounds):
            for body in bodies:
                t = time.perf_counter()
                response = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                latencies.append(time.perf_counter() - t)
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:80]}")
    return latencies, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="profiles seeded (multiple of 1,000)")
    parser.add_argument("--rounds", type=int, default=2, help="add-all then remove-all rounds")
    parser.add_argument("--clients", type=int, default=2,
                        help="concurrent keep-alive clients, each its own process (so the server owns its GIL)")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    args = parser.parse_args(argv)

    state = new_state()  # defaults: journal on, masking on, rate limit 250,000/h
    state.model.users().add_many([{"external_id": f"user-{i:07d}"} for i in range(args.users)])
    chunks = [(start, min(start + 1000, args.users)) for start in range(0, args.users, 1000)]
    # Each client owns a cohort and a share of the profiles: no two clients write one cohort, so the
    # 423 lock (which guards overlapping writes) stays out of the throughput figure.
    per_client: list[list[bytes]] = []
    for c in range(args.clients):
        mine = chunks[c::args.clients]
        bodies = []
        for remove in (False, True):
            for lo, hi in mine:
                change: dict = {"user_ids": [f"user-{i:07d}" for i in range(lo, hi)]}
                if remove:
                    change["should_remove"] = True
                bodies.append(json.dumps({**CREDS, "cohort_id": f"bench-{c}", "cohort_changes": [change]}).encode())
        per_client.append(bodies)

    failures: list[str] = []
    latencies: list[float] = []
    with FakeServer(create_app(state), port=0, threads=args.threads, name="braze") as server:
        url = server.url(PATH)
        for c in range(args.clients):
            requests.post(server.url("/partners/mixpanel/cohorts"), timeout=10, json={
                **CREDS, "cohort_id": f"bench-{c}", "name": f"Bench {c}", "created_at": "2024-01-01T00:00:00Z"})

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(args.clients) as pool:
            pool.map(_warm_up, range(args.clients))  # imports done before the clock starts
            started, cpu_started = time.perf_counter(), time.process_time()
            results = pool.starmap(_client, [(url, bodies, args.rounds) for bodies in per_client])
            elapsed = time.perf_counter() - started
            server_cpu = time.process_time() - cpu_started  # this process = the server (clients are others)
        for client_latencies, client_failures in results:
            latencies.extend(client_latencies)
            failures.extend(client_failures)

    ids = sum(body.count(b'"user-') for bodies in per_client for body in bodies) * args.rounds
    applied = sum(state.model.cohort(f"bench-{c}").counters["applied_add"]
                  + state.model.cohort(f"bench-{c}").counters["applied_remove"] for c in range(args.clients))
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"requests: {len(latencies)} x 1,000 ids, {args.clients} clients, {args.threads} server threads")
    print(f"ids sent: {ids:,}   applied (add+remove): {applied:,}   failures: {len(failures)}")
    print(f"elapsed: {elapsed:.2f} s   throughput: {ids / elapsed:,.0f} ids/s   "
          f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    # On a shared machine wall time depends on other load; server CPU per id does much less.
    print(f"server CPU: {server_cpu:.2f} s = {ids / server_cpu:,.0f} ids per server CPU-second")
    if failures:
        print("first failure:", failures[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
