"""Knobs and reports of a Currents event stream (§11): StreamConfig, its defaults, what a run produced.

`StreamConfig` holds volume, time span, the mix of story kinds and the rate of every lifecycle branch and
edge case; `StreamReport` and `DispatchRecord` tell what one run produced. No generation happens here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.catalog import Catalog

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


class GenerationError(ValueError):
    """The requested stream cannot be produced (bad knob, or a type this world can never yield)."""


@dataclass(slots=True)
class StreamConfig:
    """Knobs of a stream: volume, time span, mix of types, rates of each edge case (§11)."""

    events: int = 1000
    anchor: int = DEFAULT_ANCHOR  # no event is dated after this (Unix seconds)
    span_s: int = DEFAULT_SPAN_S  # stories start within [anchor - span_s, anchor]
    types: tuple[str, ...] | None = None  # only these types or patterns (users.messages.email.*); None: all
    mix: dict[str, float] = field(default_factory=dict)  # story kind -> weight, over DEFAULT_MIX
    rates: dict[str, float] = field(default_factory=dict)  # over DEFAULT_RATES
    canvas_dispatch_mode: str = "default"  # D4: default | shared | mixed
    canvas_shared_probability: float = 0.5  # `mixed`: chance that a step send shares one id
    scheduled_batch: tuple[int, int] = (3, 40)  # recipients of one scheduled send
    keep_ledger: bool = False  # record every dispatch in StreamReport.dispatches (tests, QA)
    cover: int = 0  # every selected type at least this often: the first stories steer towards what is missing

    def resolved_types(self, catalog: Catalog) -> tuple[str, ...] | None:
        """`types` with every pattern expanded (`users.messages.email.*`, as `harness generate --type` takes;
        comma lists too), in the order given, each once; None = every type."""
        if self.types is None:
            return None
        # A lone string is one pattern or comma list, not a sequence of one-letter types.
        given = (self.types,) if isinstance(self.types, str) else self.types
        chosen: dict[str, None] = {}
        for pattern in (p.strip() for item in given for p in item.split(",")):
            if not pattern:
                continue
            matches = catalog.match_types(pattern)
            if not matches:
                if any(c in pattern for c in "*?["):
                    raise GenerationError(f"{pattern!r} matches no Currents event type")
                raise GenerationError(f"unknown Currents event type {pattern!r}")
            chosen.update(dict.fromkeys(matches))
        if not chosen:
            raise GenerationError("types names no event type")
        return tuple(chosen)

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
        if self.cover < 0:
            raise GenerationError(f"cover must not be negative, got {self.cover}")
        if self.types is not None:
            self.resolved_types(catalog)
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
    uncovered: dict[str, int] = field(default_factory=dict)  # `cover`: types produced fewer times than asked
    dispatches: list[DispatchRecord] = field(default_factory=list)
