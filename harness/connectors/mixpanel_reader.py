"""`MixpanelReader`: what a fake Mixpanel holds, read over its control API (DESIGN.md §4, §7).

Events come from `GET /_harness/events?view=dedup&meta=1` (the deduplicated view, each row with its
request metadata, whose `received_ms` is the ingestion time on the simulated clock and becomes the event's
`known_at`); profiles from `GET /_harness/profiles/<distinct_id>?meta=1` (their properties, set from the
profile's `created_at` on). The control API has no route that lists profiles, so the reader reads the
profiles of the distinct ids it is told about plus those its events name.

It speaks only HTTP through a `requests.Session` (never `fakes/`): in-process the base URL is the real
host, `https://api.mixpanel.com`, routed into the fake by the fleet's `responses` mock; on loopback it is
the server's URL. `fingerprint()` is a cheap summary of the fake's data (`GET /_harness/stats`) that
changes whenever an ingestion request is answered or the fake is reset: readers of a cached snapshot
compare it to know when to read again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import requests

from harness.cohorts import Event, InMemoryCohortSource, PropertyChange

DEFAULT_BASE_URL = "https://api.mixpanel.com"


class MixpanelReadError(RuntimeError):
    """The fake answered a control request with something other than the documented JSON."""


class MixpanelReader:
    """Reads a fake Mixpanel's deduplicated events and profiles into a `harness.cohorts` source:

        reader = MixpanelReader(fleet["mixpanel"].base_url or DEFAULT_BASE_URL)
        source = reader.cohort_source(profile_ids=["u1", "u2"])
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, session: requests.Session | None = None,
                 project_id: int | None = None, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.project_id = project_id
        self.timeout_s = timeout_s

    # -- raw reads -----------------------------------------------------------------------------------
    def event_rows(self, view: str = "dedup") -> list[dict[str, Any]]:
        """`{"event", "properties", "meta"}` rows of a view (dedup: one per Mixpanel dedup key)."""
        params: dict[str, str] = {"view": view, "meta": "1"}
        if self.project_id is not None:
            params["project_id"] = str(self.project_id)
        answer = self._get("/_harness/events", params)
        rows = answer.get("events")
        if not isinstance(rows, list):
            raise MixpanelReadError(f"/_harness/events answered without an events list: {answer!r:.200}")
        return rows

    def profile(self, distinct_id: str) -> dict[str, Any] | None:
        """`{"properties", "created_at", ...}` of one profile, None if the fake has none."""
        params = {"meta": "1"} if self.project_id is None else {"meta": "1", "project_id": str(self.project_id)}
        response = self.session.get(f"{self.base_url}/_harness/profiles/{quote(distinct_id, safe='')}",
                                    params=params, timeout=self.timeout_s)
        if response.status_code == 404:
            return None
        return self._json(response, "/_harness/profiles")

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes when the fake's events or profiles may have changed (ingestion answered, or a reset)."""
        stats = self._get("/_harness/stats", {})
        totals, store = stats.get("totals") or {}, stats.get("store") or {}
        return (store.get("raw"), store.get("dedup"), store.get("quarantine"), stats.get("profiles"),
                totals.get("requests"), totals.get("records_accepted"))

    # -- as a cohort source --------------------------------------------------------------------------
    def events(self) -> list[Event]:
        """The deduplicated events as cohort events; `known_at` is the ingestion time (simulated)."""
        out = []
        for row in self.event_rows("dedup"):
            meta = row.get("meta") or {}
            properties = dict(row.get("properties") or {})
            properties.pop("distinct_id", None)
            properties.pop("time", None)
            received_ms = meta.get("received_ms")
            out.append(Event(str(row["event"]), str(meta["distinct_id"]), meta["time_ms"] / 1000, properties,
                             None if received_ms is None else received_ms / 1000))
        return out

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Every profile (`{"properties", "created_at", ...}`) by distinct_id, in one request."""
        params = {"meta": "1"} if self.project_id is None else {"meta": "1", "project_id": str(self.project_id)}
        rows = self._get("/_harness/profiles", params).get("profiles")
        if not isinstance(rows, list):
            raise MixpanelReadError(f"/_harness/profiles answered without a profiles list: {rows!r:.200}")
        return {str(row["distinct_id"]): row for row in rows}

    def property_changes(self, distinct_ids: Iterable[str]) -> list[PropertyChange]:
        """Each profile's current properties, as set from its `created_at` (the fake keeps no history)."""
        changes: list[PropertyChange] = []
        every = self.profiles()
        for distinct_id in dict.fromkeys(distinct_ids):
            found = every.get(distinct_id)
            if found is None:
                continue
            since = (found.get("created_at") or 0) / 1000
            changes.extend(PropertyChange(distinct_id, since, name, value)
                           for name, value in (found.get("properties") or {}).items())
        return changes

    def cohort_source(self, profile_ids: Iterable[str] = ()) -> InMemoryCohortSource:
        """A snapshot: the dedup events, and the profiles of `profile_ids` and of every event's distinct_id."""
        events = self.events()
        ids = [*profile_ids, *(e.distinct_id for e in events)]
        return InMemoryCohortSource(events, self.property_changes(ids))

    # -- inside --------------------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return self._json(self.session.get(self.base_url + path, params=params, timeout=self.timeout_s), path)

    @staticmethod
    def _json(response: requests.Response, path: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise MixpanelReadError(f"{path} answered HTTP {response.status_code}: {response.text[:200]}")
        value = response.json()
        if not isinstance(value, dict):
            raise MixpanelReadError(f"{path} answered {value!r:.200} (not a JSON object)")
        return value
