"""The catalog's value objects: one Currents event type, its Braze-side fields, its mapping per profile.

Everything here is immutable plain data built once by `harness.catalog.loader`; nothing in this module
knows where the data came from.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

# Profiles (currents-to-mixpanel.md §0).
PROFILE_CURRENT = "current"
PROFILE_LEGACY = "legacy"
PROFILES: tuple[str, ...] = (PROFILE_CURRENT, PROFILE_LEGACY)

# Event groups of the Braze glossary.
GROUP_MESSAGE_ENGAGEMENT = "message_engagement"
GROUP_CUSTOMER_BEHAVIOR = "customer_behavior"
GROUP_USER = "user"
GROUPS: tuple[str, ...] = (GROUP_MESSAGE_ENGAGEMENT, GROUP_CUSTOMER_BEHAVIOR, GROUP_USER)

# Input shapes (§1). Avro files and storage JSON share the storage schema, hence one shape name.
SHAPE_STORAGE = "storage"
SHAPE_CUSTOM_HTTP = "custom-http"
SHAPES: tuple[str, ...] = (SHAPE_STORAGE, SHAPE_CUSTOM_HTTP)

# Export status of a type under one profile.
STATUS_EXPORTED = "exported"
STATUS_NOT_EXPORTED = "not_exported"  # documented as not available to partners (storage only)
STATUS_UNDOCUMENTED = "undocumented"  # no Mixpanel tab: skipped unless `undocumented_types = export` (§5)
STATUS_RETIRED = "retired"  # News Feed (current profile); legacy-only names
STATUS_NOT_LISTED = "not_listed"  # legacy profile: the old page does not list the type (§7.2)

# Export sets (currents-to-mixpanel.md §5 summary, §11 `export_set`): the two Braze lists of what the Mixpanel
# Current exports. The glossary (the default) holds every type with a Mixpanel tab, i.e. every type the
# `current` profile exports; Braze's Mixpanel partner page lists a smaller set (55 types).
EXPORT_SET_GLOSSARY = "glossary"
EXPORT_SET_PARTNER_PAGE = "partner_page"
EXPORT_SETS: tuple[str, ...] = (EXPORT_SET_GLOSSARY, EXPORT_SET_PARTNER_PAGE)

# Property expansion of the source `properties` field (N3 / N4).
EXPANSION_CUSTOM = "custom"
EXPANSION_PURCHASE = "purchase"

# Braze-side field types as the spec writes them (§5); `json-string` is a string holding encoded JSON.
FIELD_TYPES: tuple[str, ...] = ("string", "int", "long", "float", "boolean", "json-string", "array<string>")

# Channels (§9): the messaging channel a type belongs to, or the area of a non-message type. The
# generator looks types up by (channel, role) instead of by name (`Catalog.type_for`).
CHANNEL_EMAIL = "email"
CHANNEL_PUSH = "push"
CHANNEL_SMS = "sms"
CHANNEL_WEBHOOK = "webhook"
CHANNEL_CONTENT_CARD = "content_card"
CHANNEL_IN_APP = "in_app_message"
CHANNEL_WHATSAPP = "whatsapp"
CHANNEL_LINE = "line"
CHANNEL_RCS = "rcs"
CHANNEL_BANNER = "banner"
CHANNEL_LIVE_ACTIVITY = "live_activity"
CHANNEL_FEATURE_FLAG = "feature_flag"
CHANNEL_NEWS_FEED = "news_feed"  # retired
MESSAGE_CHANNELS: tuple[str, ...] = (
    CHANNEL_EMAIL, CHANNEL_PUSH, CHANNEL_SMS, CHANNEL_WEBHOOK, CHANNEL_CONTENT_CARD, CHANNEL_IN_APP,
    CHANNEL_WHATSAPP, CHANNEL_LINE, CHANNEL_RCS, CHANNEL_BANNER, CHANNEL_LIVE_ACTIVITY,
)
AREA_APP = "app"  # sessions and the behaviours logged inside them
AREA_SUBSCRIPTION = "subscription"
AREA_CAMPAIGN = "campaign"
AREA_CANVAS = "canvas"
AREA_PROFILE = "profile"
AREA_AGENT = "agent"
CHANNELS: tuple[str, ...] = MESSAGE_CHANNELS + (
    CHANNEL_FEATURE_FLAG, CHANNEL_NEWS_FEED, AREA_APP, AREA_SUBSCRIPTION, AREA_CAMPAIGN, AREA_CANVAS, AREA_PROFILE,
    AREA_AGENT,
)
ROLE_NONE = "none"  # a type with no role the generator asks for (the legacy-only News Feed impression)

# The type-id namespace of message events (glossary "message engagement" minus campaign/Canvas bookkeeping).
MESSAGE_NAMESPACE = "users.messages."

# Envelope (§2): Mixpanel key -> Braze source field; `token` and `$partner_id` come from configuration.
ENVELOPE_SOURCES: Mapping[str, str] = {"distinct_id": "external_user_id", "$insert_id": "id", "time": "time"}
PARTNER_ID = "braze"


@dataclass(frozen=True, slots=True)
class SourceField:
    """One Braze-side field of a Currents type (spec §5 / `currents-catalog.csv` row)."""

    name: str
    type: str  # one of FIELD_TYPES
    nullable: bool  # Avro union with null
    pii: bool  # tagged PII by Braze (E11: sent as-is anyway)
    shapes: frozenset[str]  # which input shapes carry the field (SHAPES subset); † = custom-http only
    custom_http_path: tuple[str, ...]  # where the field sits in the Custom HTTP shape, e.g. ("user", "device_id")
    mixpanel_key: str | None  # key under the `current` profile; None = never sent
    drift: bool  # ‡: forwarded only while `drift_fields = forward` (P5)
    avro_type: object  # Avro type as in the official schema (union with "null" first when nullable)
    notes: str = ""

    @property
    def custom_http_only(self) -> bool:
        """† in spec §5: present only in the Custom HTTP shape, absent from the storage schema."""
        return self.shapes == frozenset({SHAPE_CUSTOM_HTTP})

    @property
    def storage_only(self) -> bool:
        return self.shapes == frozenset({SHAPE_STORAGE})

    @property
    def required(self) -> bool:
        return not self.nullable


@dataclass(frozen=True, slots=True)
class PropertyRule:
    """One Mixpanel property: copy source field `source` to key `key` (P1-P3)."""

    source: str
    key: str
    drift: bool = False  # ‡ drift key (P5)
    required: bool = False  # non-nullable in the Braze schema: a missing value is warned about (P6)


@dataclass(frozen=True, slots=True)
class ProfileMapping:
    """How one Currents type becomes a Mixpanel event under one profile."""

    type_id: str
    profile: str
    status: str  # STATUS_*
    event_name: str | None  # exact Mixpanel `event`; for custom events the printed template
    properties: tuple[PropertyRule, ...] = ()
    expansion: str | None = None  # EXPANSION_CUSTOM / EXPANSION_PURCHASE / None
    event_name_field: str | None = None  # source field the event name is built from (custom events: "name")
    envelope: tuple[str, ...] = ()  # envelope keys this profile emits, in output order
    seed_heading: str | None = None  # legacy only: the heading printed by the seed translation (§7.3)
    prefixed_event_name: str | None = None  # N7 `line_rcs_event_names = prefixed`
    title_case_event_name: str | None = None  # §7.3 `legacy_iam_casing = title`

    @property
    def exported(self) -> bool:
        return self.status == STATUS_EXPORTED

    @property
    def property_keys(self) -> tuple[str, ...]:
        return tuple(rule.key for rule in self.properties)


@dataclass(frozen=True, slots=True)
class EventType:
    """One Currents event type: identity, Braze-side fields (schema order) and its mapping per profile."""

    type_id: str
    group: str  # GROUPS
    shapes: frozenset[str]  # shapes in which Braze produces the type
    fields: tuple[SourceField, ...]
    current: ProfileMapping
    legacy: ProfileMapping
    opt_in_event_name: str | None = None  # name used when `undocumented_types = export` (§5 summary)
    in_samples: bool = True  # False for the legacy-only `users.behaviors.app.NewsFeedImpression`
    channel: str = ""  # CHANNELS: messaging channel or area (`lifecycle_roles.csv`)
    role: str = ROLE_NONE  # its step in the channel's lifecycle: "send", "delivery", "open", "retry", ...
    sdk_logged: bool = False  # logged by the SDK on the device: `time` follows the device clock (§9)
    in_dispatch_lifecycle: bool = False  # §8 D6: joins its message's lifecycle on (dispatch_id, distinct_id)
    export_sets: frozenset[str] = frozenset()  # EXPORT_SETS subset: the Braze lists that name the type (§5)
    _by_name: Mapping[str, SourceField] = field(default_factory=dict, repr=False, compare=False)

    def mapping(self, profile: str = PROFILE_CURRENT) -> ProfileMapping:
        if profile == PROFILE_CURRENT:
            return self.current
        if profile == PROFILE_LEGACY:
            return self.legacy
        raise ValueError(f"unknown profile {profile!r} (expected one of {', '.join(PROFILES)})")

    def exported(self, profile: str = PROFILE_CURRENT) -> bool:
        return self.mapping(profile).exported

    def event_name(self, profile: str = PROFILE_CURRENT) -> str | None:
        return self.mapping(profile).event_name

    def in_export_set(self, export_set: str) -> bool:
        """Whether Braze's list `export_set` (EXPORT_SETS) names the type; ValueError for an unknown list."""
        if export_set not in EXPORT_SETS:
            raise ValueError(f"unknown export set {export_set!r} (expected one of {', '.join(EXPORT_SETS)})")
        return export_set in self.export_sets

    def field(self, name: str) -> SourceField:
        return self._by_name[name]

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def storage_fields(self) -> tuple[SourceField, ...]:
        """Fields of the storage (Avro) schema, in schema order."""
        return tuple(f for f in self.fields if SHAPE_STORAGE in f.shapes)

    @property
    def custom_http_fields(self) -> tuple[SourceField, ...]:
        return tuple(f for f in self.fields if SHAPE_CUSTOM_HTTP in f.shapes)

    @property
    def has_storage_schema(self) -> bool:
        return SHAPE_STORAGE in self.shapes

    @property
    def avro_prefix(self) -> str:
        """The part of the type id that Braze puts in the Avro namespace (`users.behaviors`)."""
        return self.type_id.rsplit(".", 1)[0]

    @property
    def avro_record_name(self) -> str:
        return self.type_id.rsplit(".", 1)[1]

    @property
    def avro_namespace(self) -> str:
        return "dataexport.S3.inner." + self.avro_prefix

    @property
    def is_message(self) -> bool:
        """A message event (`users.messages.*`), as opposed to a behaviour or campaign/Canvas bookkeeping."""
        return self.type_id.startswith(MESSAGE_NAMESPACE)

    @property
    def starts_dispatch(self) -> bool:
        """§8 D6: a Send, or the Abort that stands in for it, opens the lifecycle of one dispatch."""
        return self.in_dispatch_lifecycle and self.role in ("send", "abort")


class Catalog:
    """All Currents event types. Iterating yields the 97 sample types in spec §5 order."""

    def __init__(self, types: tuple[EventType, ...], legacy_only: tuple[EventType, ...] = ()) -> None:
        self._types = types
        self._legacy_only = legacy_only
        self._by_id = {t.type_id: t for t in types + legacy_only}
        self._by_role = {(t.channel, t.role): t for t in types + legacy_only if t.role != ROLE_NONE}

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._by_id

    def __getitem__(self, type_id: str) -> EventType:
        return self._by_id[type_id]

    def get(self, type_id: str) -> EventType | None:
        return self._by_id.get(type_id)

    @property
    def type_ids(self) -> tuple[str, ...]:
        return tuple(t.type_id for t in self._types)

    def match_types(self, pattern: str) -> tuple[str, ...]:
        """The type ids `pattern` names: an exact id, or a shell pattern (`*`, `?`, `[...]`) over the ids, in
        catalog order; () when it names none. One rule for `harness generate --type` and `StreamConfig.types`."""
        if not any(c in pattern for c in "*?["):
            return (pattern,) if pattern in self._by_id else ()
        return tuple(fnmatch.filter(self.type_ids, pattern))

    @property
    def legacy_only(self) -> tuple[EventType, ...]:
        """Types the legacy page lists that exist in no sample (only `users.behaviors.app.NewsFeedImpression`)."""
        return self._legacy_only

    def all_types(self) -> tuple[EventType, ...]:
        return self._types + self._legacy_only

    def exported(self, profile: str = PROFILE_CURRENT) -> tuple[EventType, ...]:
        """Types exported under `profile` with default settings (includes legacy-only types for `legacy`)."""
        return tuple(t for t in self.all_types() if t.exported(profile))

    def export_set(self, export_set: str) -> tuple[EventType, ...]:
        """The types Braze's list `export_set` names (glossary: 80, partner_page: 55), in catalog order."""
        return tuple(t for t in self.all_types() if t.in_export_set(export_set))

    def by_group(self, group: str) -> tuple[EventType, ...]:
        return tuple(t for t in self._types if t.group == group)

    def by_channel(self, channel: str) -> tuple[EventType, ...]:
        """The sample types of one channel or area, in catalog order."""
        return tuple(t for t in self._types if t.channel == channel)

    def for_role(self, channel: str, role: str) -> EventType | None:
        """The type that plays `role` in `channel`'s lifecycle, or None (e.g. RCS has no Retry)."""
        return self._by_role.get((channel, role))

    def type_for(self, channel: str, role: str) -> str:
        """The type id that plays `role` in `channel`'s lifecycle; KeyError names the pair when there is none."""
        event_type = self._by_role.get((channel, role))
        if event_type is None:
            raise KeyError(f"no Currents event type plays {role!r} on channel {channel!r}")
        return event_type.type_id
