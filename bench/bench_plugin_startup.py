"""What the harness pytest plugin adds to pytest's start-up in a project that does not use its fixtures
(issue 12 item 15: at most 0.1 s).

    python bench/bench_plugin_startup.py [--repeat N]

Runs `python -m pytest --collect-only -q` on a one-test project `--repeat` times with the plugin (it is
loaded through its pytest11 entry point) and as many times without it (`-p no:harness`), alternating, and
prints the best and the median of each and the difference. Also prints `python -X importtime`'s cumulative
figure for importing the plugin module alone.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(folder: Path, extra: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
                   cwd=folder, check=True, capture_output=True)
    return time.perf_counter() - start


def _import_time() -> float:
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pytest, harness.pytest_plugin"],
                            capture_output=True, text=True, check=True)
    line = [ln for ln in result.stderr.splitlines() if ln.rstrip().endswith("| harness.pytest_plugin")][-1]
    return int(re.split(r"\s*\|\s*", line)[1]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_one.py").write_text("def test_one():\n    assert True\n")
        with_plugin, without = [], []
        for _ in range(args.repeat):
            without.append(_run(folder, ["-p", "no:harness"]))
            with_plugin.append(_run(folder, []))
    for label, runs in (("pytest without the plugin", without), ("pytest with the plugin", with_plugin)):
        print(f"{label:<28} best {min(runs):.3f} s  median {statistics.median(runs):.3f} s")
    print(f"{'added by the plugin':<28} best {min(with_plugin) - min(without):+.3f} s  "
          f"median {statistics.median(with_plugin) - statistics.median(without):+.3f} s")
    print(f"import harness.pytest_plugin (after pytest, -X importtime cumulative): {_import_time():.3f} s")


if __name__ == "__main__":
    main()
