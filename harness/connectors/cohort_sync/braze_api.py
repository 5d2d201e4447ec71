"""The two Braze partner endpoints as the engine calls them (braze-cohort-sync.md §4.6, §4.7), over a
`requests.Session` to any Braze-compatible base URL: `POST {braze_url}/partners/{slug}/cohorts` and
`…/cohorts/users`, credentials in the JSON body (`partner_api_key`, and the connection's Data Import Key
as `client_secret`). An answer is reduced to its status and Braze's `message`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import orjson
import requests

DEFAULT_PARTNER_KEY = "harness-partner-key"
"""DESIGN.md §4: the fake's partner API key, the same for the US and EU regions."""


@dataclass(frozen=True)
class BrazePartner:
    """Mixpanel as a Braze partner: its path slug and its partner API keys (one for US clusters, one for
    EU ones, picked by the instance host; AU/JP/ID/KR and loopback hosts take the US key, §5)."""

    slug: str = "mixpanel"
    us_key: str = DEFAULT_PARTNER_KEY
    eu_key: str = DEFAULT_PARTNER_KEY

    def key_for(self, braze_url: str) -> str:
        host = (urlsplit(braze_url).hostname or "").lower()
        return self.eu_key if host.endswith(".braze.eu") else self.us_key


class BrazeAnswer(NamedTuple):
    """Status (None: no HTTP answer) and the `message` of the body (or the transport error)."""

    status: int | None
    message: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


_HEADERS = {"Content-Type": "application/json"}


class BrazeCohortApi:
    def __init__(self, session: requests.Session, partner: BrazePartner, *, timeout_s: float = 30.0) -> None:
        self.session = session
        self.partner = partner
        self.timeout_s = timeout_s

    def declare(self, braze_url: str, client_secret: str, cohort_id: str, name: str, created_at: str) -> BrazeAnswer:
        return self._post(braze_url, "cohorts", {
            "partner_api_key": self.partner.key_for(braze_url), "client_secret": client_secret,
            "cohort_id": cohort_id, "name": name, "created_at": created_at})

    def change(self, braze_url: str, client_secret: str, cohort_id: str, user_ids: list[str] | None,
               should_remove: bool = False) -> BrazeAnswer:
        """One change object of `user_ids` (adds, or removes with `should_remove`); None sends
        `cohort_changes: []` (the empty request of `mixpanel.send_empty_runs`)."""
        changes: list[dict[str, Any]] = []
        if user_ids is not None:
            changes.append({"user_ids": user_ids, "should_remove": True} if should_remove else {"user_ids": user_ids})
        return self._post(braze_url, "cohorts/users", {
            "partner_api_key": self.partner.key_for(braze_url), "client_secret": client_secret,
            "cohort_id": cohort_id, "cohort_changes": changes})

    def _post(self, braze_url: str, endpoint: str, body: dict[str, Any]) -> BrazeAnswer:
        url = f"{braze_url}/partners/{self.partner.slug}/{endpoint}"
        try:
            response = self.session.post(url, data=orjson.dumps(body), headers=_HEADERS, timeout=self.timeout_s)
        except requests.RequestException as exc:
            return BrazeAnswer(None, f"{type(exc).__name__}: {exc}")
        return BrazeAnswer(response.status_code, message_of(response.content, response.status_code))


def message_of(body: bytes, status: int) -> str:
    """Braze's `{"message": ...}`; any other body shows as text (cut short), an empty one as `HTTP <status>`."""
    try:
        decoded = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return decoded["message"]
    text = body.decode("utf-8", "replace").strip()
    return text[:200] if text else f"HTTP {status}"
