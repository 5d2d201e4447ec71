"""The event catalog: the one declared source for every Braze Currents event type (DESIGN.md §2).

Built from spec-derived data in `harness/catalog/data/` (see `harness.catalog.loader`). Public API:

    from harness.catalog import load_catalog, avro_schema

    catalog = load_catalog()            # cached; a `Catalog`
    len(catalog)                         # 97: every type found in the samples, spec §5 order
    for et in catalog: ...               # `EventType` objects
    et = catalog["users.messages.email.Open"]   # KeyError if unknown; catalog.get(type_id) -> None
    catalog.legacy_only                  # (users.behaviors.app.NewsFeedImpression,): legacy page only, no sample
    catalog.exported("current")          # the 80 types exported by default (legacy: 41 incl. legacy-only)
    catalog.export_set("partner_page")  # the 55 types Braze's Mixpanel partner page lists (glossary: 80)
    catalog.by_group(GROUP_MESSAGE_ENGAGEMENT)
    catalog.type_for(CHANNEL_EMAIL, "open")   # "users.messages.email.Open": look types up by (channel, role)
    catalog.for_role(CHANNEL_RCS, "retry")    # None: RCS has no Retry; catalog.by_channel(CHANNEL_PUSH)

`EventType`:
    .type_id            "users.messages.email.Open"
    .group              GROUP_MESSAGE_ENGAGEMENT | GROUP_CUSTOMER_BEHAVIOR | GROUP_USER
    .shapes             frozenset of SHAPE_STORAGE ("storage": Avro and storage JSON) / SHAPE_CUSTOM_HTTP
    .fields             tuple[SourceField]: storage fields in Avro schema order, † fields where the CSV puts them
    .storage_fields / .custom_http_fields / .field(name) / .has_field(name) / .field_names
    .mapping(profile)   ProfileMapping for "current" / "legacy"; .exported(profile); .event_name(profile)
    .opt_in_event_name  name used when `undocumented_types = export` (e.g. "Email Retry"), else None
    .avro_namespace     "dataexport.S3.inner.users.messages.email"; .avro_record_name "Open"
    .in_samples         False only for the legacy-only type
    .channel            CHANNELS: the messaging channel ("email", "push", ...) or area ("app", "canvas", ...)
    .role               its step in the channel's lifecycle ("send", "delivery", "open", "retry", ...), unique
                        per channel; ROLE_NONE for none. .sdk_logged: `time` follows the device clock (§9)
    .in_dispatch_lifecycle / .starts_dispatch   §8 D6 membership; a Send or Abort opens the lifecycle
    .is_message         a `users.messages.*` type
    .export_sets        the Braze lists naming it (EXPORT_SET_GLOSSARY, EXPORT_SET_PARTNER_PAGE; §5 summary);
                        .in_export_set(name)

`SourceField` (Braze side; spec §5 / currents-catalog.csv):
    .name, .type ("string", "int", "long", "float", "boolean", "json-string", "array<string>"), .nullable,
    .pii, .shapes (custom_http_only = † in spec §1/§5; storage_only), .custom_http_path
    (e.g. ("user", "external_user_id"), ("properties", "custom_properties")), .mixpanel_key (current profile;
    None = never sent), .drift (‡, forwarded only with drift_fields = forward), .avro_type, .required, .notes

`ProfileMapping`:
    .status             STATUS_EXPORTED | STATUS_NOT_EXPORTED | STATUS_UNDOCUMENTED | STATUS_RETIRED | STATUS_NOT_LISTED
    .exported           bool
    .event_name         exact Mixpanel event name ("Abort " keeps its trailing space); custom events:
                        "[Braze Custom Event] <name>" (template; built from field .event_name_field = "name")
    .properties         tuple[PropertyRule(source, key, drift, required)], envelope excluded
    .property_keys      the Mixpanel keys of .properties
    .expansion          EXPANSION_CUSTOM / EXPANSION_PURCHASE / None (the `properties` field, N3/N4)
    .envelope           envelope keys emitted by default (current: $partner_id distinct_id $insert_id time token)
    .prefixed_event_name (N7 alternative), .title_case_event_name (legacy IAM alt), .seed_heading (legacy)

`avro_schema(type_id) -> dict`: Avro record schema (name/namespace/field order/unions as Braze's writer
schema), ready for fastavro. `type_id_from_avro_name(full_name)` does the reverse.
"""

from harness.catalog.avro import AVRO_NAMESPACE_PREFIX, avro_schema, type_id_from_avro_name
from harness.catalog.loader import load_catalog
from harness.catalog.model import (
    AREA_AGENT,
    AREA_APP,
    AREA_CAMPAIGN,
    AREA_CANVAS,
    AREA_PROFILE,
    AREA_SUBSCRIPTION,
    CHANNEL_BANNER,
    CHANNEL_CONTENT_CARD,
    CHANNEL_EMAIL,
    CHANNEL_FEATURE_FLAG,
    CHANNEL_IN_APP,
    CHANNEL_LINE,
    CHANNEL_LIVE_ACTIVITY,
    CHANNEL_NEWS_FEED,
    CHANNEL_PUSH,
    CHANNEL_RCS,
    CHANNEL_SMS,
    CHANNEL_WEBHOOK,
    CHANNEL_WHATSAPP,
    CHANNELS,
    ENVELOPE_SOURCES,
    EXPANSION_CUSTOM,
    EXPANSION_PURCHASE,
    EXPORT_SET_GLOSSARY,
    EXPORT_SET_PARTNER_PAGE,
    EXPORT_SETS,
    FIELD_TYPES,
    GROUP_CUSTOMER_BEHAVIOR,
    GROUP_MESSAGE_ENGAGEMENT,
    GROUP_USER,
    GROUPS,
    MESSAGE_CHANNELS,
    PARTNER_ID,
    PROFILE_CURRENT,
    PROFILE_LEGACY,
    PROFILES,
    ROLE_NONE,
    SHAPE_CUSTOM_HTTP,
    SHAPE_STORAGE,
    SHAPES,
    STATUS_EXPORTED,
    STATUS_NOT_EXPORTED,
    STATUS_NOT_LISTED,
    STATUS_RETIRED,
    STATUS_UNDOCUMENTED,
    Catalog,
    EventType,
    ProfileMapping,
    PropertyRule,
    SourceField,
)

__all__ = [
    "AREA_AGENT", "AREA_APP", "AREA_CAMPAIGN", "AREA_CANVAS", "AREA_PROFILE", "AREA_SUBSCRIPTION",
    "CHANNEL_BANNER", "CHANNEL_CONTENT_CARD", "CHANNEL_EMAIL", "CHANNEL_FEATURE_FLAG", "CHANNEL_IN_APP",
    "CHANNEL_LINE", "CHANNEL_LIVE_ACTIVITY", "CHANNEL_NEWS_FEED", "CHANNEL_PUSH", "CHANNEL_RCS", "CHANNEL_SMS",
    "CHANNEL_WEBHOOK", "CHANNEL_WHATSAPP", "CHANNELS", "MESSAGE_CHANNELS", "ROLE_NONE",
    "AVRO_NAMESPACE_PREFIX", "ENVELOPE_SOURCES", "EXPANSION_CUSTOM", "EXPANSION_PURCHASE",
    "EXPORT_SET_GLOSSARY", "EXPORT_SET_PARTNER_PAGE", "EXPORT_SETS", "FIELD_TYPES",
    "GROUP_CUSTOMER_BEHAVIOR", "GROUP_MESSAGE_ENGAGEMENT", "GROUP_USER", "GROUPS", "PARTNER_ID",
    "PROFILE_CURRENT", "PROFILE_LEGACY", "PROFILES", "SHAPE_CUSTOM_HTTP", "SHAPE_STORAGE", "SHAPES",
    "STATUS_EXPORTED", "STATUS_NOT_EXPORTED", "STATUS_NOT_LISTED", "STATUS_RETIRED", "STATUS_UNDOCUMENTED",
    "Catalog", "EventType", "ProfileMapping", "PropertyRule", "SourceField",
    "avro_schema", "load_catalog", "type_id_from_avro_name",
]
