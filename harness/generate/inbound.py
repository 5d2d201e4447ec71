"""Inbound messages (SMS, RCS, WhatsApp, LINE): attribution to every profile sharing a number, replies,
keyword opt-in / opt-out and the SMS auto-reply (currents-to-mixpanel.md §9).

A reply (`reply_to` given) carries the campaign fields of the message it answers; an inbound message that is
not a reply is attributed to no campaign; a sender no profile holds has no user id (dropped by E2).
"""

from __future__ import annotations

from typing import Any

from harness.catalog import AREA_SUBSCRIPTION, CHANNEL_LINE, CHANNEL_RCS, CHANNEL_SMS, CHANNEL_WHATSAPP, load_catalog
from harness.generate.timeline import MESSAGE_KEYS, Timeline

_CATALOG = load_catalog()
INBOUND: dict[str, str] = {
    channel: _CATALOG.type_for(channel, "inbound")
    for channel in (CHANNEL_SMS, CHANNEL_RCS, CHANNEL_WHATSAPP, CHANNEL_LINE)
}
GROUP_STATE_CHANGE = _CATALOG.type_for(AREA_SUBSCRIPTION, "group_state_change")
SMS_SEND = _CATALOG.type_for(CHANNEL_SMS, "send")
SMS_DELIVERY = _CATALOG.type_for(CHANNEL_SMS, "delivery")


def inbound_unknown(s: Timeline, channel: str, t: int) -> None:
    """A sender no profile holds: no user id, no external id (dropped by E2)."""
    ctx = {"_ext": None, "_ident_at": None, "user_id": None, "external_user_id": None, "device_id": None,
           "timezone": None, "bsuid": None, "phone_number": s.rnd.choice(s.draw.pools.phones),
           "app_group_id": s.world.app_group_id}
    type_id = INBOUND[channel]
    s.emit(type_id, t, ctx, {**inbound_fields(s, channel, ctx, None), "user_id": None})

def inbound_fields(s: Timeline, channel: str, ctx: dict[str, Any], reply_to: dict[str, Any] | None) -> dict[str, Any]:
    senders = s.world.senders
    keyword = s.chance("inbound_keyword")
    action = s.rnd.choice(("Subscribed", "Unsubscribed")) if keyword else "None"
    body = {"Subscribed": "START", "Unsubscribed": "STOP"}.get(action) or s.rnd.choice(s.draw.pools.sentences)
    group = s.world.subscription_group(channel if channel != CHANNEL_RCS else CHANNEL_SMS)
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
        fields["message_id"] = f"wamid.{s.rnd.getrandbits(240):060X}"
        fields["quick_reply_text"] = None
    if not reply_to:  # not a reply: attributed to no campaign (§9)
        for key in ("campaign_id", "campaign_name", "message_variation_id", "message_variation_name", "canvas_id",
                    "canvas_name", "canvas_variation_id", "canvas_variation_name", "canvas_step_id",
                    "canvas_step_name", "canvas_step_message_variation_id", "send_id", "dispatch_id"):
            fields[key] = None
    return fields

def receive(s: Timeline, channel: str, ctx: dict[str, Any], t: int, reply_to: dict[str, Any] | None) -> None:
    """An inbound message from a user's phone, attributed to every profile sharing it (§9)."""
    if channel == CHANNEL_LINE:
        over = {"message_body": s.rnd.choice(s.draw.pools.sentences), "media_id": None}
        if not reply_to:
            over.update(inbound_fields(s, CHANNEL_LINE, ctx, None))
            over = {k: v for k, v in over.items() if k not in ("action", "user_phone_number", "subscription_group_id")}
        s.emit(INBOUND[CHANNEL_LINE], t, ctx, over)
        return
    phone = ctx.get("phone_number")
    fields = inbound_fields(s, channel, ctx, reply_to)
    type_id = INBOUND[channel]
    sharing = s.world.users_sharing_phone(phone) if phone else ()
    # One event per profile sharing the number; a number no other profile holds keeps the given context.
    recipients: list[int | None] = [s.world.users.index(u) for u in sharing] if len(sharing) > 1 else [None]
    replied = reply_to or {}
    for user_index in recipients:
        user_ctx = ctx if user_index is None else {
            **s.user_ctx(user_index), **{k: replied[k] for k in MESSAGE_KEYS if k in replied}}
        s.emit(type_id, t, user_ctx, fields)
        if fields["action"] != "None":
            # An opt-in/opt-out keyword changes the subscription group state (§9 [HD]).
            group_channel = CHANNEL_SMS if channel == CHANNEL_RCS else channel
            s.emit(GROUP_STATE_CHANGE, t + 1, user_ctx, {
                "subscription_group_id": fields["subscription_group_id"], "subscription_status": fields["action"],
                "state_change_source": "Inbound Message", "channel": group_channel, "channel_identifier": phone,
                "email_address": None, "phone_number": phone, "dispatch_id": None, "app_id": None,
                **({} if reply_to else {k: None for k in ("campaign_id", "campaign_name", "message_variation_id",
                    "message_variation_name", "canvas_id", "canvas_name", "canvas_variation_id",
                    "canvas_variation_name", "canvas_step_id", "canvas_step_name", "send_id")})})
            if channel == CHANNEL_SMS:
                auto_reply(s, user_ctx, fields, t + 2)

def auto_reply(s: Timeline, ctx: dict[str, Any], inbound: dict[str, Any], t: int) -> None:
    """The keyword auto-reply: an SMS Send whose `category` is set (only auto-replies have one, §9)."""
    reply = {**ctx, **{k: None for k in MESSAGE_KEYS if k != "_conversions"}, "dispatch_id": s.draw.hex24(),
             "to_phone_number": ctx.get("phone_number"), "from_phone_number": inbound["inbound_phone_number"],
             "subscription_group_id": inbound["subscription_group_id"], "is_sms_fallback": False,
             "category": "opt-in" if inbound["action"] == "Subscribed" else "opt-out", "message_extras": None}
    s.emit(SMS_SEND, t, reply)
    if s.rnd.random() < 0.95:
        s.emit(SMS_DELIVERY, t + s.rnd.randrange(1, 20), reply)
