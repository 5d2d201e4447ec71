"""`harness map` as a whole process on 200,000 events (target >= 100,000 events/s).

Builds inputs from the public samples with fresh ids, external ids and times, in a temporary directory:
a Custom HTTP NDJSON stream, a storage-JSON NDJSON stream (Avro-JSON unions, `event_type` added per line)
and Avro files (one per type, written with the catalog's derived schemas). Each mixes every exported type.
Then runs `python -m harness map FILES -o OUT --jobs J` and reports wall-clock events per second (process
start, reading, mapping and writing included) and events per CPU-second (user + system time of the process
and its workers; robust on a shared machine). Custom HTTP NDJSON is measured with one process and with
`--jobs 2` (two worker processes). Run: python bench/bench_map_cli.py [--events N] [--rounds R]

`--compare-jobs` (issue 12 item 12: target >= 1.6x with two jobs on two cores, 1,000,000 events) measures only
Custom HTTP NDJSON, `--jobs 1` and `--jobs 2` alternating in one sitting, and prints both, the wall-clock
ratio, the CPU-seconds each needed, and the load average before and after (on a shared machine a ratio
means little without it): python bench/bench_map_cli.py --compare-jobs --events 1000000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import fastavro

from harness.catalog import avro_schema, load_catalog

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "currents-samples"


def _templates(samples: Path) -> tuple[dict, dict, dict]:
    catalog = load_catalog()
    custom_http, storage, avro = {}, {}, {}
    for path in (samples / "custom-http").rglob("*.json"):
        event = json.loads(path.read_text(encoding="utf-8"))
        if catalog[event["event_type"]].exported("current"):
            custom_http[event["event_type"]] = event
    for et in catalog.exported("current"):
        path = samples / "storage-json" / f"{et.type_id}.json"
        if path.exists():
            storage[et.type_id] = json.loads(path.read_text(encoding="utf-8"))
            with open(samples / "avro" / f"{et.type_id}.avro", "rb") as fh:
                avro[et.type_id] = next(iter(fastavro.reader(fh)))
    return custom_http, storage, avro


def build_inputs(samples: Path, n: int, folder: Path, seed: int = 7) -> dict[str, list[Path]]:
    rng = random.Random(seed)
    custom_http, storage, avro = _templates(samples)
    base = int(time.time()) - 7 * 86400

    def fresh(i: int) -> tuple[str, int, str]:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4)), base + i % 604800, f"user-{rng.randrange(50_000)}"

    inputs: dict[str, list[Path]] = {}
    types = sorted(custom_http)
    path = folder / "custom-http.ndjson"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            event = dict(custom_http[types[i % len(types)]])
            event["id"], event["time"], ext = fresh(i)
            event["user"] = dict(event["user"], external_user_id=ext)
            fh.write(json.dumps(event, separators=(",", ":")) + "\n")
    inputs["custom-http NDJSON"] = [path]

    types = sorted(storage)
    path = folder / "storage.ndjson"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            type_id = types[i % len(types)]
            record = dict(storage[type_id])
            record["id"], record["time"], ext = fresh(i)
            record["external_user_id"] = {"string": ext}
            record["event_type"] = type_id
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
    inputs["storage-JSON NDJSON"] = [path]

    paths = []
    per_type = max(1, n // len(avro))
    for k, (type_id, template) in enumerate(sorted(avro.items())):
        rows = []
        for i in range(per_type):
            row = dict(template)
            row["id"], row["time"], row["external_user_id"] = fresh(k * per_type + i)
            rows.append(row)
        p = folder / f"{type_id}.avro"
        with open(p, "wb") as fh:
            fastavro.writer(fh, fastavro.parse_schema(avro_schema(type_id)), rows)
        paths.append(p)
    inputs["Avro files"] = paths
    return inputs


def run_map(files: list[Path], out: Path, jobs: str = "auto") -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system of the child and its workers) of one `harness map` run."""
    env = dict(os.environ, CI="1")  # no progress drawing
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness", "map", *map(str, files), "-o", str(out), "--jobs", jobs],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"harness map failed ({proc.returncode}): {proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, proc.stderr


def compare_jobs(files: list[Path], folder: Path, rounds: int) -> None:
    """--jobs 1 and --jobs 2 alternating, so both see the same machine; ratios of best and of median."""
    load_before = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}
    for _ in range(rounds):
        for jobs in runs:
            wall, cpu, _ = run_map(files, folder / "out.ndjson", jobs)
            runs[jobs].append((wall, cpu))
            print(f"--jobs {jobs}: wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)
    load_after = os.getloadavg()
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"\ninput {size:,.0f} MB of Custom HTTP NDJSON; {os.cpu_count()} CPUs; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")
    for jobs, values in runs.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(f"--jobs {jobs}: wall best {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
              f"cpu best {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s")
    one, two = runs["1"], runs["2"]
    print(f"speed-up of --jobs 2 (wall): best {min(w for w, _ in one) / min(w for w, _ in two):.2f}x, median "
          f"{statistics.median(w for w, _ in one) / statistics.median(w for w, _ in two):.2f}x; CPU of --jobs 2 over "
          f"--jobs 1: {statistics.median(c for _, c in two) / statistics.median(c for _, c in one):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-jobs", action="store_true", help="only --jobs 1 against --jobs 2, alternating")
    parser.add_argument("--samples", type=Path, default=Path(os.environ.get("HARNESS_SAMPLES_DIR", DEFAULT_SAMPLES)))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
        folder = Path(tmp)
        inputs = build_inputs(args.samples, args.events, folder)
        if args.compare_jobs:
            compare_jobs(inputs["custom-http NDJSON"], folder, args.rounds)
            return
        cases = [(label, files, "1") for label, files in inputs.items()]
        cases.insert(1, ("custom-http NDJSON", inputs["custom-http NDJSON"], "2"))
        for label, files, jobs in cases:
            runs = [run_map(files, folder / "out.ndjson", jobs) for _ in range(args.rounds)]
            walls = [r[0] for r in runs]
            cpus = [r[1] for r in runs]
            line = next(x for x in runs[0][2].splitlines() if x.startswith("records:"))
            total = int(line.split(":")[1])
            print(f"{label} (--jobs {jobs}): {total:,} events; wall best {min(walls):.2f} s -> "
                  f"{total / min(walls):,.0f} events/s, median {total / statistics.median(walls):,.0f}; "
                  f"CPU best {min(cpus):.2f} s -> {total / min(cpus):,.0f} events per CPU-second, median "
                  f"{total / statistics.median(cpus):,.0f} (whole process incl. start-up, {args.rounds} rounds)")

if __name__ == "__main__":
    main()
