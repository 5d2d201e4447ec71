"""Builders shared by the fake Mixpanel tests: events, credentials, bodies, a test-client wrapper."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

NOW = 1_790_000_000  # 2026-09-21T... UTC, the frozen "now" of these tests
TOKEN = "harness-token"
SECRET = "harness-secret"
SA_USER, SA_SECRET = "harness-sa", "harness-sa-secret"


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


SECRET_AUTH = {"Authorization": basic(SECRET)}
SA_AUTH = {"Authorization": basic(SA_USER, SA_SECRET)}


def event(name: str = "Purchase", n: int = 0, **props: Any) -> dict[str, Any]:
    """A valid strict /import event (distinct id, time, `$insert_id`), overridable per property."""
    base: dict[str, Any] = {"time": NOW - 3600 - n, "distinct_id": f"user-{n}", "$insert_id": f"id-{n:08d}"}
    base.update(props)
    return {"event": name, "properties": {k: v for k, v in base.items() if v is not _DROP}}


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


_DROP = _Drop()
DROP = _DROP  # pass as a property value to leave the property out


def jbody(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


class Api:
    """Thin helpers over the Flask test client."""

    def __init__(self, client):
        self.client = client

    def post(self, path: str, body: bytes | str = b"", *, query: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, content_type: str | None = "application/json", **extra: Any):
        hdrs = dict(headers or {})
        if content_type is not None:
            hdrs.setdefault("Content-Type", content_type)
        return self.client.post(path, data=body, query_string=query or {}, headers=hdrs, **extra)

    def import_(self, records: Any, *, strict: bool = True, auth: dict[str, str] | None = None, **kw):
        query = dict(kw.pop("query", {}) or {})
        if strict:
            query.setdefault("strict", "1")
        body = records if isinstance(records, (bytes, str)) else jbody(records)
        return self.post("/import", body, query=query, headers={**(SECRET_AUTH if auth is None else auth),
                                                                 **kw.pop("headers", {})}, **kw)

    def form(self, path: str, data: Any, *, verbose: bool = True, b64: bool = False, **extra: str):
        raw = json.dumps(data)
        value = base64.b64encode(raw.encode()).decode() if b64 else raw
        fields = {"data": value, **({"verbose": "1"} if verbose else {}), **extra}
        return self.client.post(path, data=fields)

    def events(self, **params: str) -> dict[str, Any]:
        return self.client.get("/_harness/events", query_string=params).get_json()


