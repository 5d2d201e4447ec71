"""Where compiled mapping plans are kept: an explicit cache object, one default instance per process.

A `MappingConfig` is an immutable value; what is compiled for it lives here instead, keyed by the config
object itself (by identity, so a lookup never hashes the config's twenty fields). An entry goes away when
its config is garbage-collected. Pass a `PlanCache` of your own to `map_currents_event(..., cache=...)` to
keep compiled code apart (e.g. in a test that measures compilation).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from harness.mapping.config import MappingConfig
from harness.mapping.plan import MappingPlan, Runner, compile_plan

if TYPE_CHECKING:
    from collections.abc import Callable


class ConfigPlans:
    """What is compiled for one config: plans by type id, and per input kind the runners by type id that
    the hot path of `map_currents_event` calls after one dictionary lookup."""

    __slots__ = ("plans", "flat", "storage", "http", "_config_ref")

    def __init__(self, config_ref: weakref.ref[MappingConfig] | None) -> None:
        self.plans: dict[str, MappingPlan] = {}
        self.flat: dict[str, Runner] = {}  # normalised flat records
        self.storage: dict[str, Runner] = {}  # storage JSON, unions maybe still wrapped
        self.http: dict[str, Runner] = {}  # Custom HTTP events
        self._config_ref = config_ref  # keeps the clean-up callback alive

    def runners(self, kind: str) -> dict[str, Runner]:
        """The runner table of one input kind (`flat`, `storage`, `http`)."""
        if kind == "http":
            return self.http
        if kind == "storage":
            return self.storage
        return self.flat


class PlanCache:
    """Compiled plans per config. `for_config(config)` gives that config's `ConfigPlans`."""

    def __init__(self) -> None:
        self._by_config: dict[int, ConfigPlans] = {}
        # The config looked up last and its plans, as one tuple so that threads never see a mixed pair
        # (read directly by the hot path of `map_currents_event`; an empty placeholder before the first lookup).
        self.recent: tuple[MappingConfig | None, ConfigPlans] = (None, ConfigPlans(None))

    def for_config(self, config: MappingConfig) -> ConfigPlans:
        recent_config, recent_plans = self.recent
        if recent_config is config:
            return recent_plans
        key = id(config)
        plans = self._by_config.get(key)
        if plans is None:
            # The id is unique while the config lives; the callback drops the entry before the id can be reused.
            plans = ConfigPlans(weakref.ref(config, self._forget(key)))
            self._by_config[key] = plans
        self.recent = (config, plans)
        return plans

    def _forget(self, key: int) -> Callable[[weakref.ref[MappingConfig]], None]:
        by_config = self._by_config

        def forget(_ref: weakref.ref[MappingConfig]) -> None:
            by_config.pop(key, None)

        return forget

    def plan(self, type_id: str, config: MappingConfig) -> MappingPlan | None:
        """`compile_plan` once per (type, config); unknown type ids are not cached, so hostile input cannot
        grow the cache."""
        plans = self.for_config(config).plans
        plan = plans.get(type_id)
        if plan is None:
            plan = compile_plan(type_id, config)
            if plan is not None:
                plans[type_id] = plan
        return plan

    def clear(self) -> None:
        self._by_config.clear()
        self.recent = (None, ConfigPlans(None))

    def __len__(self) -> int:
        """Number of configs with compiled plans."""
        return len(self._by_config)


DEFAULT_CACHE = PlanCache()
