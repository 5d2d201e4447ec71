"""Checks of the generator's promises over a stream of Custom HTTP events (§8 dispatch_id, §9 lifecycle).

Each check returns a list of violations (readable strings; empty when the rule holds), so tests and QA
scripts can assert on them and print what broke. Stream order is the order given (the generator's
delivery order); `time` is only compared where the spec says it is ordered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from harness.catalog import (
    AREA_APP,
    AREA_CAMPAIGN,
    AREA_CANVAS,
    CHANNEL_CONTENT_CARD,
    CHANNEL_EMAIL,
    CHANNEL_IN_APP,
    CHANNEL_RCS,
    CHANNEL_SMS,
    Catalog,
    load_catalog,
)
from harness.currents_io.normalise import normalise_custom_http
from harness.generate.config import DispatchRecord
from harness.generate.providers import SAMPLE_SHARED_ID, is_placeholder_id
from harness.generate.world import DELIVERY_SCHEDULED, World

Flat = dict[str, Any]

_CATALOG = load_catalog()
_type = _CATALOG.type_for
EMAIL_SEND, EMAIL_DELIVERY, EMAIL_BOUNCE = (_type(CHANNEL_EMAIL, r) for r in ("send", "delivery", "bounce"))
EMAIL_AFTER_DELIVERY = frozenset(("open", "click", "unsubscribe", "mark_as_spam"))  # roles (§9 e-mail)
EMAIL_AFTER_SEND = frozenset(("delivery", "bounce", "soft_bounce", "deferral"))
SMS_SEND, SMS_INBOUND = _type(CHANNEL_SMS, "send"), _type(CHANNEL_SMS, "inbound")
SMS_AFTER_SEND = frozenset(("carrier_send", "delivery", "rejection", "delivery_failure"))
RCS_REJECTION = _type(CHANNEL_RCS, "rejection")
SESSION_START, FIRST_SESSION = _type(AREA_APP, "session_start"), _type(AREA_APP, "first_session")
IN_APP_IMPRESSION, IN_APP_CLICK = _type(CHANNEL_IN_APP, "impression"), _type(CHANNEL_IN_APP, "click")
CARD_SEND, CARD_IMPRESSION = _type(CHANNEL_CONTENT_CARD, "send"), _type(CHANNEL_CONTENT_CARD, "impression")
CARD_SHOWN = frozenset(("impression", "click", "dismiss"))
CAMPAIGN_CONVERSION, CANVAS_CONVERSION = _type(AREA_CAMPAIGN, "conversion"), _type(AREA_CANVAS, "conversion")


def flatten(events: Iterable[dict[str, Any]]) -> list[Flat]:
    return [normalise_custom_http(e) for e in events]


def _limit(violations: list[str], cap: int = 20) -> list[str]:
    return violations if len(violations) <= cap else violations[:cap] + [f"... and {len(violations) - cap} more"]


def envelope_violations(flat: Sequence[Flat], *, anchor: int, allow_duplicates: bool = False) -> list[str]:
    """E2/E3/§1/§10: UUID ids (never the sample's), no placeholder external ids, no time after the anchor."""
    out, seen = [], set()
    for e in flat:
        eid = e.get("id")
        if not isinstance(eid, str) or len(eid) != 36 or eid == SAMPLE_SHARED_ID:
            out.append(f"bad id {eid!r} on {e.get('event_type')}")
        if eid in seen and not allow_duplicates:
            out.append(f"duplicate id {eid}")
        seen.add(eid)
        ext = e.get("external_user_id")
        if ext is not None and (not isinstance(ext, str) or not ext or is_placeholder_id(ext)):
            out.append(f"placeholder external_user_id {ext!r}")
        t = e.get("time")
        if not isinstance(t, int) or t > anchor or t < 31_536_000:
            out.append(f"time {t!r} outside (1971, anchor] on {e.get('event_type')}")
    return _limit(out)


def time_order_violations(flat: Sequence[Flat], skewed_ids: set[str]) -> list[str]:
    """§9: per user, `time` never goes backwards in stream order, except the deliberately skewed events."""
    out: list[str] = []
    last: dict[str, int] = {}
    for e in flat:
        user = e.get("user_id")
        if user is None or e["id"] in skewed_ids:
            continue
        if e["time"] < last.get(user, 0):
            out.append(f"user {user}: {e['event_type']} at {e['time']} after an event at {last[user]}")
        last[user] = max(last.get(user, 0), e["time"])
    return _limit(out)


def dispatch_violations(flat: Sequence[Flat], world: World, ledger: Sequence[DispatchRecord] = (),
                        catalog: Catalog | None = None) -> list[str]:
    """§8 D1, D2, D4 (default mode), D5, D6, D7, D8, D9 (`retry_violations`), D10."""
    catalog = catalog or load_catalog()
    out: list[str] = []
    deliveries = {c.campaign_id: c.delivery for c in world.campaigns}
    # §8 D6 as the catalog marks it: a Send (or its Abort) opens a dispatch, the other listed types follow.
    starters = {t.type_id: t.channel for t in catalog.all_types() if t.starts_dispatch}
    followers = {t.type_id: t.channel for t in catalog.all_types() if t.in_dispatch_lifecycle and not t.starts_dispatch}
    # Users are None for unknown inbound senders; values are compared, never interpreted.
    started: set[tuple[str, Any, Any]] = set()  # (channel, user, dispatch)
    users_of: dict[Any, set[Any]] = defaultdict(set)
    campaigns_of: dict[Any, set[str]] = defaultdict(set)
    rcs_fallbacks: set[tuple[Any, Any, Any]] = set()
    for e in flat:
        type_id, user, dispatch = e["event_type"], e.get("user_id"), e.get("dispatch_id")
        event_type = catalog[type_id]
        if dispatch is not None and not event_type.has_field("dispatch_id"):
            out.append(f"D7: {type_id} carries dispatch_id but its schema has none")
        if event_type.channel == CHANNEL_IN_APP and dispatch is not None:
            out.append(f"D8: in-app message {type_id} carries dispatch_id {dispatch}")
        if dispatch is None:
            continue
        users_of[dispatch].add(user)
        if e.get("campaign_id"):
            campaigns_of[dispatch].add(e["campaign_id"])
        if type_id in starters:
            started.add((starters[type_id], user, dispatch))
        elif type_id in followers and (followers[type_id], user, dispatch) not in started:
            out.append(f"D6: {type_id} of user {user} with dispatch {dispatch} has no earlier Send/Abort")
        if type_id == RCS_REJECTION and e.get("is_sms_fallback"):
            rcs_fallbacks.add((user, dispatch, e.get("send_id")))
        if (event_type.channel == CHANNEL_SMS and e.get("is_sms_fallback")
                and (user, dispatch, e.get("send_id")) not in rcs_fallbacks):
            out.append(f"D10: SMS fallback {type_id} of user {user} has no RCS Rejection with dispatch {dispatch}")
    for dispatch, campaigns in campaigns_of.items():
        if len(campaigns) > 1:
            out.append(f"dispatch {dispatch} spans campaigns {sorted(campaigns)}")
        campaign = next(iter(campaigns))
        if deliveries.get(campaign) not in (None, DELIVERY_SCHEDULED) and len(users_of[dispatch]) > 1:
            out.append(f"D2: triggered campaign {campaign}: dispatch {dispatch} "
                       f"shared by {len(users_of[dispatch])} users")
    seen_ids: set[str] = set()
    for record in ledger:
        if record.dispatch_id in seen_ids:
            out.append(f"dispatch id {record.dispatch_id} reused by two sends")
        seen_ids.add(record.dispatch_id)
        carriers = users_of.get(record.dispatch_id, set())
        if not carriers <= set(record.user_ids):
            out.append(f"{record.kind} dispatch {record.dispatch_id} carried by users outside its send")
        if record.kind in ("triggered", "canvas_step") and len(carriers) > 1:
            out.append(f"D2/D4: {record.kind} dispatch {record.dispatch_id} shared by {len(carriers)} users")
    out.extend(retry_violations(flat, catalog))
    return _limit(out)


# What names one message of a send: a Retry and its eventual Send share these (and the user and channel).
_MESSAGE_KEYS = ("campaign_id", "message_variation_id", "canvas_id", "canvas_step_id",
                 "canvas_step_message_variation_id")


def retry_violations(flat: Sequence[Flat], catalog: Catalog | None = None) -> list[str]:
    """§8 D9 (harness default): a Message Prioritization Retry carrying a `dispatch_id` shares it with the
    eventual Send (or the Abort that replaces it) of the same channel, user and message. A Retry is wrong
    when no later Send/Abort carries its dispatch id although a later one of the same message exists (one
    send of a recurring message may overlap another, so the next one of the message need not be its own);
    a Retry whose message never follows (the stream ended first) is not judged."""
    catalog = catalog or load_catalog()
    starters = {t.type_id for t in catalog.all_types() if t.starts_dispatch}
    retries = {t.type_id for t in catalog.all_types() if t.role == "retry" and t.has_field("dispatch_id")}
    last_by_dispatch: dict[tuple[Any, ...], int] = {}  # (channel, user, dispatch) -> last Send/Abort index
    last_by_message: dict[tuple[Any, ...], int] = {}  # (channel, user, message) -> last Send/Abort index
    pending: list[tuple[int, Flat, tuple[Any, ...], tuple[Any, ...]]] = []
    for index, e in enumerate(flat):
        type_id = e["event_type"]
        if type_id not in retries and type_id not in starters:
            continue
        channel, user = catalog[type_id].channel, e.get("user_id")
        by_dispatch = (channel, user, e.get("dispatch_id"))
        by_message = (channel, user, tuple(e.get(k) for k in _MESSAGE_KEYS))
        if type_id in retries:
            pending.append((index, e, by_dispatch, by_message))
        else:
            last_by_dispatch[by_dispatch] = index
            last_by_message[by_message] = index
    out: list[str] = []
    for index, retry, by_dispatch, by_message in pending:
        if last_by_dispatch.get(by_dispatch, -1) < index < last_by_message.get(by_message, -1):
            out.append(f"D9: {retry['event_type']} of user {by_dispatch[1]} carries dispatch {by_dispatch[2]}, "
                       "which no later Send/Abort of its message carries")
    return _limit(out)


def lifecycle_violations(flat: Sequence[Flat], world: World, catalog: Catalog | None = None) -> list[str]:
    """§9 orders, checked in stream order."""
    catalog = catalog or load_catalog()
    out: list[str] = []
    seen: set[tuple] = set()
    sessions: set[tuple[Any, Any]] = set()  # (user, session id)
    first_sessions: list[tuple[Any, Any]] = []
    inbound: dict[tuple, set[str]] = defaultdict(set)
    for e in flat:
        type_id, user, dispatch = e["event_type"], e.get("user_id"), e.get("dispatch_id")
        event_type = catalog[type_id]
        channel, role, name = event_type.channel, event_type.role, event_type.avro_record_name
        if channel == CHANNEL_EMAIL and dispatch:
            if role in EMAIL_AFTER_DELIVERY and (EMAIL_DELIVERY, user, dispatch) not in seen:
                out.append(f"email {name} of user {user} before its Delivery (dispatch {dispatch})")
            if role in EMAIL_AFTER_SEND and (EMAIL_SEND, user, dispatch) not in seen:
                out.append(f"email {name} of user {user} before its Send (dispatch {dispatch})")
            if role == "delivery" and (EMAIL_BOUNCE, user, dispatch) in seen:
                out.append(f"email Delivery after a Bounce (user {user}, dispatch {dispatch})")
        if channel == CHANNEL_SMS and dispatch and role in SMS_AFTER_SEND and (SMS_SEND, user, dispatch) not in seen:
            out.append(f"SMS {name} of user {user} before its Send (dispatch {dispatch})")
        if type_id == SESSION_START:
            sessions.add((user, e.get("session_id")))
        if type_id == FIRST_SESSION:
            first_sessions.append((user, e.get("session_id")))
        if type_id == IN_APP_CLICK and (IN_APP_IMPRESSION, user, e.get("card_id")) not in seen:
            out.append(f"in-app Click of user {user} without an earlier Impression")
        if channel == CHANNEL_CONTENT_CARD and role in CARD_SHOWN:
            before = CARD_SEND if role == "impression" else CARD_IMPRESSION
            if (before, user, e.get("content_card_id")) not in seen:
                out.append(f"Content Card {name} of user {user} without an earlier {before.rsplit('.', 1)[1]}")
        if type_id == CAMPAIGN_CONVERSION and ("campaign-message", user, e.get("campaign_id")) not in seen:
            out.append(f"Campaign Conversion of user {user} before any message of campaign {e.get('campaign_id')}")
        if type_id == CANVAS_CONVERSION and ("canvas-message", user, e.get("canvas_id")) not in seen:
            out.append(f"Canvas Conversion of user {user} before any event of Canvas {e.get('canvas_id')}")
        if type_id == SMS_INBOUND and user is not None:
            inbound[(e.get("user_phone_number"), e["time"], e.get("message_body"))].add(user)
        seen.add((type_id, user, dispatch))
        if channel == CHANNEL_IN_APP:
            seen.add((type_id, user, e.get("card_id")))
        if channel == CHANNEL_CONTENT_CARD:
            seen.add((type_id, user, e.get("content_card_id")))
        if e.get("campaign_id") and event_type.is_message:
            seen.add(("campaign-message", user, e["campaign_id"]))
        if e.get("canvas_id") and type_id != CANVAS_CONVERSION:
            seen.add(("canvas-message", user, e["canvas_id"]))
    for key in first_sessions:
        if key not in sessions:
            out.append(f"First Session {key[1]} of user {key[0]} without its Session Start")
    tail = flat[-1]["time"] if flat else 0  # the stream may end in the middle of one attribution
    for (phone, time, _body), users in inbound.items():
        if time >= tail:
            continue
        expected = {u.user_id for u in world.users_sharing_phone(phone)}
        if expected and users != expected:
            out.append(f"inbound SMS from {phone} attributed to {len(users)} of the {len(expected)} users sharing it")
    return _limit(out)


_PY_TYPES: dict[str, tuple[type[Any], ...]] = {
    "string": (str,), "json-string": (str,), "int": (int,), "long": (int,), "float": (float, int),
    "boolean": (bool,), "array<string>": (list,),
}
_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def schema_violations(event: dict[str, Any], catalog: Catalog | None = None, *, json_strings: bool = True) -> list[str]:
    """A Custom HTTP event against the catalog: known type, only the type's keys at their paths, required
    fields present, values of the field's type (decoded property objects allowed; json-strings must decode
    unless `json_strings` is false, as adversarial input may hold malformed JSON on purpose, N5)."""
    import json

    catalog = catalog or load_catalog()
    type_id = event.get("event_type")
    event_type = catalog.get(type_id) if isinstance(type_id, str) else None
    if event_type is None:
        return [f"unknown event_type {type_id!r}"]
    shape_fields = event_type.custom_http_fields if "custom-http" in event_type.shapes else event_type.fields
    by_path = {f.custom_http_path: f for f in shape_fields}
    out = []
    values: dict[tuple[str, ...], Any] = {}
    for key, value in event.items():
        if key in ("user", "properties"):
            if not isinstance(value, dict):
                out.append(f"{type_id}: {key} is not an object")
                continue
            values.update({(key, k): v for k, v in value.items()})
        elif key != "event_type":
            values[(key,)] = value
    for path, value in values.items():
        source = by_path.get(path)
        if source is None:
            out.append(f"{type_id}: unknown key {'.'.join(path)}")
            continue
        if value is None:
            if not source.nullable:
                out.append(f"{type_id}: required {source.name} is null")
            continue
        decoded_object = source.type == "json-string" and path[-1] != source.name
        if decoded_object:
            if not isinstance(value, dict):
                out.append(f"{type_id}: {source.name} should be an object")
            continue
        if not isinstance(value, _PY_TYPES[source.type]) or (source.type != "boolean" and isinstance(value, bool)):
            out.append(f"{type_id}: {source.name} = {value!r} is not {source.type}")
            continue
        if source.type in _INT_RANGE and not _INT_RANGE[source.type][0] <= value <= _INT_RANGE[source.type][1]:
            out.append(f"{type_id}: {source.name} = {value} out of {source.type} range")
        if source.type == "array<string>" and not all(isinstance(v, str) for v in value):
            out.append(f"{type_id}: {source.name} holds non-strings")
        if source.type == "json-string" and json_strings:
            try:
                json.loads(value)
            except ValueError:
                out.append(f"{type_id}: {source.name} is not JSON")
    for source in shape_fields:
        if not source.nullable and values.get(source.custom_http_path) is None:
            out.append(f"{type_id}: required {source.name} missing")
    return out
