"""Mapping throughput on one core: a mixed stream over every exported type (target >= 300,000 events/s).

Records are built from the public samples (storage and Custom HTTP shapes, normalised beforehand, as
`harness map` does) with fresh ids and times. Run: python bench/bench_mapping.py [--events N] [--samples DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path

from harness.catalog import PROFILE_CURRENT, PROFILE_LEGACY, load_catalog
from harness.currents_io.normalise import normalise_record
from harness.mapping import MappingConfig, MappingReport, map_currents_event

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "currents-samples"


def sample_records(samples: Path, profile: str) -> list[dict]:
    """One normalised record per exported type and shape available in the samples."""
    catalog = load_catalog()
    custom_http = {}
    for path in (samples / "custom-http").rglob("*.json"):
        event = json.loads(path.read_text(encoding="utf-8"))
        custom_http[event["event_type"]] = event
    records = []
    for et in catalog:
        if not et.exported(profile):
            continue
        storage = samples / "storage-json" / f"{et.type_id}.json"
        if storage.exists():
            records.append(normalise_record(json.loads(storage.read_text(encoding="utf-8")), et.type_id))
        if et.type_id in custom_http:
            records.append(normalise_record(custom_http[et.type_id]))
    return records


def stream(templates: list[dict], n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    base = int(time.time()) - 86400
    out = []
    for i in range(n):
        record = dict(rng.choice(templates))
        record["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        record["time"] = base + i % 86400
        record["external_user_id"] = f"user-{rng.randrange(10_000)}"
        out.append(record)
    return out


def run(records: list[dict], config: MappingConfig, rounds: int) -> dict[str, float]:
    """Events per wall-clock second and per CPU second (the latter is robust on a shared machine): best and
    median over `rounds` timed passes."""
    walls, cpus = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for record in records:
            map_currents_event(record, config)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    report = MappingReport()
    # One checked pass (not timed): everything maps.
    for record in records:
        report.add(map_currents_event(record, config))
    assert report.mapped == len(records), report.summary_lines()
    n = len(records)
    return {"best": n / min(walls), "median": n / statistics.median(walls),
            "best_cpu": n / min(cpus), "median_cpu": n / statistics.median(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=Path, default=Path(os.environ.get("HARNESS_SAMPLES_DIR", DEFAULT_SAMPLES)))
    args = parser.parse_args()
    for profile in (PROFILE_CURRENT, PROFILE_LEGACY):
        templates = sample_records(args.samples, profile)
        records = stream(templates, args.events)
        config = MappingConfig(profile=profile)
        rates = run(records, config, args.rounds)
        types = len({r["event_type"] for r in templates})
        print(f"profile={profile}: wall {rates['best']:,.0f} events/s best, {rates['median']:,.0f} median; "
              f"{rates['best_cpu']:,.0f} events per CPU-second best, {rates['median_cpu']:,.0f} median; over "
              f"{len(records):,} events ({types} exported types, {len(templates)} templates; {args.rounds} rounds)")

if __name__ == "__main__":
    main()
