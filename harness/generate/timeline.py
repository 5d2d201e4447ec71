"""The timeline engine of a stream: one seeded random source, true time, and the heap that orders events.

Stories schedule events at their true times (`Timeline.emit`); `Timeline.run` starts stories one after
another across the span and yields the scheduled events in true-time order ("delivery" order), so every
prefix of the stream is lifecycle-closed. A record's `time` is its true time except for the documented
exceptions (currents-to-mixpanel.md §9), listed in `StreamReport.skewed_ids`: SDK clock skew on the types the
catalog marks `sdk_logged`, and a time given on purpose (a push Open dated before its Send).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from heapq import heappop as _heappop
from heapq import heappush as _heappush
from typing import Any, Protocol

from harness.catalog import Catalog
from harness.generate.config import DEFAULT_RATES, DispatchRecord, GenerationError, StreamConfig, StreamReport
from harness.generate.providers import uuid4_from_bits
from harness.generate.records import RecordFactory
from harness.generate.sources import Draw, StreamRandom, pools_for
from harness.generate.world import Campaign, Canvas, Device, World

# The fields one message gives every event of its lifecycle (and a reply).
MESSAGE_KEYS: tuple[str, ...] = (
    "campaign_id", "campaign_name", "message_variation_id", "message_variation_name", "canvas_id", "canvas_name",
    "canvas_variation_id", "canvas_variation_name", "canvas_step_id", "canvas_step_name",
    "canvas_step_message_variation_id", "dispatch_id", "send_id", "_conversions",
)

# One message to one user: what every event of its lifecycle shares.
Message = dict[str, Any]
# The context of one event: user, device and message fields, and the "_"-prefixed generator notes.
Context = dict[str, Any]
# One event of the stream: its type id and flat record.
Scheduled = tuple[str, dict[str, Any]]


class StorySource(Protocol):
    """What the timeline draws stories from: the kinds, their cumulative weights, one teller per kind."""

    @property
    def kinds(self) -> Sequence[str]: ...

    @property
    def cum_weights(self) -> Sequence[float]: ...

    @property
    def tellers(self) -> Mapping[str, Callable[[int], None]]: ...

    @property
    def story_types(self) -> Mapping[str, tuple[str, ...]]: ...


class Timeline:
    """The state of one stream generation (one seed, one world, one config): random source, clock, heap."""

    def __init__(self, world: World, config: StreamConfig, seed: int, catalog: Catalog,
                 factory: RecordFactory, report: StreamReport) -> None:
        self.world = world
        self.cfg = config
        self.catalog = catalog
        self.factory = factory
        self.report = report
        self.rnd = StreamRandom(seed * 2_654_435_761 + 97)
        self.draw = Draw(self.rnd, pools_for(seed), world)
        self.rates = {**DEFAULT_RATES, **{k: float(v) for k, v in config.rates.items()}}
        self.duplicate_rate = self.rates["duplicate"]
        self._bits = self.rnd.getrandbits
        self._build = factory.build
        self.focus: frozenset[str] | None = frozenset(config.types) if config.types is not None else None
        self.wanting: dict[str, int] = {}
        """`cover`: how many more of each selected type the stream still needs (empty: no steering)."""
        self.sdk_logged = frozenset(t.type_id for t in catalog.all_types() if t.sdk_logged)
        self.anchor = config.anchor
        self.heap: list[tuple[int, int, str, dict[str, Any]]] = []
        self.seq = 0
        self.t0 = config.anchor - config.span_s
        self.span = config.span_s
        self._user_ctx: dict[tuple[int, int], Context] = {}
        users = world.users
        self.with_device = [i for i, u in enumerate(users) if u.devices]
        self.with_email = [i for i, u in enumerate(users) if u.email]
        self.with_phone = [i for i, u in enumerate(users) if u.phone]
        self.with_ios = [i for i, u in enumerate(users) if any(d.platform == "ios" for d in u.devices)]

    def chance(self, rate: str, *types: str) -> bool:
        """A lifecycle branch; when only some types are wanted, branches leading to them are favoured."""
        p = self.rates[rate]
        # `cover` favours the types still missing; focused runs favour the wanted types
        steer = self.wanting.keys() if self.wanting else self.focus
        if steer is not None and p > 0 and types and not steer.isdisjoint(types):
            p = max(p, 0.5)
        return self.rnd.random() < p

    def user_ctx(self, user_index: int, device_index: int = -1) -> dict[str, Any]:
        """Identity and device fields of a user (on one device, or none): shared by all their events."""
        key = (user_index, device_index)
        ctx = self._user_ctx.get(key)
        if ctx is None:
            user = self.world.users[user_index]
            ident_at = self.t0 + int(user.identified_after * self.span) if user.external_user_id else None
            ctx = {
                "_user": user, "_ext": user.external_user_id, "_ident_at": ident_at,
                "user_id": user.user_id, "timezone": user.timezone, "app_group_id": self.world.app_group_id,
                "gender": user.gender, "country": user.country, "language": user.language,
                "email_address": user.email, "phone_number": user.phone, "bsuid": user.whatsapp_bsuid,
                "first_name": user.first_name, "last_name": user.last_name,
                "native_line_id": "U" + user.user_id + "00000000",
                "device_id": None, "app_id": None, "platform": None, "os_version": None, "device_model": None,
                "ad_id": None, "ad_id_type": None, "ad_tracking_enabled": None,
            }
            if device_index >= 0:
                d: Device = user.devices[device_index]
                ctx.update(
                    device_id=d.device_id, app_id=d.app_id, platform=d.platform, os_version=d.os_version,
                    device_model=d.device_model, sdk_version=d.sdk_version, resolution=d.resolution,
                    carrier=d.carrier, ad_id=d.ad_id, ad_id_type=d.ad_id_type,
                    ad_tracking_enabled=d.ad_tracking_enabled, push_token=d.push_token, _skew=d.clock_skew_s,
                )
            self._user_ctx[key] = ctx
        return ctx

    def pick_user(self, pool: list[int]) -> int:
        return self.rnd.choice(pool)

    def pick_device(self, user_index: int) -> int:
        devices = self.world.users[user_index].devices
        return self.rnd.randrange(len(devices)) if devices else -1

    def emit(self, type_id: str, t: int, ctx: dict[str, Any], over: dict[str, Any] | None = None,
             time_value: int | None = None) -> dict[str, Any] | None:
        """Schedule one event at true time `t` (its `time` is `time_value` when deliberately skewed)."""
        if self.focus is not None and type_id not in self.focus:
            return None
        if t > self.anchor:
            self.report.not_yet_happened += 1
            return None
        if time_value is None:
            skew = ctx.get("_skew")
            if skew and type_id in self.sdk_logged:
                stamp, skewed = t + skew, True
            else:
                stamp, skewed = t, False
        else:
            stamp, skewed = time_value, True
        if stamp > self.anchor:
            stamp = self.anchor
        ident_at = ctx.get("_ident_at")
        event_id = uuid4_from_bits(self._bits(128))
        record = self._build(self.draw, type_id, ctx, {
            "id": event_id, "time": stamp,
            "external_user_id": ctx["_ext"] if ident_at is not None and t >= ident_at else None}, over)
        if skewed:
            self.report.skewed_ids.add(record["id"])
        _heappush(self.heap, (t, self.seq, type_id, record))
        self.seq += 1
        if self.duplicate_rate and self.rnd.random() < self.duplicate_rate:
            redelivered = t + self.rnd.randrange(1, 3600)
            if redelivered <= self.anchor:
                self.report.duplicate_ids.add(record["id"])
                _heappush(self.heap, (redelivered, self.seq, type_id, dict(record)))
                self.seq += 1
        return record

    def _covered(self, type_id: str) -> None:
        left = self.wanting[type_id] - 1
        if left > 0:
            self.wanting[type_id] = left
        else:
            del self.wanting[type_id]

    def ledger(self, dispatch_id: str, kind: str, *, campaign: Campaign | None = None, canvas: Canvas | None = None,
               step_id: str | None = None, user_ids: list[str], channels: tuple[str, ...]) -> None:
        if self.cfg.keep_ledger:
            self.report.dispatches.append(DispatchRecord(
                dispatch_id, kind, campaign.campaign_id if campaign else None, canvas.canvas_id if canvas else None,
                step_id, user_ids, channels))

    def run(self, stories: StorySource, progress: Callable[[int], None] | None = None) -> Iterator[Scheduled]:
        """Start stories one after another over the span and yield their events in true-time order."""
        target = self.cfg.events
        if target == 0:
            return
        gap = self.span / target
        cursor = float(self.t0)
        produced = 0
        idle = 0
        heap = self.heap
        report = self.report
        kinds, cum_weights, tell = stories.kinds, stories.cum_weights, stories.tellers
        if self.cfg.cover:
            producible = {t for k in kinds for t in stories.story_types[k]}
            wanted = producible if self.focus is None else producible & self.focus
            self.wanting = dict.fromkeys(sorted(wanted), self.cfg.cover)
        while produced < target:
            if cursor < self.anchor:
                kind = self._steer(kinds, stories) if self.wanting else \
                    self.rnd.choices(kinds, cum_weights=cum_weights)[0]
                before = self.seq
                start = int(cursor + self.rnd.random() * gap)
                tell[kind](min(start, self.anchor))
                report.stories[kind] += 1
                made = self.seq - before
                if made:
                    idle = 0
                    cursor += gap * made
                else:
                    idle += 1
                    if idle > 20_000:
                        raise GenerationError(
                            "no events produced in 20000 stories: the world cannot yield the wanted types")
                limit = cursor
            else:
                limit = float("inf")  # every story has started: drain
                if not heap:
                    raise GenerationError(f"stream ended after {produced} of {target} events")
            while heap and heap[0][0] < limit and produced < target:
                _, _, type_id, record = _heappop(heap)
                produced += 1
                report.by_type[type_id] += 1
                if self.wanting and type_id in self.wanting:
                    self._covered(type_id)  # counted when it is in the stream, not when scheduled
                if progress is not None and produced % 10_000 == 0:
                    progress(produced)
                yield type_id, record
        report.events = produced
        if self.cfg.cover:
            wanted_types = self.focus if self.focus is not None else {t for k in kinds for t in stories.story_types[k]}
            report.uncovered = {t: report.by_type[t] for t in sorted(wanted_types)
                                if report.by_type[t] < self.cfg.cover}

    def _steer(self, kinds: Sequence[str], stories: StorySource) -> str:
        """`cover`: a story kind that can still tell a missing type (the first in random order)."""
        missing = self.wanting.keys()
        able = [k for k in kinds if not missing.isdisjoint(stories.story_types[k])]
        if not able:
            self.wanting.clear()  # nothing left can produce them: back to the mix
            return kinds[0]
        return able[self.rnd.randrange(len(able))]
