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
                             doc="Path segment of the Mixpanel partner (UNK)")),
    ("default_cluster", Setting("braze.default_cluster", "US-01", validator=_known_instance)),
    ("cluster_header", Setting("braze.cluster_header", "X-Harness-Braze-Cluster", validator=_header_name)),
    ("other_clusters_key_region", Setting("braze.other_clusters_key_region", "US", choices=("US", "EU"))),
    ("enforce_workspace_cluster", Setting("braze.enforce_workspace_cluster", True)),
    ("success_status", Setting("braze.success_status", 201, minimum=200, maximum=299)),
    ("success_body", Setting("braze.success_body", {"message": "success"}, validator=_success_body)),
    ("require_json_content_type", Setting("braze.require_json_content_type", False)),
    ("created_at_on_redeclare", Setting("braze.created_at_on_redeclare", "keep", choices=("keep", "overwrite"))),
    ("undeclared_cohort_policy",
     Setting("braze.undeclared_cohort_policy", "hold", choices=("hold", "discard", "autoname"))),
    ("same_request_conflict",
     Setting("braze.same_request_conflict", "last_wins", choices=("last_wins", "add_wins", "remove_wins"))),
    ("allow_empty_change_object", Setting("braze.allow_empty_change_object", False)),
    ("null_as_absent", Setting("braze.null_as_absent", True)),
    ("max_ids_per_request", Setting("braze.max_ids_per_request", 1000, minimum=0, maximum=1_000_000)),
    ("max_body_bytes", Setting("braze.max_body_bytes", 16 * 1024 * 1024, minimum=1,
                               doc="harness guard: larger bodies get 413")),
    ("rate_limit_per_hour", Setting("braze.rate_limit.per_hour", 250_000, minimum=0)),
    ("rate_limit_scope",
     Setting("braze.rate_limit.scope", "partner_key", choices=("partner_key", "workspace", "global"))),
    ("rate_limit_headers", Setting("braze.rate_limit.headers", "on_429", choices=("never", "on_429", "always"))),
    ("detect_concurrent", Setting("braze.lock.detect_concurrent", True)),
    ("case_sensitive_ids", Setting("braze.case_sensitive_ids", True)),
    # The default world (DESIGN.md §4); read when the state is built or reset.
    ("partner_api_key", Setting("braze.partner_api_key", "harness-partner-key", validator=_non_empty)),
    ("data_import_key", Setting("braze.data_import_key", "harness-data-import-key", validator=_non_empty)),
    ("default_workspace", Setting("braze.default_workspace", "default", validator=_non_empty)),
    ("default_workspace_cluster", Setting("braze.default_workspace_cluster", "US-01", validator=_known_instance)),
    ("other_partner_slug", Setting("braze.other_partner_slug", "amplitude", validator=_slug)),
    ("other_partner_key", Setting("braze.other_partner_key", "harness-amplitude-partner-key", validator=_non_empty)),
    ("new_key_revokes_old", Setting("keys.new_key_revokes_old", False)),
    ("key_format", Setting("keys.format", "uuid4", choices=("uuid4", "hex"))),
    ("identify_conflict", Setting("users.identify_conflict", "reject", choices=("reject", "merge"))),
    ("segments_lag_s", Setting("segments.lag_s", 0.0, type=float, minimum=0, maximum=MAX_DURATION_S)),
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
