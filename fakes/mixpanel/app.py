"""App factory of the fake Mixpanel: shared-core app + the ingestion and raw-export wire + Mixpanel control routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from fakes.core import SimulatedClock, create_fake_app

from .control import mixpanel_control_blueprint
from .regions import HOST_PATTERNS
from .routes import export_blueprint, http_error_response, ingestion_blueprint
from .state import MixpanelState


def new_state(config: Mapping[str, Any] | None = None, *, clock: SimulatedClock | None = None,
              seed: int | str = 0) -> MixpanelState:
    return MixpanelState(config, clock=clock, seed=seed)


def create_app(state: MixpanelState | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """One Flask app serving every Mixpanel host; `config` applies to a new or given state."""
    if state is None:
        state = new_state(config)
    elif config:
        state.update_config(config)
    return create_fake_app(state, [ingestion_blueprint(state.model), export_blueprint(state.model),
                                   mixpanel_control_blueprint(state.model)],
                           import_name="fakes.mixpanel", http_error_response=http_error_response,
                           hosts=HOST_PATTERNS)
