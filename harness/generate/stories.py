"""The stories of a stream and the kinds that pick them (the "mix" knob, §11).

A stream is a sequence of stories: one session of one user, one campaign send (to one user when
triggered, to a batch when scheduled), one Canvas pass, an inbound message, a token change, ... Each story
schedules its events on the `Timeline` at their true times (currents-to-mixpanel.md §9 orders).
`STORY_TYPES` says which types each kind can emit, all named through the catalog; a catalog type that no
story knows is told by the `catalog_only` story from the catalog alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from harness.catalog import (
    AREA_AGENT,
    AREA_APP,
    AREA_PROFILE,
    CHANNEL_EMAIL,
    CHANNEL_FEATURE_FLAG,
    CHANNEL_LINE,
    CHANNEL_NEWS_FEED,
    CHANNEL_PUSH,
    CHANNEL_RCS,
    CHANNEL_SMS,
    CHANNEL_WHATSAPP,
)
from harness.generate import inbound
from harness.generate.config import DEFAULT_MIX, OVERSIZE_BYTES, GenerationError
from harness.generate.lifecycle_engine import roles_of
from harness.generate.lifecycles import LIVE_ACTIVITY, SUBSCRIPTION, all_lifecycle_types, live_activity_updates
from harness.generate.sends import CAMPAIGN, CANVAS, CampaignSends
from harness.generate.timeline import Timeline
from harness.generate.world import Device, User

APP = roles_of(AREA_APP)
PROFILE = roles_of(AREA_PROFILE)
AGENT = roles_of(AREA_AGENT)
NEWS_FEED = roles_of(CHANNEL_NEWS_FEED)
FEATURE_FLAG_IMPRESSION = roles_of(CHANNEL_FEATURE_FLAG)["impression"]
TOKEN_STATE_CHANGE = roles_of(CHANNEL_PUSH)["token_state_change"]

# Which types each story kind can emit.
STORY_TYPES: dict[str, tuple[str, ...]] = {
    "session": (*APP.values(), FEATURE_FLAG_IMPRESSION, TOKEN_STATE_CHANGE),
    "campaign": (*CAMPAIGN.values(), *all_lifecycle_types()),
    "canvas": (*CANVAS.values(), *all_lifecycle_types()),
    "inbound": (*(inbound.INBOUND[ch] for ch in (CHANNEL_SMS, CHANNEL_RCS, CHANNEL_WHATSAPP, CHANNEL_LINE)),
                SUBSCRIPTION["group_state_change"]),
    "push_token": (TOKEN_STATE_CHANGE,),
    "live_activity": tuple(LIVE_ACTIVITY.values()),
    "subscription": tuple(SUBSCRIPTION.values()),
    "profile": tuple(PROFILE.values()),
    "agent": tuple(AGENT.values()),
    "newsfeed": tuple(NEWS_FEED.values()),
    "catalog_only": (),  # filled at run time: catalog types no other story emits
}


class StoryTeller:
    """The story kinds one stream tells (weighted by the mix, steered by `types=`) and their state."""

    def __init__(self, s: Timeline) -> None:
        self.s = s
        config = s.cfg
        self.first_sessions: set[str] = set()
        self.uninstalled: set[tuple[str, str]] = set()
        covered = {t for types in STORY_TYPES.values() for t in types}
        self.catalog_only = tuple(t for t in s.catalog.type_ids if t not in covered)
        self.story_types = {**STORY_TYPES, "catalog_only": self.catalog_only}
        self.sends = CampaignSends(s)
        self.tellers: dict[str, Callable[[int], None]] = {
            "session": self.story_session, "campaign": self.sends.story_campaign, "canvas": self.sends.story_canvas,
            "inbound": self.story_inbound, "push_token": self.story_push_token,
            "live_activity": self.story_live_activity, "subscription": self.story_subscription,
            "profile": self.story_profile, "agent": self.story_agent, "newsfeed": self.story_newsfeed,
            "catalog_only": self.story_catalog_only,
        }
        mix = {**DEFAULT_MIX, **{k: float(v) for k, v in config.mix.items()}}
        kinds = [k for k in DEFAULT_MIX if mix[k] > 0 and self._story_possible(k)]
        if s.focus is not None:
            kinds = [k for k in kinds if s.focus.intersection(self.story_types[k])]
            missing = sorted(s.focus - {t for k in kinds for t in self.story_types[k]})
            if missing:
                raise GenerationError(f"this world and mix cannot produce {missing[0]}")
        if not kinds and config.events:
            raise GenerationError("the mix leaves no story kind to generate")
        self.kinds = kinds
        self.cum_weights = list(itertools.accumulate(mix[k] for k in kinds))

    def _story_possible(self, kind: str) -> bool:
        s = self.s
        w = s.world
        if kind == "campaign":
            return bool(w.campaigns)
        if kind == "canvas":
            return bool(w.canvases)
        if kind in ("session", "push_token", "newsfeed"):
            return bool(s.with_device)
        if kind == "live_activity":
            return bool(s.with_ios)
        if kind == "catalog_only":
            return bool(self.catalog_only)
        return True

    def story_session(self, t: int) -> None:
        s = self.s
        user_index = s.pick_user(s.with_device)
        device_index = s.pick_device(user_index)
        ctx = s.user_ctx(user_index, device_index)
        device: Device = s.world.users[user_index].devices[device_index]
        session = {**ctx, "session_id": s.draw.uuid()}
        s.emit(APP["session_start"], t, session)
        if device.device_id not in self.first_sessions:
            # Every First Session comes with its Session Start, same session_id (§9).
            self.first_sessions.add(device.device_id)
            s.emit(APP["first_session"], t, session)
            if s.chance("first_session_install_attribution", APP["install_attribution"]):
                s.emit(APP["install_attribution"], t, session)
            if device.push_token:
                s.emit(TOKEN_STATE_CHANGE, t + 1, ctx, self.token_change("add", device, t + 1))
        duration = round(s.rnd.uniform(5.0, 1200.0), 3)
        now = t
        for _ in range(s.rnd.randint(0, 3)):
            now += s.rnd.randrange(1, max(2, int(duration / 4)))
            if s.rates["oversize"] and s.chance("oversize"):
                s.emit(APP["custom_event"], now, session, {"properties": {"blob": "x" * OVERSIZE_BYTES}})
            else:
                s.emit(APP["custom_event"], now, session)
        if s.chance("purchase", APP["purchase"]):
            now += 1
            s.emit(APP["purchase"], now, session)
        if s.chance("location", APP["location"]):
            now += 1
            s.emit(APP["location"], now, session)
        if s.chance("feature_flag", FEATURE_FLAG_IMPRESSION):  # at most once per session
            now += 1
            s.emit(FEATURE_FLAG_IMPRESSION, now, session, {
                "feature_flag_id_name": s.rnd.choice(s.world.senders.feature_flags),
                "campaign_id": None, "campaign_name": None, "message_variation_id": None,
                "message_variation_name": None, "canvas_id": None, "canvas_name": None, "canvas_variation_id": None,
                "canvas_variation_name": None, "canvas_step_id": None, "canvas_step_name": None,
                "canvas_step_message_variation_id": None})
        end = max(now, t + int(duration))
        s.emit(APP["session_end"], end, session, {"duration": duration})
        key = (s.world.users[user_index].user_id, device.app_id)
        # Inferred from a failed daily silent push, some hours after the last session (§9); not recorded when it
        # would fall after the anchor (it has not happened yet).
        if (key not in self.uninstalled and s.chance("uninstall", APP["uninstall"])
                and s.emit(APP["uninstall"], end + s.rnd.randrange(3600, 86_400), ctx) is not None):
            self.uninstalled.add(key)

    def token_change(self, change: str, device: Device, t: int) -> dict[str, Any]:
        s = self.s
        web = device.platform == "web"
        return {
            "push_token_state_change_type": change, "push_token": device.push_token, "platform": device.platform,
            "push_token_device_id": device.device_id, "time_ms": t * 1000 + s.rnd.randrange(1000),
            "push_token_created_at": t if change == "add" else t - s.rnd.randrange(86_400, 90 * 86_400),
            "push_token_updated_at": t,
            "ios_push_token_apns_gateway": 1 if device.platform in ("ios", "tvos") else None,
            "web_push_token_public_key": s.draw.hex24() if web else None,
            "web_push_token_user_auth": s.draw.hex24()[:16] if web else None,
            "web_push_token_vapid_public_key": s.draw.hex24() if web else None,
            "push_token_provisionally_opted_in": device.platform == "ios" and s.rnd.random() < 0.1,
            "push_token_foreground_push_disabled": False,
        }

    def story_push_token(self, t: int) -> None:
        """add, then zero or more update, then optionally remove (§9)."""
        s = self.s
        user_index = s.pick_user(s.with_device)
        device_index = s.pick_device(user_index)
        device = s.world.users[user_index].devices[device_index]
        if not device.push_token:
            return
        ctx = s.user_ctx(user_index, device_index)
        s.emit(TOKEN_STATE_CHANGE, t, ctx, self.token_change("add", device, t))
        for _ in range(s.rnd.randint(0, 2)):
            t += s.rnd.randrange(3600, 5 * 86_400)
            s.emit(TOKEN_STATE_CHANGE, t, ctx, self.token_change("update", device, t))
        if s.rnd.random() < 0.3:
            t += s.rnd.randrange(3600, 5 * 86_400)
            s.emit(TOKEN_STATE_CHANGE, t, ctx, self.token_change("remove", device, t))

    def story_live_activity(self, t: int) -> None:
        s = self.s
        user_index = s.pick_user(s.with_ios)
        devices = s.world.users[user_index].devices
        device_index = next(i for i, d in enumerate(devices) if d.platform == "ios")
        ctx = s.user_ctx(user_index, device_index)
        kind = s.rnd.choice(s.world.senders.live_activity_types)
        start_token = f"{s.rnd.getrandbits(256):064x}"
        s.emit(LIVE_ACTIVITY["push_to_start_token_change"], t, ctx, {
            "activity_attributes_type": kind, "push_to_start_token": start_token, "push_token_state_change_type": "add",
            "ios_push_token_apns_gateway": 1})
        activity = {"activity_id": s.draw.uuid(), "activity_attributes_type": kind}
        live_activity_updates(s, {**ctx, **activity, "push_to_start_token": start_token}, t + 60)

    def story_inbound(self, t: int) -> None:
        """An inbound message that is not a reply: no campaign fields (§9)."""
        s = self.s
        channel = s.rnd.choice((CHANNEL_SMS, CHANNEL_SMS, CHANNEL_RCS, CHANNEL_WHATSAPP, CHANNEL_LINE))
        if channel == CHANNEL_LINE:
            user_index = s.rnd.randrange(len(s.world.users))
            inbound.receive(s, channel, s.user_ctx(user_index), t, None)
        elif s.chance("unknown_inbound_sender") or not s.with_phone:
            inbound.inbound_unknown(s, channel, t)
        else:
            user_index = s.pick_user(s.with_phone)
            inbound.receive(s, channel, s.user_ctx(user_index), t, None)

    def story_subscription(self, t: int) -> None:
        s = self.s
        user_index = s.rnd.randrange(len(s.world.users))
        ctx = s.user_ctx(user_index)
        user: User = ctx["_user"]
        none = {k: None for k in ("campaign_id", "campaign_name", "message_variation_id", "message_variation_name",
                                  "canvas_id", "canvas_name", "canvas_variation_id", "canvas_variation_name",
                                  "canvas_step_id", "canvas_step_name", "send_id", "dispatch_id", "app_id")}
        source = s.rnd.choice(("Subscription Center", "REST API", "SDK", "Dashboard", "CSV Import"))
        if s.rnd.random() < 0.5:
            channel = CHANNEL_EMAIL if user.email else CHANNEL_SMS
            status = s.rnd.choice(("Subscribed", "Unsubscribed", "Opted In"))
            identifier = user.email if channel == CHANNEL_EMAIL else user.phone
            s.emit(SUBSCRIPTION["global_state_change"], t, ctx, {
                **none, "channel": channel, "subscription_status": status, "state_change_source": source,
                "channel_identifier": identifier})
        else:
            group = s.rnd.choice(s.world.subscription_groups)
            identifier = user.email if group.channel == CHANNEL_EMAIL else user.phone
            s.emit(SUBSCRIPTION["group_state_change"], t, ctx, {
                **none, "subscription_group_id": group.subscription_group_id, "channel": group.channel,
                "subscription_status": s.rnd.choice(("Subscribed", "Unsubscribed")), "state_change_source": source,
                "channel_identifier": identifier})

    def story_profile(self, t: int) -> None:
        s = self.s
        user_index = s.rnd.randrange(len(s.world.users))
        ctx = s.user_ctx(user_index, s.pick_device(user_index))
        roll = s.rnd.random()
        if roll < 0.55:
            s.emit(PROFILE["update"], t, ctx, {"time_ms": t * 1000 + s.rnd.randrange(1000),
                                                       "home_city": s.rnd.choice(s.draw.pools.cities)})
        elif roll < 0.8:
            bucket = s.rnd.randrange(10_000)
            s.emit(PROFILE["random_bucket_update"], t, ctx, {"random_bucket_number": bucket,
                                                                 "prev_random_bucket_number": s.rnd.randrange(10_000)})
        elif roll < 0.93:
            # The orphaned profile was merged into another user's profile.
            other = s.world.users[s.rnd.randrange(len(s.world.users))]
            s.emit(PROFILE["orphan"], t, {**ctx, "_ext": None}, {"orphaned_by_id": other.user_id,
                                                                      "user_id": s.draw.hex24()})
        else:
            s.emit(PROFILE["delete_request"], t, ctx)

    def story_agent(self, t: int) -> None:
        s = self.s
        agent_id, agent_name = s.rnd.choice(s.world.senders.agents)
        user_index = s.rnd.randrange(len(s.world.users))
        ctx = s.user_ctx(user_index)
        request = {"agent_id": agent_id, "agent_name": agent_name, "request_id": s.draw.uuid(),
                   "invocation_source": s.rnd.choice(("canvas", "catalog", "test"))}
        is_error = s.rnd.random() < 0.03
        prompt, completion = s.rnd.randint(50, 4000), s.rnd.randint(10, 1500)
        canvas = s.rnd.choice(s.world.canvases) if s.world.canvases else None
        canvas_fields = {"canvas_id": None, "canvas_name": None, "canvas_variation_id": None,
                         "canvas_variation_name": None, "canvas_step_id": None, "canvas_step_name": None}
        if canvas is not None and request["invocation_source"] == "canvas":
            variation = canvas.variations[0]
            canvas_fields = {"canvas_id": canvas.canvas_id, "canvas_name": canvas.name,
                             "canvas_variation_id": variation.variation_id, "canvas_variation_name": variation.name,
                             "canvas_step_id": variation.steps[0].step_id, "canvas_step_name": variation.steps[0].name}
        s.emit(AGENT["agent_executed"], t, ctx, {
            **request, **canvas_fields, "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "is_error": is_error,
            "error": "upstream timeout" if is_error else None,
            "output": None if is_error else s.rnd.choice(s.draw.pools.sentences)})
        for index in range(s.rnd.randint(0, 2)):
            s.emit(AGENT["tool_invocation"], t + index + 1, {"app_group_id": s.world.app_group_id}, {**request})

    def story_newsfeed(self, t: int) -> None:
        """The retired News Feed (legacy profile only): Impression -> Click, or Abort."""
        s = self.s
        user_index = s.pick_user(s.with_device)
        ctx = {**s.user_ctx(user_index, s.pick_device(user_index)), "card_id": s.draw.uuid()}
        if s.rnd.random() < 0.1:
            s.emit(NEWS_FEED["abort"], t, ctx)
            return
        s.emit(NEWS_FEED["impression"], t, ctx)
        if s.rnd.random() < 0.3:
            s.emit(NEWS_FEED["click"], t + s.rnd.randrange(1, 120), ctx)

    def story_catalog_only(self, t: int) -> None:
        """A catalog type no lifecycle knows yet: one event with the user's context and drawn values."""
        s = self.s
        wanted = [x for x in self.catalog_only if s.focus is None or x in s.focus] or list(self.catalog_only)
        if s.wanting:
            wanted = [x for x in wanted if x in s.wanting] or wanted
        user_index = s.rnd.randrange(len(s.world.users))
        s.emit(s.rnd.choice(wanted), t, s.user_ctx(user_index, s.pick_device(user_index)))
