"""Throughput of the event generator on a realistic mixed stream (issue 5: target >= 50,000 events/s on one
core, i.e. one million events in under 20 s).

    python bench/bench_generate.py [--events N] [--users N] [--seed N] [--repeat N]

Prints, for the default mix of every story kind: the world build time, then events/s for
(1) flat records, (2) Custom HTTP events (the canonical output), (3) Custom HTTP serialised as NDJSON
(what `harness generate --ndjson` does), each on a fresh stream from the same seed, `--repeat` times.
On a shared machine wall time is noisy: the summary gives the best and the median of the runs, by wall
clock and by this process's CPU time (events per CPU-second: the one-core rate).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.generate.records import RecordFactory
from harness.generate.streams import StreamConfig, StreamReport, generate_events, generate_records
from harness.generate.world import WorldConfig, build_world
from harness.generate.writers import write_custom_http


def timed(label: str, n: int, fn, runs: dict[str, list[tuple[float, float]]]) -> None:
    """Wall time and CPU time of this process: on a shared machine the CPU figure is the one-core rate."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    runs.setdefault(label, []).append((n / elapsed, n / used))
    print(f"{label:<40} {n:>9,} events  wall {elapsed:6.2f} s {n / elapsed:>9,.0f}/s   "
          f"cpu {used:6.2f} s {n / used:>9,.0f}/s")


def summarise(runs: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n{'events/s over ' + str(len(next(iter(runs.values())))) + ' runs':<40} {'wall best':>10} {'median':>9}"
          f"   {'cpu best':>9} {'median':>9}")
    for label, rates in runs.items():
        wall, cpu = [w for w, _ in rates], [c for _, c in rates]
        print(f"{label:<40} {max(wall):>10,.0f} {statistics.median(wall):>9,.0f}   "
              f"{max(cpu):>9,.0f} {statistics.median(cpu):>9,.0f}")


class _CountingSink(io.RawIOBase):
    """A binary sink that only counts bytes: measures the writer, not a growing in-memory buffer."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.size += len(data)
        return len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (default 3)")
    args = parser.parse_args()
    n = args.events

    start = time.perf_counter()
    world = build_world(args.seed, WorldConfig(users=args.users))
    print(f"world: {len(world.users)} users, {len(world.campaigns)} campaigns, {len(world.canvases)} Canvases "
          f"built in {time.perf_counter() - start:.2f} s")
    factory = RecordFactory()
    report = StreamReport()

    def flat() -> None:
        for _ in generate_records(world, StreamConfig(events=n), factory=factory, report=report):
            pass

    def custom_http() -> None:
        for _ in generate_events(world, StreamConfig(events=n), factory=factory):
            pass

    sizes: list[int] = []

    def ndjson() -> None:
        sink = _CountingSink()
        write_custom_http(generate_records(world, StreamConfig(events=n), factory=factory), sink, factory, ndjson=True)
        sizes.append(sink.size)

    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(max(1, args.repeat)):
        timed("flat records (generate_records)", n, flat, runs)
        timed("Custom HTTP events (generate_events)", n, custom_http, runs)
        timed("Custom HTTP NDJSON (harness generate)", n, ndjson, runs)
    summarise(runs)
    print(f"NDJSON: {sizes[-1] / n:,.0f} bytes/event")
    print(f"types: {len(report.by_type)} of the catalog; stories: "
          + ", ".join(f"{k}={v}" for k, v in report.stories.most_common()))


if __name__ == "__main__":
    main()
