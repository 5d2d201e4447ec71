"""The reference connectors (DESIGN.md §7): what Braze and Mixpanel send, over HTTP, to any base URL.

They do only what a user's connector can do — HTTP to a base URL — so this package never imports
`fakes/`. Time is the simulated clock's: every wait is an action on an `Agenda` (the fleet's scheduler),
never a sleep.
"""

from harness.connectors.agenda import Agenda
from harness.connectors.cohort_sync import (
    CohortInfo,
    CohortMembers,
    CohortSyncConfig,
    CohortSyncEngine,
    DynamicSyncLimitExceeded,
    GroupCohortNotSupported,
    InMemoryCohorts,
    Member,
)
from harness.connectors.currents_http import CustomHttpCurrent, HttpEndpoint
from harness.connectors.currents_mixpanel import MixpanelCurrent, MixpanelTarget
from harness.connectors.delivery import Current, CurrentOptions, RetryPolicy
from harness.connectors.mixpanel_cohorts import MixpanelCohorts
from harness.connectors.mixpanel_reader import MixpanelReader, MixpanelReadError
from harness.connectors.report import DeliveryReport

__all__ = ["Agenda", "CohortInfo", "CohortMembers", "CohortSyncConfig", "CohortSyncEngine", "Current",
           "CurrentOptions", "CustomHttpCurrent", "DeliveryReport", "DynamicSyncLimitExceeded",
           "GroupCohortNotSupported", "HttpEndpoint", "InMemoryCohorts", "Member", "MixpanelCohorts",
           "MixpanelCurrent", "MixpanelReadError", "MixpanelReader", "MixpanelTarget", "RetryPolicy"]
