"""Message lifecycles, a step table per channel (currents-to-mixpanel.md §8 D6/D9/D10, §9), run by
`harness.generate.lifecycle_engine`.

Each table lists what follows the shared head (Retry, Abort, Send or Impression) for one channel: e-mail
delivery, bounces and deferrals, opens and clicks; push opens; SMS carrier steps; the RCS fallback to SMS
(D10); the read / click / reply tail of chat channels; webhook failures; Content Card, in-app message and
Banner displays; Live Activity updates. Every type comes from the catalog by (channel, role).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.catalog import (
    AREA_SUBSCRIPTION,
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
)
from harness.generate.lifecycle_engine import Branch, Delivery, Lifecycle, Reply, Step, Wait, roles_of
from harness.generate.timeline import Context, Timeline

EMAIL = roles_of(CHANNEL_EMAIL)
PUSH = roles_of(CHANNEL_PUSH)
SMS = roles_of(CHANNEL_SMS)
RCS = roles_of(CHANNEL_RCS)
WHATSAPP = roles_of(CHANNEL_WHATSAPP)
LINE = roles_of(CHANNEL_LINE)
WEBHOOK = roles_of(CHANNEL_WEBHOOK)
CONTENT_CARD = roles_of(CHANNEL_CONTENT_CARD)
IN_APP = roles_of(CHANNEL_IN_APP)
BANNER = roles_of(CHANNEL_BANNER)
LIVE_ACTIVITY = roles_of(CHANNEL_LIVE_ACTIVITY)
SUBSCRIPTION = roles_of(AREA_SUBSCRIPTION)


def _subscription_group_id(s: Timeline, channel: str) -> str | None:
    group = s.world.subscription_group(channel)
    return group.subscription_group_id if group else None


def _user_phone(s: Timeline, ctx: Context) -> dict[str, Any]:
    return {"user_phone_number": ctx.get("phone_number")}


# --- e-mail: Send -> Delivery | Bounce | Soft Bounce | Deferral* -> Open (some machine) -> Click -> Unsubscribe | Spam

def _email_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "ip_pool": s.rnd.choice(s.world.senders.ip_pools), "esp": s.rnd.choice(("SendGrid", "SparkPost"))}


_EMAIL_NOT_DELIVERED = (EMAIL["bounce"], EMAIL["soft_bounce"], EMAIL["deferral"])


def _email_delivery(d: Delivery) -> bool | None:
    """Bounce, Soft Bounce, or Deferrals (Braze retries for up to 72 h, then Delivery or Bounce), else Delivery."""
    s, ctx, rates = d.s, d.ctx, d.s.rates
    roll = s.rnd.random()
    if s.focus is not None and s.focus.intersection(_EMAIL_NOT_DELIVERED):
        roll = s.rnd.random() * (rates["email_bounce"] + rates["email_soft_bounce"] + rates["email_deferral"] + 0.01)
    if roll < rates["email_bounce"]:
        s.emit(EMAIL["bounce"], d.t, ctx)
        return False
    roll -= rates["email_bounce"]
    if roll < rates["email_soft_bounce"]:
        s.emit(EMAIL["soft_bounce"], d.t, ctx)
        return False
    roll -= rates["email_soft_bounce"]
    if roll < rates["email_deferral"]:
        for attempt in range(1, s.rnd.randint(1, 4) + 1):
            s.emit(EMAIL["deferral"], d.t, ctx, {"attempt_count": attempt})
            d.t += s.rnd.randrange(900, 18 * 3600)
        if s.rnd.random() < 0.3:
            s.emit(EMAIL["bounce"], d.t, ctx)
            return False
    s.emit(EMAIL["delivery"], d.t, ctx)
    return None


def _email_opens_and_click(d: Delivery) -> None:
    """Opens (machine opens from privacy protection do not engage), then a Click, usually after an Open."""
    s, ctx = d.s, d.ctx
    opened = False
    if s.chance("email_open", EMAIL["open"], EMAIL["click"]):
        now = d.t
        for _ in range(s.rnd.randint(1, 3)):
            machine = s.chance("email_machine_open")
            now += s.rnd.randrange(1, 60) if machine else s.rnd.randrange(60, 2 * 86_400)
            s.emit(EMAIL["open"], now, ctx, {"machine_open": "true" if machine else None,
                                             "user_agent": s.rnd.choice(s.draw.pools.user_agents)})
            opened = True
            d.engaged |= not machine
        d.t = now
    if (opened and s.chance("email_click", EMAIL["click"])) or s.chance("email_click_without_open", EMAIL["click"]):
        d.t += s.rnd.randrange(1, 3600)
        s.emit(EMAIL["click"], d.t, ctx, {"url": s.rnd.choice(s.draw.pools.urls)})
        d.engaged = True


def _email_unsubscribe_or_spam(d: Delivery) -> None:
    """Only after Delivery; generator default: a global e-mail unsubscribe follows an Unsubscribe (§9 [HD])."""
    s, ctx = d.s, d.ctx
    if s.chance("email_unsubscribe", EMAIL["unsubscribe"], SUBSCRIPTION["global_state_change"]):
        d.t += s.rnd.randrange(1, 600)
        s.emit(EMAIL["unsubscribe"], d.t, ctx)
        s.emit(SUBSCRIPTION["global_state_change"], d.t + 1, ctx, {
            "channel": "email", "subscription_status": "Unsubscribed", "state_change_source": "Subscription Center",
            "channel_identifier": ctx.get("email_address")})
    elif s.chance("email_mark_as_spam", EMAIL["mark_as_spam"]):
        s.emit(EMAIL["mark_as_spam"], d.t + s.rnd.randrange(60, 86_400), ctx)


EMAIL_LIFECYCLE = Lifecycle(
    CHANNEL_EMAIL, EMAIL, prepare=_email_fields,
    steps=(Wait(1, 30), _email_delivery, _email_opens_and_click, _email_unsubscribe_or_spam),
    also_emits=(SUBSCRIPTION["global_state_change"],),
)


# --- push: Send -> Open | Bounce (iOS Foreground rarely); an Open may be dated before its Send (§9)

def _push_open(d: Delivery) -> bool:
    s, t = d.s, d.t
    if s.chance("push_open", PUSH["open"]):
        if s.rnd.random() < s.rates["push_open_before_send"]:
            # In the stream after its Send, but dated before it (device clock skew / batched send times).
            s.emit(PUSH["open"], t + 1, d.ctx, time_value=t - s.rnd.randrange(1, 600))
        else:
            s.emit(PUSH["open"], t + s.rnd.randrange(5, 6 * 3600), d.ctx)
        return True
    return False


PUSH_LIFECYCLE = Lifecycle(
    CHANNEL_PUSH, PUSH,
    forced_abort=lambda ctx: not ctx.get("push_token"),
    abort_fields=lambda ctx: {"abort_type": "no_push_token" if not ctx.get("push_token") else None},
    steps=(
        Branch(PUSH["bounce"], "push_bounce", delay=(1, 30), advance=False, ends=False),
        Branch(PUSH["ios_foreground"], "push_ios_foreground", delay=(1, 30), advance=False, ends=True,
               when=lambda ctx: ctx.get("platform") == "ios"),
        _push_open,
    ),
)


# --- SMS: Send -> (Carrier Send) -> Delivery | Rejection | Delivery Failure; Short Link Click; replies (§9)

def _sms_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "to_phone_number": ctx.get("phone_number"),
            "from_phone_number": s.rnd.choice(s.world.senders.sms_numbers),
            "subscription_group_id": _subscription_group_id(s, CHANNEL_SMS), "is_sms_fallback": fallback,
            "category": None}


SMS_LIFECYCLE = Lifecycle(
    CHANNEL_SMS, SMS, prepare=_sms_fields,
    steps=(
        Wait(1, 20),
        Branch(SMS["carrier_send"], "sms_carrier_send", wait_after=(1, 60)),  # legacy SMS infrastructure only
        Branch(SMS["rejection"], "sms_rejection", ends=False),
        Branch(SMS["delivery_failure"], "sms_delivery_failure", ends=False),
        Branch(SMS["delivery"]),
        Branch(SMS["click"], "sms_short_link_click", delay=(10, 3600), fields=_user_phone, engages=True),
        # Within 4 hours of the outbound message: counts as a reply, campaign fields filled (§9).
        Reply(CHANNEL_SMS, (30, 4 * 3600 - 60), favour=(SUBSCRIPTION["group_state_change"],)),
    ),
    also_emits=(SUBSCRIPTION["group_state_change"],),
)


# --- RCS: Send -> Delivery -> Read / Click, or Rejection (maybe falling back to SMS, D10)

def _rcs_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "to_phone_number": ctx.get("phone_number"), "from_rcs_sender": s.world.senders.rcs_sender,
            "subscription_group_id": _subscription_group_id(s, CHANNEL_RCS), "category": None}


# The SMS types a fallback makes likely when they are wanted.
_SMS_FALLBACK_FAVOUR = tuple(SMS[role] for role in (
    "retry", "abort", "send", "carrier_send", "delivery", "rejection", "delivery_failure", "click"))


def _rcs_rejection(d: Delivery) -> bool | None:
    s = d.s
    if s.chance("rcs_rejection", RCS["rejection"], *_SMS_FALLBACK_FAVOUR):
        fallback = s.chance("rcs_sms_fallback", *_SMS_FALLBACK_FAVOUR)
        s.emit(RCS["rejection"], d.t, d.ctx, {"is_sms_fallback": fallback})
        if fallback:  # D10: same send_id and dispatch_id
            return SMS_LIFECYCLE(s, d.ctx, d.t + 1, fallback=True)
        return False
    return None


def _chat_tail(channel: str, types: dict[str, str], read_rate: str) -> tuple[Step, ...]:
    """Read, tracked Click, reply: the tail of a delivered RCS or WhatsApp message."""
    return (
        Branch(types["read"], read_rate, delay=(5, 3600), engages=True),
        Branch(types["click"], "chat_click", delay=(5, 600), fields=_user_phone, engages=True),
        Reply(channel, (30, 3600)),
    )


RCS_LIFECYCLE = Lifecycle(
    CHANNEL_RCS, RCS, prepare=_rcs_fields,
    steps=(
        Wait(1, 20),
        _rcs_rejection,
        Branch(RCS["delivery"]),
        *_chat_tail(CHANNEL_RCS, RCS, "rcs_read"),
    ),
    also_emits=tuple(SMS[role] for role in ("send", "carrier_send", "delivery", "rejection", "delivery_failure"))
    + (SUBSCRIPTION["group_state_change"],),
)


# --- WhatsApp: Send (accepted by Meta) -> Delivery -> Read, or Failure; Abort before Meta; tracked Click; replies

def _whatsapp_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "to_phone_number": ctx.get("phone_number"), "from_phone_number": s.world.senders.whatsapp_number,
            "subscription_group_id": _subscription_group_id(s, CHANNEL_WHATSAPP),
            "message_id": f"wamid.{s.rnd.getrandbits(240):060X}", "flow_id": None}


WHATSAPP_LIFECYCLE = Lifecycle(
    CHANNEL_WHATSAPP, WHATSAPP, prepare=_whatsapp_fields,
    steps=(
        Wait(1, 30),
        Branch(WHATSAPP["failure"], "whatsapp_failure", ends=False),
        Branch(WHATSAPP["delivery"]),
        *_chat_tail(CHANNEL_WHATSAPP, WHATSAPP, "whatsapp_read"),
    ),
    also_emits=(SUBSCRIPTION["group_state_change"],),
)


# --- LINE: Send (handed to LINE) -> tracked Click; replies carry the dispatch id; Abort before LINE

def _line_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "subscription_group_id": _subscription_group_id(s, CHANNEL_LINE)}


LINE_LIFECYCLE = Lifecycle(
    CHANNEL_LINE, LINE, prepare=_line_fields,
    steps=(
        Branch(LINE["click"], "chat_click", delay=(5, 3600), engages=True),
        Reply(CHANNEL_LINE, (30, 3600)),
    ),
)


# --- webhook: Send; an error answer yields Failures with increasing retry_count until success or is_terminal

def _webhook_failures(d: Delivery) -> bool:
    s = d.s
    if s.chance("webhook_failure", WEBHOOK["failure"]):
        url = s.rnd.choice(s.draw.pools.urls)
        attempts = 5
        for retry in range(attempts):
            d.t += 2 ** retry * 30
            succeeds = retry > 0 and s.rnd.random() < s.rates["webhook_retry_success"]
            if succeeds:
                break
            s.emit(WEBHOOK["failure"], d.t, d.ctx, {
                "retry_count": retry, "is_terminal": retry == attempts - 1, "endpoint_url": url,
                "host": url.split("/")[2], "url_path": "/" + url.split("/", 3)[-1] if url.count("/") > 2 else "/"})
    return False


WEBHOOK_LIFECYCLE = Lifecycle(CHANNEL_WEBHOOK, WEBHOOK, steps=(_webhook_failures,))


# --- Content Card: Send -> Impression -> Click and/or Dismiss; Abort instead of Send. D8: the send's dispatch id

def _content_card_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "content_card_id": s.draw.uuid()}


CONTENT_CARD_LIFECYCLE = Lifecycle(
    CHANNEL_CONTENT_CARD, CONTENT_CARD, prepare=_content_card_fields,
    steps=(
        Branch(CONTENT_CARD["impression"], "card_impression", delay=(60, 2 * 86_400), required=True,
               when=lambda ctx: bool(ctx.get("app_id")), favour=(CONTENT_CARD["click"], CONTENT_CARD["dismiss"])),
        Branch(CONTENT_CARD["click"], "card_click", delay=(1, 120), engages=True),
        Branch(CONTENT_CARD["dismiss"], "card_dismiss", delay=(1, 600), advance=False),
    ),
)


# --- in-app message: Impression -> optional Click; Abort instead of display. D8: no dispatch id on in-app messages

def _in_app_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "dispatch_id": None, "card_id": s.draw.uuid()}


IN_APP_LIFECYCLE = Lifecycle(
    CHANNEL_IN_APP, IN_APP, prepare=_in_app_fields, opening="impression",
    forced_abort=lambda ctx: not ctx.get("app_id"),
    abort_fields=lambda ctx: {"app_id": ctx.get("app_id")},
    steps=(Branch(IN_APP["click"], "iam_click", delay=(1, 60), advance=False, ends=True,
                  fields=lambda s, ctx: {"button_id": s.rnd.choice(("0", "1"))}),),
)


# --- Banner: Impression -> Click; Dismiss; Abort instead of display

def _banner_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "banner_placement_id": s.rnd.choice(s.world.senders.banner_placements)}


BANNER_LIFECYCLE = Lifecycle(
    CHANNEL_BANNER, BANNER, prepare=_banner_fields, opening="impression",
    steps=(
        Branch(BANNER["click"], "banner_click", delay=(1, 120), advance=False, ends=True),
        Branch(BANNER["dismiss"], "banner_dismiss", delay=(1, 120), advance=False),
    ),
)


# --- Live Activity: Send start / update / end to the provider, each followed by its Outcome (§9); no head

def live_activity_updates(s: Timeline, ctx: Context, t: int) -> None:
    """Start, a new update token, zero to three updates, end; also told by the Live Activity story."""
    update_token = f"{s.rnd.getrandbits(256):064x}"
    s.emit(LIVE_ACTIVITY["send"], t, ctx, {"live_activity_event_type": "start", "update_token": None})
    s.emit(LIVE_ACTIVITY["outcome"], t + 1, ctx, {"live_activity_event_type": "start", "update_token": None})
    s.emit(LIVE_ACTIVITY["update_token_change"], t + 2, ctx, {
        "update_token": update_token, "push_token_state_change_type": "add", "ios_push_token_apns_gateway": 1})
    ctx = {**ctx, "update_token": update_token}
    for event_type in ("update",) * s.rnd.randint(0, 3) + ("end",):
        t += s.rnd.randrange(60, 3600)
        s.emit(LIVE_ACTIVITY["send"], t, ctx, {"live_activity_event_type": event_type})
        s.emit(LIVE_ACTIVITY["outcome"], t + 1, ctx, {"live_activity_event_type": event_type})


def _live_activity_fields(s: Timeline, ctx: Context, fallback: bool) -> Context:
    return {**ctx, "activity_id": s.draw.uuid(),
            "activity_attributes_type": s.rnd.choice(s.world.senders.live_activity_types),
            "push_to_start_token": f"{s.rnd.getrandbits(256):064x}"}


def _live_activity_run(d: Delivery) -> bool:
    live_activity_updates(d.s, d.ctx, d.t)
    return False


LIVE_ACTIVITY_LIFECYCLE = Lifecycle(
    CHANNEL_LIVE_ACTIVITY, LIVE_ACTIVITY, prepare=_live_activity_fields, opening=None, steps=(_live_activity_run,))


LIFECYCLES: dict[str, Lifecycle] = {lifecycle.channel: lifecycle for lifecycle in (
    EMAIL_LIFECYCLE, PUSH_LIFECYCLE, SMS_LIFECYCLE, RCS_LIFECYCLE, WHATSAPP_LIFECYCLE, LINE_LIFECYCLE,
    WEBHOOK_LIFECYCLE, CONTENT_CARD_LIFECYCLE, IN_APP_LIFECYCLE, BANNER_LIFECYCLE, LIVE_ACTIVITY_LIFECYCLE,
)}

# Which types each channel's lifecycle can emit (steers `types=` runs to campaigns of those channels).
CHANNEL_TYPES: dict[str, tuple[str, ...]] = {channel: lifecycle.emits for channel, lifecycle in LIFECYCLES.items()}


def all_lifecycle_types() -> Sequence[str]:
    return tuple(t for types in CHANNEL_TYPES.values() for t in types)
