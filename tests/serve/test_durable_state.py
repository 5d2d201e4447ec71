"""`harness serve --state-dir` keeps every acknowledged change (issue 13 item 1; DESIGN.md §5 `--state-dir`).

The server is stopped in the middle of a load of concurrent Mixpanel imports and Braze membership changes
(bounded loops, loopback only) by SIGKILL, SIGHUP, SIGQUIT or two SIGTERMs, then started again on the same
directory: every acknowledged batch is there, whole, and no batch is there in part.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests

from fakes.core.durable_log import encode_record

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HARNESS_DEBUG", None)
    return env


class Serve:
    """`harness serve` as a subprocess: reads the URL lines, stops with a signal."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "harness", "serve", *args], cwd=REPO, env=_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def read_urls(self, count: int) -> dict[str, str]:
        urls: dict[str, str] = {}
        while len(urls) < count:
            line = self.proc.stdout.readline()  # the server prints its URLs at once, or exits
            if not line:
                raise AssertionError(f"serve printed {urls} and ended: {self.proc.stderr.read()}")
            name, _, url = line.strip().partition(": ")
            urls[name] = url
        return urls

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, self.proc.stderr.read()

MP_AUTH = {"Authorization": "Basic " + base64.b64encode(b"harness-secret:").decode()}
BRAZE_CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}
BATCH = 100
IDS_PER_CHANGE = 10
LOADERS = 3
MAX_REQUESTS = 400  # per loader: a bound, never reached before the signal


def _start(state_dir: Path, *extra: str) -> tuple[Serve, str, str]:
    serve = Serve("--mixpanel-port", "0", "--braze-port", "0", "--state-dir", str(state_dir), *extra)
    urls = serve.read_urls(2)
    return serve, urls["mixpanel"], urls["braze"]


class Load:
    """Concurrent imports and Braze changes; remembers which were acknowledged."""

    def __init__(self, mixpanel: str, braze: str) -> None:
        self.mixpanel, self.braze = mixpanel, braze
        self.acked_batches: set[str] = set()
        self.acked_changes: dict[str, set[str]] = {}  # cohort -> external ids acknowledged
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.now = int(time.time())

    def seed(self) -> None:
        users = [{"external_id": f"c{t}-r{n}-{k}"} for t in range(LOADERS) for n in range(MAX_REQUESTS)
                 for k in range(IDS_PER_CHANGE)]
        assert requests.post(self.braze + "/_harness/users", json={"users": users}, timeout=60).status_code == 201
        for t in range(LOADERS):
            r = requests.post(self.braze + "/partners/mixpanel/cohorts", timeout=10, json={
                **BRAZE_CREDS, "cohort_id": f"c{t}", "name": f"C{t}", "created_at": "2024-01-01T00:00:00Z"})
            assert r.status_code == 201, r.text

    def imports(self, t: int) -> None:
        session = requests.Session()
        for n in range(MAX_REQUESTS):
            if self.stop.is_set():
                return
            name = f"batch-{t}-{n}"
            events = [{"event": name, "properties": {"time": self.now - 60, "distinct_id": f"u{k}",
                                                     "$insert_id": f"{name}-{k}"}} for k in range(BATCH)]
            try:
                r = session.post(self.mixpanel + "/import?strict=1", json=events, headers=MP_AUTH, timeout=10)
            except requests.RequestException:
                return
            if r.status_code == 200:
                with self.lock:
                    self.acked_batches.add(name)

    def changes(self, t: int) -> None:
        session = requests.Session()
        for n in range(MAX_REQUESTS):
            if self.stop.is_set():
                return
            ids = [f"c{t}-r{n}-{k}" for k in range(IDS_PER_CHANGE)]
            try:
                r = session.post(self.braze + "/partners/mixpanel/cohorts/users", timeout=10, json={
                    **BRAZE_CREDS, "cohort_id": f"c{t}", "cohort_changes": [{"user_ids": ids}]})
            except requests.RequestException:
                return
            if r.status_code == 201:
                with self.lock:
                    self.acked_changes.setdefault(f"c{t}", set()).update(ids)

    def run_until(self, serve: Serve, stop_with) -> None:
        threads = [threading.Thread(target=fn, args=(t,), daemon=True)
                   for t in range(LOADERS) for fn in (self.imports, self.changes)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # let the load get going: some of each acknowledged
            with self.lock:
                if len(self.acked_batches) >= 2 * LOADERS and len(self.acked_changes) == LOADERS:
                    break
            time.sleep(0.05)
        stop_with(serve.proc)
        serve.proc.wait(timeout=30)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=30)


def _check_restored(state_dir: Path, load: Load) -> str:
    serve, mixpanel, braze = _start(state_dir)
    try:
        events = requests.get(mixpanel + "/_harness/events?view=raw", timeout=30).json()["events"]
        per_batch: dict[str, int] = {}
        for event in events:
            per_batch[event["event"]] = per_batch.get(event["event"], 0) + 1
        missing = load.acked_batches - set(per_batch)
        assert not missing, f"acknowledged batches lost: {sorted(missing)[:5]}"
        partial = {name: n for name, n in per_batch.items() if n != BATCH}
        assert not partial, f"batches half-applied: {partial}"
        for cohort, acked in load.acked_changes.items():
            members = requests.get(f"{braze}/_harness/cohorts/{cohort}/members", timeout=30).json()["members"]
            ids = {m["external_id"] for m in members}
            assert acked <= ids, f"{cohort}: acknowledged members lost: {sorted(acked - ids)[:5]}"
            per_request: dict[str, int] = {}
            for external_id in ids:
                request_id = external_id.rsplit("-", 1)[0]
                per_request[request_id] = per_request.get(request_id, 0) + 1
            assert all(n == IDS_PER_CHANGE for n in per_request.values()), f"{cohort}: a change half-applied"
    finally:
        code, stderr = serve.stop()
    assert code == 0, stderr
    return stderr


def _sigkill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)


def _sighup(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGHUP)


def _sigquit(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGQUIT)


def _two_sigterms(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)  # the second one arrives while the first stop is under way
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)


@pytest.mark.parametrize("stop_with", [_sigkill, _sighup, _sigquit, _two_sigterms],
                         ids=["SIGKILL", "SIGHUP", "SIGQUIT", "second-SIGTERM"])
def test_nothing_acknowledged_is_lost_and_nothing_half_applied(tmp_path, stop_with):
    """Issue 13 "Done when": stop under load, restart, exactly the acknowledged events and members."""
    serve, mixpanel, braze = _start(tmp_path)
    load = Load(mixpanel, braze)
    load.seed()
    load.run_until(serve, stop_with)
    assert load.acked_batches and load.acked_changes
    _check_restored(tmp_path, load)


def test_fsync_always_keeps_everything_too(tmp_path):
    """`--fsync always`: fsync before every answer; a SIGKILL loses nothing either."""
    serve, mixpanel, braze = _start(tmp_path, "--fsync", "always")
    load = Load(mixpanel, braze)
    load.seed()
    load.run_until(serve, _sigkill)
    _check_restored(tmp_path, load)


def _import_some(mixpanel: str, names: list[str]) -> None:
    now = int(time.time())
    for name in names:
        events = [{"event": name, "properties": {"time": now - 60, "distinct_id": "u", "$insert_id": f"{name}-{k}"}}
                  for k in range(5)]
        assert requests.post(mixpanel + "/import", json=events, headers=MP_AUTH, timeout=10).status_code == 200


def _raw_names(mixpanel: str) -> list[str]:
    return [e["event"] for e in requests.get(mixpanel + "/_harness/events?view=raw", timeout=10).json()["events"]]


def _incr(state_dir: Path, name: str = "mixpanel") -> Path:
    manifest = json.loads((state_dir / f"{name}.manifest").read_text())
    return state_dir / manifest["incr"][-1]


def test_a_torn_last_record_is_dropped_with_a_message(tmp_path):
    serve, mixpanel, _ = _start(tmp_path)
    _import_some(mixpanel, ["kept"])
    serve.stop()
    whole = encode_record({"data": {"pr": []}})
    with open(_incr(tmp_path), "ab") as fh:
        fh.write(whole[: len(whole) // 2])  # a write cut short by a crash
    serve, mixpanel, _ = _start(tmp_path)
    assert _raw_names(mixpanel) == ["kept"] * 5
    _import_some(mixpanel, ["after"])  # appended after the cut, where the torn record was
    code, stderr = serve.stop()
    assert code == 0 and "dropped a torn last record" in stderr and "never acknowledged" in stderr
    serve, mixpanel, _ = _start(tmp_path)
    assert _raw_names(mixpanel) == ["kept"] * 5 + ["after"] * 5
    code, stderr = serve.stop()
    assert "dropped a torn last record" not in stderr


def _refused(state_dir: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--mixpanel-port", "0", "--braze-port", "0",
         "--state-dir", str(state_dir)],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    # one error line (the fakes restored before the bad one say so on lines of their own)
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "restored state from" not in line]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_damaged_record_before_the_end_is_refused_naming_the_file(tmp_path):
    serve, mixpanel, _ = _start(tmp_path)
    _import_some(mixpanel, ["a", "b"])
    serve.stop()
    incr = _incr(tmp_path)
    data = bytearray(incr.read_bytes())
    data[20] ^= 0xFF  # inside the first record, with a whole record after it
    incr.write_bytes(bytes(data))
    line = _refused(tmp_path)
    assert str(incr) in line and "checksum" in line


def _append_record(path: Path, head: dict, blobs: list[bytes] = ()) -> None:
    with open(path, "ab") as fh:
        fh.write(encode_record(head, list(blobs)))


@pytest.mark.parametrize("row, message", [
    (b'[1,1,0,"e",null,"soon",null,0,null,null,{"distinct_id":"u","$insert_id":"i"},null]', "time_ms must be an integer"),
    (b'[1,1,0,7,null,1000,null,0,null,null,{"distinct_id":"u","$insert_id":"i"},null]', "event must be a string"),
    (b'[1,1,0,"e",null,1000,null,0,null,null,{"distinct_id":5,"$insert_id":"i"},null]', "distinct_id must be a string"),
    (b'{"not": "a row"}', "not a row of 12 fields"),
])
def test_a_restored_row_of_the_wrong_type_is_refused_naming_the_file(tmp_path, row, message):
    """Issue 13 item 3: restored state is checked row by row (never a later 500)."""
    serve, _, _ = _start(tmp_path)
    serve.stop()
    meta = [0, "r1", "import", "us", 1000, "json", "ua", "api.mixpanel.com"]
    _append_record(_incr(tmp_path), {"data": {"ev": {"metas": [meta], "lens": [len(row)]}}}, [row])
    line = _refused(tmp_path)
    assert str(_incr(tmp_path)) in line and message in line


def test_a_bad_braze_profile_row_is_refused_naming_the_file(tmp_path):
    serve, _, _ = _start(tmp_path)
    serve.stop()
    _append_record(_incr(tmp_path, "braze"), {"data": {"users": {"default": [{"braze_id": 7}]}}})
    line = _refused(tmp_path)
    assert "braze.incr" in line


def test_rewrite_compacts_the_log_and_a_clean_stop_rewrites_nothing(tmp_path):
    """Restart time follows the data, not the history: past --state-rewrite-min-bytes a new base replaces the
    incr files; a clean stop only closes them (the base of the last rewrite stays)."""
    serve, mixpanel, _ = _start(tmp_path, "--state-rewrite-min-bytes", "1")
    _import_some(mixpanel, [f"n{i}" for i in range(6)])
    requests.post(mixpanel + "/_harness/reset", timeout=10)  # history that the rewrite forgets
    _import_some(mixpanel, ["last"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and json.loads((tmp_path / "mixpanel.manifest").read_text())["base"] == \
            "mixpanel.base.1":
        time.sleep(0.05)
    base_before = json.loads((tmp_path / "mixpanel.manifest").read_text())["base"]
    assert base_before != "mixpanel.base.1"
    serve.stop()
    manifest = json.loads((tmp_path / "mixpanel.manifest").read_text())
    files = sorted(p.name for p in tmp_path.glob("mixpanel.*"))
    assert files == sorted(["mixpanel.manifest", manifest["base"], *manifest["incr"]])
    serve, mixpanel, _ = _start(tmp_path)
    assert _raw_names(mixpanel) == ["last"] * 5
    serve.stop()


def test_legacy_json_state_is_imported_once(tmp_path):
    """A DIR/<name>.json of earlier versions is read once, checked row by row, then kept in the log."""
    saved = {"format": 1, "service": "mixpanel", "seed": 3, "config": {"journal.capacity": 55}, "data": {
        "events": [{"project_id": 1, "event": "old", "distinct_id": "u", "time_ms": 1_000_000, "insert_id": "i",
                    "insert_id_generated": False, "properties": {"distinct_id": "u"}}]}}
    (tmp_path / "mixpanel.json").write_text(json.dumps(saved))
    serve, mixpanel, _ = _start(tmp_path)
    assert _raw_names(mixpanel) == ["old"]
    serve.stop(signal.SIGKILL)
    assert not (tmp_path / "mixpanel.json").exists() and (tmp_path / "mixpanel.json.imported").exists()
    serve, mixpanel, _ = _start(tmp_path)
    assert _raw_names(mixpanel) == ["old"]
    config = requests.get(mixpanel + "/_harness/config", timeout=10).json()["config"]
    assert config["journal.capacity"] == 55
    serve.stop()


def test_legacy_json_with_a_bad_row_is_refused(tmp_path):
    saved = {"format": 1, "service": "mixpanel", "seed": 0, "config": {}, "data": {
        "events": [{"project_id": 1, "event": "old", "distinct_id": ["u"], "time_ms": 1, "insert_id": "i",
                    "insert_id_generated": False, "properties": {}}]}}
    (tmp_path / "mixpanel.json").write_text(json.dumps(saved))
    line = _refused(tmp_path)
    assert "mixpanel.json" in line and "events[0].distinct_id" in line


def test_record_framing_is_what_the_module_says():
    record = encode_record({"a": 1}, [b"xyz"])
    magic, length, crc = struct.unpack(">4sII", record[:12])
    assert magic == b"HRC1" and length == len(record) - 12 and crc == zlib.crc32(record[12:])
