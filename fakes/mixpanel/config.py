"""Configuration keys of the fake Mixpanel (mixpanel-ingestion.md §1), declared once as core `Setting`s.

Every [HD]/U default of the spec has its key here, with the section it comes from. Per-project keys live
under `projects` (a list validated into the §1 project registry). `MixpanelConfig` is a typed, frozen
snapshot of the values, built once per configuration change: request code reads attributes, never keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from fakes.core import ConfigError, FakeConfig, Setting
from fakes.core.config import MAX_DURATION_S

from .projects import DEFAULT_PROJECT, ProjectRegistry

# Each key: default value. `None` defaults accept int/float/None. The section numbers say where the
# rule comes from.
DEFAULTS: dict[str, Any] = {
    "projects": [DEFAULT_PROJECT.describe()],
    # §2 regions and transport
    "regions.enforce": False,
    "regions.ports": {},
    "http.max_uri_bytes": None,
    # §3 decoding
    "decode.strict_base64": False,
    "decode.extra_encodings": [],
    "decode.verbose_on": ["1", "2"],
    # §4 auth
    "auth.error_detail": "documented",
    "auth.secret_retired_enforce": False,
    "auth.secret_retired_at": 1804032000,  # 2027-03-03T00:00:00Z (§4.1)
    "auth.reject_plain_http": False,
    # §5 /import
    "import.max_batch_records": 2000,
    "import.max_body_bytes": 10485760,
    "import.max_event_bytes": 1048576,
    "import.max_properties": 254,
    "import.max_object_keys": 254,
    "import.max_depth": 3,
    "import.max_array_len": 254,
    "import.enforce_8kb": False,
    "import.truncate_unit": "chars",
    "import.max_string_len": 255,
    "import.max_failed_records": None,
    "import.nonstrict_style": "2024",
    "import.nonstrict_skip": ["V7", "V8", "V9"],
    "import.bad_ids": [
        "00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a",
        "na", "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}",
    ],
    "import.bad_ids_include_lmy47d": True,
    "time.ms_threshold": 100_000_000_000,
    "time.future_grace_s": 3600,
    "store.add_ingest_properties": False,
    "store.max_failed_records": 10_000,  # harness: records that failed validation kept for view=failed (§14)
    "store.max_events": None,  # harness: at most this many stored events (raw + quarantine); null = no limit
    "geoip.stub": {},
    # §6 /track
    "track.max_age_days": 5,
    "track.old_events": "drop",
    "track.unknown_token": "quarantine",
    "track.max_batch_records": 2000,
    "track.honour_strict": True,
    # §7 /engage, §8 /groups
    "engage.accept_gzip": False,
    "engage.multi_op": "apply",
    "engage.order": "arrival",
    "engage.max_batch_records": 2000,
    "engage.max_profile_properties": 2000,
    "engage.num_good_events": False,
    "groups.allow_add": False,
    "groups.allow_append": False,
    "groups.max_batch_records": 2000,
    # §10 storage
    "dedup.mode": "query",
    # §11 rate limiting
    "ratelimit.bytes_per_window": 2_147_483_648,
    "ratelimit.events_per_window": 1_800_000,
    "ratelimit.window_s": 60,
    "ratelimit.endpoints": ["import", "track"],
    "ratelimit.count_invalid": True,
    "ratelimit.retry_after_s": None,
    "ratelimit.lookup_puts_per_day": 100,
    # raw event export, GET /api/2.0/export (exporting.py)
    "export.max_limit": 100_000,  # D: `limit` cannot be over 100000
    "export.add_ingest_properties": True,  # O: `$import`, `$mp_api_endpoint`, `$mp_api_timestamp_ms` in exports
    "export.ratelimit.enforce": False,  # D: 60 an hour and 3 a second; off: a frozen test clock never moves on
    "export.ratelimit.per_hour": 60,
    "export.ratelimit.per_second": 3,
}

# One line per key, read by `GET /_harness/config/schema` (with the type, default and choices of its Setting).
DOCS: dict[str, str] = {
    "projects": "§1 the project registry: project_id, token, secret, service_accounts, region, id_merge, ...",
    "regions.enforce": "§2.1 refuse a project's data on another region's host (off: every host serves all)",
    "regions.ports": "§2.1 region by listening port, e.g. {\"8081\": \"us\", \"8082\": \"eu\"}",
    "http.max_uri_bytes": "§2.3 longest request URI; longer ones get 414 (null: no limit)",
    "decode.strict_base64": "§3 R4 refuse unpadded base64 in data=",
    "decode.extra_encodings": "§3 R8 Content-Encodings accepted beside gzip, e.g. [\"deflate\"]",
    "decode.verbose_on": "§3 R11 values of verbose= that turn it on",
    "auth.error_detail": "§4.3 401 texts: documented (one text) or observed (the case-specific 2023 texts)",
    "auth.secret_retired_enforce": "§4.1 refuse the project secret on /import after auth.secret_retired_at",
    "auth.secret_retired_at": "§4.1 when the project secret retires, epoch s (2027-03-03T00:00:00Z)",
    "auth.reject_plain_http": "§2.3 refuse secret-bearing calls over plain HTTP (401)",
    "import.max_batch_records": "§5.2 records per /import request",
    "import.max_body_bytes": "§5.2 decompressed bytes per request; more gets 413",
    "import.max_event_bytes": "§5.2 bytes per event (V12)",
    "import.max_properties": "§5.2 properties per event (V12)",
    "import.max_object_keys": "§5.2 keys per nested object (V12)",
    "import.max_depth": "§5.2 nesting depth of property values (V12)",
    "import.max_array_len": "§5.2 elements per array property (V12)",
    "import.enforce_8kb": "§5.2 refuse list/object properties over 8 KB (off: only logged)",
    "import.truncate_unit": "§5.2 string truncation counts chars or bytes (cut on a UTF-8 boundary)",
    "import.max_string_len": "§5.2 longest string value kept; longer ones are truncated",
    "import.max_failed_records": "§5.4 failed_records listed in a strict 400 (null: all)",
    "import.nonstrict_style": "§5.9 non-strict answer style: 2024 or 2023",
    "import.nonstrict_skip": "§5.9 validation rules non-strict /import skips",
    "import.bad_ids": "§5.5 placeholder ids refused as distinct_id / $insert_id (case-insensitive)",
    "import.bad_ids_include_lmy47d": "§5.5 also refuse the LMY47D Android build id",
    "time.ms_threshold": "§5.6 a time above this is read as milliseconds",
    "time.future_grace_s": "§5.4 V6 how far in the future an event time may be, s",
    "store.add_ingest_properties": "§5.11 add Mixpanel's ingest properties to stored events",
    "store.max_failed_records": "§14 records that failed validation kept for GET /_harness/events?view=failed",
    "store.max_events": "harness: at most this many stored events (raw + quarantine); a batch past it is refused "
                        "whole with 507; null = no limit",
    "geoip.stub": "§5.11 IP -> geolocation properties added on ingest",
    "track.max_age_days": "§6 /track ingests only events this recent, days",
    "track.old_events": "§6 older /track events: drop or keep",
    "track.unknown_token": "§6 events naming an unknown token: quarantine or reject",
    "track.max_batch_records": "§6 records per /track request",
    "track.honour_strict": "§6 strict=1 on /track gives the /import strict bodies",
    "engage.accept_gzip": "§3 R6 decode gzip bodies on /engage and /groups",
    "engage.multi_op": "§7.1 an update with several operations: apply or reject",
    "engage.order": "§7.1 apply updates in arrival or $time order",
    "engage.max_batch_records": "§7.1 updates per /engage request",
    "engage.max_profile_properties": "§7.1 properties per profile",
    "engage.num_good_events": "§7.1 add num_good_events to verbose answers",
    "groups.allow_add": "§8 accept $add on group profiles",
    "groups.allow_append": "§8 accept $append on group profiles",
    "groups.max_batch_records": "§8 updates per /groups request",
    "dedup.mode": "§10 dedup view: query (exact key) or compaction (same UTC day)",
    "ratelimit.bytes_per_window": "§11 bytes per project per window",
    "ratelimit.events_per_window": "§11 events per project per window",
    "ratelimit.window_s": "§11 rolling window, s",
    "ratelimit.endpoints": "§11 endpoints the limit applies to",
    "ratelimit.count_invalid": "§11 invalid requests count toward the limit",
    "ratelimit.retry_after_s": "§11 Retry-After on a 429, s (null: none, as upstream)",
    "ratelimit.lookup_puts_per_day": "§11 lookup-table replacements per day",
    "export.max_limit": "raw export: largest limit=",
    "export.add_ingest_properties": "raw export: add $import, $mp_api_endpoint, $mp_api_timestamp_ms",
    "export.ratelimit.enforce": "raw export: enforce 60 queries an hour and 3 a second",
    "export.ratelimit.per_hour": "raw export: queries per project per hour",
    "export.ratelimit.per_second": "raw export: queries per project per second",
}
assert set(DOCS) == set(DEFAULTS), "every key has one line of doc"

# Keys restricted to a fixed set of values.
CHOICES: dict[str, tuple[str, ...]] = {
    "auth.error_detail": ("documented", "observed"),
    "import.truncate_unit": ("chars", "bytes"),
    "import.nonstrict_style": ("2024", "2023"),
    "track.old_events": ("drop", "keep"),
    "track.unknown_token": ("quarantine", "reject"),
    "engage.multi_op": ("apply", "reject"),
    "engage.order": ("arrival", "time"),
    "dedup.mode": ("query", "compaction"),
}
NUMBER_OR_NULL = {"http.max_uri_bytes", "import.max_failed_records", "ratelimit.retry_after_s", "store.max_events"}
STRING_OR_NULL: set[str] = set()  # §2.3 TLS is the server's business: `harness serve --tls` (fakes.core.tls)
NUMBER_KEYS = {"time.ms_threshold", "ratelimit.window_s", "ratelimit.retry_after_s"}
# Upper bounds where a larger value would push a time past what the clock and datetime handle; every other
# number is capped by the core (fakes.core.config.MAX_NUMBER).
MAXIMUMS: dict[str, float] = {
    "ratelimit.window_s": MAX_DURATION_S,
    "ratelimit.retry_after_s": MAX_DURATION_S,
    "time.future_grace_s": MAX_DURATION_S,
    "track.max_age_days": MAX_DURATION_S // 86_400,
    "auth.secret_retired_at": 253_402_300_799,  # 9999-12-31T23:59:59Z
}


def _projects(value: Any) -> list[dict[str, Any]]:
    """Validate `projects` into its normalised form (the registry is rebuilt from it)."""
    try:
        registry = ProjectRegistry.from_config(list(value))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return registry.describe()


def _string_list(value: Any) -> None:
    if not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")


def _setting(key: str, default: Any) -> Setting:
    doc = DOCS[key]
    if key == "projects":
        return Setting(key, default, list, validator=_projects, doc=doc)
    if key in NUMBER_OR_NULL:
        kind: Any = (float, type(None)) if key in NUMBER_KEYS else (int, type(None))
        return Setting(key, default, kind, minimum=0, maximum=MAXIMUMS.get(key), doc=doc)
    if key in STRING_OR_NULL:
        return Setting(key, default, (str, type(None)), doc=doc)
    if isinstance(default, bool):
        return Setting(key, default, bool, doc=doc)
    if isinstance(default, int):
        return Setting(key, default, float if key in NUMBER_KEYS else int, minimum=0, maximum=MAXIMUMS.get(key),
                       doc=doc)
    if isinstance(default, str):
        return Setting(key, default, str, choices=CHOICES.get(key), doc=doc)
    if isinstance(default, list):
        return Setting(key, default, list, validator=_string_list, doc=doc)
    return Setting(key, default, dict, doc=doc)


SETTINGS: tuple[Setting, ...] = tuple(_setting(k, v) for k, v in DEFAULTS.items())


def attribute_name(key: str) -> str:
    """The `MixpanelConfig` attribute of a dotted key: `import.max_body_bytes` -> `import_max_body_bytes`."""
    return key.replace(".", "_")


@dataclass(frozen=True)
class MixpanelConfig:
    """The values of every key above, one attribute per key (dots become underscores)."""

    projects: list[dict[str, Any]]
    regions_enforce: bool
    regions_ports: dict[str, str]
    http_max_uri_bytes: int | None
    decode_strict_base64: bool
    decode_extra_encodings: list[str]
    decode_verbose_on: list[str]
    auth_error_detail: str
    auth_secret_retired_enforce: bool
    auth_secret_retired_at: int
    auth_reject_plain_http: bool
    import_max_batch_records: int
    import_max_body_bytes: int
    import_max_event_bytes: int
    import_max_properties: int
    import_max_object_keys: int
    import_max_depth: int
    import_max_array_len: int
    import_enforce_8kb: bool
    import_truncate_unit: str
    import_max_string_len: int
    import_max_failed_records: int | None
    import_nonstrict_style: str
    import_nonstrict_skip: list[str]
    import_bad_ids: list[str]
    import_bad_ids_include_lmy47d: bool
    time_ms_threshold: float
    time_future_grace_s: int
    store_add_ingest_properties: bool
    store_max_failed_records: int
    store_max_events: int | None
    geoip_stub: dict[str, Any]
    track_max_age_days: int
    track_old_events: str
    track_unknown_token: str
    track_max_batch_records: int
    track_honour_strict: bool
    engage_accept_gzip: bool
    engage_multi_op: str
    engage_order: str
    engage_max_batch_records: int
    engage_max_profile_properties: int
    engage_num_good_events: bool
    groups_allow_add: bool
    groups_allow_append: bool
    groups_max_batch_records: int
    dedup_mode: str
    ratelimit_bytes_per_window: int
    ratelimit_events_per_window: int
    ratelimit_window_s: float
    ratelimit_endpoints: list[str]
    ratelimit_count_invalid: bool
    ratelimit_retry_after_s: float | None
    ratelimit_lookup_puts_per_day: int
    export_max_limit: int
    export_add_ingest_properties: bool
    export_ratelimit_enforce: bool
    export_ratelimit_per_hour: int
    export_ratelimit_per_second: int

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> MixpanelConfig:
        return cls(**{attribute_name(key): values[key] for key in DEFAULTS})

    @classmethod
    def defaults(cls, **overrides: Any) -> MixpanelConfig:
        """Snapshot of the defaults with dotted-key overrides (`defaults(**{"dedup.mode": "compaction"})`)."""
        return cls.from_values(FakeConfig(SETTINGS, overrides or None).as_dict())


assert {f.name for f in fields(MixpanelConfig)} == {attribute_name(k) for k in DEFAULTS}, "config out of sync"

__all__ = ["DEFAULTS", "SETTINGS", "ConfigError", "MixpanelConfig", "attribute_name"]
