"""Mixpanel's side of the control routes (DESIGN.md §7.1): cohorts defined over fake Mixpanel, Braze
connections and syncs, held by one `MixpanelCohorts` and one `CohortSyncEngine` on the fleet's scheduler.

Each operation takes a route's parsed JSON and answers the route's JSON; a bad body raises `ControlError`
400 naming the key, an unknown id 404.

Harness choices (stated here, where they are made):
- a sync's `interval_s` is its own (absent: `mixpanel.dynamic_interval_s`, 7,200 s);
- the fake's control API cannot list profiles, so the cohorts read the profiles their events name, the
  ids of `{"ids": [...]}` definitions, and the optional `"profile_ids"` of a cohort body;
- deleting a cohort tells the engine at once (its syncs stop now, nothing sent: EC-40), and a deleted id
  cannot be defined again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests

from fakes.core import ControlError
from fakes.core.scheduler import Scheduler
from harness.cohorts import CohortDefinitionError
from harness.connector_routes.bodies import integer, json_object, number, required, text
from harness.connectors import CohortSyncEngine, MixpanelCohorts, MixpanelReader
from harness.connectors.cohort_sync import CohortSyncError, Sync, UnknownCohort

COHORT_KEYS = ("id", "name", "definition", "profile_ids")
CONNECTION_KEYS = ("name", "data_import_key", "braze_url", "user_id_property")
SYNC_KEYS = ("cohort_id", "connection_id", "type", "interval_s")
SYNC_TYPES = ("dynamic", "one_time")


class CohortExport:
    """Cohorts, connections and syncs of one Mixpanel project, driven by the control routes."""

    def __init__(self, scheduler: Scheduler, mixpanel_url: str, braze_url: Callable[[], str | None], *,
                 session: requests.Session | None = None) -> None:
        self.scheduler = scheduler
        self.session = session or requests.Session()
        self.default_braze_url = braze_url
        self.cohorts = MixpanelCohorts(MixpanelReader(mixpanel_url, session=self.session))
        self.engine = CohortSyncEngine(scheduler, self.cohorts, session=self.session)
        self._names: dict[int, str] = {}
        self._deleted: set[int] = set()
        self._lock = threading.RLock()

    def now(self) -> float:
        return self.scheduler.clock.now()

    def close(self) -> None:
        self.engine.close()

    # -- cohorts -------------------------------------------------------------------------------------
    def define_cohort(self, body: Any) -> dict[str, Any]:
        what = "cohort"
        body = json_object(body, what, COHORT_KEYS)
        cohort_id = integer(body, "id", what)
        name = text(body, "name", what, needed=True)
        assert name is not None
        definition = required(body, "definition", what)
        if not isinstance(definition, dict):
            raise ControlError(f'{what}: "definition" must be a JSON object (DESIGN.md §7.1), got {definition!r}')
        profile_ids = _id_list(body.get("profile_ids", []), "profile_ids", what)
        with self._lock:
            if cohort_id in self._deleted:
                raise ControlError(f"cohort {cohort_id} was deleted; a deleted cohort's id is not used again")
            renamed = cohort_id in self._names and self._names[cohort_id] != name
            try:
                self.cohorts.define(cohort_id, name, definition, at=self.now())
            except CohortDefinitionError as exc:
                raise ControlError(f"{what}: definition: {exc}") from None
            self._names[cohort_id] = name
            known = set(self.cohorts.profile_ids)
            for distinct_id in [*profile_ids, *_listed_ids(definition)]:
                if distinct_id not in known:
                    self.cohorts.profile_ids.append(distinct_id)
                    known.add(distinct_id)
            if renamed:
                self.engine.cohort_renamed(cohort_id)
        return {"id": cohort_id, "name": name, "definition": definition}

    def members(self, cohort_id: int, at: float | None) -> dict[str, Any]:
        self._cohort(cohort_id)
        when = self.now() if at is None else at
        members = [{"distinct_id": m.distinct_id, "properties": dict(m.properties)}
                   for m in self.cohorts.members(cohort_id, when)]
        return {"id": cohort_id, "at": when, "count": len(members), "members": members}

    def delete_cohort(self, cohort_id: int) -> dict[str, Any]:
        with self._lock:
            self._cohort(cohort_id)
            self.cohorts.delete(cohort_id, at=self.now())
            self._deleted.add(cohort_id)
            self.engine.cohort_deleted(cohort_id)
        return {"id": cohort_id, "deleted": True}

    # -- connections and syncs -----------------------------------------------------------------------
    def connect(self, body: Any) -> dict[str, Any]:
        what = "connection"
        body = json_object(body, what, CONNECTION_KEYS)
        key = text(body, "data_import_key", what, needed=True)
        braze_url = text(body, "braze_url", what, default=self.default_braze_url())
        if braze_url is None:
            raise ControlError(f'{what}: "braze_url" is required (this fleet has no fake Braze)')
        name = text(body, "name", what, default="Braze")
        user_id_property = text(body, "user_id_property", what)
        assert key is not None and name is not None
        try:
            connection = self.engine.connect(key, braze_url, user_id_property=user_id_property, name=name)
        except ValueError as exc:
            raise ControlError(f"{what}: {exc}") from None
        return {"id": connection.connection_id, "name": connection.name, "braze_url": connection.braze_url,
                "user_id_property": connection.user_id_property, "status": connection.status}

    def create_sync(self, body: Any) -> dict[str, Any]:
        what = "sync"
        body = json_object(body, what, SYNC_KEYS)
        cohort_id = integer(body, "cohort_id", what)
        connection_id = text(body, "connection_id", what, needed=True)
        sync_type = text(body, "type", what, default="dynamic")
        if sync_type not in SYNC_TYPES:
            raise ControlError(f'{what}: "type" must be "dynamic" or "one_time", got {sync_type!r}')
        assert connection_id is not None
        with self._lock:
            if connection_id not in self.engine.connections:
                raise ControlError(f"no connection {connection_id!r}", 404)
            if cohort_id not in self._names or cohort_id in self._deleted:
                raise ControlError(f"no cohort {cohort_id}", 404)
            interval_s = None
            if "interval_s" in body and body["interval_s"] is not None:
                interval_s = number(body["interval_s"], "interval_s", what, positive=True)
            try:
                sync = self.engine.create_sync(cohort_id, connection_id,
                                               type="dynamic" if sync_type == "dynamic" else "one_time",
                                               interval_s=interval_s if sync_type == "dynamic" else None)
            except UnknownCohort as exc:
                raise ControlError(str(exc), 404) from None
            except (CohortSyncError, ValueError) as exc:
                raise ControlError(f"{what}: {exc}") from None
        self.scheduler.run_due()  # the creation run (its requests due now) happens before the answer
        return self.sync_json(sync.sync_id)

    def stop_sync(self, sync_id: str) -> dict[str, Any]:
        self._sync(sync_id)
        self.engine.stop_sync(sync_id)
        return self.sync_json(sync_id)

    def sync_json(self, sync_id: str, *, rows: bool = True) -> dict[str, Any]:
        sync = self._sync(sync_id)
        return {"id": sync.sync_id, "cohort_id": sync.cohort_id, "connection_id": sync.connection_id,
                "type": sync.type, "state": sync.state, "pause_reason": sync.pause_reason,
                "stop_reason": sync.stop_reason, "created_at": sync.created_at,
                "interval_s": self.engine.interval_of(sync) if sync.type == "dynamic" else None,
                "next_run_at": self.engine.next_due(sync_id),
                "runs": [run.to_json(rows=rows) for run in sync.runs]}

    # -- inside --------------------------------------------------------------------------------------
    def _cohort(self, cohort_id: int) -> None:
        if cohort_id in self._deleted:
            raise ControlError(f"cohort {cohort_id} was deleted", 404)
        if cohort_id not in self._names:
            raise ControlError(f"no cohort {cohort_id}", 404)

    def _sync(self, sync_id: str) -> Sync:
        try:
            return self.engine.sync(sync_id)
        except KeyError:
            raise ControlError(f"no sync {sync_id!r}", 404) from None


def _id_list(value: Any, key: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ControlError(f'{what}: "{key}" must be a list of distinct_id strings, got {value!r}')
    return list(value)


def _listed_ids(node: Any) -> list[str]:
    """The distinct ids an `{"ids": [...]}` node names anywhere in a definition (their profiles are read)."""
    if isinstance(node, list):
        return [i for child in node for i in _listed_ids(child)]
    if not isinstance(node, dict):
        return []
    found = [i for i in node.get("ids", []) if isinstance(i, str)] if isinstance(node.get("ids"), list) else []
    return found + [i for key, child in node.items() if key != "ids" for i in _listed_ids(child)]
