"""Which fakes exist and where they live: names → lazily imported fake packages.

A fake package `fakes/<name>/__init__.py` exposes (see fakes/core/README.md):

- `create_app(state=None, config=None) -> flask.Flask` (a new state from `config` when `state` is None),
- `new_state(config=None, *, clock=None, seed=0) -> FakeState`,
- `HOST_PATTERNS`: the real host names (globs) routed to it in-process,
- optionally `TLS_HOSTNAMES`: exact host names for the HTTPS test certificate (default: `HOST_PATTERNS`).

`fakes.fleet.FakeFleet` runs a set of them; this module only finds and loads them.

`HARNESS_FAKE_MODULES="name=package,..."` adds or replaces entries (used by tests to plug in stand-ins).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry is read when the CLI builds its parser: no Flask import for that
    from flask import Flask

    from fakes.core.clock import SimulatedClock
    from fakes.core.state import FakeState

FAKE_MODULES: Mapping[str, str] = {
    "mixpanel": "fakes.mixpanel",
    "braze": "fakes.braze",
}
ENV_OVERRIDE = "HARNESS_FAKE_MODULES"
REQUIRED = ("create_app", "new_state", "HOST_PATTERNS")


class FakeUnavailableError(LookupError):
    """A fake that is unknown, not importable yet, or missing part of the plug-in convention."""


def fake_modules() -> dict[str, str]:
    modules = dict(FAKE_MODULES)
    override = os.environ.get(ENV_OVERRIDE, "").strip()
    for item in filter(None, (part.strip() for part in override.split(","))):
        name, sep, module = item.partition("=")
        if not sep or not name.strip() or not module.strip():
            raise FakeUnavailableError(f"{ENV_OVERRIDE}: expected name=module pairs, got {item!r}")
        modules[name.strip()] = module.strip()
    return modules


def fake_names() -> list[str]:
    return list(fake_modules())


@dataclass(frozen=True)
class FakeDescriptor:
    """A loaded fake package, seen through the plug-in convention."""

    name: str
    module: ModuleType

    @property
    def host_patterns(self) -> tuple[str, ...]:
        return tuple(self.module.HOST_PATTERNS)

    @property
    def tls_hostnames(self) -> tuple[str, ...]:
        """Host names the HTTPS test certificate covers for this fake."""
        return tuple(getattr(self.module, "TLS_HOSTNAMES", self.module.HOST_PATTERNS))

    def new_state(
        self, config: Mapping[str, Any] | None = None, *, clock: SimulatedClock | None = None, seed: int | str = 0
    ) -> FakeState:
        state: FakeState = self.module.new_state(config, clock=clock, seed=seed)
        return state

    def create_app(self, state: FakeState | None = None, config: Mapping[str, Any] | None = None) -> Flask:
        app: Flask = self.module.create_app(state=state, config=config)
        return app


def load_fake(name: str) -> FakeDescriptor:
    modules = fake_modules()
    if name not in modules:
        raise FakeUnavailableError(f"unknown fake {name!r}; known fakes: {', '.join(modules)}")
    module_name = modules[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FakeUnavailableError(f"fake {name!r} is not available: cannot import {module_name} ({exc})") from None
    except Exception as exc:  # a fake half-way through being written must not crash the harness
        raise FakeUnavailableError(
            f"fake {name!r} is not available: importing {module_name} failed ({type(exc).__name__}: {exc})"
        ) from None
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise FakeUnavailableError(
            f"fake {name!r} ({module_name}) does not provide {', '.join(missing)} yet (see fakes/core/README.md)"
        )
    return FakeDescriptor(name, module)


def available_fakes(names: Sequence[str] | None = None) -> tuple[list[FakeDescriptor], dict[str, str]]:
    """Load the named fakes (all by default): (loaded, {name: why not} for those that failed)."""
    loaded: list[FakeDescriptor] = []
    failed: dict[str, str] = {}
    for name in names if names is not None else fake_names():
        try:
            loaded.append(load_fake(name))
        except FakeUnavailableError as exc:
            failed[name] = str(exc)
    return loaded, failed
