"""The distribution carries what it needs (issue 8, DESIGN.md §2): a non-editable install finds the bundled
scenarios from any folder, and the wheel holds the catalog data and every package.

The wheel is built from a copy of the working tree without build isolation (tests never reach the
network), installed with ``pip install --target``, and run from an unrelated working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("harness", "fakes", "scenarios", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (in the test extra)")
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, source / name)
    # One scenario file that exists only in this copy, so the test sees the install's own folder.
    (source / "scenarios" / "packaging_probe.yaml").write_text("name: packaging probe\ndescription: shipped\n")
    # The library is organised in sub-folders (scenarios/currents/, ...): those ship too.
    (source / "scenarios" / "probe_area").mkdir(exist_ok=True)
    (source / "scenarios" / "probe_area" / "packaging_probe_nested.yaml").write_text("name: packaging probe nested\n")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(out), str(source)], check=True, capture_output=True)
    (built,) = out.glob("*.whl")
    return built


def test_wheel_holds_the_packages_the_catalog_data_and_the_scenarios(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "harness/catalog/data/currents-catalog.csv" in names
    assert "fakes/registry.py" in names and "fakes/mixpanel/__init__.py" in names
    assert "scenarios/__init__.py" in names
    assert "scenarios/packaging_probe.yaml" in names
    assert "scenarios/probe_area/packaging_probe_nested.yaml" in names
    assert not any(name.startswith("tests/") for name in names)


def test_a_non_editable_install_lists_its_bundled_scenarios_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Only the installed copy is importable: no checkout on the path, and the editable finder of a
    # development install is kept out by isolated mode (-I) plus an explicit path.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.argv = ['harness', 'list', 'scenarios', '--json'];"
            " import harness.cli, scenarios; print(scenarios.__file__, file=sys.stderr);"
            " raise SystemExit(harness.cli.main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-I", "-c", code, str(target)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().startswith(str(target)), done.stderr
    entries = json.loads(done.stdout)
    assert {"name": "packaging_probe.yaml", "description": "shipped"} in entries
