"""App factory of the fake Braze: shared-core app + the cohort import wire + Braze control routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from fakes.core.app import create_fake_app

from .clusters import HOST_PATTERNS
from .control import braze_control_blueprint
from .routes import cohort_import_blueprint, http_error_response
from .state import BrazeState


def new_state(config: Mapping[str, Any] | None = None, **kwargs: Any) -> BrazeState:
    return BrazeState(config, **kwargs)


def create_app(state: BrazeState | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """One Flask app serving every Braze cluster host; ``config`` applies to a new or given state."""
    if state is None:
        state = new_state(config)
    elif config:
        state.update_config(config)
    return create_fake_app(state, [braze_control_blueprint(), cohort_import_blueprint()],
                           import_name="fakes.braze", http_error_response=http_error_response, hosts=HOST_PATTERNS)
