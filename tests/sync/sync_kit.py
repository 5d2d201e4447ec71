"""A world for the sync engine tests: fake Braze in a `FakeFleet` (in-process or loopback), an
`InMemoryCohorts` on the fleet's clock, an engine posting to fake Braze's base URL, and Braze-side
reads through fake Braze's control API only (DESIGN.md §4 short forms)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from fakes.fleet import FakeFleet
from harness.connectors.cohort_sync import CohortSyncConfig, CohortSyncEngine, Connection, InMemoryCohorts, Sync
from harness.connectors.cohort_sync.model import SyncType

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
HOUR = 3600.0
TICK = 7200.0
COHORT = 7
IN_PROCESS_URL = "https://rest.iad-01.braze.com"
DATA_IMPORT_KEY = "harness-data-import-key"
EXT = "$braze_external_id"


class SyncWorld:
    def __init__(self, fleet: FakeFleet, braze_url: str, config: CohortSyncConfig | None = None) -> None:
        self.fleet = fleet
        self.clock = fleet.clock
        self.braze_url = braze_url
        self.session = requests.Session()
        self.cohorts = InMemoryCohorts()
        self.engine = CohortSyncEngine(fleet.scheduler, self.cohorts, config=config, session=self.session)

    # -- Mixpanel side -------------------------------------------------------------------------------
    def cohort(self, members: Mapping[str, Any], *, cohort_id: int = COHORT, name: str = "Clicked email",
               at: float | None = None, prop: str = EXT) -> None:
        """A cohort whose members are `distinct_id → export value` (None: the property is not set)."""
        at = self.clock.now() if at is None else at
        self.cohorts.add_cohort(cohort_id, name, at=at)
        self.join(members, cohort_id=cohort_id, at=at, prop=prop)

    def join(self, members: Mapping[str, Any], *, cohort_id: int = COHORT, at: float | None = None,
             prop: str = EXT) -> None:
        at = self.clock.now() if at is None else at
        for distinct_id, value in members.items():
            if value is not None:
                self.cohorts.set_properties(distinct_id, {prop: value}, at=at)
        self.cohorts.enter(cohort_id, list(members), at=at)

    def leave(self, distinct_ids: Iterable[str], *, cohort_id: int = COHORT, at: float | None = None) -> None:
        self.cohorts.leave(cohort_id, list(distinct_ids), at=self.clock.now() if at is None else at)

    def connect(self, key: str = DATA_IMPORT_KEY, **kw: Any) -> Connection:
        return self.engine.connect(key, kw.pop("braze_url", self.braze_url), **kw)

    def sync(self, *, cohort_id: int = COHORT, connection: Connection | None = None,
             type: SyncType = "dynamic") -> Sync:
        connection = connection or self.connect()
        return self.engine.create_sync(cohort_id, connection.connection_id, type=type)

    # -- Braze side (control API) ----------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, self.braze_url + path, json=body, timeout=30)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def seed(self, *external_ids: str) -> None:
        self.control("POST", "/_harness/users", {"users": [{"external_id": e} for e in external_ids]})

    def members(self, cohort_id: int | str = COHORT, at: float | None = None) -> set[str]:
        query = "" if at is None else f"?at={at}"
        rows = self.control("GET", f"/_harness/cohorts/{cohort_id}/members{query}")["members"]
        return {row["external_id"] for row in rows}

    def segment(self, cohort_id: int | str = COHORT, at: float | None = None, op: str = "includes") -> set[str]:
        body: dict[str, Any] = {"filter": {"mixpanel_cohorts": {op: str(cohort_id)}}}
        if at is not None:
            body["at"] = at
        return {row["external_id"] for row in self.control("POST", "/_harness/segments/evaluate", body)["members"]}

    def braze_cohorts(self) -> dict[str, dict[str, Any]]:
        return {row["cohort_id"]: row for row in self.control("GET", "/_harness/cohorts")["cohorts"]}

    def partner_requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Fake Braze's journal of partner calls (`cohorts` or `cohorts/users`), oldest first."""
        rows = [e for e in self.fleet["braze"].requests() if e["path"].startswith("/partners/")]
        if endpoint is not None:
            rows = [e for e in rows if e["path"].endswith("/" + endpoint)]
        return rows

    def sent_changes(self) -> list[tuple[bool, list[str]]]:
        """(should_remove, user_ids) of every change object Braze received, in order."""
        out = []
        for entry in self.partner_requests("cohorts/users"):
            for change in json.loads(entry["body"])["cohort_changes"]:
                out.append((bool(change.get("should_remove")), change["user_ids"]))
        return out

    def sent_ids(self) -> set[str]:
        return {i for _, ids in self.sent_changes() for i in ids}

    def faults(self, *rules: dict[str, Any]) -> None:
        self.fleet["braze"].add_faults(list(rules))


def fail(status: int, *, endpoint: str = "cohorts/users", message: str = "boom", **rule: Any) -> dict[str, Any]:
    """A fault rule answering `status` on an endpoint (nth / times / active window in `rule`)."""
    return {"match": {"endpoint": endpoint}, **rule,
            "action": {"type": "status", "status": status, "body": {"message": message}}}


def ids(prefix: str, n: int, start: int = 0) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(start, start + n)]
