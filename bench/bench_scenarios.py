"""The scenario runner (issue 10): wall time of the whole bundled library with `-j auto` (target under 30 s on
2 cores), and one scenario's start-up (target under 0.5 s).

Start-up is measured two ways: in-process, `run_case` of a scenario with one user and no steps (a fresh fleet of
both fakes on its own clock, the pipeline, the Braze user and the Mixpanel profile, the checks), repeated; and
as a whole process, `harness run FILE` of that scenario (Python start-up and imports included). The library is
run as `harness run -j auto -q` in a subprocess, as a user runs it.

    python bench/bench_scenarios.py [--repeat 5] [--jobs auto] [--skip-library]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL = """\
name: bench_minimal
users: [{external_id: u1}]
expect:
  - profile: {distinct_id: u1, properties: {$braze_external_id: u1}}
"""


def _figures(values: list[float]) -> str:
    return f"best {min(values):.3f} s, median {statistics.median(values):.3f} s (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", default="auto")
    parser.add_argument("--skip-library", action="store_true")
    args = parser.parse_args()

    from harness.scenarios.execution import run_case
    from harness.scenarios.loader import load_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_minimal.yaml"
        path.write_text(MINIMAL, encoding="utf-8")
        (case,) = load_file(path)
        run_case(case)  # warm: imports, catalog, compiled plans
        in_process = []
        for _ in range(args.repeat * 4):
            started = time.perf_counter()
            result = run_case(case)
            in_process.append(time.perf_counter() - started)
            assert result.passed, result.failure_text()
        print(f"one scenario's start-up, in-process (fleet + pipeline + checks): {_figures(in_process)}")
        whole = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "-q"], capture_output=True,
                                  text=True)
            whole.append(time.perf_counter() - started)
            assert done.returncode == 0, done.stderr
        print(f"one scenario as a whole process (harness run FILE): {_figures(whole)}")

    if not args.skip_library:
        walls = []
        for _ in range(max(1, args.repeat // 2)):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "harness", "run", "-j", args.jobs, "-q"],
                                  capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
            summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "(no output)"
            print(f"  library run: {walls[-1]:.2f} s wall; {summary}")
        print(f"the bundled library, harness run -j {args.jobs}: {_figures(walls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
