"""The lifecycle step tables (currents-to-mixpanel.md §9) against the catalog they name types through."""

from __future__ import annotations

import pytest

from harness.catalog import MESSAGE_CHANNELS, load_catalog
from harness.generate.lifecycle_engine import Branch, Lifecycle
from harness.generate.lifecycles import CHANNEL_TYPES, LIFECYCLES

CATALOG = load_catalog()


def test_every_message_channel_has_one_lifecycle():
    assert set(LIFECYCLES) == set(MESSAGE_CHANNELS)
    assert all(lifecycle.channel == channel for channel, lifecycle in LIFECYCLES.items())


@pytest.mark.parametrize("channel", sorted(LIFECYCLES))
def test_head_roles_resolve_in_the_catalog(channel):
    """§9 / D9: the shared head uses the channel's Retry (where the catalog has one), Abort and opening event."""
    lifecycle: Lifecycle = LIFECYCLES[channel]
    for role in ("retry", "abort"):
        in_catalog = CATALOG.for_role(channel, role)
        assert lifecycle.types.get(role) == (in_catalog.type_id if in_catalog else None)
    if lifecycle.opening is not None:
        assert lifecycle.types[lifecycle.opening] == CATALOG.type_for(channel, lifecycle.opening)


@pytest.mark.parametrize("channel", sorted(LIFECYCLES))
def test_steps_emit_only_what_the_lifecycle_declares(channel):
    """A Branch's type is one of the lifecycle's types (its channel's, or declared in `also_emits`)."""
    lifecycle = LIFECYCLES[channel]
    for step in lifecycle.steps:
        if isinstance(step, Branch):
            assert step.type_id in lifecycle.emits, step.type_id
            assert all(t in CATALOG for t in step.favour)


def test_channel_types_are_message_types_of_the_channel_plus_declared_extras():
    for channel, types in CHANNEL_TYPES.items():
        own = [t for t in types if CATALOG[t].channel == channel]
        assert own == [t.type_id for t in CATALOG.by_channel(channel) if t.is_message]
        assert set(types) - set(own) == set(LIFECYCLES[channel].also_emits)
