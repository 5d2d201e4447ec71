"""Braze's Mixpanel Current, as the reference connector: Currents events → the catalog mapping →
`POST /import?strict=1` batches (currents-to-mixpanel.md §10; mixpanel-ingestion.md §5.8 for the answers).

Per answer: 200 → delivered; 400 with `failed_records` → those events rejected with Mixpanel's message,
the rest delivered, nothing resent; another 400 → the batch rejected; 413 → split in halves; 429, 5xx,
a connection error or a timeout → back-off and resend; 401 / 403 → the credentials are refused: pause,
probe, and discard what is still queued after 48 h.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from harness.connectors.delivery import (
    Agenda,
    Answer,
    Current,
    CurrentOptions,
    Prepared,
    Skipped,
    Verdict,
    text_or_none,
)
from harness.currents_io.normalise import is_custom_http_event, normalise_record
from harness.mapping import MappingConfig, map_currents_event

REGION_HOSTS = {"us": "https://api.mixpanel.com", "eu": "https://api-eu.mixpanel.com",
                "in": "https://api-in.mixpanel.com"}


@dataclass(frozen=True)
class MixpanelTarget:
    """Where and as whom the Current imports: a project's API secret (`Basic secret:`), or a service
    account (`Basic user:secret` plus `project_id`). `base_url` defaults to the region's host."""

    api_secret: str | None = "harness-secret"
    token: str = "harness-token"
    project_id: int | None = None
    service_account: tuple[str, str] | None = None
    region: str = "us"
    base_url: str | None = None
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.region not in REGION_HOSTS:
            raise ValueError(f"region must be one of {', '.join(REGION_HOSTS)}, got {self.region!r}")
        if self.service_account is None and not self.api_secret:
            raise ValueError("give an api_secret or a service_account")
        if self.service_account is not None and self.project_id is None:
            raise ValueError("a service account needs the project_id")

    @property
    def import_url(self) -> str:
        base = (self.base_url or REGION_HOSTS[self.region]).rstrip("/")
        url = f"{base}/import?strict=1"
        return url if self.service_account is None else f"{url}&project_id={self.project_id}"

    @property
    def authorization(self) -> str:
        user, password = self.service_account if self.service_account is not None else (self.api_secret, "")
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class MixpanelImportDestination:
    """The Mixpanel half of the Current: map and encode one event; send a batch; judge the answer."""

    def __init__(self, target: MixpanelTarget, mapping: MappingConfig | None = None) -> None:
        self.target = target
        self.mapping = mapping if mapping is not None else MappingConfig(token=target.token)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "Authorization": target.authorization}

    def prepare(self, record: Any) -> Prepared | Skipped:
        # The mapping reads Custom HTTP events as they are (its fastest path); other shapes are flattened first.
        flat = record if is_custom_http_event(record) else normalise_record(record)
        event_id = text_or_none(flat.get("id")) if isinstance(flat, dict) else None
        result = map_currents_event(flat, self.mapping)
        if result.event is None:
            return Skipped(result.reason or "not_exported", event_id, result.type_id)
        return Prepared(orjson.dumps(result.event), event_id, result.event["event"])

    def send(self, session: requests.Session, payloads: Sequence[bytes]) -> tuple[int, bytes]:
        body = b"[" + b",".join(payloads) + b"]"
        response = session.post(self.target.import_url, data=body, headers=self._headers,
                                timeout=self.target.timeout_s)
        return response.status_code, response.content

    def judge(self, status: int, body: bytes, batch_size: int) -> Answer:
        if 200 <= status < 300:
            return Answer(Verdict.DELIVERED)
        answer = _json_object(body)
        message = str(answer.get("error") or f"HTTP {status}")
        if status == 400:
            failed = answer.get("failed_records")
            if isinstance(failed, list) and failed and all(isinstance(f, dict) for f in failed):
                rejected = {f["index"]: _failure_message(f) for f in failed
                            if isinstance(f.get("index"), int) and 0 <= f["index"] < batch_size}
                return Answer(Verdict.DELIVERED, message, rejected)
            if isinstance(failed, list) and failed:  # V13: plain strings, the whole batch refused
                return Answer(Verdict.REJECTED, str(failed[0]))
            return Answer(Verdict.REJECTED, message)
        if status in (401, 403):
            return Answer(Verdict.CREDENTIALS, message)
        if status == 413:
            return Answer(Verdict.SPLIT, message)
        if status == 429 or status >= 500:
            return Answer(Verdict.RETRY, message)
        return Answer(Verdict.REJECTED, f"HTTP {status}: {message}")


class MixpanelCurrent(Current):
    """Braze's Mixpanel Current on an agenda (the fleet's scheduler):

        current = MixpanelCurrent(fleet.scheduler, MixpanelTarget(base_url=fleet["mixpanel"].base_url))
        current.submit(events); fleet.clock.advance(60); current.report.to_json()
    """

    def __init__(self, agenda: Agenda, target: MixpanelTarget | None = None, *,
                 mapping: MappingConfig | None = None, options: CurrentOptions | None = None,
                 session: requests.Session | None = None, seed: int | str = 0, name: str = "mixpanel-current",
                 selects: Callable[[Any], bool] | None = None) -> None:
        self.target = target if target is not None else MixpanelTarget()
        super().__init__(MixpanelImportDestination(self.target, mapping), agenda, options=options,
                         session=session, seed=seed, name=name, selects=selects)


def _failure_message(failure: dict[str, Any]) -> str:
    field, message = failure.get("field"), failure.get("message")
    return f"{field}: {message}" if field else str(message)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
