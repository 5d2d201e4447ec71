"""Fixtures of the fake Braze tests: a frozen simulated clock, the state, its model and a wire driver."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.braze import create_app, new_state
from fakes.core.clock import SimulatedClock

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
PARTNER_KEY = "harness-partner-key"
DATA_IMPORT_KEY = "harness-data-import-key"
CREDS = {"partner_api_key": PARTNER_KEY, "client_secret": DATA_IMPORT_KEY}


class BrazeDriver:
    """Sends partner requests through the real wire (Flask test client) and reads state back."""

    def __init__(self, client, state) -> None:
        self.client = client
        self.state = state
        self.model = state.model
        self.clock = state.clock

    def post(self, path: str, body: Any = None, *, raw: bytes | None = None, headers: dict | None = None,
             content_type: str = "application/json"):
        data = raw if raw is not None else _json_bytes(body)
        return self.client.post(path, data=data, headers=headers or {}, content_type=content_type)

    def declare(self, cohort_id: Any = "1", name: Any = "Cohort A", created_at: Any = "2021-01-21T19:20:30Z",
                slug: str = "mixpanel", creds: dict | None = None, **extra: Any):
        body = {**(CREDS if creds is None else creds), "cohort_id": cohort_id, "name": name,
                "created_at": created_at, **extra}
        return self.post(f"/partners/{slug}/cohorts", body)

    def change(self, cohort_id: Any = "1", changes: Any = (), slug: str = "mixpanel", creds: dict | None = None,
               headers: dict | None = None, **extra: Any):
        body = {**(CREDS if creds is None else creds), "cohort_id": cohort_id,
                "cohort_changes": list(changes) if isinstance(changes, tuple) else changes, **extra}
        return self.post(f"/partners/{slug}/cohorts/users", body, headers=headers)

    def add(self, cohort_id: str, *user_ids: str, **kw):
        return self.change(cohort_id, [{"user_ids": list(user_ids)}], **kw)

    def remove(self, cohort_id: str, *user_ids: str, **kw):
        return self.change(cohort_id, [{"user_ids": list(user_ids), "should_remove": True}], **kw)

    def member_ids(self, cohort_id: str = "1", at: float | None = None, workspace: str | None = None,
                   partner: str | None = None) -> set[str]:
        """External ids (or braze ids of anonymous profiles) of the cohort's members."""
        rows = self.model.members(cohort_id, workspace, partner=partner, at=at)
        return {r["external_id"] or r["braze_id"] for r in rows}

    def counters(self, cohort_id: str = "1", workspace: str | None = None) -> dict[str, int]:
        return dict(self.model.cohort(cohort_id, workspace).counters)

    def last_journal(self) -> dict:
        return self.state.journal.entries()[-1]

    def seed(self, *external_ids: str) -> None:
        for external_id in external_ids:
            self.model.users().add_identified(external_id)


def _json_bytes(body: Any) -> bytes:
    import json

    return json.dumps(body).encode("utf-8")


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def state(clock):
    return new_state(clock=clock)


@pytest.fixture
def model(state):
    return state.model


@pytest.fixture
def client(state):
    return create_app(state).test_client()


@pytest.fixture
def braze(client, state) -> BrazeDriver:
    return BrazeDriver(client, state)
