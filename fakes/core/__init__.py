"""The shared core both fakes are built on: clock, journal, masking, fault rules, configuration, the
`/_harness` control blueprint, the app factory helper, in-process routing and the loopback server.

See fakes/core/README.md for how a fake plugs in.
"""

from fakes.core.app import FaultFired, create_fake_app, fire_faults, render_fault
from fakes.core.clients import FakeClient, InProcessClient, LoopbackClient
from fakes.core.clock import ClockError, SimulatedClock
from fakes.core.config import ConfigError, FakeConfig, Setting
from fakes.core.context import annotate, current_state
from fakes.core.control import CONTROL_PREFIX, json_body, ok
from fakes.core.errors import ControlError
from fakes.core.faults import FaultDecision, FaultRuleError, FaultSet
from fakes.core.inprocess import InProcessRoute, call_app
from fakes.core.journal import RequestJournal
from fakes.core.masking import MASK, SecretMasker
from fakes.core.scheduler import ActionFailure, ScheduledAction, Scheduler
from fakes.core.server import FakeServer, PortInUseError
from fakes.core.state import CORE_SETTINGS, FakeState

__all__ = [
    "CONTROL_PREFIX",
    "ActionFailure",
    "CORE_SETTINGS",
    "MASK",
    "ClockError",
    "ConfigError",
    "ControlError",
    "FakeClient",
    "FakeConfig",
    "FakeServer",
    "FakeState",
    "FaultDecision",
    "FaultFired",
    "FaultRuleError",
    "FaultSet",
    "InProcessClient",
    "InProcessRoute",
    "LoopbackClient",
    "PortInUseError",
    "RequestJournal",
    "ScheduledAction",
    "Scheduler",
    "SecretMasker",
    "Setting",
    "SimulatedClock",
    "annotate",
    "call_app",
    "create_fake_app",
    "current_state",
    "fire_faults",
    "json_body",
    "ok",
    "render_fault",
]
