"""Fake Mixpanel ingestion API (mixpanel-ingestion.md): `/import`, `/track`, `/engage`, `/groups` and a
minimal `/lookup-tables`.

Wire (`routes`, `control`, `answers`) is kept apart from the model (plain Python, no Flask): `state` (the
FakeState), `importing`, `tracking`, `profile_updates`, `lookup_requests` (one module per endpoint),
`ingest` (what they share), `decoding` (§3), `auth` (§4), `validation` (§5.4–5.7), `storage` (§10),
`profiles` (§7.2), `lookup_tables` (§9), `ratelimit` (§11), `stats`, `regions` (§2.1), `projects`,
`settings` (every config key) and `errors` (every documented error text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from fakes.core import SimulatedClock, create_fake_app

from . import control, routes
from .regions import HOST_PATTERNS
from .state import MixpanelState

SERVICE = "mixpanel"
# §2.3: SANs of the HTTPS test certificate (the core adds localhost and 127.0.0.1).
TLS_HOSTNAMES = HOST_PATTERNS


def new_state(config: Mapping[str, Any] | None = None, *, clock: SimulatedClock | None = None,
              seed: int | str = 0) -> MixpanelState:
    return MixpanelState(config, clock=clock, seed=seed)


def create_app(state: MixpanelState | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    if state is None:
        state = new_state(config)
    elif config:
        state.update_config(config)
    return create_fake_app(state, [routes.bp, control.bp], import_name="fakes.mixpanel",
                           http_error_response=routes.http_errors)


__all__ = ["HOST_PATTERNS", "SERVICE", "TLS_HOSTNAMES", "MixpanelState", "create_app", "new_state"]
