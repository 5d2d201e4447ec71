"""The sync engine's configuration: every `mixpanel.*` key of braze-cohort-sync.md §3 at its documented
default, in one frozen dataclass, validated on construction (an error names the key).

    CohortSyncConfig()                                              # every default
    CohortSyncConfig(dynamic_interval_s=900)                        # by field name
    CohortSyncConfig.from_keys({"mixpanel.retry.delays_s": [1, 1]})  # by the spec's dotted keys
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

NETWORK_ERROR = "network_error"
"""The status class of a request that got no HTTP answer (connection refused or dropped, timeout)."""

_STATUS_PATTERN = re.compile(r"^[1-9](\d\d|xx)$")


class CohortSyncConfigError(ValueError):
    """A `mixpanel.*` key with a value it cannot take; the message names the key."""


@dataclass(frozen=True)
class CohortSyncConfig:
    """The `mixpanel.*` keys (§3). Field `retry_delays_s` is the key `mixpanel.retry.delays_s`, and so on
    (`KEYS` maps every dotted key to its field)."""

    dynamic_interval_s: float = 7200
    identifier_property: str = "$braze_external_id"
    cohort_id_template: str = "{cohort_id}"
    batch_size: int = 1000
    batch_order: str = "adds_first"
    send_empty_runs: bool = False
    declare_every_run: bool = False
    retry_delays_s: tuple[float, ...] = (2, 4, 8, 16, 30)
    retry_transient_statuses: tuple[str, ...] = ("429", "5xx", "423", NETWORK_ERROR)
    pause_statuses: tuple[str, ...] = ("400", "401", "403", "404", "4xx", "3xx")
    pause_scope: str = "sync"
    snapshot_ttl_s: float = 259200
    diff_key: str = "export_id"
    dynamic_sync_limit: int = 60
    max_cohort_users: int = 10_000_000
    rename_propagation: str = "next_run"
    on_cohort_delete: str = "freeze"
    on_sync_stop: str = "freeze"
    resume: str = "next_tick"
    request_latency_s: float = 0

    def __post_init__(self) -> None:
        _positive("dynamic_interval_s", self.dynamic_interval_s)
        _text("identifier_property", self.identifier_property)
        _text("cohort_id_template", self.cohort_id_template)
        try:
            rendered = self.cohort_id_template.format(cohort_id=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise CohortSyncConfigError(f"{key_of('cohort_id_template')} may use only {{cohort_id}}, "
                                        f"got {self.cohort_id_template!r} ({exc})") from None
        if not rendered:
            raise CohortSyncConfigError(f"{key_of('cohort_id_template')} must give a non-empty id")
        _integer("batch_size", self.batch_size, minimum=1)
        _choice("batch_order", self.batch_order, ("adds_first", "removes_first"))
        _flag("send_empty_runs", self.send_empty_runs)
        _flag("declare_every_run", self.declare_every_run)
        delays = _tuple("retry_delays_s", self.retry_delays_s)
        for delay in delays:
            _non_negative("retry_delays_s", delay, item=True)
        object.__setattr__(self, "retry_delays_s", tuple(float(d) for d in delays))
        object.__setattr__(self, "retry_transient_statuses", _statuses("retry_transient_statuses",
                                                                       self.retry_transient_statuses))
        object.__setattr__(self, "pause_statuses", _statuses("pause_statuses", self.pause_statuses))
        _choice("pause_scope", self.pause_scope, ("sync", "connection"))
        _non_negative("snapshot_ttl_s", self.snapshot_ttl_s)
        _choice("diff_key", self.diff_key, ("export_id", "distinct_id"))
        _integer("dynamic_sync_limit", self.dynamic_sync_limit, minimum=0)
        _integer("max_cohort_users", self.max_cohort_users, minimum=0)
        _choice("rename_propagation", self.rename_propagation, ("next_run", "immediate", "never"))
        _choice("on_cohort_delete", self.on_cohort_delete, ("freeze", "empty"))
        _choice("on_sync_stop", self.on_sync_stop, ("freeze", "empty"))
        _choice("resume", self.resume, ("next_tick", "immediate"))
        _non_negative("request_latency_s", self.request_latency_s)

    @classmethod
    def from_keys(cls, values: Mapping[str, Any]) -> CohortSyncConfig:
        """A configuration from the spec's dotted keys (`mixpanel.batch_size`); unknown keys are an error."""
        unknown = sorted(k for k in values if k not in KEYS)
        if unknown:
            raise CohortSyncConfigError(f"unknown cohort sync keys: {', '.join(unknown)} "
                                        f"(known: {', '.join(sorted(KEYS))})")
        return cls(**{KEYS[k]: _tuple_if_list(v) for k, v in values.items()})

    def with_keys(self, values: Mapping[str, Any]) -> CohortSyncConfig:
        """This configuration with some dotted keys changed."""
        unknown = sorted(k for k in values if k not in KEYS)
        if unknown:
            raise CohortSyncConfigError(f"unknown cohort sync keys: {', '.join(unknown)}")
        return replace(self, **{KEYS[k]: _tuple_if_list(v) for k, v in values.items()})

    def to_keys(self) -> dict[str, Any]:
        """Every key with its value, dotted as in §3."""
        return {key_of(f.name): getattr(self, f.name) for f in fields(self)}

    # -- what the engine asks of it ------------------------------------------------------------------
    def is_transient(self, status: int | None) -> bool:
        """429, 5xx, 423 and network errors by default (§8.6): retried, then the run ends `failed_transient`."""
        return _matches(status, self.retry_transient_statuses)

    def pauses(self, status: int | None) -> bool:
        """400, 401, 403, 404, other 4xx and 3xx by default (§8.6): no retry, the sync pauses. A status in
        neither list (a 1xx, say) is retried as transient rather than silently taken for success."""
        return not self.is_transient(status) and _matches(status, self.pause_statuses)

    def braze_cohort_id(self, cohort_id: int | str) -> str:
        return self.cohort_id_template.format(cohort_id=cohort_id)


_RENAMED = {"retry_delays_s": "retry.delays_s", "retry_transient_statuses": "retry.transient_statuses"}


def key_of(field_name: str) -> str:
    return "mixpanel." + _RENAMED.get(field_name, field_name)


KEYS: dict[str, str] = {key_of(f.name): f.name for f in fields(CohortSyncConfig)}
"""Dotted key (`mixpanel.retry.delays_s`) → field name (`retry_delays_s`)."""


def _matches(status: int | None, classes: tuple[str, ...]) -> bool:
    if status is None:
        return NETWORK_ERROR in classes
    code = str(status)
    return code in classes or f"{code[0]}xx" in classes


def _tuple_if_list(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _statuses(name: str, value: Any) -> tuple[str, ...]:
    out = []
    for item in _tuple(name, value):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if not isinstance(text, str) or not (text == NETWORK_ERROR or _STATUS_PATTERN.match(text)):
            raise CohortSyncConfigError(f"{key_of(name)} holds status codes (429), classes (5xx) or "
                                        f"{NETWORK_ERROR!r}, got {item!r}")
        out.append(text)
    return tuple(out)


def _tuple(name: str, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, (tuple, list)):
        raise CohortSyncConfigError(f"{key_of(name)} must be a list, got {value!r}")
    return tuple(value)


def _number(name: str, value: Any, item: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        what = "items" if item else "a number"
        raise CohortSyncConfigError(f"{key_of(name)} must be {what}{' that are numbers' if item else ''}, "
                                    f"got {value!r}")
    return float(value)


def _positive(name: str, value: Any) -> None:
    if not _number(name, value) > 0:
        raise CohortSyncConfigError(f"{key_of(name)} must be > 0, got {value!r}")


def _non_negative(name: str, value: Any, item: bool = False) -> None:
    if not _number(name, value, item) >= 0:
        raise CohortSyncConfigError(f"{key_of(name)} must be >= 0, got {value!r}")


def _integer(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CohortSyncConfigError(f"{key_of(name)} must be an integer >= {minimum}, got {value!r}")


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise CohortSyncConfigError(f"{key_of(name)} must be a non-empty string, got {value!r}")


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise CohortSyncConfigError(f"{key_of(name)} must be true or false, got {value!r}")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise CohortSyncConfigError(f"{key_of(name)} must be one of {', '.join(choices)}, got {value!r}")
