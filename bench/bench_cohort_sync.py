"""The reference cohort sync engine into fake Braze over loopback HTTP (braze-cohort-sync.md §8).

Measures a full first sync of a 1,000,000-member cohort (1,000 requests of 1,000 ids plus `/cohorts`;
target <= 15 s) and the next run, a diff with 1 % churn (0.5 % leave, as many join: 10 requests; target
<= 2 s). Client (engine) and server (fake Braze, waitress) share this process, as in the tests; the cohort
is a prepared member list behind the `CohortMembers` protocol, so cohort evaluation is not in the figure.
Every Braze profile exists, so each id is an applied add or remove.

    python bench/bench_cohort_sync.py [--members 1000000] [--churn 0.01] [--no-rows]
"""

from __future__ import annotations

import argparse
import sys
import time

import requests

from fakes.fleet import FakeFleet
from harness.connectors.cohort_sync import CohortInfo, CohortSyncEngine, Member

T0 = 1_700_000_000.0
COHORT = 7
KEY = "harness-data-import-key"


class PreparedCohort:
    """One cohort whose member list the bench swaps between runs (the `CohortMembers` protocol)."""

    def __init__(self, members: list[Member]) -> None:
        self.list = members

    def cohort(self, cohort_id: int, at: float) -> CohortInfo:
        return CohortInfo(cohort_id, "Bench cohort")

    def count(self, cohort_id: int, at: float) -> int:
        return len(self.list)

    def members(self, cohort_id: int, at: float) -> list[Member]:
        return self.list


def _members(lo: int, hi: int) -> list[Member]:
    return [Member(f"d{i:07d}", {"$braze_external_id": f"user-{i:07d}"}) for i in range(lo, hi)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--churn", type=float, default=0.01, help="share of the cohort changed before run 2")
    parser.add_argument("--no-rows", action="store_true", help="run records without per-profile rows")
    args = parser.parse_args(argv)
    moved = int(args.members * args.churn / 2)

    with FakeFleet(["braze"], mode="loopback") as fleet:
        fleet.clock.set(T0)
        braze = fleet["braze"]
        braze.state.model.users().add_many(
            [{"external_id": f"user-{i:07d}"} for i in range(args.members + moved)])
        cohort = PreparedCohort(_members(0, args.members))
        base_url = braze.base_url
        assert base_url is not None
        engine = CohortSyncEngine(fleet.scheduler, cohort, session=requests.Session(), keep_rows=not args.no_rows)
        connection = engine.connect(KEY, base_url)

        started = time.perf_counter()
        sync = engine.create_sync(COHORT, connection.connection_id)
        full_s = time.perf_counter() - started
        full = sync.last_run

        cohort.list = cohort.list[moved:] + _members(args.members, args.members + moved)
        started = time.perf_counter()
        fleet.clock.advance(engine.config.dynamic_interval_s)
        diff_s = time.perf_counter() - started
        diff = sync.last_run

        members = len(braze.state.model.members(str(COHORT)))
        counters = braze.state.model.cohort(str(COHORT)).counters
    failed = [r for r in (full, diff) if r.outcome != "success"]
    print(f"cohort: {args.members:,} members; churn {args.churn:.0%} ({moved:,} leave, {moved:,} join); "
          f"rows kept: {not args.no_rows}")
    print(f"full run: {len(full.requests):,} requests, {full.counts['adds']:,} adds in {full_s:.2f} s "
          f"({full.counts['adds'] / full_s:,.0f} ids/s)   target <= 15 s")
    print(f"diff run: {len(diff.requests):,} requests, {diff.counts['adds']:,} adds + "
          f"{diff.counts['removes']:,} removes in {diff_s:.2f} s   target <= 2 s")
    print(f"braze: {members:,} members; applied_add {counters['applied_add']:,}, "
          f"applied_remove {counters['applied_remove']:,}")
    if failed or members != args.members:
        print("runs did not succeed:", [(r.run_id, r.outcome, r.reason) for r in failed], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
