"""Time to build a generator world (issue 12 item 11: 200,000 users in under 10 s).

    python bench/bench_world.py [--users N] [--seed N] [--repeat N]

Builds `build_world(seed, WorldConfig(users=N))` `--repeat` times and prints each run's wall and CPU time,
then the best and the median (the machine is shared: compare against a baseline taken in the same sitting).
Also prints a hash of the world, so a faster build can be checked to give the same world.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.generate.world import WorldConfig, build_world


def world_hash(world) -> str:
    return hashlib.sha256(repr((world.users, world.campaigns, world.canvases, world.apps)).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls, cpus = [], []
    for run in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        world = build_world(args.seed, WorldConfig(users=args.users))
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        walls.append(wall)
        cpus.append(used)
        print(f"run {run + 1}: {args.users:,} users  wall {wall:6.2f} s  cpu {used:6.2f} s  world {world_hash(world)}")
    print(f"best wall {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
          f"best cpu {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
