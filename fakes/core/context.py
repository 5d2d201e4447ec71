"""The per-request context a fake's handlers and the core's control routes share.

A fake's Flask app carries its `FakeState` under `STATE_EXTENSION` (`bind_state` puts it there, done by
`create_fake_app`); `current_state()` reads it back inside a request. `annotate(...)` adds fields to the
request's journal entry. This module depends on nothing else of the core's request handling, so the app
factory (`app.py`) and the control blueprint (`control.py`) both import it and not each other's internals.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g

from fakes.core.state import FakeState

STATE_EXTENSION = "harness_state"
"""Key of the fake's state in `app.extensions`."""


def bind_state(app: Flask, state: FakeState) -> None:
    """Make `state` the one `current_state()` returns in `app`'s requests."""
    app.extensions[STATE_EXTENSION] = state


def current_state() -> FakeState:
    """The state of the fake answering the current request."""
    state: FakeState = current_app.extensions[STATE_EXTENSION]
    return state


def annotate(**fields: Any) -> None:
    """Add fake-specific fields to this request's journal entry (masked when stored)."""
    annotations = g.get("harness_annotations")
    if annotations is not None:
        annotations.update(fields)
