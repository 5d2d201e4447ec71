"""Configuration keys of the fake Braze (braze-cohort-sync.md §3, DESIGN.md §4 credentials).

The keys are declared once as shared-core ``Setting``s (``fakes.core.config``), so the control API's
``/_harness/config`` reads and changes them. ``BrazeConfig`` is a typed, immutable snapshot taken
once per request so one request never sees two configurations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from fakes.core.config import MAX_DURATION_S, ConfigError, FakeConfig, Setting

from .clusters import BY_INSTANCE


def _known_instance(value: str) -> str:
    if value.upper() not in BY_INSTANCE:
        raise ValueError(f"unknown Braze instance {value!r}; known: {', '.join(BY_INSTANCE)}")
    return value.upper()


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


def _non_empty(value: str) -> str:
    """Keys, names and slugs: the reset builds the default world from them, so an empty one would break it."""
    if not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _header_name(value: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise ValueError("must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)")
    return value


def _slug(value: str) -> str:
    if not _PATH_SEGMENT.fullmatch(value):
        raise ValueError("must be a URL path segment (letters, digits and ._~-)")
    return value


def _success_body(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


# key, snapshot attribute, setting. The one place the defaults live.
_TABLE: tuple[tuple[str, Setting], ...] = (
    ("partner_slug", Setting("braze.partner_slug", "mixpanel", validator=_slug,
        doc="§4.2 path segment of the Mixpanel partner (/partners/<slug>/...)")),
    ("default_cluster", Setting("braze.default_cluster", "US-01", validator=_known_instance,
        doc="§4.1 cluster assumed when the Host header is not a known Braze host")),
    ("cluster_header", Setting("braze.cluster_header", "X-Harness-Braze-Cluster",
        validator=_header_name, doc="§4.1 header that lets loopback clients pick a cluster")),
    ("other_clusters_key_region", Setting("braze.other_clusters_key_region", "US", choices=("US", "EU"),
        doc="§4.1 which partner key region AU/JP/ID/KR clusters accept")),
    ("enforce_workspace_cluster", Setting("braze.enforce_workspace_cluster", True,
        doc="§4.1 a data import key is valid only on its workspace's cluster")),
    ("success_status", Setting("braze.success_status", 201, minimum=200, maximum=299,
        doc="§4.10 status of a successful call")),
    ("success_body", Setting("braze.success_body", {"message": "success"}, validator=_success_body,
        doc="§4.10 body of a successful call")),
    ("require_json_content_type", Setting("braze.require_json_content_type", False,
        doc="§4.3 treat a non-JSON Content-Type as an empty body")),
    ("created_at_on_redeclare", Setting("braze.created_at_on_redeclare", "keep", choices=("keep", "overwrite"),
        doc="§4.6 re-declaring a cohort: keep or overwrite its created_at")),
    ("undeclared_cohort_policy",
     Setting("braze.undeclared_cohort_policy", "hold", choices=("hold", "discard", "autoname"),
        doc="§4.9 changes to an undeclared cohort: hold, discard or autoname")),
    ("same_request_conflict",
     Setting("braze.same_request_conflict", "last_wins", choices=("last_wins", "add_wins", "remove_wins"),
        doc="§4.9 an id added and removed in one request: last_wins, add_wins, remove_wins")),
    ("allow_empty_change_object", Setting("braze.allow_empty_change_object", False,
        doc="§4.8 accept {} inside cohort_changes")),
    ("null_as_absent", Setting("braze.null_as_absent", True,
        doc="§4.7 a null field (device_ids: null) reads as a missing one")),
    ("max_ids_per_request", Setting("braze.max_ids_per_request", 1000, minimum=0,
        maximum=1_000_000, doc="§4.8 ids per request (upstream 1000; change only for negative tests)")),
    ("max_body_bytes", Setting("braze.max_body_bytes", 16 * 1024 * 1024, minimum=1,
        doc="harness guard: larger bodies get 413")),
    ("rate_limit_per_hour", Setting("braze.rate_limit.per_hour", 250_000, minimum=0,
        doc="§4.11 requests per sliding 3600 s window")),
    ("rate_limit_scope",
     Setting("braze.rate_limit.scope", "partner_key", choices=("partner_key", "workspace", "global"),
        doc="§4.11 what the limit counts: partner_key, workspace or global")),
    ("rate_limit_headers", Setting("braze.rate_limit.headers", "on_429", choices=("never", "on_429", "always"),
        doc="§4.11 X-RateLimit-* headers: never, on_429 or always")),
    ("detect_concurrent", Setting("braze.lock.detect_concurrent", True,
        doc="§4.12 overlapping writes to one cohort get 423")),
    ("case_sensitive_ids", Setting("braze.case_sensitive_ids", True,
        doc="§4.9 ids match exactly (case-sensitive)")),
    # The default world (DESIGN.md §4); read when the state is built or reset.
    ("partner_api_key", Setting("braze.partner_api_key", "harness-partner-key",
        validator=_non_empty, doc="DESIGN.md §4 the Mixpanel partner's API key (default world)")),
    ("data_import_key", Setting("braze.data_import_key", "harness-data-import-key",
        validator=_non_empty, doc="DESIGN.md §4 the default workspace's data import key")),
    ("default_workspace", Setting("braze.default_workspace", "default",
        validator=_non_empty, doc="the default workspace's id (short /_harness routes act on it)")),
    ("default_workspace_cluster", Setting("braze.default_workspace_cluster", "US-01", validator=_known_instance,
        doc="the default workspace's cluster")),
    ("other_partner_slug", Setting("braze.other_partner_slug", "amplitude",
        validator=_slug, doc="a second partner, for cross-partner tests")),
    ("other_partner_key", Setting("braze.other_partner_key", "harness-amplitude-partner-key",
        validator=_non_empty, doc="the second partner's API key")),
    ("new_key_revokes_old", Setting("keys.new_key_revokes_old", False,
        doc="§5 generating a data import key revokes the previous one")),
    ("key_format", Setting("keys.format", "uuid4", choices=("uuid4", "hex"),
        doc="§5 format of generated data import keys: uuid4 or hex")),
    ("identify_conflict", Setting("users.identify_conflict", "reject", choices=("reject", "merge"),
        doc="§6 identifying onto a taken external_id: reject or merge")),
    ("segments_lag_s", Setting("segments.lag_s", 0.0, type=float, minimum=0,
        maximum=MAX_DURATION_S, doc="§4.9 delay between an applied change and its visibility in segments, s")),
)
SETTINGS: tuple[Setting, ...] = tuple(setting for _, setting in _TABLE)


@dataclass(frozen=True)
class BrazeConfig:
    partner_slug: str
    default_cluster: str
    cluster_header: str
    other_clusters_key_region: str
    enforce_workspace_cluster: bool
    success_status: int
    success_body: Any
    require_json_content_type: bool
    created_at_on_redeclare: str
    undeclared_cohort_policy: str
    same_request_conflict: str
    allow_empty_change_object: bool
    null_as_absent: bool
    max_ids_per_request: int
    max_body_bytes: int
    rate_limit_per_hour: int
    rate_limit_scope: str
    rate_limit_headers: str
    detect_concurrent: bool
    case_sensitive_ids: bool
    partner_api_key: str
    data_import_key: str
    default_workspace: str
    default_workspace_cluster: str
    other_partner_slug: str
    other_partner_key: str
    new_key_revokes_old: bool
    key_format: str
    identify_conflict: str
    segments_lag_s: float

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> BrazeConfig:
        return cls(**{attr: values[setting.key] for attr, setting in _TABLE})

    @classmethod
    def defaults(cls, **overrides: Any) -> BrazeConfig:
        """Snapshot of the defaults with dotted-key overrides (``defaults(**{"keys.format": "hex"})``)."""
        return cls.from_values(new_fake_config(overrides).as_dict())


def new_fake_config(values: Mapping[str, Any] | None = None) -> FakeConfig:
    """The live, validated configuration of one fake Braze (raises ConfigError on bad input)."""
    return FakeConfig(SETTINGS, values or None)


assert {f.name for f in fields(BrazeConfig)} == {attr for attr, _ in _TABLE}, "config table out of sync"

__all__ = ["BrazeConfig", "ConfigError", "SETTINGS", "new_fake_config"]
