"""Braze's Mixpanel Current delivering into fake Mixpanel (issue 9: target >= 50,000 events/s over loopback
HTTP on a 2-core machine, client and server together).

    python bench/bench_currents_delivery.py [--events N] [--seed N] [--repeat N] [--mode served|loopback|in-process]

Generates a seeded Currents stream once (not timed), then, `--repeat` times: submits it to a
`MixpanelCurrent` and advances the simulated clock until the queue is empty. Timed: mapping, encoding,
batching (2,000 events a request), the HTTP round trips and fake Mixpanel's strict `/import`.

Modes: `served` (default) runs fake Mixpanel as `harness serve` in its own process, as a user would, so
client and server share the machine's two cores; `loopback` and `in-process` run it in this process (a
fleet), where the two halves share one interpreter lock. Rates count delivered events; the summary gives
best and median by wall clock and by this process's CPU time. The machine may be shared: compare runs
made in one sitting.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fakes.core import Scheduler, SimulatedClock
from fakes.fleet import FakeFleet
from harness.connectors import MixpanelCurrent, MixpanelTarget
from harness.generate import DEFAULT_ANCHOR, StreamConfig, WorldConfig, build_world, generate_events


def one_run(events: list[dict], mode: str) -> tuple[float, float, int]:
    with FakeFleet(mode="loopback" if mode == "loopback" else "in-process") as fleet:
        fleet.clock.set(DEFAULT_ANCHOR + 60)
        base_url = fleet["mixpanel"].base_url if mode == "loopback" else None
        current = MixpanelCurrent(fleet.scheduler, MixpanelTarget(base_url=base_url))
        wall, cpu = time.perf_counter(), time.process_time()
        current.submit(events)
        current.flush()
        while current.report.pending:
            fleet.clock.advance(60)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert current.report.accounted() and current.report.rejected == 0
        return wall, cpu, current.report.delivered


def served_run(events: list[dict]) -> tuple[float, float, int]:
    """Fake Mixpanel in a `harness serve` process; the Current here, on its own simulated clock."""
    server = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--fakes", "mixpanel",
                               "--mixpanel-port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("mixpanel: "):
            raise SystemExit(f"harness serve did not start: {line!r}")
        clock = SimulatedClock(DEFAULT_ANCHOR + 60)
        scheduler = Scheduler.on(clock)
        current = MixpanelCurrent(scheduler, MixpanelTarget(base_url=line.split(" ", 1)[1].strip()))
        wall, cpu = time.perf_counter(), time.process_time()
        current.submit(events)
        current.flush()
        while current.report.pending:
            clock.advance(60)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert current.report.accounted() and current.report.rejected == 0
        return wall, cpu, current.report.delivered
    finally:
        server.terminate()
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("served", "loopback", "in-process"), default="served")
    args = parser.parse_args()
    world = build_world(args.seed, WorldConfig(users=2000))
    events = list(generate_events(world, StreamConfig(events=args.events), seed=args.seed))
    walls, cpus = [], []
    for i in range(args.repeat):
        wall, cpu, delivered = served_run(events) if args.mode == "served" else one_run(events, args.mode)
        walls.append(delivered / wall)
        cpus.append(delivered / cpu)
        print(f"run {i + 1}: {delivered:,} delivered in {wall:.2f} s wall ({delivered / wall:,.0f}/s), "
              f"{cpu:.2f} s client CPU ({delivered / cpu:,.0f}/CPU-s)")
    print(f"{args.mode}: best {max(walls):,.0f} events/s, median {statistics.median(walls):,.0f} (wall); "
          f"best {max(cpus):,.0f}, median {statistics.median(cpus):,.0f} per CPU-second; target >= 50,000/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
