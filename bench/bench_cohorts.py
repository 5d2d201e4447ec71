"""Cohort evaluation over 1,000,000 profiles and over 1,000,000 events (issue 9: target <= 3 s each).

    python bench/bench_cohorts.py [--profiles N] [--events N] [--users N] [--seed N] [--repeat N] [--timeline]

Builds, in memory, N profiles (``plan`` and ``$braze_external_id``; one in ten changes plan later, so the
timelines are not all one change long) and N events (three names, ``Email Click`` half of them, with a
``campaign_id``) over 30 simulated days. Reading and grouping the source into an index is timed once, apart:
it is paid once per source. Then it times, ``--repeat`` times each at a fresh evaluation time: a profile
cohort (``plan = pro``), a behavioural cohort (``Email Click`` at least once in the last 7 days), the same
with ``where campaign_id``, and a combination of all three with ``not``. The index builds a name's event
table, a property's timeline, a ``where``'s narrowed table and the known-at column (for ``not``) on first
use, so each cohort's first run is reported apart from the runs that reuse them. ``--timeline`` also times
membership over a week (who enters and leaves when), once per cohort. On a shared machine wall time is
noisy: the summary gives the best and the median by wall clock and by this process's CPU time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.cohorts import CohortEvaluator, CohortIndex, Event, InMemoryCohortSource, PropertyChange

DAY = 86400
T0 = 1_700_000_000
PLANS = ("free", "pro", "team", "enterprise")
NAMES = ("Email Click", "Email Click", "Push Open", "Purchase")

COHORTS = {
    "profile: plan = pro": {"profile": {"property": "plan", "equals": "pro"}},
    "behavioural: Email Click >= 1 in 7 days": {"did_event": {"event": "Email Click", "min_count": 1,
                                                              "within_days": 7}},
    "behavioural + where campaign_id": {"did_event": {"event": "Email Click", "min_count": 2, "within_days": 7,
                                                      "where": {"campaign_id": ["c1", "c2"]}}},
}
COHORTS["and / or / not of the three"] = {"and": [COHORTS["profile: plan = pro"],
                                                  {"or": [COHORTS["behavioural: Email Click >= 1 in 7 days"],
                                                          {"not": COHORTS["behavioural + where campaign_id"]}]}]}


def build_source(profiles: int, events: int, users: int, seed: int) -> InMemoryCohortSource:
    rng = random.Random(seed)
    changes = []
    for i in range(profiles):
        distinct_id = f"d{i:07d}"
        created = T0 + rng.randrange(10 * DAY)
        changes.append(PropertyChange(distinct_id, created, "$braze_external_id", f"user-{i:07d}"))
        changes.append(PropertyChange(distinct_id, created, "plan", rng.choice(PLANS)))
        if i % 10 == 0:
            changes.append(PropertyChange(distinct_id, created + rng.randrange(20 * DAY), "plan", rng.choice(PLANS)))
    rows = [Event(rng.choice(NAMES), f"d{rng.randrange(users):07d}", T0 + rng.randrange(30 * DAY),
                  {"campaign_id": f"c{rng.randrange(10)}"}) for _ in range(events)]
    return InMemoryCohortSource(rows, changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000_000, help="distinct_ids the events are spread over")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeline", action="store_true", help="also time membership changes over a week")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    source = build_source(args.profiles, args.events, args.users, args.seed)
    print(f"source: {args.profiles:,} profiles, {args.events:,} events over {args.users:,} distinct_ids, "
          f"built in {time.perf_counter() - start:.2f} s (not part of any figure)")
    start, cpu = time.perf_counter(), time.process_time()
    index = CohortIndex(source)
    print(f"index: read and group (once per source): wall {time.perf_counter() - start:.2f} s, "
          f"cpu {time.process_time() - cpu:.2f} s")
    evaluator = CohortEvaluator(index)

    runs: dict[str, list[tuple[float, float]]] = {}
    for label, definition in COHORTS.items():
        for r in range(args.repeat):
            t = T0 + 25 * DAY + r * 3600  # a fresh time each run: nothing is cached per time but the universe
            start, cpu = time.perf_counter(), time.process_time()
            members = evaluator.members(definition, t)
            elapsed, used = time.perf_counter() - start, time.process_time() - cpu
            key = f"{label} (first run)" if r == 0 else label
            runs.setdefault(key, []).append((elapsed, used))
            print(f"{label:<42} at t0+25d+{r}h: {len(members):>9,} members  wall {elapsed:5.2f} s  cpu {used:5.2f} s")

    if args.timeline:
        for label, definition in COHORTS.items():
            start, cpu = time.perf_counter(), time.process_time()
            changes = evaluator.changes(definition, T0 + 20 * DAY, T0 + 27 * DAY)
            print(f"timeline over 7 days, {label:<42} {len(changes):>9,} changes  "
                  f"wall {time.perf_counter() - start:5.2f} s  cpu {time.process_time() - cpu:5.2f} s")

    print(f"\n{'seconds per evaluation':<56} {'wall best':>9} {'median':>7}   {'cpu best':>8} {'median':>7}")
    for label, timings in runs.items():
        wall, used = [w for w, _ in timings], [c for _, c in timings]
        print(f"{label:<56} {min(wall):>9.2f} {statistics.median(wall):>7.2f}   "
              f"{min(used):>8.2f} {statistics.median(used):>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
