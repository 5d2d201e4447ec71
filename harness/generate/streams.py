"""Currents event streams over a world, obeying the lifecycle and `dispatch_id` rules (issue 5 §3).

A stream is a sequence of *stories*: one session of one user, one campaign send (to one user when
triggered, to a batch when scheduled), one Canvas pass, an inbound message, a token change, ... Each
story emits its events at their true times into a heap; the stream yields them in true-time order
("delivery" order), so every prefix of the stream is lifecycle-closed (an Open never precedes its Send in
the stream). The record's `time` is the true time except for the documented exceptions
(currents-to-mixpanel.md §9): a push Open dated before its Send and SDK clock skew; both are listed in
`StreamReport.skewed_ids`.

`dispatch_id` (§8): a scheduled campaign send shares one id across its recipients, channels and
variations (D1, D3, D12) and every lifecycle event (D6); action-based and API-triggered sends get one id
per user per trigger (D2); Canvas steps one id per (user, step, send) by default (D4), the entry step of a
scheduled Canvas one id per send (D5), switchable with `canvas_dispatch_mode`; Retry records share the id
of the eventual Send (D9); an SMS fallback shares `send_id` and `dispatch_id` with the RCS Rejection (D10).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from heapq import heappop as _heappop
from heapq import heappush as _heappush
from typing import Any

from harness.catalog import (
    CHANNEL_BANNER,
    CHANNEL_CONTENT_CARD,
    CHANNEL_EMAIL,
    CHANNEL_IN_APP,
    CHANNEL_LINE,
    CHANNEL_LIVE_ACTIVITY,
    CHANNEL_PUSH,
    CHANNEL_RCS,
    CHANNEL_SMS,
    CHANNEL_WEBHOOK,
    CHANNEL_WHATSAPP,
    Catalog,
)
from harness.generate.providers import uuid4_from_bits
from harness.generate.records import RecordFactory
from harness.generate.sources import Draw, StreamRandom, pools_for
from harness.generate.world import (
    DELIVERY_SCHEDULED,
    ENTRY_SCHEDULED,
    Campaign,
    Canvas,
    Device,
    User,
    World,
)

# A fixed default anchor keeps `--seed` output identical byte for byte; it lies in the past, as Mixpanel
# requires (§10 "Future timestamps"). 2026-01-01T00:00:00Z.
DEFAULT_ANCHOR = 1_767_225_600
DEFAULT_SPAN_S = 7 * 86_400

CANVAS_DISPATCH_MODES: tuple[str, ...] = ("default", "shared", "mixed")

# Probabilities of each lifecycle branch and edge case. [HD] unless the spec fixes them; all configurable.
DEFAULT_RATES: dict[str, float] = {
    "push_open_before_send": 0.005,  # §9 push, §11 push_open_before_send_rate
    "retry": 0.01,  # Message Prioritization retry before a Send (D9)
    "abort": 0.02,  # an Abort replaces the Send
    "email_bounce": 0.03,
    "email_soft_bounce": 0.03,
    "email_deferral": 0.04,
    "email_open": 0.45,
    "email_machine_open": 0.3,  # share of opens with machine_open = "true"
    "email_click": 0.35,  # given an open
    "email_click_without_open": 0.03,
    "email_unsubscribe": 0.02,
    "email_mark_as_spam": 0.005,
    "push_bounce": 0.03,
    "push_open": 0.2,
    "push_ios_foreground": 0.02,
    "sms_carrier_send": 0.3,  # legacy SMS infrastructure
    "sms_rejection": 0.03,
    "sms_delivery_failure": 0.03,
    "sms_short_link_click": 0.1,
    "reply": 0.08,  # an inbound reply to an SMS / RCS / WhatsApp / LINE message
    "inbound_keyword": 0.3,  # share of inbound messages that opt in or out
    "rcs_rejection": 0.05,
    "rcs_sms_fallback": 0.5,  # share of RCS rejections that fall back to SMS (D10)
    "rcs_read": 0.5,
    "chat_click": 0.1,
    "whatsapp_failure": 0.04,
    "whatsapp_read": 0.6,
    "webhook_failure": 0.05,
    "webhook_retry_success": 0.6,
    "card_impression": 0.6,
    "card_click": 0.3,
    "card_dismiss": 0.2,
    "iam_click": 0.25,
    "banner_click": 0.2,
    "banner_dismiss": 0.1,
    "conversion": 0.1,
    "control_group": 0.1,  # share of a campaign's recipients in its control group
    "canvas_exit": 0.1,
    "costep": 0.05,
    "first_session_install_attribution": 0.5,
    "purchase": 0.1,
    "location": 0.1,
    "feature_flag": 0.15,
    "uninstall": 0.01,
    "unknown_inbound_sender": 0.1,
    "duplicate": 0.0,  # at-least-once redelivery of the same record (same id), §9
    "oversize": 0.0,  # a custom event above Currents' ~900 KB limit (E12): only when asked
}

# Size of the padding an oversize record carries (E12: Currents drops records above about 900 KB).
OVERSIZE_BYTES = 950 * 1024

# Relative weights of the story kinds: the "mix of types" knob.
DEFAULT_MIX: dict[str, float] = {
    "session": 30.0,
    "campaign": 40.0,
    "canvas": 12.0,
    "inbound": 3.0,
    "push_token": 3.0,
    "live_activity": 2.0,
    "subscription": 3.0,
    "profile": 2.0,
    "agent": 1.0,
    "newsfeed": 0.5,
    "catalog_only": 1.0,
}

T_EMAIL = "users.messages.email."
T_PUSH = "users.messages.pushnotification."
T_SMS = "users.messages.sms."
T_RCS = "users.messages.rcs."
T_WA = "users.messages.whatsapp."
T_LINE = "users.messages.line."
T_WEBHOOK = "users.messages.webhook."
T_CARD = "users.messages.contentcard."
T_IAM = "users.messages.inappmessage."
T_BANNER = "users.messages.banner."
T_LIVE = "users.messages.liveactivity."

GLOBAL_STATE_CHANGE = "users.behaviors.subscription.GlobalStateChange"
GROUP_STATE_CHANGE = "users.behaviors.subscriptiongroup.StateChange"
TOKEN_STATE_CHANGE = "users.behaviors.pushnotification.TokenStateChange"


def _types(prefix: str, *names: str) -> tuple[str, ...]:
    return tuple(prefix + n for n in names)


# Which types each channel's lifecycle can emit (used to steer `--type` runs and checked by a test).
CHANNEL_TYPES: dict[str, tuple[str, ...]] = {
    CHANNEL_EMAIL: _types(T_EMAIL, "Retry", "Abort", "Send", "Delivery", "Bounce", "SoftBounce", "Deferral", "Open",
                          "Click", "Unsubscribe", "MarkAsSpam") + (GLOBAL_STATE_CHANGE,),
    CHANNEL_PUSH: _types(T_PUSH, "Retry", "Abort", "Send", "Bounce", "Open", "IosForeground"),
    CHANNEL_SMS: _types(T_SMS, "Retry", "Abort", "Send", "CarrierSend", "Delivery", "Rejection", "DeliveryFailure",
                        "ShortLinkClick", "InboundReceive") + (GROUP_STATE_CHANGE,),
    CHANNEL_RCS: _types(T_RCS, "Abort", "Send", "Delivery", "Read", "Click", "Rejection", "InboundReceive")
    + _types(T_SMS, "Send", "CarrierSend", "Delivery", "Rejection", "DeliveryFailure") + (GROUP_STATE_CHANGE,),
    CHANNEL_WHATSAPP: _types(T_WA, "Retry", "Abort", "Send", "Delivery", "Read", "Failure", "Click", "InboundReceive")
    + (GROUP_STATE_CHANGE,),
    CHANNEL_LINE: _types(T_LINE, "Retry", "Abort", "Send", "Click", "InboundReceive"),
    CHANNEL_WEBHOOK: _types(T_WEBHOOK, "Retry", "Abort", "Send", "Failure"),
    CHANNEL_CONTENT_CARD: _types(T_CARD, "Abort", "Send", "Impression", "Click", "Dismiss"),
    CHANNEL_IN_APP: _types(T_IAM, "Abort", "Impression", "Click"),
    CHANNEL_BANNER: _types(T_BANNER, "Abort", "Impression", "Click", "Dismiss"),
    CHANNEL_LIVE_ACTIVITY: _types(T_LIVE, "Send", "Outcome"),
}
_ALL_CHANNEL_TYPES = tuple(t for types in CHANNEL_TYPES.values() for t in types)

# Which types each story kind can emit.
STORY_TYPES: dict[str, tuple[str, ...]] = {
    "session": (
        "users.behaviors.app.SessionStart", "users.behaviors.app.FirstSession", "users.behaviors.app.SessionEnd",
        "users.behaviors.CustomEvent", "users.behaviors.Purchase", "users.behaviors.Location",
        "users.behaviors.InstallAttribution", "users.behaviors.Uninstall", "users.messages.featureflag.Impression",
        TOKEN_STATE_CHANGE,
    ),
    "campaign": ("users.campaigns.EnrollInControl", "users.campaigns.Conversion") + _ALL_CHANNEL_TYPES,
    "canvas": (
        "users.canvas.Entry", "users.canvasstep.Progression", "users.canvas.Conversion",
        "users.canvas.exit.MatchedAudience", "users.canvas.exit.PerformedEvent",
        "users.canvas.experimentstep.SplitEntry", "users.canvas.experimentstep.Conversion", "users.canvas.costep.Send",
    ) + _ALL_CHANNEL_TYPES,
    "inbound": (T_SMS + "InboundReceive", T_RCS + "InboundReceive", T_WA + "InboundReceive", T_LINE + "InboundReceive",
                GROUP_STATE_CHANGE),
    "push_token": (TOKEN_STATE_CHANGE,),
    "live_activity": ("users.behaviors.liveactivity.PushToStartTokenChange",
                      "users.behaviors.liveactivity.UpdateTokenChange", T_LIVE + "Send", T_LIVE + "Outcome"),
    "subscription": (GLOBAL_STATE_CHANGE, GROUP_STATE_CHANGE),
    "profile": ("users.profile.Update", "users.RandomBucketNumberUpdate", "users.UserOrphan", "users.UserDeleteRequest"),
    "agent": ("agentconsole.AgentExecuted", "agentconsole.ToolInvocation"),
    "newsfeed": ("users.messages.newsfeedcard.Impression", "users.messages.newsfeedcard.Click",
                 "users.messages.newsfeedcard.Abort"),
    "catalog_only": (),  # filled at run time: catalog types no other story emits
}

# Types logged by the SDK on the device, whose `time` follows the device clock (SDK clock skew, §9).
SDK_LOGGED_TYPES: frozenset[str] = frozenset(
    ("users.behaviors.app.SessionStart", "users.behaviors.app.FirstSession", "users.behaviors.app.SessionEnd",
     "users.behaviors.CustomEvent", "users.behaviors.Purchase", "users.behaviors.Location",
     "users.messages.featureflag.Impression")
    + _types(T_IAM, "Impression", "Click") + _types(T_CARD, "Impression", "Click", "Dismiss")
    + _types(T_BANNER, "Impression", "Click", "Dismiss")
)

# Lifecycle types that carry the `dispatch_id` of their message (§8 D6), by channel: (starters, followers).
DISPATCH_LIFECYCLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "email": (_types(T_EMAIL, "Send", "Abort"),
              _types(T_EMAIL, "Delivery", "Bounce", "SoftBounce", "Deferral", "Open", "Click", "MarkAsSpam", "Unsubscribe")),
    "push": (_types(T_PUSH, "Send", "Abort"), _types(T_PUSH, "Open", "IosForeground", "Bounce")),
    "sms": (_types(T_SMS, "Send"), _types(T_SMS, "CarrierSend", "Delivery", "Rejection", "DeliveryFailure")),
    "rcs": (_types(T_RCS, "Send"), _types(T_RCS, "Delivery", "Rejection")),
    "whatsapp": (_types(T_WA, "Send", "Abort"), _types(T_WA, "Delivery", "Read", "Failure")),
    "line": (_types(T_LINE, "Send", "Abort"), _types(T_LINE, "Click", "InboundReceive")),
    "webhook": (_types(T_WEBHOOK, "Send", "Abort"), _types(T_WEBHOOK, "Failure")),
}


# The fields one message gives every event of its lifecycle (and a reply).
MESSAGE_KEYS: tuple[str, ...] = (
    "campaign_id", "campaign_name", "message_variation_id", "message_variation_name", "canvas_id", "canvas_name",
    "canvas_variation_id", "canvas_variation_name", "canvas_step_id", "canvas_step_name",
    "canvas_step_message_variation_id", "dispatch_id", "send_id", "_conversions",
)


class GenerationError(ValueError):
    """The requested stream cannot be produced (bad knob, or a type this world can never yield)."""


@dataclass(slots=True)
class StreamConfig:
    """Knobs of a stream: volume, time span, mix of types, rates of each edge case (§11)."""

    events: int = 1000
    anchor: int = DEFAULT_ANCHOR  # no event is dated after this (Unix seconds)
    span_s: int = DEFAULT_SPAN_S  # stories start within [anchor - span_s, anchor]
    types: tuple[str, ...] | None = None  # only these types (None: every type)
    mix: dict[str, float] = field(default_factory=dict)  # story kind -> weight, over DEFAULT_MIX
    rates: dict[str, float] = field(default_factory=dict)  # over DEFAULT_RATES
    canvas_dispatch_mode: str = "default"  # D4: default | shared | mixed
    canvas_shared_probability: float = 0.5  # `mixed`: chance that a step send shares one id
    scheduled_batch: tuple[int, int] = (3, 40)  # recipients of one scheduled send
    keep_ledger: bool = False  # record every dispatch in StreamReport.dispatches (tests, QA)

    def validate(self, catalog: Catalog) -> None:
        if self.events < 0:
            raise GenerationError(f"events must not be negative, got {self.events}")
        if self.span_s < 1:
            raise GenerationError(f"span must be at least one second, got {self.span_s}")
        if self.anchor - self.span_s < 31_536_000:
            raise GenerationError("anchor minus span must be after 1971-01-01 (Mixpanel rejects earlier times)")
        unknown = sorted(set(self.rates) - set(DEFAULT_RATES))
        if unknown:
            raise GenerationError(f"unknown rate {unknown[0]!r} (known: {', '.join(sorted(DEFAULT_RATES))})")
        for name, value in self.rates.items():
            if not 0.0 <= float(value) <= 1.0:
                raise GenerationError(f"rate {name} must be between 0 and 1, got {value}")
        unknown = sorted(set(self.mix) - set(DEFAULT_MIX))
        if unknown:
            raise GenerationError(f"unknown story kind {unknown[0]!r} in mix (known: {', '.join(DEFAULT_MIX)})")
        if any(float(v) < 0 for v in self.mix.values()):
            raise GenerationError("mix weights must not be negative")
        if self.canvas_dispatch_mode not in CANVAS_DISPATCH_MODES:
            raise GenerationError(f"canvas_dispatch_mode must be one of {', '.join(CANVAS_DISPATCH_MODES)}")
        if self.types is not None:
            for type_id in self.types:
                if type_id not in catalog:
                    raise GenerationError(f"unknown Currents event type {type_id!r}")
        lo, hi = self.scheduled_batch
        if not 1 <= lo <= hi:
            raise GenerationError("scheduled_batch must be (low, high) with 1 <= low <= high")


@dataclass(slots=True)
class DispatchRecord:
    """One dispatch the stream created (kept when `StreamConfig.keep_ledger`)."""

    dispatch_id: str
    kind: str  # "scheduled", "triggered", "canvas_entry_shared", "canvas_step", "canvas_step_shared"
    campaign_id: str | None
    canvas_id: str | None
    step_id: str | None
    user_ids: list[str]
    channels: tuple[str, ...]


@dataclass(slots=True)
class StreamReport:
    """What a stream produced, and its deliberate exceptions to time order."""

    events: int = 0
    by_type: Counter = field(default_factory=Counter)
    stories: Counter = field(default_factory=Counter)
    skewed_ids: set[str] = field(default_factory=set)  # `time` deliberately off (push open before send, SDK skew)
    duplicate_ids: set[str] = field(default_factory=set)  # redelivered records (same id)
    not_yet_happened: int = 0  # lifecycle follow-ups after the anchor, left out
    dispatches: list[DispatchRecord] = field(default_factory=list)


# One message to one user: what every event of its lifecycle shares.
Message = dict[str, Any]


class _Stream:
    """The state of one stream generation (one seed, one world, one config)."""

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
        self.anchor = config.anchor
        self.heap: list[tuple[int, int, str, dict[str, Any]]] = []
        self.seq = 0
        self.t0 = config.anchor - config.span_s
        self.span = config.span_s
        self.first_sessions: set[str] = set()
        self.uninstalled: set[tuple[str, str]] = set()
        self._user_ctx: dict[tuple[int, int], dict[str, Any]] = {}
        users = world.users
        self.with_device = [i for i, u in enumerate(users) if u.devices]
        self.with_email = [i for i, u in enumerate(users) if u.email]
        self.with_phone = [i for i, u in enumerate(users) if u.phone]
        self.with_ios = [i for i, u in enumerate(users) if any(d.platform == "ios" for d in u.devices)]
        covered = {t for kind, types in STORY_TYPES.items() for t in types}
        self.catalog_only = tuple(t for t in catalog.type_ids if t not in covered)
        self.story_types = {**STORY_TYPES, "catalog_only": self.catalog_only}
        self.stories: dict[str, Callable[[int], None]] = {
            "session": self.story_session, "campaign": self.story_campaign, "canvas": self.story_canvas,
            "inbound": self.story_inbound, "push_token": self.story_push_token,
            "live_activity": self.story_live_activity, "subscription": self.story_subscription,
            "profile": self.story_profile, "agent": self.story_agent, "newsfeed": self.story_newsfeed,
            "catalog_only": self.story_catalog_only,
        }
        mix = {**DEFAULT_MIX, **{k: float(v) for k, v in config.mix.items()}}
        kinds = [k for k in DEFAULT_MIX if mix[k] > 0 and self._story_possible(k)]
        if self.focus is not None:
            kinds = [k for k in kinds if self.focus.intersection(self.story_types[k])]
            missing = sorted(self.focus - {t for k in kinds for t in self.story_types[k]})
            if missing:
                raise GenerationError(f"this world and mix cannot produce {missing[0]}")
        if not kinds and config.events:
            raise GenerationError("the mix leaves no story kind to generate")
        self.kinds = kinds
        self.cum_weights = list(itertools.accumulate(mix[k] for k in kinds))
        self._eligible: dict[tuple[str, ...], list[int]] = {}
        self.campaigns = list(world.campaigns)
        if self.focus is not None:  # steer campaigns and Canvases to the wanted channels
            wanted = {ch for ch, types in CHANNEL_TYPES.items() if self.focus.intersection(types)}
            focused = [c for c in self.campaigns if wanted.intersection(c.channels)]
            self.campaigns = focused or self.campaigns

    # --- plumbing ------------------------------------------------------------------------------------
    def _story_possible(self, kind: str) -> bool:
        w = self.world
        if kind == "campaign":
            return bool(w.campaigns)
        if kind == "canvas":
            return bool(w.canvases)
        if kind in ("session", "push_token", "newsfeed"):
            return bool(self.with_device)
        if kind == "live_activity":
            return bool(self.with_ios)
        if kind == "catalog_only":
            return bool(self.catalog_only)
        return True

    def chance(self, rate: str, *types: str) -> bool:
        """A lifecycle branch; when only some types are wanted, branches leading to them are favoured."""
        p = self.rates[rate]
        if self.focus is not None and p > 0 and types and self.focus.intersection(types):
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
                    carrier=d.carrier, ad_id=d.ad_id, ad_id_type=d.ad_id_type, ad_tracking_enabled=d.ad_tracking_enabled,
                    push_token=d.push_token, _skew=d.clock_skew_s,
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
        skewed = time_value is not None
        if not skewed:
            skew = ctx.get("_skew")
            if skew and type_id in SDK_LOGGED_TYPES:
                time_value, skewed = t + skew, True
            else:
                time_value = t
        if time_value > self.anchor:
            time_value = self.anchor
        ident_at = ctx.get("_ident_at")
        event_id = uuid4_from_bits(self._bits(128))
        record = self._build(self.draw, type_id, ctx, {
            "id": event_id, "time": time_value,
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

    def ledger(self, dispatch_id: str, kind: str, *, campaign: Campaign | None = None, canvas: Canvas | None = None,
               step_id: str | None = None, user_ids: list[str], channels: tuple[str, ...]) -> None:
        if self.cfg.keep_ledger:
            self.report.dispatches.append(DispatchRecord(
                dispatch_id, kind, campaign.campaign_id if campaign else None, canvas.canvas_id if canvas else None,
                step_id, user_ids, channels))

    # --- the stream ----------------------------------------------------------------------------------
    def run(self, progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        target = self.cfg.events
        if target == 0:
            return
        gap = self.span / target
        cursor = float(self.t0)
        produced = 0
        idle = 0
        heap = self.heap
        report = self.report
        while produced < target:
            if cursor < self.anchor:
                kind = self.rnd.choices(self.kinds, cum_weights=self.cum_weights)[0]
                before = self.seq
                start = int(cursor + self.rnd.random() * gap)
                self.stories[kind](min(start, self.anchor))
                report.stories[kind] += 1
                made = self.seq - before
                if made:
                    idle = 0
                    cursor += gap * made
                else:
                    idle += 1
                    if idle > 20_000:
                        raise GenerationError("no events produced in 20000 stories: the world cannot yield the wanted types")
                limit = cursor
            else:
                limit = float("inf")  # every story has started: drain
                if not heap:
                    raise GenerationError(f"stream ended after {produced} of {target} events")
            while heap and heap[0][0] < limit and produced < target:
                _, _, type_id, record = _heappop(heap)
                produced += 1
                report.by_type[type_id] += 1
                if progress is not None and produced % 10_000 == 0:
                    progress(produced)
                yield type_id, record
        report.events = produced

    # --- message context and dispatches ---------------------------------------------------------------
    def campaign_message(self, campaign: Campaign, dispatch_id: str) -> Message:
        variation = self.rnd.choice(campaign.variations)
        return {
            "campaign_id": campaign.campaign_id, "campaign_name": campaign.name,
            "message_variation_id": variation.variation_id, "message_variation_name": variation.name,
            "canvas_id": None, "canvas_name": None, "canvas_variation_id": None, "canvas_variation_name": None,
            "canvas_step_id": None, "canvas_step_name": None, "canvas_step_message_variation_id": None,
            "dispatch_id": dispatch_id, "send_id": campaign.send_id,
            "_conversions": campaign.conversions, "_campaign": campaign,
        }

    def channel_possible(self, channel: str, user_index: int) -> bool:
        user = self.world.users[user_index]
        if channel == CHANNEL_EMAIL:
            return user.email is not None
        if channel in (CHANNEL_SMS, CHANNEL_WHATSAPP, CHANNEL_RCS):
            return user.phone is not None
        if channel in (CHANNEL_PUSH, CHANNEL_IN_APP, CHANNEL_BANNER, CHANNEL_CONTENT_CARD):
            return bool(user.devices)
        if channel == CHANNEL_LIVE_ACTIVITY:
            return any(d.platform == "ios" for d in user.devices)
        return True

    def eligible(self, channels: tuple[str, ...]) -> list[int]:
        users = self._eligible.get(channels)
        if users is None:
            users = self._eligible[channels] = [
                i for i in range(len(self.world.users)) if any(self.channel_possible(c, i) for c in channels)]
        return users

    def deliver(self, channel: str, user_index: int, msg: Message, t: int) -> bool:
        """Run one channel's lifecycle for one user; True when the user engaged (for conversions)."""
        device_index = self.pick_device(user_index)
        if channel == CHANNEL_LIVE_ACTIVITY:
            ios = [i for i, d in enumerate(self.world.users[user_index].devices) if d.platform == "ios"]
            device_index = ios[0] if ios else device_index
        ctx = {**self.user_ctx(user_index, device_index), **msg}
        return LIFECYCLES[channel](self, ctx, t)

    def after_engagement(self, ctx: dict[str, Any], t: int, engaged: bool) -> None:
        """Conversions follow engagement with the same campaign or Canvas (§9)."""
        if not engaged or not self.chance("conversion", "users.campaigns.Conversion", "users.canvas.Conversion"):
            return
        conversion = self.rnd.choice(ctx["_conversions"])
        over = {"conversion_behavior_index": conversion.index, "conversion_behavior": conversion.behavior}
        when = t + self.rnd.randrange(60, 86_400)
        if ctx.get("campaign_id"):
            self.emit("users.campaigns.Conversion", when, ctx, over)
        elif ctx.get("canvas_id"):
            self.emit("users.canvas.Conversion", when, ctx, over)

    # --- stories ----------------------------------------------------------------------------------------
    def story_campaign(self, t: int) -> None:
        campaign = self.rnd.choice(self.campaigns)
        recipients = self.eligible(campaign.channels)
        if not recipients:
            return
        if campaign.delivery == DELIVERY_SCHEDULED:
            # D1/D3/D12: one id for the whole send: every recipient, channel and variation.
            dispatch_id = self.draw.hex24()
            lo, hi = self.cfg.scheduled_batch
            batch = self.rnd.sample(recipients, min(len(recipients), self.rnd.randint(lo, hi)))
            self.ledger(dispatch_id, "scheduled", campaign=campaign, user_ids=[self.world.users[i].user_id for i in batch],
                        channels=campaign.channels)
            for user_index in batch:
                self.send_campaign(campaign, user_index, dispatch_id, t + self.rnd.randrange(0, 300))
        else:
            # D2: an action-based or API-triggered send: one id per user per trigger.
            user_index = self.rnd.choice(recipients)
            dispatch_id = self.draw.hex24()
            self.ledger(dispatch_id, "triggered", campaign=campaign, user_ids=[self.world.users[user_index].user_id],
                        channels=campaign.channels)
            self.send_campaign(campaign, user_index, dispatch_id, t)

    def send_campaign(self, campaign: Campaign, user_index: int, dispatch_id: str, t: int) -> None:
        msg = self.campaign_message(campaign, dispatch_id)
        if campaign.has_control_group and self.chance("control_group", "users.campaigns.EnrollInControl"):
            # A control-group user gets the enrollment and no message events (§9); D8: the send's id.
            ctx = {**self.user_ctx(user_index, self.pick_device(user_index)), **msg}
            self.emit("users.campaigns.EnrollInControl", t, ctx)
            return
        engaged = False
        last_ctx: dict[str, Any] | None = None
        for channel in campaign.channels:
            if self.channel_possible(channel, user_index):
                engaged |= self.deliver(channel, user_index, msg, t)
                last_ctx = {**self.user_ctx(user_index, -1), **msg}
        if last_ctx is not None:
            self.after_engagement(last_ctx, t, engaged)

    def story_canvas(self, t: int) -> None:
        canvas = self.rnd.choice(self.world.canvases)
        variation = self.rnd.choice(canvas.variations)
        if canvas.entry == ENTRY_SCHEDULED:
            lo, hi = self.cfg.scheduled_batch
            pool = list(range(len(self.world.users)))
            batch = self.rnd.sample(pool, min(len(pool), self.rnd.randint(lo, hi)))
        else:
            batch = [self.rnd.randrange(len(self.world.users))]
        mode = self.cfg.canvas_dispatch_mode
        # Per step: a shared id for the whole batch, or None (one id per user), decided per (step, send).
        shared: list[str | None] = []
        for index, step in enumerate(variation.steps):
            if mode == "shared":
                share = True
            elif mode == "mixed":
                share = self.rnd.random() < self.cfg.canvas_shared_probability
            else:  # D4 default, D5: the entry step of a scheduled Canvas is shared per send
                share = index == 0 and canvas.entry == ENTRY_SCHEDULED
            shared.append(self.draw.hex24() if share else None)
            if share and step.channel:
                kind = "canvas_entry_shared" if index == 0 and mode == "default" else "canvas_step_shared"
                self.ledger(shared[-1], kind, canvas=canvas, step_id=step.step_id,
                            user_ids=[self.world.users[i].user_id for i in batch], channels=(step.channel,))
        for user_index in batch:
            self.canvas_pass(canvas, variation, user_index, t + self.rnd.randrange(0, 300), shared)

    def canvas_pass(self, canvas: Canvas, variation: Any, user_index: int, t: int, shared: list[str | None]) -> None:
        user_id = self.world.users[user_index].user_id
        base = {
            **self.user_ctx(user_index, self.pick_device(user_index)),
            "campaign_id": None, "campaign_name": None, "message_variation_id": None, "message_variation_name": None,
            "canvas_id": canvas.canvas_id, "canvas_name": canvas.name,
            "canvas_variation_id": variation.variation_id, "canvas_variation_name": variation.name,
            "send_id": None, "_conversions": canvas.conversions,
        }
        first = variation.steps[0]
        in_control = canvas.has_control_group and self.chance("control_group")
        entry = {**base, "canvas_step_id": first.step_id, "canvas_step_name": first.name}
        self.emit("users.canvas.Entry", t, entry, {"in_control_group": in_control})
        if in_control:
            return
        entry_id = self.draw.uuid()
        engaged = False
        last = entry
        for index, step in enumerate(variation.steps):
            nxt = variation.steps[index + 1] if index + 1 < len(variation.steps) else None
            ctx = {**base, "canvas_step_id": step.step_id, "canvas_step_name": step.name,
                   "canvas_step_message_variation_id": step.message_variation_id, "canvas_entry_id": entry_id}
            last = ctx
            self.emit("users.canvasstep.Progression", t, ctx, {
                "progression_type": "Step", "is_canvas_entry": index == 0,
                "next_step_id": nxt.step_id if nxt else None, "exit_reason": None})
            if index == 0 and canvas.experiment_step_id:
                split = self.rnd.choice(canvas.experiment_splits)
                exp = {"experiment_step_id": canvas.experiment_step_id, "experiment_split_id": split.split_id,
                       "experiment_split_name": split.name}
                self.emit("users.canvas.experimentstep.SplitEntry", t + 1, ctx, {**exp, "in_control_group": False})
                if self.chance("conversion", "users.canvas.experimentstep.Conversion"):
                    conversion = self.rnd.choice(canvas.conversions)
                    self.emit("users.canvas.experimentstep.Conversion", t + self.rnd.randrange(3600, 86_400), ctx, {
                        **exp, "conversion_behavior_index": conversion.index, "conversion_behavior": conversion.behavior})
            if step.channel and self.channel_possible(step.channel, user_index):
                dispatch_id = shared[index]
                if dispatch_id is None:  # D4: one id per (user, step, send)
                    dispatch_id = self.draw.hex24()
                    self.ledger(dispatch_id, "canvas_step", canvas=canvas, step_id=step.step_id,
                                user_ids=[user_id], channels=(step.channel,))
                msg = {key: ctx[key] for key in MESSAGE_KEYS if key in ctx}
                msg["dispatch_id"] = dispatch_id
                if self.chance("costep", "users.canvas.costep.Send"):
                    self.emit("users.canvas.costep.Send", t, {**ctx, "dispatch_id": dispatch_id}, {
                        "channel": step.channel, "content_optimizer_step_id": step.step_id})
                engaged |= self.deliver(step.channel, user_index, msg, t)
            if self.chance("canvas_exit", "users.canvas.exit.MatchedAudience", "users.canvas.exit.PerformedEvent"):
                exit_type = self.rnd.choice(("users.canvas.exit.MatchedAudience", "users.canvas.exit.PerformedEvent"))
                self.emit("users.canvasstep.Progression", t + 60, ctx, {
                    "progression_type": "Exit", "is_canvas_entry": False, "next_step_id": None,
                    "exit_reason": "Exit criteria" if exit_type.endswith("MatchedAudience") else "Performed exit event"})
                self.emit(exit_type, t + 60, ctx)
                break
            t += self.rnd.randrange(600, 12 * 3600)  # the delay before the next step
        self.after_engagement(last, t, engaged)

    def story_session(self, t: int) -> None:
        user_index = self.pick_user(self.with_device)
        device_index = self.pick_device(user_index)
        ctx = self.user_ctx(user_index, device_index)
        device: Device = self.world.users[user_index].devices[device_index]
        session = {**ctx, "session_id": self.draw.uuid()}
        self.emit("users.behaviors.app.SessionStart", t, session)
        if device.device_id not in self.first_sessions:
            # Every First Session comes with its Session Start, same session_id (§9).
            self.first_sessions.add(device.device_id)
            self.emit("users.behaviors.app.FirstSession", t, session)
            if self.chance("first_session_install_attribution", "users.behaviors.InstallAttribution"):
                self.emit("users.behaviors.InstallAttribution", t, session)
            if device.push_token:
                self.emit(TOKEN_STATE_CHANGE, t + 1, ctx, self.token_change("add", device, t + 1))
        duration = round(self.rnd.uniform(5.0, 1200.0), 3)
        now = t
        for _ in range(self.rnd.randint(0, 3)):
            now += self.rnd.randrange(1, max(2, int(duration / 4)))
            if self.rates["oversize"] and self.chance("oversize"):
                self.emit("users.behaviors.CustomEvent", now, session, {"properties": {"blob": "x" * OVERSIZE_BYTES}})
            else:
                self.emit("users.behaviors.CustomEvent", now, session)
        if self.chance("purchase", "users.behaviors.Purchase"):
            now += 1
            self.emit("users.behaviors.Purchase", now, session)
        if self.chance("location", "users.behaviors.Location"):
            now += 1
            self.emit("users.behaviors.Location", now, session)
        if self.chance("feature_flag", "users.messages.featureflag.Impression"):  # at most once per session
            now += 1
            self.emit("users.messages.featureflag.Impression", now, session, {
                "feature_flag_id_name": self.rnd.choice(self.world.senders.feature_flags),
                "campaign_id": None, "campaign_name": None, "message_variation_id": None, "message_variation_name": None,
                "canvas_id": None, "canvas_name": None, "canvas_variation_id": None, "canvas_variation_name": None,
                "canvas_step_id": None, "canvas_step_name": None, "canvas_step_message_variation_id": None})
        end = max(now, t + int(duration))
        self.emit("users.behaviors.app.SessionEnd", end, session, {"duration": duration})
        key = (self.world.users[user_index].user_id, device.app_id)
        if key not in self.uninstalled and self.chance("uninstall", "users.behaviors.Uninstall"):
            # Inferred from a failed daily silent push, some hours after the last session (§9).
            if self.emit("users.behaviors.Uninstall", end + self.rnd.randrange(3600, 86_400), ctx) is not None:
                self.uninstalled.add(key)  # (not when it would fall after the anchor: it has not happened yet)

    def token_change(self, change: str, device: Device, t: int) -> dict[str, Any]:
        web = device.platform == "web"
        return {
            "push_token_state_change_type": change, "push_token": device.push_token, "platform": device.platform,
            "push_token_device_id": device.device_id, "time_ms": t * 1000 + self.rnd.randrange(1000),
            "push_token_created_at": t if change == "add" else t - self.rnd.randrange(86_400, 90 * 86_400),
            "push_token_updated_at": t,
            "ios_push_token_apns_gateway": 1 if device.platform in ("ios", "tvos") else None,
            "web_push_token_public_key": self.draw.hex24() if web else None,
            "web_push_token_user_auth": self.draw.hex24()[:16] if web else None,
            "web_push_token_vapid_public_key": self.draw.hex24() if web else None,
            "push_token_provisionally_opted_in": device.platform == "ios" and self.rnd.random() < 0.1,
            "push_token_foreground_push_disabled": False,
        }

    def story_push_token(self, t: int) -> None:
        """add, then zero or more update, then optionally remove (§9)."""
        user_index = self.pick_user(self.with_device)
        device_index = self.pick_device(user_index)
        device = self.world.users[user_index].devices[device_index]
        if not device.push_token:
            return
        ctx = self.user_ctx(user_index, device_index)
        self.emit(TOKEN_STATE_CHANGE, t, ctx, self.token_change("add", device, t))
        for _ in range(self.rnd.randint(0, 2)):
            t += self.rnd.randrange(3600, 5 * 86_400)
            self.emit(TOKEN_STATE_CHANGE, t, ctx, self.token_change("update", device, t))
        if self.rnd.random() < 0.3:
            t += self.rnd.randrange(3600, 5 * 86_400)
            self.emit(TOKEN_STATE_CHANGE, t, ctx, self.token_change("remove", device, t))

    def story_live_activity(self, t: int) -> None:
        user_index = self.pick_user(self.with_ios)
        devices = self.world.users[user_index].devices
        device_index = next(i for i, d in enumerate(devices) if d.platform == "ios")
        ctx = self.user_ctx(user_index, device_index)
        kind = self.rnd.choice(self.world.senders.live_activity_types)
        start_token = f"{self.rnd.getrandbits(256):064x}"
        self.emit("users.behaviors.liveactivity.PushToStartTokenChange", t, ctx, {
            "activity_attributes_type": kind, "push_to_start_token": start_token, "push_token_state_change_type": "add",
            "ios_push_token_apns_gateway": 1})
        activity = {"activity_id": self.draw.uuid(), "activity_attributes_type": kind}
        self.live_activity_lifecycle({**ctx, **activity, "push_to_start_token": start_token}, t + 60)

    def live_activity_lifecycle(self, ctx: dict[str, Any], t: int) -> None:
        """Send start/update/end to the provider, each followed by its Outcome (§9)."""
        update_token = f"{self.rnd.getrandbits(256):064x}"
        self.emit("users.messages.liveactivity.Send", t, ctx, {"live_activity_event_type": "start", "update_token": None})
        self.emit("users.messages.liveactivity.Outcome", t + 1, ctx, {"live_activity_event_type": "start", "update_token": None})
        self.emit("users.behaviors.liveactivity.UpdateTokenChange", t + 2, ctx, {
            "update_token": update_token, "push_token_state_change_type": "add", "ios_push_token_apns_gateway": 1})
        ctx = {**ctx, "update_token": update_token}
        for event_type in ("update",) * self.rnd.randint(0, 3) + ("end",):
            t += self.rnd.randrange(60, 3600)
            self.emit("users.messages.liveactivity.Send", t, ctx, {"live_activity_event_type": event_type})
            self.emit("users.messages.liveactivity.Outcome", t + 1, ctx, {"live_activity_event_type": event_type})

    def story_inbound(self, t: int) -> None:
        """An inbound message that is not a reply: no campaign fields (§9)."""
        channel = self.rnd.choice((CHANNEL_SMS, CHANNEL_SMS, CHANNEL_RCS, CHANNEL_WHATSAPP, CHANNEL_LINE))
        if channel == CHANNEL_LINE:
            user_index = self.rnd.randrange(len(self.world.users))
            self.inbound(channel, self.user_ctx(user_index), t, None)
        elif self.chance("unknown_inbound_sender") or not self.with_phone:
            self.inbound_unknown(channel, t)
        else:
            user_index = self.pick_user(self.with_phone)
            self.inbound(channel, self.user_ctx(user_index), t, None)

    def inbound_unknown(self, channel: str, t: int) -> None:
        """A sender no profile holds: no user id, no external id (dropped by E2)."""
        ctx = {"_ext": None, "_ident_at": None, "user_id": None, "external_user_id": None, "device_id": None,
               "timezone": None, "bsuid": None, "phone_number": self.rnd.choice(self.draw.pools.phones), "app_group_id": self.world.app_group_id}
        type_id = {CHANNEL_SMS: T_SMS, CHANNEL_RCS: T_RCS, CHANNEL_WHATSAPP: T_WA}[channel] + "InboundReceive"
        self.emit(type_id, t, ctx, {**self.inbound_fields(channel, ctx, None), "user_id": None})

    def inbound_fields(self, channel: str, ctx: dict[str, Any], reply_to: dict[str, Any] | None) -> dict[str, Any]:
        senders = self.world.senders
        keyword = self.chance("inbound_keyword")
        action = self.rnd.choice(("Subscribed", "Unsubscribed")) if keyword else "None"
        body = {"Subscribed": "START", "Unsubscribed": "STOP"}.get(action) or self.rnd.choice(self.draw.pools.sentences)
        group = self.world.subscription_group(channel if channel != CHANNEL_RCS else CHANNEL_SMS)
        fields: dict[str, Any] = {"action": action, "message_body": body, "user_phone_number": ctx.get("phone_number"),
                                  "subscription_group_id": group.subscription_group_id if group else None,
                                  "media_urls": None}
        if channel == CHANNEL_SMS:
            fields["inbound_phone_number"] = (reply_to or {}).get("from_phone_number") or senders.sms_numbers[0]
        elif channel == CHANNEL_RCS:
            fields["to_rcs_sender"] = senders.rcs_sender
        elif channel == CHANNEL_WHATSAPP:
            fields["inbound_phone_number"] = senders.whatsapp_number
            fields["in_reply_to"] = (reply_to or {}).get("message_id")
            fields["message_id"] = f"wamid.{self.rnd.getrandbits(240):060X}"
            fields["quick_reply_text"] = None
        if not reply_to:  # not a reply: attributed to no campaign (§9)
            for key in ("campaign_id", "campaign_name", "message_variation_id", "message_variation_name", "canvas_id",
                        "canvas_name", "canvas_variation_id", "canvas_variation_name", "canvas_step_id",
                        "canvas_step_name", "canvas_step_message_variation_id", "send_id", "dispatch_id"):
                fields[key] = None
        return fields

    def inbound(self, channel: str, ctx: dict[str, Any], t: int, reply_to: dict[str, Any] | None) -> None:
        """An inbound message from a user's phone, attributed to every profile sharing it (§9)."""
        if channel == CHANNEL_LINE:
            over = {"message_body": self.rnd.choice(self.draw.pools.sentences), "media_id": None}
            if not reply_to:
                over.update(self.inbound_fields(CHANNEL_LINE, ctx, None))
                over = {k: v for k, v in over.items() if k not in ("action", "user_phone_number", "subscription_group_id")}
            self.emit(T_LINE + "InboundReceive", t, ctx, over)
            return
        phone = ctx.get("phone_number")
        fields = self.inbound_fields(channel, ctx, reply_to)
        type_id = {CHANNEL_SMS: T_SMS, CHANNEL_RCS: T_RCS, CHANNEL_WHATSAPP: T_WA}[channel] + "InboundReceive"
        sharing = self.world.users_sharing_phone(phone) if phone else ()
        indexes = [self.world.users.index(u) for u in sharing] if len(sharing) > 1 else None
        for user_index in indexes or [None]:
            user_ctx = ctx if user_index is None else {
                **self.user_ctx(user_index), **{k: reply_to[k] for k in MESSAGE_KEYS if k in (reply_to or {})}}
            self.emit(type_id, t, user_ctx, fields)
            if fields["action"] != "None":
                # An opt-in/opt-out keyword changes the subscription group state (§9 [HD]).
                group_channel = CHANNEL_SMS if channel == CHANNEL_RCS else channel
                self.emit(GROUP_STATE_CHANGE, t + 1, user_ctx, {
                    "subscription_group_id": fields["subscription_group_id"], "subscription_status": fields["action"],
                    "state_change_source": "Inbound Message", "channel": group_channel, "channel_identifier": phone,
                    "email_address": None, "phone_number": phone, "dispatch_id": None, "app_id": None,
                    **({} if reply_to else {k: None for k in ("campaign_id", "campaign_name", "message_variation_id",
                        "message_variation_name", "canvas_id", "canvas_name", "canvas_variation_id",
                        "canvas_variation_name", "canvas_step_id", "canvas_step_name", "send_id")})})
                if channel == CHANNEL_SMS:
                    self.auto_reply(user_ctx, fields, t + 2)

    def auto_reply(self, ctx: dict[str, Any], inbound: dict[str, Any], t: int) -> None:
        """The keyword auto-reply: an SMS Send whose `category` is set (only auto-replies have one, §9)."""
        reply = {**ctx, **{k: None for k in MESSAGE_KEYS if k != "_conversions"}, "dispatch_id": self.draw.hex24(),
                 "to_phone_number": ctx.get("phone_number"), "from_phone_number": inbound["inbound_phone_number"],
                 "subscription_group_id": inbound["subscription_group_id"], "is_sms_fallback": False,
                 "category": "opt-in" if inbound["action"] == "Subscribed" else "opt-out", "message_extras": None}
        self.emit(T_SMS + "Send", t, reply)
        if self.rnd.random() < 0.95:
            self.emit(T_SMS + "Delivery", t + self.rnd.randrange(1, 20), reply)

    def story_subscription(self, t: int) -> None:
        user_index = self.rnd.randrange(len(self.world.users))
        ctx = self.user_ctx(user_index)
        user: User = ctx["_user"]
        none = {k: None for k in ("campaign_id", "campaign_name", "message_variation_id", "message_variation_name",
                                  "canvas_id", "canvas_name", "canvas_variation_id", "canvas_variation_name",
                                  "canvas_step_id", "canvas_step_name", "send_id", "dispatch_id", "app_id")}
        source = self.rnd.choice(("Subscription Center", "REST API", "SDK", "Dashboard", "CSV Import"))
        if self.rnd.random() < 0.5:
            channel = CHANNEL_EMAIL if user.email else CHANNEL_SMS
            status = self.rnd.choice(("Subscribed", "Unsubscribed", "Opted In"))
            identifier = user.email if channel == CHANNEL_EMAIL else user.phone
            self.emit(GLOBAL_STATE_CHANGE, t, ctx, {**none, "channel": channel, "subscription_status": status,
                                                    "state_change_source": source, "channel_identifier": identifier})
        else:
            group = self.rnd.choice(self.world.subscription_groups)
            identifier = user.email if group.channel == CHANNEL_EMAIL else user.phone
            self.emit(GROUP_STATE_CHANGE, t, ctx, {
                **none, "subscription_group_id": group.subscription_group_id, "channel": group.channel,
                "subscription_status": self.rnd.choice(("Subscribed", "Unsubscribed")), "state_change_source": source,
                "channel_identifier": identifier})

    def story_profile(self, t: int) -> None:
        user_index = self.rnd.randrange(len(self.world.users))
        ctx = self.user_ctx(user_index, self.pick_device(user_index))
        roll = self.rnd.random()
        if roll < 0.55:
            self.emit("users.profile.Update", t, ctx, {"time_ms": t * 1000 + self.rnd.randrange(1000),
                                                       "home_city": self.rnd.choice(self.draw.pools.cities)})
        elif roll < 0.8:
            bucket = self.rnd.randrange(10_000)
            self.emit("users.RandomBucketNumberUpdate", t, ctx, {"random_bucket_number": bucket,
                                                                 "prev_random_bucket_number": self.rnd.randrange(10_000)})
        elif roll < 0.93:
            # The orphaned profile was merged into another user's profile.
            other = self.world.users[self.rnd.randrange(len(self.world.users))]
            self.emit("users.UserOrphan", t, {**ctx, "_ext": None}, {"orphaned_by_id": other.user_id,
                                                                      "user_id": self.draw.hex24()})
        else:
            self.emit("users.UserDeleteRequest", t, ctx)

    def story_agent(self, t: int) -> None:
        agent_id, agent_name = self.rnd.choice(self.world.senders.agents)
        user_index = self.rnd.randrange(len(self.world.users))
        ctx = self.user_ctx(user_index)
        request = {"agent_id": agent_id, "agent_name": agent_name, "request_id": self.draw.uuid(),
                   "invocation_source": self.rnd.choice(("canvas", "catalog", "test"))}
        is_error = self.rnd.random() < 0.03
        prompt, completion = self.rnd.randint(50, 4000), self.rnd.randint(10, 1500)
        canvas = self.rnd.choice(self.world.canvases) if self.world.canvases else None
        canvas_fields = {"canvas_id": None, "canvas_name": None, "canvas_variation_id": None,
                         "canvas_variation_name": None, "canvas_step_id": None, "canvas_step_name": None}
        if canvas is not None and request["invocation_source"] == "canvas":
            variation = canvas.variations[0]
            canvas_fields = {"canvas_id": canvas.canvas_id, "canvas_name": canvas.name,
                             "canvas_variation_id": variation.variation_id, "canvas_variation_name": variation.name,
                             "canvas_step_id": variation.steps[0].step_id, "canvas_step_name": variation.steps[0].name}
        self.emit("agentconsole.AgentExecuted", t, ctx, {
            **request, **canvas_fields, "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "is_error": is_error,
            "error": "upstream timeout" if is_error else None, "output": None if is_error else self.rnd.choice(self.draw.pools.sentences)})
        for index in range(self.rnd.randint(0, 2)):
            self.emit("agentconsole.ToolInvocation", t + index + 1, {"app_group_id": self.world.app_group_id}, {**request})

    def story_newsfeed(self, t: int) -> None:
        """The retired News Feed (legacy profile only): Impression -> Click, or Abort."""
        user_index = self.pick_user(self.with_device)
        ctx = {**self.user_ctx(user_index, self.pick_device(user_index)), "card_id": self.draw.uuid()}
        if self.rnd.random() < 0.1:
            self.emit("users.messages.newsfeedcard.Abort", t, ctx)
            return
        self.emit("users.messages.newsfeedcard.Impression", t, ctx)
        if self.rnd.random() < 0.3:
            self.emit("users.messages.newsfeedcard.Click", t + self.rnd.randrange(1, 120), ctx)

    def story_catalog_only(self, t: int) -> None:
        """A catalog type no lifecycle knows yet: one event with the user's context and drawn values."""
        wanted = [x for x in self.catalog_only if self.focus is None or x in self.focus] or list(self.catalog_only)
        user_index = self.rnd.randrange(len(self.world.users))
        self.emit(self.rnd.choice(wanted), t, self.user_ctx(user_index, self.pick_device(user_index)))


# --- channel lifecycles ------------------------------------------------------------------------------
# Each takes the stream, the message context (user + device + message fields, dispatch_id set) and the send
# time, emits the lifecycle and returns whether the user engaged.

def _retry_then(s: _Stream, prefix: str, ctx: dict[str, Any], t: int) -> int:
    """D9: a Message Prioritization Retry shares the dispatch id of the eventual Send, which comes later."""
    if prefix + "Retry" in s.catalog and s.chance("retry", prefix + "Retry"):
        s.emit(prefix + "Retry", t, ctx)
        return t + s.rnd.randrange(600, 4 * 3600)
    return t


def email_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send -> Delivery | Bounce | Soft Bounce | Deferral* -> Open (some machine) -> Click -> Unsubscribe | Spam."""
    ctx = {**ctx, "ip_pool": s.rnd.choice(s.world.senders.ip_pools), "esp": s.rnd.choice(("SendGrid", "SparkPost"))}
    t = _retry_then(s, T_EMAIL, ctx, t)
    if s.chance("abort", T_EMAIL + "Abort"):
        s.emit(T_EMAIL + "Abort", t, ctx)
        return False
    s.emit(T_EMAIL + "Send", t, ctx)
    t += s.rnd.randrange(1, 30)
    roll = s.rnd.random()
    rates = s.rates
    if s.focus is not None and s.focus.intersection(_types(T_EMAIL, "Bounce", "SoftBounce", "Deferral")):
        roll = s.rnd.random() * (rates["email_bounce"] + rates["email_soft_bounce"] + rates["email_deferral"] + 0.01)
    if roll < rates["email_bounce"]:
        s.emit(T_EMAIL + "Bounce", t, ctx)
        return False
    roll -= rates["email_bounce"]
    if roll < rates["email_soft_bounce"]:
        s.emit(T_EMAIL + "SoftBounce", t, ctx)
        return False
    roll -= rates["email_soft_bounce"]
    if roll < rates["email_deferral"]:
        # Braze retries for up to 72 h, then Delivery or Bounce (§9).
        for attempt in range(1, s.rnd.randint(1, 4) + 1):
            s.emit(T_EMAIL + "Deferral", t, ctx, {"attempt_count": attempt})
            t += s.rnd.randrange(900, 18 * 3600)
        if s.rnd.random() < 0.3:
            s.emit(T_EMAIL + "Bounce", t, ctx)
            return False
    s.emit(T_EMAIL + "Delivery", t, ctx)
    engaged = False
    opened = False
    if s.chance("email_open", T_EMAIL + "Open", T_EMAIL + "Click"):
        now = t
        for _ in range(s.rnd.randint(1, 3)):
            machine = s.chance("email_machine_open")
            now += s.rnd.randrange(1, 60) if machine else s.rnd.randrange(60, 2 * 86_400)
            s.emit(T_EMAIL + "Open", now, ctx, {"machine_open": "true" if machine else None,
                                               "user_agent": s.rnd.choice(s.draw.pools.user_agents)})
            opened = True
            engaged |= not machine
        t = now
    if (opened and s.chance("email_click", T_EMAIL + "Click")) or s.chance("email_click_without_open", T_EMAIL + "Click"):
        t += s.rnd.randrange(1, 3600)
        s.emit(T_EMAIL + "Click", t, ctx, {"url": s.rnd.choice(s.draw.pools.urls)})
        engaged = True
    if s.chance("email_unsubscribe", T_EMAIL + "Unsubscribe", GLOBAL_STATE_CHANGE):
        t += s.rnd.randrange(1, 600)
        s.emit(T_EMAIL + "Unsubscribe", t, ctx)
        # Generator default: a global e-mail unsubscribe follows (§9 [HD]).
        s.emit(GLOBAL_STATE_CHANGE, t + 1, ctx, {"channel": "email", "subscription_status": "Unsubscribed",
                                               "state_change_source": "Subscription Center",
                                               "channel_identifier": ctx.get("email_address")})
    elif s.chance("email_mark_as_spam", T_EMAIL + "MarkAsSpam"):
        s.emit(T_EMAIL + "MarkAsSpam", t + s.rnd.randrange(60, 86_400), ctx)
    return engaged


def push_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send -> Open | Bounce (iOS Foreground rarely); an Open may be dated before its Send (§9)."""
    t = _retry_then(s, T_PUSH, ctx, t)
    if not ctx.get("push_token") or s.chance("abort", T_PUSH + "Abort"):
        s.emit(T_PUSH + "Abort", t, ctx, {"abort_type": "no_push_token" if not ctx.get("push_token") else None})
        return False
    s.emit(T_PUSH + "Send", t, ctx)
    if s.chance("push_bounce", T_PUSH + "Bounce"):
        s.emit(T_PUSH + "Bounce", t + s.rnd.randrange(1, 30), ctx)
        return False
    if ctx.get("platform") == "ios" and s.chance("push_ios_foreground", T_PUSH + "IosForeground"):
        s.emit(T_PUSH + "IosForeground", t + s.rnd.randrange(1, 30), ctx)
        return True
    if s.chance("push_open", T_PUSH + "Open"):
        if s.rnd.random() < s.rates["push_open_before_send"]:
            # In the stream after its Send, but dated before it (device clock skew / batched send times).
            s.emit(T_PUSH + "Open", t + 1, ctx, time_value=t - s.rnd.randrange(1, 600))
        else:
            s.emit(T_PUSH + "Open", t + s.rnd.randrange(5, 6 * 3600), ctx)
        return True
    return False


def sms_lifecycle(s: _Stream, ctx: dict[str, Any], t: int, fallback: bool = False) -> bool:
    """Send -> (Carrier Send) -> Delivery | Rejection | Delivery Failure; Short Link Click; replies (§9)."""
    group = s.world.subscription_group(CHANNEL_SMS)
    ctx = {**ctx, "to_phone_number": ctx.get("phone_number"), "from_phone_number": s.rnd.choice(s.world.senders.sms_numbers),
           "subscription_group_id": group.subscription_group_id if group else None, "is_sms_fallback": fallback,
           "category": None}
    if not fallback:
        t = _retry_then(s, T_SMS, ctx, t)
        if s.chance("abort", T_SMS + "Abort"):
            s.emit(T_SMS + "Abort", t, ctx)
            return False
    s.emit(T_SMS + "Send", t, ctx)
    t += s.rnd.randrange(1, 20)
    if s.chance("sms_carrier_send", T_SMS + "CarrierSend"):
        s.emit(T_SMS + "CarrierSend", t, ctx)
        t += s.rnd.randrange(1, 60)
    if s.chance("sms_rejection", T_SMS + "Rejection"):
        s.emit(T_SMS + "Rejection", t, ctx)
        return False
    if s.chance("sms_delivery_failure", T_SMS + "DeliveryFailure"):
        s.emit(T_SMS + "DeliveryFailure", t, ctx)
        return False
    s.emit(T_SMS + "Delivery", t, ctx)
    engaged = False
    if s.chance("sms_short_link_click", T_SMS + "ShortLinkClick"):
        t += s.rnd.randrange(10, 3600)
        s.emit(T_SMS + "ShortLinkClick", t, ctx, {"user_phone_number": ctx.get("phone_number")})
        engaged = True
    if s.chance("reply", T_SMS + "InboundReceive", GROUP_STATE_CHANGE):
        # Within 4 hours of the outbound message: counts as a reply, campaign fields filled (§9).
        s.inbound(CHANNEL_SMS, ctx, t + s.rnd.randrange(30, 4 * 3600 - 60), ctx)
        engaged = True
    return engaged


def rcs_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send -> Delivery -> Read / Click, or Rejection (maybe falling back to SMS, D10)."""
    group = s.world.subscription_group(CHANNEL_RCS)
    ctx = {**ctx, "to_phone_number": ctx.get("phone_number"), "from_rcs_sender": s.world.senders.rcs_sender,
           "subscription_group_id": group.subscription_group_id if group else None, "category": None}
    if s.chance("abort", T_RCS + "Abort"):
        s.emit(T_RCS + "Abort", t, ctx)
        return False
    s.emit(T_RCS + "Send", t, ctx)
    t += s.rnd.randrange(1, 20)
    if s.chance("rcs_rejection", T_RCS + "Rejection", *CHANNEL_TYPES[CHANNEL_SMS][:8]):
        fallback = s.chance("rcs_sms_fallback", *CHANNEL_TYPES[CHANNEL_SMS][:8])
        s.emit(T_RCS + "Rejection", t, ctx, {"is_sms_fallback": fallback})
        if fallback:  # D10: same send_id and dispatch_id
            return sms_lifecycle(s, ctx, t + 1, fallback=True)
        return False
    s.emit(T_RCS + "Delivery", t, ctx)
    engaged = False
    if s.chance("rcs_read", T_RCS + "Read"):
        t += s.rnd.randrange(5, 3600)
        s.emit(T_RCS + "Read", t, ctx)
        engaged = True
    if s.chance("chat_click", T_RCS + "Click"):
        t += s.rnd.randrange(5, 600)
        s.emit(T_RCS + "Click", t, ctx, {"user_phone_number": ctx.get("phone_number")})
        engaged = True
    if s.chance("reply", T_RCS + "InboundReceive"):
        s.inbound(CHANNEL_RCS, ctx, t + s.rnd.randrange(30, 3600), ctx)
        engaged = True
    return engaged


def whatsapp_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send (accepted by Meta) -> Delivery -> Read, or Failure; Abort before Meta; tracked Click; replies."""
    group = s.world.subscription_group(CHANNEL_WHATSAPP)
    ctx = {**ctx, "to_phone_number": ctx.get("phone_number"), "from_phone_number": s.world.senders.whatsapp_number,
           "subscription_group_id": group.subscription_group_id if group else None,
           "message_id": f"wamid.{s.rnd.getrandbits(240):060X}", "flow_id": None}
    t = _retry_then(s, T_WA, ctx, t)
    if s.chance("abort", T_WA + "Abort"):
        s.emit(T_WA + "Abort", t, ctx)
        return False
    s.emit(T_WA + "Send", t, ctx)
    t += s.rnd.randrange(1, 30)
    if s.chance("whatsapp_failure", T_WA + "Failure"):
        s.emit(T_WA + "Failure", t, ctx)
        return False
    s.emit(T_WA + "Delivery", t, ctx)
    engaged = False
    if s.chance("whatsapp_read", T_WA + "Read"):
        t += s.rnd.randrange(5, 3600)
        s.emit(T_WA + "Read", t, ctx)
        engaged = True
    if s.chance("chat_click", T_WA + "Click"):
        t += s.rnd.randrange(5, 600)
        s.emit(T_WA + "Click", t, ctx, {"user_phone_number": ctx.get("phone_number")})
        engaged = True
    if s.chance("reply", T_WA + "InboundReceive"):
        s.inbound(CHANNEL_WHATSAPP, ctx, t + s.rnd.randrange(30, 3600), ctx)
        engaged = True
    return engaged


def line_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send (handed to LINE) -> tracked Click; replies carry the dispatch id; Abort before LINE."""
    group = s.world.subscription_group(CHANNEL_LINE)
    ctx = {**ctx, "subscription_group_id": group.subscription_group_id if group else None}
    t = _retry_then(s, T_LINE, ctx, t)
    if s.chance("abort", T_LINE + "Abort"):
        s.emit(T_LINE + "Abort", t, ctx)
        return False
    s.emit(T_LINE + "Send", t, ctx)
    engaged = False
    if s.chance("chat_click", T_LINE + "Click"):
        t += s.rnd.randrange(5, 3600)
        s.emit(T_LINE + "Click", t, ctx)
        engaged = True
    if s.chance("reply", T_LINE + "InboundReceive"):
        s.inbound(CHANNEL_LINE, ctx, t + s.rnd.randrange(30, 3600), ctx)
        engaged = True
    return engaged


def webhook_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send; an error answer yields Failure events with increasing retry_count until success or is_terminal."""
    t = _retry_then(s, T_WEBHOOK, ctx, t)
    if s.chance("abort", T_WEBHOOK + "Abort"):
        s.emit(T_WEBHOOK + "Abort", t, ctx)
        return False
    s.emit(T_WEBHOOK + "Send", t, ctx)
    if s.chance("webhook_failure", T_WEBHOOK + "Failure"):
        url = s.rnd.choice(s.draw.pools.urls)
        attempts = 5
        for retry in range(attempts):
            t += 2 ** retry * 30
            succeeds = retry > 0 and s.rnd.random() < s.rates["webhook_retry_success"]
            if succeeds:
                break
            s.emit(T_WEBHOOK + "Failure", t, ctx, {"retry_count": retry, "is_terminal": retry == attempts - 1,
                                                   "endpoint_url": url, "host": url.split("/")[2],
                                                   "url_path": "/" + url.split("/", 3)[-1] if url.count("/") > 2 else "/"})
    return False


def content_card_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Send -> Impression -> Click and/or Dismiss; Abort instead of Send. D8: the send's dispatch id."""
    ctx = {**ctx, "content_card_id": s.draw.uuid()}
    if s.chance("abort", T_CARD + "Abort"):
        s.emit(T_CARD + "Abort", t, ctx)
        return False
    s.emit(T_CARD + "Send", t, ctx)
    if not ctx.get("app_id") or not s.chance("card_impression", T_CARD + "Impression", T_CARD + "Click", T_CARD + "Dismiss"):
        return False
    t += s.rnd.randrange(60, 2 * 86_400)
    s.emit(T_CARD + "Impression", t, ctx)
    engaged = False
    if s.chance("card_click", T_CARD + "Click"):
        t += s.rnd.randrange(1, 120)
        s.emit(T_CARD + "Click", t, ctx)
        engaged = True
    if s.chance("card_dismiss", T_CARD + "Dismiss"):
        s.emit(T_CARD + "Dismiss", t + s.rnd.randrange(1, 600), ctx)
    return engaged


def in_app_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Impression -> optional Click; Abort instead of display. D8: no dispatch id on in-app messages."""
    ctx = {**ctx, "dispatch_id": None, "card_id": s.draw.uuid()}
    if not ctx.get("app_id") or s.chance("abort", T_IAM + "Abort"):
        s.emit(T_IAM + "Abort", t, ctx, {"app_id": ctx.get("app_id")})
        return False
    s.emit(T_IAM + "Impression", t, ctx)
    if s.chance("iam_click", T_IAM + "Click"):
        s.emit(T_IAM + "Click", t + s.rnd.randrange(1, 60), ctx, {"button_id": s.rnd.choice(("0", "1"))})
        return True
    return False


def banner_lifecycle(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    """Impression -> Click; Dismiss; Abort instead of display."""
    ctx = {**ctx, "banner_placement_id": s.rnd.choice(s.world.senders.banner_placements)}
    if s.chance("abort", T_BANNER + "Abort"):
        s.emit(T_BANNER + "Abort", t, ctx)
        return False
    s.emit(T_BANNER + "Impression", t, ctx)
    if s.chance("banner_click", T_BANNER + "Click"):
        s.emit(T_BANNER + "Click", t + s.rnd.randrange(1, 120), ctx)
        return True
    if s.chance("banner_dismiss", T_BANNER + "Dismiss"):
        s.emit(T_BANNER + "Dismiss", t + s.rnd.randrange(1, 120), ctx)
    return False


def live_activity_message(s: _Stream, ctx: dict[str, Any], t: int) -> bool:
    ctx = {**ctx, "activity_id": s.draw.uuid(), "activity_attributes_type": s.rnd.choice(s.world.senders.live_activity_types),
           "push_to_start_token": f"{s.rnd.getrandbits(256):064x}"}
    s.live_activity_lifecycle(ctx, t)
    return False


LIFECYCLES: dict[str, Callable[[_Stream, dict[str, Any], int], bool]] = {
    CHANNEL_EMAIL: email_lifecycle,
    CHANNEL_PUSH: push_lifecycle,
    CHANNEL_SMS: sms_lifecycle,
    CHANNEL_RCS: rcs_lifecycle,
    CHANNEL_WHATSAPP: whatsapp_lifecycle,
    CHANNEL_LINE: line_lifecycle,
    CHANNEL_WEBHOOK: webhook_lifecycle,
    CHANNEL_CONTENT_CARD: content_card_lifecycle,
    CHANNEL_IN_APP: in_app_lifecycle,
    CHANNEL_BANNER: banner_lifecycle,
    CHANNEL_LIVE_ACTIVITY: live_activity_message,
}


# --- public API -------------------------------------------------------------------------------------

def generate_records(world: World, config: StreamConfig | None = None, *, seed: int | None = None,
                     catalog: Catalog | None = None, factory: RecordFactory | None = None,
                     report: StreamReport | None = None,
                     progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield `(type_id, flat record)` pairs: exactly `config.events` of them, in true-time order.

    The same world, config and seed (default: the world's seed) give the same records.
    """
    config = config or StreamConfig()
    factory = factory or RecordFactory(catalog)
    catalog = factory.catalog
    config.validate(catalog)
    stream = _Stream(world, config, world.seed if seed is None else seed, catalog, factory,
                     report if report is not None else StreamReport())
    return stream.run(progress)


def generate_events(world: World, config: StreamConfig | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield Currents events in the Custom HTTP shape (the SUT's input, DESIGN.md §3)."""
    factory = kwargs.pop("factory", None) or RecordFactory(kwargs.pop("catalog", None))
    for type_id, record in generate_records(world, config, factory=factory, **kwargs):
        yield factory.to_custom_http(type_id, record)
