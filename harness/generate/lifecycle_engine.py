"""The lifecycle engine: a message's run through the head every channel shares, then its channel's steps.

A `Lifecycle` runs one message to one user (currents-to-mixpanel.md §9). Its `prepare` adds the channel's
message fields; then comes the shared head: a Message Prioritization Retry where the channel has one (it
shares the dispatch id of the later Send, D9), an Abort that replaces the message, and the opening event
(the Send, or the Impression of in-app messages and Banners). The channel's steps follow in order. A step
is a callable on the `Delivery` under way: it returns None to go on, or a bool that ends the lifecycle with
that engagement (engagement leads to conversions). The step tables are in `harness.generate.lifecycles`.

The order and number of random draws is part of the output (same seed, same bytes): a step draws exactly
what the branch it stands for draws, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.catalog import ROLE_NONE, load_catalog
from harness.generate import inbound
from harness.generate.timeline import Context, Timeline

_CATALOG = load_catalog()


def roles_of(channel: str) -> dict[str, str]:
    """role -> type id of one channel (or area), from the catalog."""
    return {t.role: t.type_id for t in _CATALOG.by_channel(channel) if t.role != ROLE_NONE}


class Delivery:
    """One message to one user under way: its context, the clock of its lifecycle, whether the user engaged."""

    __slots__ = ("s", "ctx", "t", "engaged")

    def __init__(self, s: Timeline, ctx: Context, t: int) -> None:
        self.s = s
        self.ctx = ctx
        self.t = t
        self.engaged = False


Step = Callable[[Delivery], "bool | None"]
Fields = Callable[[Timeline, Context], "dict[str, Any]"]


@dataclass(frozen=True, slots=True)
class Wait:
    """The lifecycle's clock moves on by a drawn delay (`randrange(lo, hi)` seconds)."""

    lo: int
    hi: int

    def __call__(self, d: Delivery) -> None:
        d.t += d.s.rnd.randrange(self.lo, self.hi)


@dataclass(frozen=True, slots=True)
class Branch:
    """One event that happens with probability `rate` (always when None), `delay` after the clock.

    `advance`: later steps start from this event's time. `wait_after`: the clock moves on after it.
    `ends`: the lifecycle ends with this engagement when the branch happens; `required`: it ends
    (not engaged) when the branch does not. `when`: a precondition checked before any draw. `favour`:
    further types whose being wanted (`StreamConfig.types`) makes this branch likely.
    """

    type_id: str
    rate: str | None = None
    delay: tuple[int, int] | None = None
    advance: bool = True
    fields: Fields | None = None
    engages: bool = False
    ends: bool | None = None
    required: bool = False
    when: Callable[[Context], bool] | None = None
    wait_after: tuple[int, int] | None = None
    favour: tuple[str, ...] = ()

    def __call__(self, d: Delivery) -> bool | None:
        s = d.s
        if (self.when is not None and not self.when(d.ctx)) or (
                self.rate is not None and not s.chance(self.rate, self.type_id, *self.favour)):
            return False if self.required else None
        at = d.t
        if self.delay is not None:
            at += s.rnd.randrange(*self.delay)
            if self.advance:
                d.t = at
        s.emit(self.type_id, at, d.ctx, self.fields(s, d.ctx) if self.fields is not None else None)
        if self.wait_after is not None:
            d.t += s.rnd.randrange(*self.wait_after)
        if self.engages:
            d.engaged = True
        return self.ends


@dataclass(frozen=True, slots=True)
class Reply:
    """An inbound reply to the message, `delay` after the clock: it carries the message's fields (§9)."""

    channel: str
    delay: tuple[int, int]
    favour: tuple[str, ...] = ()

    def __call__(self, d: Delivery) -> None:
        s = d.s
        if s.chance("reply", inbound.INBOUND[self.channel], *self.favour):
            inbound.receive(s, self.channel, d.ctx, d.t + s.rnd.randrange(*self.delay), d.ctx)
            d.engaged = True


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """One channel's lifecycle: its message fields, the shared head, then its steps (see the module doc)."""

    channel: str
    types: dict[str, str]  # role -> type id of the channel
    steps: tuple[Step, ...] = ()
    opening: str | None = "send"  # role of the event that opens the lifecycle after the head
    prepare: Callable[[Timeline, Context, bool], Context] | None = None
    forced_abort: Callable[[Context], bool] | None = None  # aborts without a draw (no token, no app)
    abort_fields: Callable[[Context], dict[str, Any]] | None = None
    also_emits: tuple[str, ...] = ()  # types of other channels or areas the lifecycle can emit

    def __call__(self, s: Timeline, ctx: Context, t: int, fallback: bool = False) -> bool:
        """Run the lifecycle from time `t`; True when the user engaged. `fallback`: the message replaces
        a failed one of another channel (D10), so it has no head of its own."""
        if self.prepare is not None:
            ctx = self.prepare(s, ctx, fallback)
        types = self.types
        if not fallback:
            retry = types.get("retry")
            if retry is not None and retry in s.catalog and s.chance("retry", retry):
                s.emit(retry, t, ctx)
                t += s.rnd.randrange(600, 4 * 3600)
            abort = types.get("abort")
            if abort is not None and (
                    (self.forced_abort is not None and self.forced_abort(ctx)) or s.chance("abort", abort)):
                s.emit(abort, t, ctx, self.abort_fields(ctx) if self.abort_fields is not None else None)
                return False
        if self.opening is not None:
            s.emit(types[self.opening], t, ctx)
        d = Delivery(s, ctx, t)
        for step in self.steps:
            ended = step(d)
            if ended is not None:
                return ended
        return d.engaged

    @property
    def emits(self) -> tuple[str, ...]:
        """Every type this lifecycle can emit: the channel's message types and `also_emits`."""
        return tuple(t.type_id for t in _CATALOG.by_channel(self.channel) if t.is_message) + self.also_emits
