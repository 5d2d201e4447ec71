"""`harness serve` as a subprocess (DESIGN.md §5): URLs printed, health on each fake, clean SIGTERM/SIGINT stop."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
STAND_IN_DIR = REPO / "tests" / "core"


def _env(extra_modules: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HARNESS_DEBUG", None)
    if extra_modules:
        env["HARNESS_FAKE_MODULES"] = "standin=stand_in_fake"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(STAND_IN_DIR), env.get("PYTHONPATH")]))
    return env


class Serve:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness", "serve", *args],
            cwd=REPO, env=env or _env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def read_urls(self, count: int, timeout: float = 20) -> dict[str, str]:
        # A reader thread, because select() on a buffered text pipe misses lines already buffered.
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in iter(self.proc.stdout.readline, "")],
                         daemon=True).start()
        urls: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while len(urls) < count:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"serve did not print {count} URLs: {urls}; stderr: {self.proc.stderr.read()}")
            name, _, url = line.strip().partition(": ")
            urls[name] = url
        return urls

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, self.proc.stderr.read()


def _free_port_held() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_prints_urls_serves_health_and_stops_on_sigterm():
    """DESIGN.md §5: port 0 picks a free port; each base URL on its own line; SIGTERM stops with exit 0."""
    serve = Serve("--fakes", "standin", "--standin-port", "0")
    urls = serve.read_urls(1)
    assert urls["standin"].startswith("http://127.0.0.1:")
    assert requests.get(urls["standin"] + "/_harness/health", timeout=5).json() == {"status": "ok", "service": "standin"}
    code, err = serve.stop(signal.SIGTERM)
    assert code == 0, err


def test_sigint_stops_cleanly_too():
    serve = Serve("--fakes", "standin", "--standin-port", "0")
    serve.read_urls(1)
    code, err = serve.stop(signal.SIGINT)
    assert code == 0, err
    assert "Traceback" not in err


def test_both_fakes_serve_mixpanel_then_braze():
    """DESIGN.md §5: `harness serve` runs both fakes; covers whichever of mixpanel/braze exist today."""
    from fakes.registry import available_fakes

    loaded, missing = available_fakes(["mixpanel", "braze"])
    if not loaded:
        pytest.skip(f"no fake importable yet: {missing}")
    names = [d.name for d in loaded]
    args = ["--fakes", ",".join(names)] + [a for n in names for a in (f"--{n}-port", "0")]
    serve = Serve(*args, env=_env(extra_modules=False))
    urls = serve.read_urls(len(names))
    assert list(urls) == names  # registry order: mixpanel first, then braze
    for name, url in urls.items():
        assert requests.get(url + "/_harness/health", timeout=5).json() == {"status": "ok", "service": name}
    # one simulated clock for both fakes
    first = urls[names[0]]
    requests.post(first + "/_harness/clock", json={"now": 1_700_000_000}, timeout=5)
    for url in urls.values():
        assert requests.get(url + "/_harness/clock", timeout=5).json()["now"] == 1_700_000_000
    # DESIGN.md §7: resetting one fake never moves the shared clock (so never the other fake's time)
    assert requests.post(urls[names[-1]] + "/_harness/reset", timeout=5).status_code == 200
    for url in urls.values():
        assert requests.get(url + "/_harness/clock", timeout=5).json()["now"] == 1_700_000_000
    code, err = serve.stop()
    assert code == 0, err
    if missing:
        pytest.skip(f"served {names}; not yet importable: {missing}")


def test_port_in_use_is_one_clear_line_and_nonzero_exit():
    held = _free_port_held()
    try:
        port = held.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", str(port)],
            cwd=REPO, env=_env(), capture_output=True, text=True, timeout=30,
        )
    finally:
        held.close()
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    # issue 12 item 10: the line names the option that moves the port, and 0 for a free one
    assert lines == [f"harness serve: error: standin: port {port} on 127.0.0.1 is already in use; choose another "
                     "with --standin-port PORT, or --standin-port 0 for a free port"]
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--fakes", "nope"], "--fakes: unknown fake(s) nope"),
        (["--standin-port", "70000"], "port must be between 0 and 65535"),
        (["--fakes", "standin", "--threads", "0"], "--threads must be >= 1"),
    ],
)
def test_bad_options_are_one_clear_line(args, message):
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", *args], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr


def test_unavailable_fake_is_a_clear_error():
    env = _env()
    env["HARNESS_FAKE_MODULES"] = "standin=stand_in_fake,ghost=no_such_module_xyz"
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", "--fakes", "ghost"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "fake 'ghost' is not available: cannot import no_such_module_xyz" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_state_dir_keeps_changes_and_restores_at_start(tmp_path):
    """DESIGN.md §5 --state-dir: state persisted as it changes (a fake with only snapshot_data too),
    restored at the next start."""
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path))
    url = serve.read_urls(1)["standin"]
    auth = {"Authorization": "Bearer standin-token"}
    assert requests.post(url + "/ingest", json={"kept": 1}, headers=auth, timeout=5).status_code == 200
    requests.put(url + "/_harness/config", json={"limits.max_items": 7}, timeout=5)
    assert serve.stop(signal.SIGKILL)[0] != 0
    assert json.loads((tmp_path / "standin.manifest").read_text())["incr"] == ["standin.incr.1"]

    serve = Serve("--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path))
    url = serve.read_urls(1)["standin"]
    assert requests.get(url + "/_harness/items", timeout=5).json() == {"items": [{"kept": 1}]}
    assert requests.get(url + "/_harness/config", timeout=5).json()["config"]["limits.max_items"] == 7
    assert serve.stop()[0] == 0


def test_corrupt_state_file_is_a_clear_error(tmp_path):
    (tmp_path / "standin.json").write_text("{not json")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path)],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0
    assert "cannot restore standin state from" in proc.stderr and "Traceback" not in proc.stderr


def test_absurdly_nested_state_file_is_a_clear_error(tmp_path):
    """DESIGN.md §6: a hostile --state-dir file (JSON nested past the parser's recursion limit) is one line."""
    (tmp_path / "standin.json").write_text("[" * 100_000 + "]" * 100_000)
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path)],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0
    assert "nested too deeply" in proc.stderr and "Traceback" not in proc.stderr


def test_tls_serves_https_with_the_printed_ca(tmp_path):
    """mixpanel-ingestion.md §2.3: server mode listens on HTTP and HTTPS (harness test CA)."""
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--tls", "--tls-dir", str(tmp_path))
    lines = serve.read_urls(3)
    assert lines["standin-https"].startswith("https://127.0.0.1:")
    assert lines["tls-ca"] == str(tmp_path / "harness-ca.pem")
    r = requests.get(lines["standin-https"] + "/_harness/health", verify=lines["tls-ca"], timeout=10)
    assert r.json() == {"status": "ok", "service": "standin"}
    assert serve.stop()[0] == 0


def test_config_file_and_environment(tmp_path):
    """mixpanel-ingestion.md §1: keys set in the config file or by environment (environment wins)."""
    config = tmp_path / "harness.yaml"
    config.write_text("standin:\n  limits.max_items: 4\n  answer:\n    mode: bare\n")
    env = _env()
    env["HARNESS_STANDIN__LIMITS__MAX_ITEMS"] = "6"
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--config", str(config), env=env)
    url = serve.read_urls(1)["standin"]
    values = requests.get(url + "/_harness/config", timeout=5).json()["config"]
    assert values["limits.max_items"] == 6 and values["answer.mode"] == "bare"
    assert serve.stop()[0] == 0


@pytest.mark.parametrize("content, env_value, message", [
    ("standin:\n  nope.key: 1\n", None, "standin: config file"),
    ("standin: [1, 2]\n", None, "expected one mapping per fake"),
    ("ghost:\n  a: 1\n", None, "unknown fake section(s) ghost"),
    (": : :\n", None, "is not valid YAML"),
    ("", "not-a-number", "standin: environment: limits.max_items: expected integer, got string"),
])
def test_bad_config_is_one_clear_line(tmp_path, content, env_value, message):
    config = tmp_path / "harness.yaml"
    config.write_text(content)
    env = _env()
    if env_value is not None:
        env["HARNESS_STANDIN__LIMITS__MAX_ITEMS"] = env_value
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", "0",
                           "--config", str(config)], cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_fake_tls_settings_give_https_without_the_flag(tmp_path):
    """mixpanel-ingestion.md §2.3 `tls.cert`, `tls.key`, `tls.port`: the user's certificate on the given port."""
    from fakes.core.tls import issue_test_certificates

    own = issue_test_certificates(tmp_path / "own", ["api.standin.test"])
    held = _free_port_held()
    https_port = held.getsockname()[1]
    held.close()
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"standin": {"tls.cert": str(own.cert_pem), "tls.key": str(own.key_pem),
                                              "tls.port": https_port}}))
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--config", str(config))
    lines = serve.read_urls(2)
    assert lines["standin-https"] == f"https://127.0.0.1:{https_port}"
    r = requests.get(lines["standin-https"] + "/_harness/health", verify=str(own.ca_pem), timeout=10)
    assert r.json()["service"] == "standin"
    code, err = serve.stop()
    assert code == 0, err


def test_half_a_tls_key_pair_is_a_clear_error(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"standin": {"tls.cert": "/nope.pem"}}))
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", "0",
                           "--config", str(config)], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "tls.cert and tls.key must be given together" in proc.stderr


# --- issue 12 item 10: what `harness serve` tells a newcomer -----------------------------------------------


def test_state_dir_says_whether_state_was_restored(tmp_path):
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path))
    serve.read_urls(1)
    code, err = serve.stop()
    assert code == 0 and f"harness serve: standin: no saved state in {tmp_path}, starting empty" in err
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path))
    serve.read_urls(1)
    code, err = serve.stop()
    assert code == 0 and f"harness serve: standin: restored state from {tmp_path}" in err
    assert "no saved state" not in err


def test_state_dir_whose_parent_is_missing_is_refused(tmp_path):
    target = tmp_path / "typo" / "state"
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", "0",
                           "--state-dir", str(target)], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"harness serve: error: --state-dir {target}: its parent directory {target.parent} does not exist "
        "(create it first, or check the path)"]
    assert not target.parent.exists()


def test_a_missing_state_dir_under_an_existing_parent_is_created(tmp_path):
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--state-dir", str(tmp_path / "state"))
    serve.read_urls(1)
    assert serve.stop()[0] == 0 and (tmp_path / "state" / "standin.manifest").is_file()


def test_a_host_that_is_not_loopback_is_warned_about():
    """The warning comes before binding; 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface here, so the bind
    fails and nothing listens beyond loopback."""
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", "--fakes", "standin", "--standin-port", "0",
                           "--host", "192.0.2.1"], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=30)
    assert proc.stderr.splitlines()[0] == (
        "harness serve: warning: --host 192.0.2.1 is not a loopback address: other machines can reach the fakes, "
        "which accept the default test credentials")
    assert proc.returncode != 0  # the address is not ours


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_hosts_are_not_warned_about(host):
    serve = Serve("--fakes", "standin", "--standin-port", "0", "--host", host)
    serve.read_urls(1)
    code, err = serve.stop()
    assert code == 0 and "warning" not in err


@pytest.mark.parametrize("content", [
    "braze:\n  max_ids_per_request: 5\n  rate_limit: {per_hour: 9}\n",  # the fake's own keys, once
    "braze:\n  braze:\n    max_ids_per_request: 5\n    rate_limit.per_hour: 9\n",  # the old, nested spelling
    "braze:\n  braze.max_ids_per_request: 5\n  braze.rate_limit.per_hour: 9\n",  # dotted
])
def test_braze_config_keys_are_not_nested_twice(tmp_path, content):
    """braze-cohort-sync.md §3 keys (`braze.max_ids_per_request`) in a config file's `braze:` section."""
    config = tmp_path / "harness.yaml"
    config.write_text(content)
    serve = Serve("--fakes", "braze", "--braze-port", "0", "--config", str(config))
    url = serve.read_urls(1)["braze"]
    values = requests.get(url + "/_harness/config", timeout=5).json()["config"]
    assert serve.stop()[0] == 0
    assert values["braze.max_ids_per_request"] == 5 and values["braze.rate_limit.per_hour"] == 9
