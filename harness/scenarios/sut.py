"""A user's Currents connector as the system under test (DESIGN.md §3): a Python callable
`function(events, target)` called once per batch, `events` a list of Currents events in the Custom HTTP
shape, `target` the fake Mixpanel it must deliver to.

`CallableCurrent` runs the callable as a Current (`harness.connectors.delivery.Current`) on the simulated
clock: batches go out at the flush tick, a callable that raises is retried with the Current's back-off,
and the `DeliveryReport` counts an event delivered once the callable returned for its batch (handed to
the SUT; what the SUT made of it is what the oracle compares in fake Mixpanel).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import requests

from harness.connectors.agenda import Agenda
from harness.connectors.currents_http import CustomHttpCurrent, HttpEndpoint, prepare_custom_http
from harness.connectors.currents_mixpanel import MixpanelCurrent, MixpanelTarget
from harness.connectors.delivery import Answer, Current, CurrentOptions, Prepared, Skipped, Verdict
from harness.mapping import MappingConfig

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


# -- the system under test as a plug-in (DESIGN.md §3, §7: one small object, one method) ------------------
class SutContext(Protocol):
    """What a SUT is given to build its Current: the pipeline's agenda, session, mapping and targets."""

    agenda: Agenda
    session: requests.Session
    mapping: MappingConfig

    @property
    def seed(self) -> int: ...

    @property
    def current_options(self) -> CurrentOptions | None: ...

    def target(self) -> MixpanelTarget: ...

    def sut_target(self) -> SutTarget: ...


class SystemUnderTest(Protocol):
    """The Currents leg of a scenario: builds the Current that carries Currents events to fake Mixpanel."""

    @property
    def label(self) -> str: ...

    def current(self, context: SutContext) -> Current: ...


@dataclass(frozen=True)
class ReferenceSut:
    """Braze's Mixpanel Current, the harness's reference connector (the default)."""

    label: str = "reference"

    def current(self, context: SutContext) -> Current:
        return MixpanelCurrent(context.agenda, context.target(), mapping=context.mapping,
                               options=context.current_options, session=context.session, seed=context.seed)


@dataclass(frozen=True)
class CallableSut:
    """A user's `function(events, target)`, called per batch of Custom HTTP events."""

    function: SutCallable
    label: str = "callable"

    def current(self, context: SutContext) -> Current:
        return CallableCurrent(context.agenda, self.function, context.sut_target(), options=context.current_options,
                               seed=context.seed)


@dataclass(frozen=True)
class HttpSut:
    """A user's service fed by Braze's Custom HTTP Current (`{"events": [...]}` batches, optional bearer)."""

    url: str
    bearer_token: str | None = None
    label: str = "http"

    def current(self, context: SutContext) -> Current:
        return CustomHttpCurrent(context.agenda, HttpEndpoint(self.url, bearer_token=self.bearer_token),
                                 session=context.session, seed=context.seed)


class SutSpecError(ValueError):
    """A `--sut` that names nothing usable; the message says what was expected."""


def load_callable(spec: str, option: str = "--sut") -> Callable[..., Any]:
    """The function named by `module:function` (imported now); a bad spec is a `SutSpecError` in one line."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SutSpecError(f"{option} {spec!r}: expected module:function")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure of user code is a bad option, said in one line
        raise SutSpecError(f"{option} {spec!r}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    function: Any = module
    for part in attr.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise SutSpecError(f"{option} {spec!r}: {module_name} has no {attr}")
    if not callable(function):
        raise SutSpecError(f"{option} {spec!r}: {attr} is not callable")
    return function


def load_sut(spec: str, *, bearer_token: str | None = None) -> SystemUnderTest:
    """`reference`, `module:function` (imported now) or an `http(s)://` URL."""
    spec = spec.strip()
    if spec in ("", "reference"):
        return ReferenceSut()
    if spec.startswith(("http://", "https://")):
        return HttpSut(spec, bearer_token=bearer_token, label=spec)
    if ":" not in spec:
        raise SutSpecError(f"--sut {spec!r}: expected reference, module:function or an http(s):// URL")
    return CallableSut(load_callable(spec), label=spec)
