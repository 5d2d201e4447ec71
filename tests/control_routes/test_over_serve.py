"""Issue 9 item 6: cohorts, a connection, a sync and the clock driven purely over HTTP against `harness serve`
(DESIGN.md §7.1), as test code in another language would: only `requests`, no import of the engine.

Braze users and `/engage` profiles are seeded; Currents events go through a Mixpanel Current on fake Braze into
fake Mixpanel; a behavioural cohort syncs to Braze; the segment follows at the next 2-hour tick and not before.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR, DAY = 3600, 86400
SECRET, TOKEN, KEY = "harness-secret", "harness-token", "harness-data-import-key"
CLICKED = {"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7}}


def _read_urls(proc: subprocess.Popen[str], count: int, timeout: float = 30) -> dict[str, str]:
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:  # a reader thread: select() on a buffered text pipe misses lines already buffered
        for line in iter(stdout.readline, ""):
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    urls: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(urls) < count:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"harness serve printed only {urls}") from None
        name, _, url = line.strip().partition(": ")
        urls[name] = url
    return urls


@pytest.fixture(scope="module")
def serve() -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_DEBUG", "HARNESS_FAKE_MODULES")}
    proc = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--mixpanel-port", "0", "--braze-port", "0"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield _read_urls(proc, 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _click(event_id: str, external_id: str, at: float) -> dict[str, Any]:
    return {"event_type": "users.messages.email.Click", "id": event_id, "time": int(at),
            "user": {"user_id": f"braze-{external_id}", "external_user_id": external_id},
            "properties": {"campaign_id": "c1", "campaign_name": "Welcome", "dispatch_id": f"d-{event_id}",
                           "email_address": f"{external_id}@example.com", "url": "https://example.com"}}


def _session_start(event_id: str, external_id: str, at: float) -> dict[str, Any]:
    return {"event_type": "users.behaviors.app.SessionStart", "id": event_id, "time": int(at),
            "user": {"user_id": f"braze-{external_id}", "external_user_id": external_id},
            "properties": {"app_id": "app-1", "session_id": f"s-{event_id}", "platform": "ios"}}


def _ok(answer: requests.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.request.method} {answer.url}: {answer.status_code} {answer.text}"
    return answer.json()


def _segment(braze: str, cohort_id: int) -> list[str]:
    body = _ok(requests.post(f"{braze}/_harness/segments/evaluate",
                             json={"filter": {"mixpanel_cohorts": {"includes": str(cohort_id)}}}, timeout=30))
    return sorted(m["external_id"] for m in body["members"])


def test_cohort_sync_driven_over_http(serve: dict[str, str]) -> None:
    mixpanel, braze = serve["mixpanel"], serve["braze"]
    _ok(requests.post(f"{braze}/_harness/clock", json={"now": T0}, timeout=30))
    users = ["u1", "u2", "u3", "u4"]
    _ok(requests.post(f"{braze}/_harness/users", json={"users": [{"external_id": u} for u in users]}, timeout=30), 201)
    profiles = [{"$token": TOKEN, "$distinct_id": u, "$set": {"$braze_external_id": u, "plan": "pro"}} for u in users]
    engage = _ok(requests.post(f"{mixpanel}/engage", data={"data": json.dumps(profiles), "verbose": "1"}, timeout=30))
    assert engage["status"] == 1

    # A Mixpanel Current on fake Braze exporting the email events only.
    current = _ok(requests.post(f"{braze}/_harness/currents", json={
        "type": "mixpanel", "mixpanel_url": mixpanel, "api_secret": SECRET, "token": TOKEN,
        "name": "to mixpanel", "events": ["users.messages.email.*"]}, timeout=30), 201)["id"]
    events = [_click("e1", "u1", T0 - HOUR), _click("e2", "u2", T0 - 2 * HOUR), _click("e3", "u3", T0 - 10 * DAY),
              _session_start("e4", "u4", T0 - HOUR)]
    assert _ok(requests.post(f"{braze}/_harness/currents/{current}/events", json=events, timeout=30), 202)[
        "queued"] == 4
    assert _ok(requests.get(f"{braze}/_harness/currents/{current}/report", timeout=30))["pending"] == 3
    _ok(requests.post(f"{braze}/_harness/clock", json={"advance_s": 10}, timeout=30))  # the flush tick runs
    report = _ok(requests.get(f"{braze}/_harness/currents/{current}/report", timeout=30))
    assert {k: report[k] for k in ("delivered", "rejected", "not_exported", "discarded", "pending")} == {
        "delivered": 3, "rejected": 0, "not_exported": 1, "discarded": 0, "pending": 0}
    assert report["details"]["not_exported"]["reasons"] == {"type_not_selected": 1}

    # The cohort, its members now, a connection, a dynamic sync (its full run at once).
    cohort = _ok(requests.post(f"{mixpanel}/_harness/mixpanel/cohorts",
                               json={"id": 42, "name": "Clicked email", "definition": CLICKED}, timeout=30), 201)
    assert cohort["id"] == 42
    members = _ok(requests.get(f"{mixpanel}/_harness/mixpanel/cohorts/42/members", timeout=30))
    assert members["count"] == 2
    assert [(m["distinct_id"], m["properties"]["$braze_external_id"]) for m in members["members"]] == [
        ("u1", "u1"), ("u2", "u2")]
    connection = _ok(requests.post(f"{mixpanel}/_harness/mixpanel/connections", json={
        "name": "braze", "data_import_key": KEY, "braze_url": braze, "user_id_property": None}, timeout=30), 201)["id"]
    created = _ok(requests.post(f"{mixpanel}/_harness/mixpanel/syncs", json={
        "cohort_id": 42, "connection_id": connection, "type": "dynamic", "interval_s": 7200}, timeout=30), 201)
    sync_url = f"{mixpanel}/_harness/mixpanel/syncs/{created['id']}"
    sync = _ok(requests.get(sync_url, timeout=30))
    assert sync["state"] == "active" and sync["pause_reason"] is None
    (first,) = sync["runs"]
    assert (first["kind"], first["outcome"], first["counts"]["adds"]) == ("full", "success", 2)
    assert sorted((r["distinct_id"], r["operation"]) for r in first["rows"]) == [("u1", "add"), ("u2", "add")]
    assert _segment(braze, 42) == ["u1", "u2"]
    tick = sync["next_run_at"]
    assert tick == pytest.approx(sync["created_at"] + 7200)

    # u3 clicks now: Braze's segment follows at the next 2-hour tick, not before.
    now = _ok(requests.get(f"{braze}/_harness/clock", timeout=30))["now"]
    _ok(requests.post(f"{braze}/_harness/currents/{current}/events", json={"events": [_click("e5", "u3", now)]},
                      timeout=30), 202)
    assert _ok(requests.post(f"{braze}/_harness/currents/{current}/flush", timeout=30))["delivered"] == 4
    _ok(requests.post(f"{mixpanel}/_harness/clock", json={"now": tick - 1}, timeout=30))
    assert _segment(braze, 42) == ["u1", "u2"]
    assert len(_ok(requests.get(sync_url, timeout=30))["runs"]) == 1
    _ok(requests.post(f"{braze}/_harness/clock", json={"advance_s": 2}, timeout=30))
    assert _segment(braze, 42) == ["u1", "u2", "u3"]
    sync = _ok(requests.get(sync_url, timeout=30))
    second = sync["runs"][-1]
    assert (len(sync["runs"]), second["kind"], second["outcome"]) == (2, "diff", "success")
    assert (second["counts"]["adds"], second["counts"]["removes"]) == (1, 0)
    assert dict((r["distinct_id"], r["operation"]) for r in second["rows"]) == {
        "u1": "no-op", "u2": "no-op", "u3": "add"}
    assert sync["next_run_at"] == pytest.approx(tick + 7200)
