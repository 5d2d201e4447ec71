"""Campaign and Canvas sends: recipients, `dispatch_id` per send (§8 D1-D5, D12) and conversions (§9).

A scheduled campaign send shares one id across its recipients, channels and variations (D1, D3, D12);
an action-based or API-triggered send gets one id per user per trigger (D2). Canvas steps get one id per
(user, step, send) by default (D4), the entry step of a scheduled Canvas one per send (D5); the
`canvas_dispatch_mode` knob switches to the other observed behaviours. Each message then runs its
channel's lifecycle (`harness.generate.lifecycles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.catalog import (
    AREA_CAMPAIGN,
    AREA_CANVAS,
    CHANNEL_BANNER,
    CHANNEL_CONTENT_CARD,
    CHANNEL_EMAIL,
    CHANNEL_IN_APP,
    CHANNEL_LIVE_ACTIVITY,
    CHANNEL_PUSH,
    CHANNEL_RCS,
    CHANNEL_SMS,
    CHANNEL_WHATSAPP,
)
from harness.generate.lifecycle_engine import roles_of
from harness.generate.lifecycles import CHANNEL_TYPES, LIFECYCLES
from harness.generate.timeline import MESSAGE_KEYS, Message, Timeline
from harness.generate.world import DELIVERY_SCHEDULED, ENTRY_SCHEDULED, Campaign, Canvas

CAMPAIGN = roles_of(AREA_CAMPAIGN)
CANVAS = roles_of(AREA_CANVAS)
CAMPAIGN_CONVERSION = CAMPAIGN["conversion"]
CANVAS_CONVERSION = CANVAS["conversion"]
ENROLL_IN_CONTROL = CAMPAIGN["enroll_in_control"]


class CampaignSends:
    """The campaign and Canvas stories of one stream, with the campaigns it steers to (`types=` runs)."""

    def __init__(self, s: Timeline) -> None:
        self.s = s
        self._eligible: dict[tuple[str, ...], list[int]] = {}
        self.campaigns = list(s.world.campaigns)
        if s.focus is not None:  # steer campaigns and Canvases to the wanted channels
            wanted = {ch for ch, types in CHANNEL_TYPES.items() if s.focus.intersection(types)}
            focused = [c for c in self.campaigns if wanted.intersection(c.channels)]
            self.campaigns = focused or self.campaigns

    def _covering(self, sends: Sequence[Any]) -> list[Any]:
        """`cover`: the campaigns (or Canvases) whose channels can still emit a missing type (else all)."""
        missing = self.s.wanting.keys()
        useful = [c for c in sends if any(not missing.isdisjoint(CHANNEL_TYPES.get(ch, ())) for ch in _channels(c))]
        return useful or list(sends)

    def campaign_message(self, campaign: Campaign, dispatch_id: str) -> Message:
        s = self.s
        variation = s.rnd.choice(campaign.variations)
        return {
            "campaign_id": campaign.campaign_id, "campaign_name": campaign.name,
            "message_variation_id": variation.variation_id, "message_variation_name": variation.name,
            "canvas_id": None, "canvas_name": None, "canvas_variation_id": None, "canvas_variation_name": None,
            "canvas_step_id": None, "canvas_step_name": None, "canvas_step_message_variation_id": None,
            "dispatch_id": dispatch_id, "send_id": campaign.send_id,
            "_conversions": campaign.conversions, "_campaign": campaign,
        }

    def channel_possible(self, channel: str, user_index: int) -> bool:
        s = self.s
        user = s.world.users[user_index]
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
        s = self.s
        users = self._eligible.get(channels)
        if users is None:
            users = self._eligible[channels] = [
                i for i in range(len(s.world.users)) if any(self.channel_possible(c, i) for c in channels)]
        return users

    def deliver(self, channel: str, user_index: int, msg: Message, t: int) -> bool:
        """Run one channel's lifecycle for one user; True when the user engaged (for conversions)."""
        s = self.s
        device_index = s.pick_device(user_index)
        if channel == CHANNEL_LIVE_ACTIVITY:
            ios = [i for i, d in enumerate(s.world.users[user_index].devices) if d.platform == "ios"]
            device_index = ios[0] if ios else device_index
        ctx = {**s.user_ctx(user_index, device_index), **msg}
        return LIFECYCLES[channel](s, ctx, t)

    def after_engagement(self, ctx: dict[str, Any], t: int, engaged: bool) -> None:
        """Conversions follow engagement with the same campaign or Canvas (§9)."""
        s = self.s
        if not engaged or not s.chance("conversion", CAMPAIGN_CONVERSION, CANVAS_CONVERSION):
            return
        conversion = s.rnd.choice(ctx["_conversions"])
        over = {"conversion_behavior_index": conversion.index, "conversion_behavior": conversion.behavior}
        when = t + s.rnd.randrange(60, 86_400)
        if ctx.get("campaign_id"):
            s.emit(CAMPAIGN_CONVERSION, when, ctx, over)
        elif ctx.get("canvas_id"):
            s.emit(CANVAS_CONVERSION, when, ctx, over)

    def story_campaign(self, t: int) -> None:
        s = self.s
        campaign = s.rnd.choice(self.campaigns if not s.wanting else self._covering(self.campaigns))
        recipients = self.eligible(campaign.channels)
        if not recipients:
            return
        if campaign.delivery == DELIVERY_SCHEDULED:
            # D1/D3/D12: one id for the whole send: every recipient, channel and variation.
            dispatch_id = s.draw.hex24()
            lo, hi = s.cfg.scheduled_batch
            batch = s.rnd.sample(recipients, min(len(recipients), s.rnd.randint(lo, hi)))
            s.ledger(dispatch_id, "scheduled", campaign=campaign, user_ids=[s.world.users[i].user_id for i in batch],
                        channels=campaign.channels)
            for user_index in batch:
                self.send_campaign(campaign, user_index, dispatch_id, t + s.rnd.randrange(0, 300))
        else:
            # D2: an action-based or API-triggered send: one id per user per trigger.
            user_index = s.rnd.choice(recipients)
            dispatch_id = s.draw.hex24()
            s.ledger(dispatch_id, "triggered", campaign=campaign, user_ids=[s.world.users[user_index].user_id],
                        channels=campaign.channels)
            self.send_campaign(campaign, user_index, dispatch_id, t)

    def send_campaign(self, campaign: Campaign, user_index: int, dispatch_id: str, t: int) -> None:
        s = self.s
        msg = self.campaign_message(campaign, dispatch_id)
        if campaign.has_control_group and s.chance("control_group", ENROLL_IN_CONTROL):
            # A control-group user gets the enrollment and no message events (§9); D8: the send's id.
            ctx = {**s.user_ctx(user_index, s.pick_device(user_index)), **msg}
            s.emit(ENROLL_IN_CONTROL, t, ctx)
            return
        engaged = False
        last_ctx: dict[str, Any] | None = None
        for channel in campaign.channels:
            if self.channel_possible(channel, user_index):
                engaged |= self.deliver(channel, user_index, msg, t)
                last_ctx = {**s.user_ctx(user_index, -1), **msg}
        if last_ctx is not None:
            self.after_engagement(last_ctx, t, engaged)

    def story_canvas(self, t: int) -> None:
        s = self.s
        canvas = s.rnd.choice(s.world.canvases if not s.wanting else self._covering(s.world.canvases))
        variation = s.rnd.choice(canvas.variations)
        if canvas.entry == ENTRY_SCHEDULED:
            lo, hi = s.cfg.scheduled_batch
            pool = list(range(len(s.world.users)))
            batch = s.rnd.sample(pool, min(len(pool), s.rnd.randint(lo, hi)))
        else:
            batch = [s.rnd.randrange(len(s.world.users))]
        mode = s.cfg.canvas_dispatch_mode
        # Per step: a shared id for the whole batch, or None (one id per user), decided per (step, send).
        shared: list[str | None] = []
        for index, step in enumerate(variation.steps):
            if mode == "shared":
                share = True
            elif mode == "mixed":
                share = s.rnd.random() < s.cfg.canvas_shared_probability
            else:  # D4 default, D5: the entry step of a scheduled Canvas is shared per send
                share = index == 0 and canvas.entry == ENTRY_SCHEDULED
            step_dispatch = s.draw.hex24() if share else None
            shared.append(step_dispatch)
            if step_dispatch is not None and step.channel:
                kind = "canvas_entry_shared" if index == 0 and mode == "default" else "canvas_step_shared"
                s.ledger(step_dispatch, kind, canvas=canvas, step_id=step.step_id,
                            user_ids=[s.world.users[i].user_id for i in batch], channels=(step.channel,))
        for user_index in batch:
            self.canvas_pass(canvas, variation, user_index, t + s.rnd.randrange(0, 300), shared)

    def canvas_pass(self, canvas: Canvas, variation: Any, user_index: int, t: int, shared: list[str | None]) -> None:
        s = self.s
        user_id = s.world.users[user_index].user_id
        base = {
            **s.user_ctx(user_index, s.pick_device(user_index)),
            "campaign_id": None, "campaign_name": None, "message_variation_id": None, "message_variation_name": None,
            "canvas_id": canvas.canvas_id, "canvas_name": canvas.name,
            "canvas_variation_id": variation.variation_id, "canvas_variation_name": variation.name,
            "send_id": None, "_conversions": canvas.conversions,
        }
        first = variation.steps[0]
        in_control = canvas.has_control_group and s.chance("control_group")
        entry = {**base, "canvas_step_id": first.step_id, "canvas_step_name": first.name}
        s.emit(CANVAS["entry"], t, entry, {"in_control_group": in_control})
        if in_control:
            return
        entry_id = s.draw.uuid()
        engaged = False
        last = entry
        for index, step in enumerate(variation.steps):
            nxt = variation.steps[index + 1] if index + 1 < len(variation.steps) else None
            ctx = {**base, "canvas_step_id": step.step_id, "canvas_step_name": step.name,
                   "canvas_step_message_variation_id": step.message_variation_id, "canvas_entry_id": entry_id}
            last = ctx
            s.emit(CANVAS["step_progression"], t, ctx, {
                "progression_type": "Step", "is_canvas_entry": index == 0,
                "next_step_id": nxt.step_id if nxt else None, "exit_reason": None})
            if index == 0 and canvas.experiment_step_id:
                split = s.rnd.choice(canvas.experiment_splits)
                exp = {"experiment_step_id": canvas.experiment_step_id, "experiment_split_id": split.split_id,
                       "experiment_split_name": split.name}
                s.emit(CANVAS["experiment_split_entry"], t + 1, ctx, {**exp, "in_control_group": False})
                if s.chance("conversion", CANVAS["experiment_conversion"]):
                    conversion = s.rnd.choice(canvas.conversions)
                    s.emit(CANVAS["experiment_conversion"], t + s.rnd.randrange(3600, 86_400), ctx, {
                        **exp, "conversion_behavior_index": conversion.index,
                        "conversion_behavior": conversion.behavior})
            if step.channel and self.channel_possible(step.channel, user_index):
                dispatch_id = shared[index]
                if dispatch_id is None:  # D4: one id per (user, step, send)
                    dispatch_id = s.draw.hex24()
                    s.ledger(dispatch_id, "canvas_step", canvas=canvas, step_id=step.step_id,
                                user_ids=[user_id], channels=(step.channel,))
                msg = {key: ctx[key] for key in MESSAGE_KEYS if key in ctx}
                msg["dispatch_id"] = dispatch_id
                if s.chance("costep", CANVAS["costep_send"]):
                    s.emit(CANVAS["costep_send"], t, {**ctx, "dispatch_id": dispatch_id}, {
                        "channel": step.channel, "content_optimizer_step_id": step.step_id})
                engaged |= self.deliver(step.channel, user_index, msg, t)
            if s.chance("canvas_exit", CANVAS["exit_matched_audience"], CANVAS["exit_performed_event"]):
                exit_type = s.rnd.choice((CANVAS["exit_matched_audience"], CANVAS["exit_performed_event"]))
                s.emit(CANVAS["step_progression"], t + 60, ctx, {
                    "progression_type": "Exit", "is_canvas_entry": False, "next_step_id": None,
                    "exit_reason": "Exit criteria" if exit_type == CANVAS["exit_matched_audience"]
                    else "Performed exit event"})
                s.emit(exit_type, t + 60, ctx)
                break
            t += s.rnd.randrange(600, 12 * 3600)  # the delay before the next step
        self.after_engagement(last, t, engaged)


def _channels(send: Any) -> tuple[str, ...]:
    """A campaign's channels, or the channels of a Canvas's steps."""
    channels = getattr(send, "channels", None)
    if channels is not None:
        return tuple(channels)
    return tuple(step.channel for variation in send.variations for step in variation.steps if step.channel)
