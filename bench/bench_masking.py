"""Cost of masking a request body for the journal (fakes/core/masking.py), per body, best and median.

    python bench/bench_masking.py [--rounds 30]

Bodies: a 2,000-event /import batch (JSON, ~300 KB, of which the journal masks its first 64 KiB window), the
same with every `-` JSON-escaped (`\\u002d`, so the escaped-spelling search runs), and a form-encoded /track
body (percent-encoded). Uses fake Mixpanel's masker (its project secrets and field names). Run it against
another checkout with PYTHONPATH=<that checkout> for a baseline in the same sitting.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from urllib.parse import urlencode

from fakes.core.app import journal_text
from fakes.mixpanel import new_state


def bodies() -> dict[str, bytes]:
    events = [{"event": "Purchase", "properties": {"time": 1_790_000_000 + i, "distinct_id": f"user-{i}",
                                                   "$insert_id": f"insert-{i:08d}", "plan": "pro-annual",
                                                   "note": "paid with card-on-file"}} for i in range(2000)]
    plain = json.dumps(events)
    return {
        "json": plain.encode(),
        "json-escaped": plain.replace("-", "\\u002d").encode(),
        "form": urlencode({"data": plain[:70_000], "verbose": "1"}).encode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    state = new_state()
    masker, cap = state.masker, state.config["journal.max_body_chars"]
    for name, body in bodies().items():
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            journal_text(body, masker, cap)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:13s} {len(body):8d} bytes  best {min(times):7.3f} ms  median {statistics.median(times):7.3f} ms")


if __name__ == "__main__":
    main()
