"""Currents connectors as systems under test (`--sut tests.scenarios.connectors:faithful` style callables): a
faithful one, and five deliberately wrong ones the bundled scenarios must catch (issue 10, Done when)."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from harness.mapping import MappingConfig, map_currents_event
from harness.scenarios.sut import SutTarget

_SESSION = requests.Session()


class Refused(RuntimeError):
    """Mixpanel did not take the batch: the Current retries it."""


def _mapped(events: list[dict[str, Any]], target: SutTarget, **options: Any) -> list[dict[str, Any]]:
    config = MappingConfig(token=target.token, **options)
    return [r.event for r in (map_currents_event(e, config) for e in events) if r.event is not None]


def _post(target: SutTarget, batch: list[dict[str, Any]]) -> requests.Response:
    return _SESSION.post(f"{target.base_url}/import?strict=1", json=batch, auth=(target.api_secret, ""), timeout=30)


def _import(target: SutTarget, batch: list[dict[str, Any]]) -> None:
    if not batch:
        return
    answer = _post(target, batch)
    if answer.status_code == 400:
        return  # Mixpanel kept the valid records and named the others; resending changes nothing
    if answer.status_code >= 300:
        raise Refused(f"HTTP {answer.status_code}: {answer.text[:200]}")


def faithful(events: list[dict[str, Any]], target: SutTarget) -> None:
    """The reference mapping, strict /import, retried (by raising) on anything but success or a 400."""
    _import(target, _mapped(events, target))


def skips_custom_event_prefix(events: list[dict[str, Any]], target: SutTarget) -> None:
    prefix = MappingConfig().custom_event_prefix + MappingConfig().prefix_separator
    batch = _mapped(events, target)
    for event in batch:
        if event["event"].startswith(prefix):
            event["event"] = event["event"][len(prefix):]
    _import(target, batch)


def exports_users_without_external_id(events: list[dict[str, Any]], target: SutTarget) -> None:
    patched = []
    for event in events:
        user = dict(event.get("user") or {})
        if not user.get("external_user_id"):
            user["external_user_id"] = user.get("user_id") or user.get("device_id") or "anonymous"
        patched.append({**event, "user": user})
    _import(target, _mapped(patched, target))


def forwards_raw_braze_events(events: list[dict[str, Any]], target: SutTarget) -> None:
    batch = []
    for event in events:
        user = event.get("user") or {}
        batch.append({"event": event.get("event_type"),
                      "properties": {**(event.get("properties") or {}), "time": event.get("time"),
                                     "distinct_id": user.get("external_user_id") or user.get("user_id"),
                                     "$insert_id": str(event.get("id"))[:36]}})
    _import(target, batch)


def gives_up_on_429(events: list[dict[str, Any]], target: SutTarget) -> None:
    batch = _mapped(events, target)
    if not batch:
        return
    answer = _post(target, batch)
    if answer.status_code == 429:
        return  # dropped: the bug
    if answer.status_code >= 300 and answer.status_code != 400:
        raise Refused(f"HTTP {answer.status_code}: {answer.text[:200]}")


class NewInsertIdOnEveryRetry:
    """Maps as the reference does, but a batch it has seen before (a retry) gets fresh `$insert_id`s."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, events: list[dict[str, Any]], target: SutTarget) -> None:
        ids = {str(e.get("id")) for e in events}
        batch = _mapped(events, target)
        if ids & self.seen:
            for event in batch:
                event["properties"]["$insert_id"] = uuid.uuid4().hex[:32]
        self.seen |= ids
        _import(target, batch)


# -- the cohort leg: a user's cohort export as the system under test -------------------------------------
class CohortExporter:
    """A cohort export that diffs each tick against the ids it sent before (as Mixpanel's export does) and
    posts to the partner endpoints; `removes=False` makes it the classic bug: members are never removed."""

    def __init__(self, *, removes: bool = True) -> None:
        self.removes = removes
        self.sent: dict[int, set[str]] = {}

    def __call__(self, cohort: Any, target: Any) -> None:
        ids = {str(m["properties"]["$braze_external_id"]) for m in cohort.members
               if m["properties"].get("$braze_external_id")}
        before = self.sent.get(cohort.cohort_id)
        base = f"{target.base_url}/partners/{target.partner}"
        if before is None:
            _ok(_SESSION.post(f"{base}/cohorts", json={"client_secret": target.data_import_key,
                                                       "partner_api_key": "harness-partner-key",
                                                       "cohort_id": cohort.braze_cohort_id, "name": cohort.name,
                                                       "created_at": "2026-01-01T00:00:00Z"}, timeout=30))
        changes = [{"user_ids": sorted(ids - (before or set()))}]
        if self.removes and before:
            changes.append({"user_ids": sorted(before - ids), "should_remove": True})
        changes = [c for c in changes if c["user_ids"]]
        if changes:
            _ok(_SESSION.post(f"{base}/cohorts/users", json={
                "client_secret": target.data_import_key, "partner_api_key": "harness-partner-key",
                "cohort_id": cohort.braze_cohort_id, "cohort_changes": changes}, timeout=30))
        self.sent[cohort.cohort_id] = ids


def _ok(answer: requests.Response) -> None:
    if answer.status_code >= 300:
        raise Refused(f"HTTP {answer.status_code}: {answer.text[:200]}")
