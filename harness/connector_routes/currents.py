"""Braze's side of the control routes (DESIGN.md §7.1): Currents created over HTTP (the reference Mixpanel
Current or a Custom HTTP Current) on the fleet's scheduler, fed events, flushed, and reported on.

A Current's `"events"` are the event types it exports, as in Braze's "select the events" step: catalog
type ids or `*` patterns (each must match a type of the catalog); events of other types count as
`not_exported` with reason `type_not_selected`.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from fakes.core import ControlError
from fakes.core.scheduler import Scheduler
from harness.catalog import load_catalog
from harness.connector_routes.bodies import json_object, number, text
from harness.connectors import (
    Current,
    CurrentOptions,
    CustomHttpCurrent,
    HttpEndpoint,
    MixpanelCurrent,
    MixpanelTarget,
)
from harness.connectors.currents_http import DEFAULT_BATCH_EVENTS

COMMON_KEYS = ("type", "name", "contact_email", "events", "flush_interval_s", "max_batch_events")
TYPE_KEYS = {"mixpanel": ("mixpanel_url", "api_secret", "token"), "custom_http": ("url", "bearer_token")}


@dataclass
class _Entry:
    current_id: str
    type: str
    name: str
    contact_email: str | None
    events: tuple[str, ...]
    current: Current

    def to_json(self) -> dict[str, Any]:
        return {"id": self.current_id, "type": self.type, "name": self.name, "contact_email": self.contact_email,
                "events": list(self.events) or ["*"], "pending": self.current.report.pending,
                "waiting_for": self.current.waiting_for}


class CurrentsRegistry:
    """The Currents of one Braze workspace, each by id (`cur1`, `cur2`, ...)."""

    def __init__(self, scheduler: Scheduler, mixpanel_url: Callable[[], str | None], *,
                 session: requests.Session | None = None, seed: int | str = 0) -> None:
        self.scheduler = scheduler
        self.session = session or requests.Session()
        self.seed = seed
        self.default_mixpanel_url = mixpanel_url
        self._entries: dict[str, _Entry] = {}
        self._next_id = 1  # taken only when a Current is made: a refused body leaves the numbering alone
        self._lock = threading.RLock()

    def close(self) -> None:
        for entry in self._entries.values():
            entry.current.close()

    def create(self, body: Any) -> dict[str, Any]:
        what = "current"
        if not isinstance(body, dict):
            raise ControlError(f"{what} must be a JSON object, got {type(body).__name__}")
        kind = text(body, "type", what, needed=True)
        if kind not in TYPE_KEYS:
            raise ControlError(f'{what}: "type" must be "mixpanel" or "custom_http", got {kind!r}')
        body = json_object(body, f"{kind} current", COMMON_KEYS + TYPE_KEYS[kind])
        patterns = _patterns(body.get("events"))
        options = _options(body, kind)
        contact_email = text(body, "contact_email", what)
        with self._lock:
            current_id = f"cur{self._next_id}"
            name = text(body, "name", what, default=current_id)
            assert name is not None
            selects = _selector(patterns) if patterns else None
            current = (self._mixpanel(body, options, name, selects) if kind == "mixpanel"
                       else self._custom_http(body, options, name, selects))
            entry = _Entry(current_id, kind, name, contact_email, patterns, current)
            self._entries[current_id] = entry
            self._next_id += 1
        return entry.to_json()

    def submit(self, current_id: str, body: Any) -> dict[str, Any]:
        entry = self._entry(current_id)
        events = body.get("events") if isinstance(body, dict) and set(body) == {"events"} else body
        if not isinstance(events, list):
            raise ControlError('the body must be a JSON array of Currents events or {"events": [...]}')
        with self._lock:
            taken = entry.current.submit(events)
        return {"id": current_id, "queued": taken}

    def flush(self, current_id: str) -> dict[str, Any]:
        entry = self._entry(current_id)
        with self._lock:
            entry.current.flush()
        return self.report(current_id)

    def report(self, current_id: str) -> dict[str, Any]:
        entry = self._entry(current_id)
        return {"id": current_id, **entry.current.report.to_json()}

    def describe(self, current_id: str) -> dict[str, Any]:
        return self._entry(current_id).to_json()

    # -- inside --------------------------------------------------------------------------------------
    def _entry(self, current_id: str) -> _Entry:
        try:
            return self._entries[current_id]
        except KeyError:
            raise ControlError(f"no current {current_id!r}", 404) from None

    def _mixpanel(self, body: dict[str, Any], options: CurrentOptions | None, name: str,
                  selects: Callable[[Any], bool] | None) -> Current:
        what = "mixpanel current"
        url = text(body, "mixpanel_url", what, default=self.default_mixpanel_url())
        if url is None:
            raise ControlError(f'{what}: "mixpanel_url" is required (this fleet has no fake Mixpanel)')
        secret = text(body, "api_secret", what, needed=True)
        token = text(body, "token", what, needed=True)
        assert token is not None
        if not url.startswith(("http://", "https://")):
            raise ControlError(f'{what}: "mixpanel_url" must start with http:// or https://, got {url!r}')
        target = MixpanelTarget(api_secret=secret, token=token, base_url=url)
        return MixpanelCurrent(self.scheduler, target, options=options, session=self.session, seed=self.seed,
                               name=name, selects=selects)

    def _custom_http(self, body: dict[str, Any], options: CurrentOptions | None, name: str,
                     selects: Callable[[Any], bool] | None) -> Current:
        what = "custom_http current"
        url = text(body, "url", what, needed=True)
        assert url is not None
        try:
            endpoint = HttpEndpoint(url, bearer_token=text(body, "bearer_token", what))
        except ValueError as exc:
            raise ControlError(f"{what}: {exc}") from None
        return CustomHttpCurrent(self.scheduler, endpoint, options=options, session=self.session, seed=self.seed,
                                 name=name, selects=selects)


def _patterns(value: Any) -> tuple[str, ...]:
    """The selected event types: each a catalog type id or a pattern matching at least one."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise ControlError(f'current: "events" must be a list of event type ids or * patterns, got {value!r}')
    type_ids = load_catalog().type_ids
    for pattern in value:
        if not fnmatch.filter(type_ids, pattern):
            raise ControlError(f'current: "events": {pattern!r} matches no Currents event type of the catalog')
    return tuple(value)


def _selector(patterns: tuple[str, ...]) -> Callable[[Any], bool]:
    def selects(record: Any) -> bool:
        event_type = record.get("event_type") if isinstance(record, dict) else None
        return isinstance(event_type, str) and any(fnmatch.fnmatchcase(event_type, p) for p in patterns)

    return selects


def _options(body: dict[str, Any], kind: str) -> CurrentOptions | None:
    """Batching and the flush interval, when the body sets them (else the Current's defaults)."""
    given = {key: body[key] for key in ("flush_interval_s", "max_batch_events") if body.get(key) is not None}
    if not given:
        return None
    defaults = CurrentOptions(max_batch_events=DEFAULT_BATCH_EVENTS) if kind == "custom_http" else CurrentOptions()
    flush = number(given.get("flush_interval_s", defaults.flush_interval_s), "flush_interval_s", "current")
    batch = given.get("max_batch_events", defaults.max_batch_events)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ControlError(f'current: "max_batch_events" must be an integer >= 1, got {batch!r}')
    if flush < 0:
        raise ControlError(f'current: "flush_interval_s" must be >= 0, got {flush:g}')
    return CurrentOptions(max_batch_events=batch, max_batch_bytes=defaults.max_batch_bytes,
                          flush_interval_s=flush, retry=defaults.retry)
