"""harness.pytest_plugin: in-process and server fixtures generic over the registry (DESIGN.md §4).

Each test runs pytest in a subprocess on a small test file, with the stand-in fake registered through
HARNESS_FAKE_MODULES (so the fixtures `standin_fake` / `standin_server` exist).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STAND_IN_DIR = REPO / "tests" / "core"


def _plugin_installed() -> bool:
    return any(ep.value == "harness.pytest_plugin" for ep in entry_points(group="pytest11"))


def run_pytest(tmp_path: Path, source: str, modules: str = "standin=stand_in_fake") -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_generated.py"
    test_file.write_text(textwrap.dedent(source))
    env = dict(os.environ)
    env["HARNESS_FAKE_MODULES"] = modules
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(STAND_IN_DIR), env.get("PYTHONPATH")]))
    args = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    if not _plugin_installed():
        args += ["-p", "harness.pytest_plugin"]
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_entry_point_is_declared_in_pyproject():
    text = (REPO / "pyproject.toml").read_text()
    assert '[project.entry-points.pytest11]' in text and 'harness = "harness.pytest_plugin"' in text


def test_in_process_and_server_fixtures(tmp_path):
    result = run_pytest(tmp_path, '''
        import pytest, requests

        AUTH = {"Authorization": "Bearer standin-token"}
        seen = {}

        def test_in_process_routes_real_host_names(standin_fake):
            r = requests.post("https://api.standin.test/ingest", json={"a": 1}, headers=AUTH)
            assert r.json() == {"stored": 1}
            assert standin_fake.state.items == [{"a": 1}]
            assert standin_fake.requests()[-1]["path"] == "/ingest"
            assert standin_fake.base_url is None
            with pytest.raises(RuntimeError):
                standin_fake.url("/x")

        def test_in_process_state_is_fresh_per_test(standin_fake):
            assert standin_fake.state.items == []

        def test_in_process_faults_raise_requests_errors(standin_fake):
            standin_fake.add_faults({"action": {"type": "drop_before_response"}})
            with pytest.raises(requests.exceptions.ConnectionError):
                requests.post("https://rest.iad-01.standin.test/ingest", headers=AUTH)

        def test_server_first(standin_server):
            assert standin_server.base_url.startswith("http://127.0.0.1:")
            seen["url"] = standin_server.base_url
            requests.post(standin_server.url("/ingest"), json={"b": 2}, headers=AUTH)
            standin_server.configure({"limits.max_items": 3})
            standin_server.add_faults({"match": {"path": "/never"}, "action": {"type": "status", "status": 500}})
            requests.post(standin_server.url("/_harness/clock"), json={"now": 5})
            assert standin_server.state.items == [{"b": 2}]

        def test_server_https(standin_server):
            r = requests.post(standin_server.https_base_url + "/ingest", json={"s": 1}, headers=AUTH,
                              verify=standin_server.ca_pem)
            assert r.json() == {"stored": 1}

        def test_server_is_reused_and_reset_between_tests(standin_server):
            assert standin_server.base_url == seen["url"]
            assert standin_server.state.items == []
            assert requests.get(standin_server.url("/_harness/faults")).json() == {"faults": []}
            assert requests.get(standin_server.url("/_harness/config")).json()["config"]["limits.max_items"] == 10
            assert requests.get(standin_server.url("/_harness/clock")).json()["mode"] == "real"
            assert standin_server.requests() == []

        def test_modes_mix_in_one_test(standin_fake, standin_server):
            requests.post("https://api.standin.test/ingest", json={"in": 1}, headers=AUTH)
            requests.post(standin_server.url("/ingest"), json={"srv": 1}, headers=AUTH)
            assert standin_fake.state.items == [{"in": 1}]
            assert standin_server.state.items == [{"srv": 1}]

        def test_one_state_both_modes(standin_fake):
            url = standin_fake.serve()
            requests.post("https://api.standin.test/ingest", json={"in": 1}, headers=AUTH)
            requests.post(url + "/ingest", json={"srv": 1}, headers=AUTH)
            assert standin_fake.state.items == [{"in": 1}, {"srv": 1}]
            assert standin_fake.url("/x") == url + "/x"

        def test_factory_and_shared_clock(harness_fake_factory, harness_clock):
            fake = harness_fake_factory("standin", config={"limits.max_items": 2}, seed=4)
            assert fake.state.config["limits.max_items"] == 2 and fake.state.seed == 4
            harness_clock.set(100)
            assert fake.state.clock.now() == 100
            assert fake.client.get("/_harness/clock").get_json()["now"] == 100
    ''')
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout


def test_unavailable_fake_fails_the_test_with_one_clear_line(tmp_path):
    result = run_pytest(tmp_path, '''
        def test_uses_ghost(ghost_fake):
            pass
    ''', modules="standin=stand_in_fake,ghost=no_such_module_qq")
    assert result.returncode == 1
    assert "fake 'ghost' is not available: cannot import no_such_module_qq" in result.stdout
    assert "1 error" in result.stdout


def test_every_harness_fixture_has_a_description(tmp_path):
    """Issue 12 item 15: `pytest --fixtures` describes each fixture the plugin adds (none says "no docstring")."""
    run_args = [sys.executable, "-m", "pytest", "--fixtures", "-v", "-p", "no:cacheprovider", "--rootdir",
                str(tmp_path)]
    if not _plugin_installed():
        run_args += ["-p", "harness.pytest_plugin"]
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    listing = subprocess.run(run_args, cwd=tmp_path, capture_output=True, text=True, timeout=120).stdout
    after_header = listing.split("fixtures defined from harness.pytest_plugin", 1)[1].split("\n", 1)[1]
    section = re.split(r"\n-{5,} |\n={5,} | ={5,}", after_header, maxsplit=1)[0]  # up to the next section
    entries = [block for block in section.strip().split("\n\n") if block.strip()]
    names = {block.split()[0] for block in entries}
    assert {"mixpanel_fake", "braze_fake", "mixpanel_server", "braze_server", "harness_fake_factory"} <= names
    for block in entries:
        assert "no docstring available" not in block, block


def test_importing_the_plugin_imports_no_fake(tmp_path):
    """Issue 12 item 15: the plugin loads lazily. A project with the package installed pays for Flask, the
    fakes, `responses` and the connectors only when a test asks for a harness fixture (start-up time itself
    is measured by bench/bench_plugin_startup.py)."""
    probe = ("import sys, harness.pytest_plugin\n"
             "heavy = ('flask', 'werkzeug', 'responses', 'requests', 'fakes.core', 'fakes.fleet', 'fakes.mixpanel',"
             " 'fakes.braze', 'harness.connector_routes')\n"
             "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
