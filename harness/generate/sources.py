"""Where each Currents field's value comes from when a story did not set it (issue 5 §3).

The catalog says which fields a type has and their types; this module says how to fill a field, keyed by
field name, then by (field name, type) where one name carries two types (`duration`), then by type alone
for any field a future catalog adds. Values come from a seeded `random.Random` and `ValuePools`
precomputed once from Faker, so drawing one is cheap (Faker per event would be far too slow).

A source is `fn(draw, ctx) -> value`: `draw` is a `Draw` (randomness, pools, world); `ctx` the flat field
dictionary being built (identity, device and message fields set by the story, and `time`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from harness.generate.providers import BrazeProvider, make_faker, uuid4_from_bits
from harness.generate.world import World

_REFERENCE_DAY = date(2026, 1, 1)  # the generator's default anchor day
BIRTH_DATES_FROM = _REFERENCE_DAY.replace(year=_REFERENCE_DAY.year - 90)
BIRTH_DATES_TO = _REFERENCE_DAY.replace(year=_REFERENCE_DAY.year - 16)

Source = Callable[["Draw", dict[str, Any]], Any]

POOL_SIZE = 128


@dataclass(frozen=True, slots=True)
class ValuePools:
    """Faker-made values drawn once per seed; the bulk generator picks from them."""

    user_agents: tuple[str, ...]
    urls: tuple[str, ...]
    sentences: tuple[str, ...]
    words: tuple[str, ...]
    cities: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    ipv4: tuple[str, ...]
    custom_event_names: tuple[str, ...]
    product_ids: tuple[str, ...]
    dates: tuple[str, ...]
    message_extras: tuple[str, ...]  # JSON strings

    @classmethod
    def build(cls, seed: int, size: int = POOL_SIZE) -> ValuePools:
        fake = make_faker(seed ^ 0x5EED)
        return cls(
            user_agents=tuple(fake.braze_user_agent() for _ in range(size)),
            urls=tuple(fake.braze_url() for _ in range(size)),
            sentences=tuple(fake.sentence(nb_words=8) for _ in range(size)),
            words=tuple(sorted({fake.word() for _ in range(size)})),
            cities=tuple(fake.city() for _ in range(size)),
            emails=tuple(fake.braze_email() for _ in range(size)),
            phones=tuple(fake.braze_phone_number() for _ in range(size)),
            ipv4=tuple(fake.ipv4_public() for _ in range(size)),
            custom_event_names=(
                "added_to_cart", "viewed_product", "completed_checkout", "started_trial", "shared_content",
                "searched", "level_completed", "rated_app", "favorited_item", "watched_video",
            ),
            product_ids=tuple(f"sku-{fake.bothify('??-####').lower()}" for _ in range(max(8, size // 4))),
            # Birth dates 16 to 90 years before a fixed day: Faker's date_of_birth counts back from today, which
            # made the same seed give other bytes on another day (DESIGN.md §6 "Deterministic").
            dates=tuple(fake.date_between_dates(BIRTH_DATES_FROM, BIRTH_DATES_TO).isoformat()
                        for _ in range(size // 2)),
            message_extras=tuple(
                json.dumps({"offer_code": fake.word().upper(),
                            "tier": fake.random_element(("gold", "silver", "bronze"))}, separators=(",", ":"))
                for _ in range(size // 4)),
        )


@lru_cache(maxsize=8)
def pools_for(seed: int) -> ValuePools:
    """The value pools of a seed, built once per process (they are immutable)."""
    return ValuePools.build(seed)


class StreamRandom(random.Random):
    """The stream's seeded generator, with cheaper integer draws (the bulk generator makes about two per event).

    `randrange`, `randint` and `choice` scale one `random()` (`lo + int(random() * n)`) instead of the
    rejection sampling of `random.Random` (three Python calls each): same seed, same values, uniform within
    2**-53 relative bias, which fake data does not notice. Anything else (a step, an empty range) goes to
    `random.Random`, which raises its usual errors.
    """

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            if step == 1 and start > 0:
                return int(self.random() * start)
        elif step == 1 and stop > start:
            return start + int(self.random() * (stop - start))
        return super().randrange(start, stop, step)

    def randint(self, a: int, b: int) -> int:
        if b >= a:
            return a + int(self.random() * (b - a + 1))
        return super().randint(a, b)

    def choice(self, seq: Any) -> Any:
        if not seq:
            raise IndexError("Cannot choose from an empty sequence")
        return seq[int(self.random() * len(seq))]


class Draw:
    """Randomness and value pools shared by the stream, the record factory and the strategies."""

    __slots__ = ("rnd", "pools", "world", "_random", "_getrandbits")

    def __init__(self, rnd: random.Random, pools: ValuePools, world: World | None) -> None:
        self.rnd = rnd
        self.pools = pools
        self.world = world
        self._random = rnd.random
        self._getrandbits = rnd.getrandbits

    def _choice(self, seq: Any) -> Any:
        # Faster than random.choice for the bulk generator; uniform enough for fake data.
        return seq[int(self._random() * len(seq))]

    def uuid(self) -> str:
        return uuid4_from_bits(self._getrandbits(128))

    def hex24(self) -> str:
        return f"{self._getrandbits(96):024x}"

    def chance(self, p: float) -> bool:
        return self._random() < p

    def pick(self, seq: Any) -> Any:
        return self._choice(seq)


def _uuid(d: Draw, c: dict) -> str:
    return d.uuid()


def _hex24(d: Draw, c: dict) -> str:
    return d.hex24()


def _none(d: Draw, c: dict) -> None:
    return None


def _const(value: Any) -> Source:
    return lambda d, c: value


def _pick(values: tuple) -> Source:
    n = len(values)
    return lambda d, c: values[int(d._random() * n)]


def _pool(name: str) -> Source:
    return lambda d, c: d._choice(getattr(d.pools, name))


def _int(lo: int, hi: int) -> Source:
    return lambda d, c: d.rnd.randint(lo, hi)


def _bool(p_true: float) -> Source:
    return lambda d, c: d._random() < p_true


def _json(d: Draw, c: dict) -> str:
    return d._choice(d.pools.message_extras)


def _properties(d: Draw, c: dict) -> dict:
    """Custom event / purchase properties: decoded object (the Custom HTTP shape carries an object, §1)."""
    props: dict[str, Any] = {}
    for _ in range(d.rnd.randint(0, 4)):
        kind = d.rnd.randrange(5)
        key = d._choice(d.pools.words)
        if kind == 0:
            props[key] = d._choice(d.pools.words)
        elif kind == 1:
            props[key] = d.rnd.randint(0, 1000)
        elif kind == 2:
            props[key] = round(d._random() * 100, 2)
        elif kind == 3:
            props[key] = d._random() < 0.5
        else:
            props[key] = [d._choice(d.pools.words) for _ in range(d.rnd.randint(1, 3))]
    return props


def _world_attr(getter: Callable[[World], Any], fallback: Source) -> Source:
    def source(d: Draw, c: dict) -> Any:
        return getter(d.world) if d.world is not None else fallback(d, c)

    return source


def _float(lo: float, hi: float, digits: int = 6) -> Source:
    return lambda d, c: round(d.rnd.uniform(lo, hi), digits)


def _time_ms(d: Draw, c: dict) -> int:
    return int(c.get("time") or 0) * 1000 + d.rnd.randrange(1000)


def _earlier_time(d: Draw, c: dict) -> int:
    return max(0, int(c.get("time") or 0) - d.rnd.randrange(60, 90 * 86400))


def _price(d: Draw, c: dict) -> float:
    digits = BrazeProvider.currencies.get(c.get("currency") or "USD", 2)
    return round(d.rnd.uniform(0.99, 250.0), digits)


def _push_token(d: Draw, c: dict) -> str:
    return f"{d._getrandbits(256):064x}"


def _channel_identifier(d: Draw, c: dict) -> str | None:
    return c.get("email_address") or c.get("phone_number") or c.get("to_phone_number")


def _short_url(d: Draw, c: dict) -> str:
    return f"https://brz.ai/{d._getrandbits(40):010x}"


def _wamid(d: Draw, c: dict) -> str:
    return f"wamid.{d._getrandbits(240):060X}"


def _tokens(kind: str) -> Source:
    def source(d: Draw, c: dict) -> int:
        if kind == "total":
            return int(c.get("prompt_tokens") or 0) + int(c.get("completion_tokens") or 0)
        return d.rnd.randint(0, 4000)

    return source


# Field name -> source. One entry per Currents field that needs more than its type's default.
FIELD_SOURCES: dict[str, Source] = {
    # identity and envelope (normally set by the story)
    "id": _uuid,
    "user_id": _hex24,
    "external_user_id": _none,
    "device_id": _uuid,
    "timezone": _pick(BrazeProvider.timezones),
    "app_group_id": _world_attr(lambda w: w.app_group_id, _uuid),
    "app_group_api_id": _none,  # deprecated, never sent (E9)
    "app_id": _uuid,
    "platform": _pick(BrazeProvider.platforms),
    "os_version": _pick(BrazeProvider.os_versions["ios"]),
    "device_model": _pick(BrazeProvider.device_models["ios"]),
    "sdk_version": _pick(BrazeProvider.sdk_versions["ios"]),
    "resolution": _pick(BrazeProvider.resolutions["ios"]),
    "carrier": _pick(BrazeProvider.carriers),
    "browser": _pick(BrazeProvider.browsers),
    "gender": _pick(("M", "F", "O", "N", "P")),
    "country": _pick(("US", "GB", "DE", "FR", "BR", "JP", "IN", "AU")),
    "language": _pick(("en", "es", "fr", "de", "pt", "ja")),
    "ad_id": _none,
    "ad_id_type": _none,
    "ad_tracking_enabled": _none,
    # campaign / Canvas / dispatch
    "campaign_id": _uuid,
    "campaign_name": lambda d, c: f"{d._choice(BrazeProvider.campaign_themes)} {d.rnd.randint(1, 99)}",
    "message_variation_id": _uuid,
    "message_variation_name": _pick(BrazeProvider.variation_names),
    "canvas_id": _uuid,
    "canvas_name": lambda d, c: f"{d._choice(BrazeProvider.canvas_themes)} {d.rnd.randint(1, 99)}",
    "canvas_variation_id": _uuid,
    "canvas_variation_name": _pick(("Variant A", "Variant B")),
    "canvas_step_id": _uuid,
    "canvas_step_name": _pick(BrazeProvider.step_names),
    "canvas_step_message_variation_id": _uuid,
    "canvas_step_message_variation_api_id": lambda d, c: c.get("canvas_step_message_variation_id") or d.uuid(),
    "canvas_api_id": _none,
    "canvas_variation_api_id": _none,
    "canvas_step_api_id": _none,
    "canvas_entry_id": _uuid,
    "next_step_id": _uuid,
    "is_canvas_entry": _bool(0.3),
    "progression_type": _pick(("Step", "Exit")),
    "exit_reason": _none,
    "in_control_group": _const(False),
    "experiment_step_id": _uuid,
    "experiment_split_id": _uuid,
    "experiment_split_name": _pick(("Path 1", "Path 2", "Control")),
    "content_optimizer_step_id": _uuid,
    "combination_token": lambda d, c: f"{d._getrandbits(64):016x}",
    "dispatch_id": _hex24,
    "send_id": _none,
    "conversion_behavior_index": _int(0, 3),
    "conversion_behavior": _const('{"type":"opens_app"}'),
    "message_extras": _json,
    "locale_key": _pick(("en", "es", "fr-FR", "de-DE", "ja")),
    # e-mail
    "email_address": _pool("emails"),
    "ip_pool": _pick(("marketing", "transactional")),
    "esp": _pick(BrazeProvider.esps),
    "from_domain": _world_attr(lambda w: w.senders.email_domain, _const("mail.example.com")),
    "sending_ip": _pool("ipv4"),
    "recipient_domain": lambda d, c: str(c.get("email_address") or "user@example.com").rsplit("@", 1)[-1],
    "bounce_reason": _pick(BrazeProvider.bounce_reasons),
    "deferral_reason": _pick(BrazeProvider.deferral_reasons),
    "attempt_count": _int(1, 5),
    "is_drop": _bool(0.1),
    "is_amp": _bool(0.05),
    "machine_open": _none,
    "user_agent": _pool("user_agents"),
    "url": _pool("urls"),
    "short_url": _short_url,
    "link_id": lambda d, c: f"link-{d.rnd.randint(1, 40)}",
    "link_alias": _pick(("hero_cta", "footer_link", "product_grid", "unsubscribe_footer", None)),
    "device_class": _pick(BrazeProvider.device_classes),
    "device_os": _pick(BrazeProvider.email_device_os),
    "mailbox_provider": _pick(BrazeProvider.mailbox_providers),
    "is_suspected_bot_click": _bool(0.05),
    "suspected_bot_click_reason": lambda d, c: (
        [] if d._random() < 0.8 else [d._choice(BrazeProvider.suspected_bot_click_reasons)]),
    # phones and chat channels
    "to_phone_number": _pool("phones"),
    "from_phone_number": _world_attr(lambda w: w.senders.sms_numbers[0], _pool("phones")),
    "user_phone_number": _pool("phones"),
    "inbound_phone_number": _world_attr(lambda w: w.senders.sms_numbers[0], _pool("phones")),
    "phone_number": _pool("phones"),
    "subscription_group_id": _uuid,
    "action": _pick(("Subscribed", "Unsubscribed", "None")),
    "message_body": _pool("sentences"),
    "media_urls": lambda d, c: None if d._random() < 0.8 else [d._choice(d.pools.urls)],
    "category": _none,
    "error": _pick(tuple(e for e, _ in BrazeProvider.sms_errors)),
    "provider_error_code": _pick(tuple(code for _, code in BrazeProvider.sms_errors)),
    "provider_error_title": _pick(("Message undeliverable", "Re-engagement message", "Recipient not on WhatsApp")),
    "is_sms_fallback": _const(False),
    "from_rcs_sender": _world_attr(lambda w: w.senders.rcs_sender, _const("brand_rcs_agent")),
    "to_rcs_sender": _world_attr(lambda w: w.senders.rcs_sender, _const("brand_rcs_agent")),
    "interaction_type": _pick(("Text URL", "Reply", "OpenURL")),
    "element_label": _pick(("Shop now", "Learn more", "Yes", "No")),
    "element_type": _pick(("button", "suggestion", "link")),
    "bsuid": _none,
    "flow_id": _none,
    "flow_response_json": _none,
    "template_name": _pick(("order_update", "spring_promo", "appointment_reminder")),
    "message_id": _wamid,
    "in_reply_to": _none,
    "quick_reply_text": _none,
    "catalog_id": _none,
    "media_id": _none,
    "line_channel_id": _world_attr(lambda w: w.senders.line_channel_id, _const("1650000000")),
    "line_channel_name": _world_attr(lambda w: w.senders.line_channel_name, _const("Brand LINE")),
    "native_line_id": lambda d, c: f"U{d._getrandbits(128):032x}",
    # push and devices
    "push_token": _push_token,
    "push_token_device_id": _uuid,
    "push_token_state_change_type": _pick(("add", "update", "remove")),
    "push_token_created_at": _earlier_time,
    "push_token_updated_at": lambda d, c: int(c.get("time") or 0),
    "push_token_provisionally_opted_in": _bool(0.1),
    "push_token_foreground_push_disabled": _bool(0.05),
    "web_push_token_user_auth": _none,
    "web_push_token_public_key": _none,
    "web_push_token_vapid_public_key": _none,
    "ios_push_token_apns_gateway": _pick((1, 2)),  # 1 production, 2 development
    "push_to_start_token": _push_token,
    "update_token": _push_token,
    "activity_id": _uuid,
    "activity_attributes_type": _world_attr(lambda w: w.senders.live_activity_types[0], _const("DeliveryAttributes")),
    "live_activity_event_type": _pick(("start", "update", "end")),
    "live_activity_event_outcome": _pick(("success", "success", "success", "invalid_token", "rate_limited")),
    "time_ms": _time_ms,
    "button_id": _pick(("0", "1")),
    "button_action_type": _pick(("URI", "DEEP_LINK", "NONE")),
    "button_string": _pick(("Open", "Shop now", "Later")),
    "card_id": _uuid,
    "content_card_id": _uuid,
    "banner_placement_id": _world_attr(lambda w: w.senders.banner_placements[0], _const("home_top")),
    "feature_flag_id_name": _world_attr(lambda w: w.senders.feature_flags[0], _const("new_checkout")),
    "version": _pick(("1", "2", "3")),
    "abort_type": _pick(("liquid_abort_message", "rate_limit", "frequency_capping", "invalid_email", "quiet_hours",
                         "no_push_token")),
    "abort_log": lambda d, c: f"Message aborted: {d._choice(d.pools.sentences)}",
    "retry_type": _pick(("frequency_capping", "message_prioritization", "rate_limit")),
    "retry_log": lambda d, c: f"Retry scheduled: {d._choice(d.pools.sentences)}",
    # behaviour
    "session_id": _uuid,
    "name": _pool("custom_event_names"),
    "properties": _properties,
    "product_id": _pool("product_ids"),
    "currency": lambda d, c: d.rnd.choices(tuple(BrazeProvider.currencies), weights=BrazeProvider.currency_weights)[0],
    "price": _price,
    "latitude": _float(-60.0, 70.0),
    "longitude": _float(-170.0, 170.0),
    "altitude": _float(0.0, 2500.0, 2),
    "ll_accuracy": _float(3.0, 100.0, 2),
    "alt_accuracy": _float(3.0, 50.0, 2),
    "source": _pick(("Organic", "Google Ads", "Meta", "TikTok", "Apple Search Ads", "AppsFlyer")),
    "subscription_status": _pick(("Subscribed", "Unsubscribed")),
    "state_change_source": _pick(
        ("Subscription Center", "REST API", "SDK", "Dashboard", "CSV Import", "Inbound Message")),
    "channel": _pick(("email", "sms", "whatsapp", "push")),
    "channel_identifier": _channel_identifier,
    "random_bucket_number": _int(0, 9999),
    "prev_random_bucket_number": _int(0, 9999),
    "orphaned_by_id": _hex24,
    "update_source": _pick(("api", "sdk", "csv", "dashboard")),
    "archived": _const(False),
    "first_name": lambda d, c: d._choice(("Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Goro", "Hana")),
    "last_name": lambda d, c: d._choice(("Silva", "Smith", "Wang", "Müller", "Okafor", "Tanaka", "Novak")),
    "home_city": _pool("cities"),
    "dob": _pool("dates"),
    "custom_attributes": lambda d, c: json.dumps(
        {"plan": d._choice(("free", "pro", "team")), "visits": d.rnd.randint(0, 500)}, separators=(",", ":")),
    # webhooks
    "http_status_code": _pick((400, 401, 404, 408, 429, 500, 502, 503)),
    "endpoint_url": _pool("urls"),
    "host": lambda d, c: str(c.get("endpoint_url") or d._choice(d.pools.urls)).split("/")[2],
    "url_path": _pick(("/webhooks/braze", "/api/v1/events", "/hooks/notify")),
    "raw_response": _pick(('{"error":"rate limited"}', "Service Unavailable", "<html>Bad Gateway</html>")),
    "content_length": _int(0, 2048),
    "retry_count": _int(0, 5),
    "webhook_duration": _int(20, 30000),
    "webhook_failure_source": _pick(("http_response", "connection_error", "timeout")),
    "is_terminal": _bool(0.2),
    # Agent Console
    "invocation_id": _uuid,
    "request_id": _uuid,
    "provider_request_id": lambda d, c: f"req_{d._getrandbits(96):024x}",
    "tool_call_id": lambda d, c: f"call_{d._getrandbits(96):024x}",
    "agent_id": _world_attr(lambda w: w.senders.agents[0][0], _uuid),
    "agent_name": _world_attr(lambda w: w.senders.agents[0][1], _const("Support Agent")),
    "model_provider": _pick(("openai", "anthropic", "google")),
    "model_name": _pick(("gpt-4o-mini", "claude-sonnet", "gemini-flash")),
    "prompt_tokens": _tokens("prompt"),
    "completion_tokens": _tokens("completion"),
    "total_tokens": _tokens("total"),
    "cache_tokens": _int(0, 2000),
    "reasoning_tokens": _int(0, 1000),
    "cache_hit": _bool(0.3),
    "llm_owned_by_customer": _bool(0.2),
    "is_error": _bool(0.03),
    "input": _pool("sentences"),
    "output": _pool("sentences"),
    "invocation_source": _pick(("canvas", "catalog", "test")),
    "tool_name": _pick(("lookup_order", "search_catalog", "get_weather")),
    "tool_arguments": lambda d, c: json.dumps({"query": d._choice(d.pools.words)}, separators=(",", ":")),
}

# (field name, type) -> source, for names whose meaning depends on the type.
TYPED_FIELD_SOURCES: dict[tuple[str, str], Source] = {
    ("duration", "float"): _float(1.0, 1800.0, 3),  # Session End: seconds
    ("duration", "int"): _int(50, 20000),  # Agent Console: milliseconds
}

# Type -> source, for any field the tables above do not know (a newer catalog).
TYPE_SOURCES: dict[str, Source] = {
    "string": lambda d, c: d._choice(d.pools.words),
    "int": _int(0, 1000),
    "long": _int(0, 10**12),
    "float": _float(0.0, 1000.0, 3),
    "boolean": _bool(0.5),
    "json-string": _json,
    "array<string>": lambda d, c: [d._choice(d.pools.words)],
}


def source_for(name: str, field_type: str) -> Source:
    """The value source for one catalog field."""
    return TYPED_FIELD_SOURCES.get((name, field_type)) or FIELD_SOURCES.get(name) or TYPE_SOURCES[field_type]
