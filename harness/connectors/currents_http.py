"""Braze's Custom HTTP Current, as the reference connector (DESIGN.md §3): the same Currents stream posted
to any URL as `{"events": [...]}` batches (at most 100 events by default) in the Custom HTTP shape, with an
optional `Authorization: Bearer <token>`. Any 2xx means received; any other answer, a connection error or
a timeout is retried with back-off. This is how an HTTP system under test is fed.
"""

from __future__ import annotations

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
from harness.currents_io import to_custom_http

DEFAULT_BATCH_EVENTS = 100


@dataclass(frozen=True)
class HttpEndpoint:
    """Where the Current posts: the URL, an optional bearer token, the client timeout."""

    url: str
    bearer_token: str | None = None
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"the endpoint URL must start with http:// or https://, got {self.url!r}")


def prepare_custom_http(record: Any) -> Prepared | Skipped:
    """One event as Braze's Custom HTTP Current sends it (the Custom HTTP shape, encoded once)."""
    event = to_custom_http(record)
    if not isinstance(event, dict):
        return Skipped("invalid_record", None, None)
    return Prepared(orjson.dumps(event), text_or_none(event.get("id")), text_or_none(event.get("event_type")))


class CustomHttpDestination:
    """The Custom HTTP half of the Current: the event as Braze sends it; 2xx received, all else retried."""

    def __init__(self, endpoint: HttpEndpoint) -> None:
        self.endpoint = endpoint
        self._headers = {"Content-Type": "application/json"}
        if endpoint.bearer_token:
            self._headers["Authorization"] = f"Bearer {endpoint.bearer_token}"

    def prepare(self, record: Any) -> Prepared | Skipped:
        return prepare_custom_http(record)

    def send(self, session: requests.Session, payloads: Sequence[bytes]) -> tuple[int, bytes]:
        body = b'{"events":[' + b",".join(payloads) + b"]}"
        response = session.post(self.endpoint.url, data=body, headers=self._headers,
                                timeout=self.endpoint.timeout_s)
        return response.status_code, response.content

    def judge(self, status: int, body: bytes, batch_size: int) -> Answer:
        if 200 <= status < 300:
            return Answer(Verdict.DELIVERED)
        return Answer(Verdict.RETRY, f"HTTP {status}")


class CustomHttpCurrent(Current):
    """Braze's Custom HTTP Current on an agenda (the fleet's scheduler):

        current = CustomHttpCurrent(fleet.scheduler, HttpEndpoint("http://127.0.0.1:9000/currents"))
        current.submit(events); fleet.clock.advance(60)
    """

    def __init__(self, agenda: Agenda, endpoint: HttpEndpoint, *, options: CurrentOptions | None = None,
                 session: requests.Session | None = None, seed: int | str = 0, name: str = "custom-http-current",
                 selects: Callable[[Any], bool] | None = None) -> None:
        self.endpoint = endpoint
        super().__init__(CustomHttpDestination(endpoint), agenda,
                         options=options or CurrentOptions(max_batch_events=DEFAULT_BATCH_EVENTS),
                         session=session, seed=seed, name=name, selects=selects)
