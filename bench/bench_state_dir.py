"""Benchmark: `--state-dir` durability and stored-event memory (issue 13 items 1 and 7).

    python bench/bench_state_dir.py throughput [--batches 40] [--rounds 5] [--fsync everysec]
        /import over loopback HTTP (2000-event strict batches, as bench_mixpanel_import.py) with a durable
        store on the state against without, interleaved; target >= 0.7x with the default fsync policy.
    python bench/bench_state_dir.py restart [--events 1000000]
        Restart time (replaying the state directory into a fresh fake) for N stored events, from the incr
        log (the history as written) and after a rewrite (one base); target <= 5 s for 1,000,000.
    python bench/bench_state_dir.py memory [--events 200000]
        Resident bytes per stored event against the event's JSON size; target <= 2x.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mixpanel_import import AUTH, BATCH, make_batch, run  # noqa: E402

from fakes.core import FakeServer  # noqa: E402
from fakes.core.durable import DurableStore  # noqa: E402
from fakes.mixpanel import create_app, new_state  # noqa: E402
from fakes.mixpanel.ingest import IngestRequest  # noqa: E402


def throughput(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-state-"))
    plain, durable = new_state(), new_state()
    store = DurableStore(durable, directory, fsync=args.fsync)
    store.open()
    now = int(plain.clock.now())
    bodies = [make_batch(k, now) for k in range(args.batches)]
    print(f"{args.batches} x {BATCH} events per run, {args.rounds} interleaved rounds, fsync={args.fsync}")
    runs: dict[str, list[float]] = {"without": [], "with --state-dir": []}
    ratios = []
    try:
        with FakeServer(create_app(plain), name="mixpanel") as a, FakeServer(create_app(durable), name="mp2") as b:
            run(a.port, "/import?strict=1", bodies[:4], 1, False)  # warm-up
            run(b.port, "/import?strict=1", bodies[:4], 1, False)
            for _ in range(args.rounds):
                plain.reset()
                runs["without"].append(run(a.port, "/import?strict=1", bodies, 1, False))
                durable.reset()
                store.commit()
                runs["with --state-dir"].append(run(b.port, "/import?strict=1", bodies, 1, False))
                ratios.append(runs["with --state-dir"][-1] / runs["without"][-1])
    finally:
        store.close()
        size = sum(p.stat().st_size for p in directory.iterdir())
        shutil.rmtree(directory, ignore_errors=True)
    for name, values in runs.items():
        print(f"{name:18} {max(values):>10,.0f} events/s best, {statistics.median(values):>10,.0f} median")
    print(f"ratio (same round): {statistics.median(ratios):.2f}x median ({min(ratios):.2f}-{max(ratios):.2f}); "
          f"state dir at the end: {size / 1e6:.1f} MB; target >= 0.7x: "
          f"{'met' if statistics.median(ratios) >= 0.7 else 'NOT met'}")


def _fill(state, events: int, commit) -> int:
    """Store `events` events through the model (no HTTP), committing after each batch; returns JSON bytes."""
    now = int(state.clock.now())
    json_bytes = 0
    for k in range(events // BATCH):
        body = make_batch(k, now)
        json_bytes += sum(len(json.dumps(e, separators=(",", ":")).encode()) for e in json.loads(body))
        out = state.model.handle(IngestRequest("import", query={"strict": "1"}, body=body,
                                               headers={"authorization": AUTH}))
        assert out.answer.status == 200, out.answer
        commit()
    return json_bytes


def restart(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-state-"))
    try:
        state = new_state()
        store = DurableStore(state, directory, fsync="no")
        store.open()
        started = time.perf_counter()
        _fill(state, args.events, store.commit)
        print(f"stored {args.events:,} events through the model in {time.perf_counter() - started:.1f} s")
        store.close()
        del state, store
        gc.collect()
        for label in ("from the incr log", "after a rewrite (one base)"):
            times, cpu = [], []
            for _ in range(args.rounds):
                fresh = new_state()
                reopened = DurableStore(fresh, directory, fsync="no", rewrite_min_bytes=1 << 62)
                started, started_cpu = time.perf_counter(), time.process_time()
                reopened.open()
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                assert fresh.model.store.counts()["raw"] == args.events // BATCH * BATCH
                if label.startswith("from") and len(times) == args.rounds:
                    reopened.rewrite(wait=True)
                reopened.close()
                del fresh, reopened
                gc.collect()
            size = sum(p.stat().st_size for p in directory.iterdir())
            print(f"restart {label}: {min(times):.2f} s best, {statistics.median(times):.2f} s median wall; "
                  f"CPU {min(cpu):.2f} s best, {statistics.median(cpu):.2f} s median "
                  f"({size / 1e6:.0f} MB on disk); target <= 5 s for 1,000,000 (wall, best): "
                  f"{'met' if args.events < 1_000_000 or min(times) <= 5 else 'NOT met'}; CPU time shows what "
                  "a loaded machine hides")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory(args: argparse.Namespace) -> None:
    state = new_state()
    gc.collect()
    before = _rss()
    json_bytes = _fill(state, args.events, lambda: None)
    gc.collect()
    grown = _rss() - before
    count = state.model.store.counts()["raw"]
    per_event, per_json = grown / count, json_bytes / count
    print(f"{count:,} stored events: {per_event:,.0f} resident bytes per event, JSON {per_json:,.0f} bytes "
          f"-> {per_event / per_json:.2f}x; target <= 2x: {'met' if per_event <= 2 * per_json else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("throughput")
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--fsync", default="everysec", choices=("always", "everysec", "no"))
    p = sub.add_parser("restart")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    p = sub.add_parser("memory")
    p.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    {"throughput": throughput, "restart": restart, "memory": memory}[args.what](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
