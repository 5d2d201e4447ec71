"""A user's Currents connector as the system under test (DESIGN.md §3): a Python callable
`function(events, target)` called once per batch, `events` a list of Currents events in the Custom HTTP
shape, `target` the fake Mixpanel it must deliver to.

`CallableCurrent` runs the callable as a Current (`harness.connectors.delivery.Current`) on the simulated
clock: batches go out at the flush tick, a callable that raises is retried with the Current's back-off,
and the `DeliveryReport` counts an event delivered once the callable returned for its batch (handed to
the SUT; what the SUT made of it is what the oracle compares in fake Mixpanel).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from harness.connectors.agenda import Agenda
from harness.connectors.currents_http import prepare_custom_http
from harness.connectors.delivery import Answer, Current, CurrentOptions, Prepared, Skipped, Verdict

DEFAULT_SUT_BATCH_EVENTS = 100


@dataclass(frozen=True)
class SutTarget:
    """What a SUT callable is told of the fake Mixpanel it delivers to."""

    base_url: str
    token: str = "harness-token"
    api_secret: str = "harness-secret"
    project_id: int = 1


SutCallable = Callable[[list[dict[str, Any]], SutTarget], object]


class CallableDestination:
    """Hands each batch to the callable; it returning is success, it raising a retry."""

    def __init__(self, function: SutCallable, target: SutTarget) -> None:
        self.function = function
        self.target = target

    def prepare(self, record: Any) -> Prepared | Skipped:
        return prepare_custom_http(record)

    def send(self, session: requests.Session, payloads: Sequence[bytes]) -> tuple[int, bytes]:
        try:
            self.function([orjson.loads(p) for p in payloads], self.target)
        except Exception as exc:  # the SUT's failure is an answer to retry, not a crash of the harness
            return 599, f"{type(exc).__name__}: {exc}".encode()
        return 200, b""

    def judge(self, status: int, body: bytes, batch_size: int) -> Answer:
        if status == 200:
            return Answer(Verdict.DELIVERED)
        return Answer(Verdict.RETRY, body.decode(errors="replace"))


class CallableCurrent(Current):
    """A SUT callable fed like a Current: `submit(events)`, then the clock delivers the batches."""

    def __init__(self, agenda: Agenda, function: SutCallable, target: SutTarget, *,
                 options: CurrentOptions | None = None, seed: int | str = 0, name: str = "sut-callable") -> None:
        super().__init__(CallableDestination(function, target), agenda,
                         options=options or CurrentOptions(max_batch_events=DEFAULT_SUT_BATCH_EVENTS),
                         seed=seed, name=name)
