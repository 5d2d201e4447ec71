"""The reference connectors reachable over HTTP, for test code in any language (DESIGN.md §7.1).

`ConnectorControl(fleet).mount_all()` puts the routes on the fleet's fakes: cohorts, connections and syncs
on fake Mixpanel (`/_harness/mixpanel/...`), Currents on fake Braze (`/_harness/currents...`); the fakes'
own `POST /_harness/clock` then runs every delivery, retry and sync run that falls due. One concept per
module: `bodies` (reading route input), `cohort_export` (Mixpanel's side), `currents` (Braze's side),
`blueprints` (the Flask routes), `control` (binding them to a fleet).

This package sits above both `fakes/` and `harness.connectors` (the fakes never import it).
"""

from harness.connector_routes.cohort_export import CohortExport
from harness.connector_routes.control import ConnectorControl
from harness.connector_routes.currents import CurrentsRegistry

__all__ = ["CohortExport", "ConnectorControl", "CurrentsRegistry"]
