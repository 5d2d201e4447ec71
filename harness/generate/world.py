"""A world from one seed: users, devices, apps, subscription groups, campaigns and Canvases (issue 5 §2).

The world is the cast of an event stream (DESIGN.md §3: seed -> world -> Braze user store and Currents
events). It is plain data, built once by `build_world(seed, WorldConfig(...))`; the same seed and
configuration always give the same world.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Messaging channels (a campaign's or Canvas step's) are named by the catalog; each has its lifecycle in
# `harness.generate.lifecycles`.
from harness.catalog import (
    CHANNEL_EMAIL,
    CHANNEL_LINE,
    CHANNEL_PUSH,
    CHANNEL_RCS,
    CHANNEL_SMS,
    CHANNEL_WHATSAPP,
    MESSAGE_CHANNELS,
)
from harness.generate.person_draws import PersonDraws
from harness.generate.providers import BrazeProvider, make_faker

# Campaign delivery types (currents-to-mixpanel.md §8 D1/D2).
DELIVERY_SCHEDULED = "scheduled"
DELIVERY_ACTION_BASED = "action_based"
DELIVERY_API_TRIGGERED = "api_triggered"
CAMPAIGN_DELIVERIES: tuple[str, ...] = (DELIVERY_SCHEDULED, DELIVERY_ACTION_BASED, DELIVERY_API_TRIGGERED)

# Canvas entry schedules (§8 D4/D5).
ENTRY_SCHEDULED = "scheduled"
ENTRY_TRIGGERED = "triggered"

# Channels whose users opt in through a subscription group.
# A long build reports progress every this many users.
PROGRESS_EVERY = 20_000

SUBSCRIPTION_CHANNELS: tuple[str, ...] = (CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_WHATSAPP, CHANNEL_LINE, CHANNEL_RCS)


@dataclass(frozen=True, slots=True)
class App:
    app_id: str
    name: str
    platform: str


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    platform: str
    app_id: str
    device_model: str
    os_version: str
    sdk_version: str
    resolution: str
    carrier: str | None
    push_token: str | None
    ad_id: str | None  # only when the app collects it explicitly (§9)
    ad_id_type: str | None
    ad_tracking_enabled: bool | None
    clock_skew_s: int = 0  # SDK clock skew: SDK-logged times of this device are off by this much


@dataclass(frozen=True, slots=True)
class Alias:
    alias_name: str
    alias_label: str


@dataclass(frozen=True, slots=True)
class User:
    user_id: str  # Braze id, 24 hex
    external_user_id: str | None  # None: anonymous for the whole stream
    # Fraction of the stream's time span after which the user is identified (anonymous before);
    # 0.0 = identified from the start. Only meaningful when external_user_id is set.
    identified_after: float
    aliases: tuple[Alias, ...]
    devices: tuple[Device, ...]
    email: str | None
    phone: str | None
    timezone: str
    first_name: str
    last_name: str
    country: str
    language: str
    gender: str | None
    whatsapp_bsuid: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.external_user_id is None

    @property
    def becomes_identified(self) -> bool:
        return self.external_user_id is not None and self.identified_after > 0.0


@dataclass(frozen=True, slots=True)
class SubscriptionGroup:
    subscription_group_id: str
    channel: str
    name: str


@dataclass(frozen=True, slots=True)
class MessageVariation:
    variation_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ConversionEvent:
    """A campaign/Canvas conversion event A-D (`conversion_behavior_index` 0-3)."""

    index: int
    behavior: str  # JSON string, as Currents carries it


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    delivery: str  # CAMPAIGN_DELIVERIES; a scheduled campaign recurs: each send is a new occurrence (D1)
    channels: tuple[str, ...]  # one or more (multi-channel campaign, D3)
    variations: tuple[MessageVariation, ...]
    has_control_group: bool
    send_id: str | None  # optional tracking id chosen by the sender; spans dispatches
    conversions: tuple[ConversionEvent, ...]


@dataclass(frozen=True, slots=True)
class CanvasStep:
    step_id: str
    name: str
    channel: str | None  # None: a non-message step (delay, audience split, ...)
    message_variation_id: str  # canvas_step_message_variation_id


@dataclass(frozen=True, slots=True)
class CanvasVariation:
    variation_id: str
    name: str
    steps: tuple[CanvasStep, ...]


@dataclass(frozen=True, slots=True)
class ExperimentSplit:
    split_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Canvas:
    canvas_id: str
    name: str
    entry: str  # ENTRY_SCHEDULED / ENTRY_TRIGGERED (D4/D5)
    variations: tuple[CanvasVariation, ...]
    has_control_group: bool
    experiment_step_id: str | None
    experiment_splits: tuple[ExperimentSplit, ...]
    conversions: tuple[ConversionEvent, ...]


@dataclass(frozen=True, slots=True)
class MessagingSenders:
    """Workspace-wide sender identities of the phone and chat channels."""

    sms_numbers: tuple[str, ...]  # Braze-side numbers users text to (inbound_phone_number / from_phone_number)
    whatsapp_number: str
    rcs_sender: str
    line_channel_id: str
    line_channel_name: str
    email_domain: str
    ip_pools: tuple[str, ...]
    banner_placements: tuple[str, ...]
    feature_flags: tuple[str, ...]
    live_activity_types: tuple[str, ...]
    agents: tuple[tuple[str, str], ...]  # (agent_id, agent_name)


@dataclass(slots=True)
class WorldConfig:
    """Knobs of a world. Defaults give a small but complete cast; every edge case appears."""

    users: int = 200
    anonymous_share: float = 0.15  # users without external_user_id (dropped by E2)
    identified_later_share: float = 0.10  # anonymous first, identified part-way through the span
    alias_share: float = 0.20
    multi_device_share: float = 0.25
    no_device_share: float = 0.15  # e-mail/SMS-only users
    shared_phone_groups: int = 3  # groups of 2-4 users sharing one phone number (inbound SMS, §9)
    clock_skew_share: float = 0.02  # devices whose SDK clock is off
    apps_per_platform: int = 1
    platforms: tuple[str, ...] = ("ios", "android", "web", "kindle", "tvos", "roku")
    campaigns: int = 12
    canvases: int = 4
    control_group_share: float = 0.3
    multichannel_share: float = 0.25

    def validate(self) -> None:
        if self.users < 1:
            raise ValueError("a world needs at least one user")
        for name in ("anonymous_share", "identified_later_share", "alias_share", "multi_device_share",
                     "no_device_share", "clock_skew_share", "control_group_share", "multichannel_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.anonymous_share + self.identified_later_share > 1.0:
            raise ValueError("anonymous_share + identified_later_share must not exceed 1")
        if self.campaigns < 0 or self.canvases < 0 or self.shared_phone_groups < 0 or self.apps_per_platform < 1:
            raise ValueError("counts must not be negative (apps_per_platform at least 1)")
        unknown = set(self.platforms) - set(BrazeProvider.platforms)
        if unknown or not self.platforms:
            raise ValueError(f"unknown platforms: {sorted(unknown)}" if unknown else "at least one platform")


@dataclass(slots=True)
class World:
    seed: int
    config: WorldConfig
    app_group_id: str
    apps: tuple[App, ...]
    users: tuple[User, ...]
    subscription_groups: tuple[SubscriptionGroup, ...]
    campaigns: tuple[Campaign, ...]
    canvases: tuple[Canvas, ...]
    senders: MessagingSenders
    _by_phone: dict[str, tuple[User, ...]] = field(default_factory=dict, repr=False)

    def users_sharing_phone(self, phone: str) -> tuple[User, ...]:
        """Every user whose profile holds `phone` (inbound SMS is attributed to all of them, §9)."""
        if not self._by_phone:
            groups: dict[str, list[User]] = {}
            for user in self.users:
                if user.phone:
                    groups.setdefault(user.phone, []).append(user)
            self._by_phone = {k: tuple(v) for k, v in groups.items()}
        return self._by_phone.get(phone, ())

    def subscription_group(self, channel: str) -> SubscriptionGroup | None:
        for group in self.subscription_groups:
            if group.channel == channel:
                return group
        return None

    def braze_user_store(self) -> list[dict[str, Any]]:
        """The users as `POST /_harness/users` of the fake Braze takes them (DESIGN.md §4)."""
        store = []
        for user in self.users:
            entry: dict[str, Any] = {
                "aliases": [{"alias_name": a.alias_name, "alias_label": a.alias_label} for a in user.aliases],
                "device_ids": [d.device_id for d in user.devices],
            }
            if user.external_user_id is not None:
                entry = {"external_id": user.external_user_id, **entry}
            store.append(entry)
        return store


def build_world(seed: int, config: WorldConfig | None = None,
                progress: Callable[[int, int], None] | None = None) -> World:
    """Build the world fixed by `seed` (and `config`). `progress(users_done, users)` is called every
    `PROGRESS_EVERY` users, for a long build's progress line."""
    config = config or WorldConfig()
    config.validate()
    fake = make_faker(seed)
    rnd: random.Random = fake.random  # one stream of randomness: Faker's, seeded
    # The per-user values are drawn in a loop run once per user: Faker's methods are looked up once, and
    # its person values come from PersonDraws (same draws, without Faker's per-call overhead).
    person = PersonDraws(fake)
    object_id, user_id, phone_number = fake.braze_object_id, fake.braze_user_id, fake.braze_phone_number
    external_id, device_values, push_token = fake.braze_external_id, fake.braze_device, fake.braze_push_token
    ad_id, timezone = fake.braze_ad_id, fake.braze_timezone
    random_share, choice, randint = rnd.random, rnd.choice, rnd.randint
    app_group_id = fake.braze_object_id()

    apps = tuple(
        App(fake.braze_object_id(), fake.braze_app_name(platform), platform)
        for platform in config.platforms
        for _ in range(config.apps_per_platform)
    )
    apps_by_platform: dict[str, list[App]] = {}
    for app in apps:
        apps_by_platform.setdefault(app.platform, []).append(app)
    platform_weights = [BrazeProvider.platform_weights[BrazeProvider.platforms.index(p)] for p in config.platforms]
    # random.choices(weights=w) draws exactly as with cum_weights=accumulate(w), without re-adding per call
    platform_cum_weights = list(itertools.accumulate(platform_weights))

    def new_device() -> Device:
        platform = rnd.choices(config.platforms, cum_weights=platform_cum_weights)[0]
        model, os_version = device_values(platform)
        ad_type = BrazeProvider.ad_id_types.get(platform)
        collects_ad_id = ad_type is not None and random_share() < 0.5
        skew = 0
        if random_share() < config.clock_skew_share:
            skew = choice((-1, 1)) * rnd.randrange(120, 6 * 3600)
        return Device(
            device_id=object_id(),
            platform=platform,
            app_id=choice(apps_by_platform[platform]).app_id,
            device_model=model,
            os_version=os_version,
            sdk_version=choice(BrazeProvider.sdk_versions[platform]),
            resolution=choice(BrazeProvider.resolutions[platform]),
            carrier=choice(BrazeProvider.carriers) if platform in ("ios", "android") else None,
            push_token=push_token(platform) if random_share() < 0.8 else None,
            ad_id=ad_id(ad_type) if collects_ad_id else None,
            ad_id_type=ad_type if collects_ad_id else None,
            ad_tracking_enabled=(random_share() < 0.7) if collects_ad_id else None,
            clock_skew_s=skew,
        )

    # Phone numbers: most users have their own; a few groups share one (family phone, shared line).
    shared_phones = [fake.braze_phone_number() for _ in range(config.shared_phone_groups)]
    users: list[User] = []
    seen_external: set[str] = set()
    alias_labels = ("shopify_customer", "crm_id", "amplitude_id", "segment_anonymous_id")
    for done in range(config.users):
        if progress is not None and done and done % PROGRESS_EVERY == 0:
            progress(done, config.users)
        roll = random_share()
        if roll < config.anonymous_share:
            external, identified_after = None, 0.0
        else:
            external = external_id()
            while external in seen_external:
                external = external_id()
            seen_external.add(external)
            identified_later = roll < config.anonymous_share + config.identified_later_share
            identified_after = rnd.uniform(0.1, 0.9) if identified_later else 0.0
        if random_share() < config.no_device_share:
            devices: tuple[Device, ...] = ()
        else:
            count = randint(2, 3) if random_share() < config.multi_device_share else 1
            devices = tuple(new_device() for _ in range(count))
        aliases: tuple[Alias, ...] = ()
        if random_share() < config.alias_share:
            aliases = tuple(Alias(object_id(), label) for label in rnd.sample(alias_labels, randint(1, 2)))
        first, last = person.first_name(), person.last_name()
        users.append(
            User(
                user_id=user_id(),
                external_user_id=external,
                identified_after=identified_after,
                aliases=aliases,
                devices=devices,
                email=person.email() if random_share() < 0.9 else None,
                phone=phone_number() if random_share() < 0.7 else None,
                timezone=timezone(),
                first_name=first,
                last_name=last,
                country=person.country_code(),
                language=choice(("en", "es", "fr", "de", "pt", "ja")),
                gender=choice(("M", "F", "O", "N", "P", None)),
                whatsapp_bsuid=user_id() if random_share() < 0.3 else None,
            )
        )
    # Several users sharing one phone number: give each group 2-4 members.
    if len(users) >= 2:
        for phone in shared_phones:
            for member in rnd.sample(range(len(users)), min(len(users), rnd.randint(2, 4))):
                old = users[member]
                users[member] = dataclasses.replace(old, phone=phone)

    subscription_groups = tuple(
        SubscriptionGroup(fake.braze_subscription_group_id(), channel, f"{channel.upper()} {kind}")
        for channel in SUBSCRIPTION_CHANNELS
        for kind in (("Marketing", "Transactional") if channel in (CHANNEL_EMAIL, CHANNEL_SMS) else ("Marketing",))
    )

    def conversions() -> tuple[ConversionEvent, ...]:
        kinds = ('{"type":"opens_app"}', '{"type":"makes_purchase","product":"any"}',
                 '{"type":"performs_custom_event","custom_event_name":"completed_checkout"}',
                 '{"type":"starts_session"}')
        return tuple(ConversionEvent(i, kinds[i]) for i in range(rnd.randint(1, 4)))

    def variations() -> tuple[MessageVariation, ...]:
        names = rnd.sample(BrazeProvider.variation_names, rnd.randint(1, 3))
        return tuple(MessageVariation(fake.braze_object_id(), name) for name in names)

    campaign_channels = [c for c in MESSAGE_CHANNELS]
    campaigns = []
    for index in range(config.campaigns):
        # Cycle through deliveries and channels first so every combination a small world needs is present.
        delivery = CAMPAIGN_DELIVERIES[index % 3]
        primary = campaign_channels[index % len(campaign_channels)]
        channels: tuple[str, ...] = (primary,)
        if rnd.random() < config.multichannel_share:
            extra = rnd.choice([c for c in (CHANNEL_EMAIL, CHANNEL_PUSH, CHANNEL_SMS) if c != primary])
            channels = (primary, extra)
        campaigns.append(
            Campaign(
                campaign_id=fake.braze_object_id(),
                name=fake.braze_campaign_name(primary),
                delivery=delivery,
                channels=channels,
                variations=variations(),
                has_control_group=rnd.random() < config.control_group_share,
                send_id=rnd.choice((None, None, f"send_{fake.bothify('????####').lower()}")),
                conversions=conversions(),
            )
        )

    canvases = []
    for index in range(config.canvases):
        canvas_variations = []
        for v in range(rnd.randint(1, 2)):
            steps = []
            for s in range(rnd.randint(2, 4)):
                channel = rnd.choice(MESSAGE_CHANNELS[:9]) if s == 0 or rnd.random() < 0.75 else None
                steps.append(CanvasStep(fake.braze_object_id(), f"{fake.braze_step_name()} {s + 1}", channel,
                                        fake.braze_object_id()))
            canvas_variations.append(CanvasVariation(fake.braze_object_id(), f"Variant {chr(65 + v)}", tuple(steps)))
        has_experiment = rnd.random() < 0.5
        canvases.append(
            Canvas(
                canvas_id=fake.braze_object_id(),
                name=fake.braze_canvas_name(),
                entry=ENTRY_SCHEDULED if index % 2 == 0 else ENTRY_TRIGGERED,
                variations=tuple(canvas_variations),
                has_control_group=rnd.random() < config.control_group_share,
                experiment_step_id=fake.braze_object_id() if has_experiment else None,
                experiment_splits=tuple(ExperimentSplit(fake.braze_object_id(), f"Path {i + 1}") for i in range(2))
                if has_experiment else (),
                conversions=conversions(),
            )
        )

    senders = MessagingSenders(
        sms_numbers=tuple(sorted({fake.braze_phone_number() for _ in range(2)})),
        whatsapp_number=fake.braze_phone_number(),
        rcs_sender=f"{fake.company().split()[0].lower()}_rcs_agent",
        line_channel_id=str(rnd.randrange(1_000_000_000, 9_999_999_999)),
        line_channel_name=f"{fake.company()} LINE",
        email_domain=fake.domain_name(),
        ip_pools=("marketing", "transactional"),
        banner_placements=("home_top", "cart_footer", "profile_banner"),
        feature_flags=("new_checkout", "dark_mode", "recommendations_v2"),
        live_activity_types=("DeliveryAttributes", "ScoreAttributes"),
        agents=tuple((fake.braze_object_id(), name) for name in ("Support Agent", "Copywriter Agent")),
    )
    return World(seed, config, app_group_id, apps, tuple(users), subscription_groups, tuple(campaigns),
                 tuple(canvases), senders)
