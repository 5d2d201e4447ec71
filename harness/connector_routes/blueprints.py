"""The Flask blueprints of the connectors' control routes (DESIGN.md §7.1): one for fake Mixpanel
(cohorts, connections, syncs under `/_harness/mixpanel`), one for fake Braze (Currents under
`/_harness/currents`). They only parse the request and answer; `CohortExport` and `CurrentsRegistry` act.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request

from fakes.core import CONTROL_PREFIX, json_body, ok
from harness.connector_routes.bodies import cohort_id, epoch_query
from harness.connector_routes.cohort_export import CohortExport
from harness.connector_routes.currents import CurrentsRegistry

MIXPANEL_BLUEPRINT = "harness_connector_routes_mixpanel"
BRAZE_BLUEPRINT = "harness_connector_routes_braze"


def mixpanel_blueprint(export: Callable[[], CohortExport], reset: Callable[[], None]) -> Blueprint:
    """Routes on fake Mixpanel; `export()` gives the current `CohortExport` (`reset()` replaces it)."""
    bp = Blueprint(MIXPANEL_BLUEPRINT, __name__, url_prefix=f"{CONTROL_PREFIX}/mixpanel")

    @bp.post("/reset")
    def reset_export() -> Response:
        """Forget every cohort, connection and sync."""
        reset()
        return ok({"reset": "cohorts, connections, syncs"})

    @bp.post("/cohorts")
    def define_cohort() -> Response:
        """Define or redefine a cohort: `{"id", "name", "definition"}`."""
        return ok(export().define_cohort(json_body()), 201)

    @bp.get("/cohorts/<raw_id>/members")
    def cohort_members(raw_id: str) -> Response:
        """A cohort's members now (`?at=` a simulated time)."""
        at = request.args.get("at")
        when = None if at is None else epoch_query(at, "at", 0.0)
        return ok(export().members(cohort_id(raw_id), when))

    @bp.delete("/cohorts/<raw_id>")
    def delete_cohort(raw_id: str) -> Response:
        """Delete a cohort (its syncs react as Mixpanel's do)."""
        return ok(export().delete_cohort(cohort_id(raw_id)))

    @bp.post("/connections")
    def connect() -> Response:
        """Connect to Braze: `{"name", "data_import_key", "braze_url"}`."""
        return ok(export().connect(json_body()), 201)

    @bp.post("/syncs")
    def create_sync() -> Response:
        """Create a one-time or dynamic cohort sync: `{"cohort_id", "connection_id", "type"}`."""
        return ok(export().create_sync(json_body()), 201)

    @bp.get("/syncs/<sync_id>")
    def sync(sync_id: str) -> Response:
        """A sync: state, next run, runs (`?rows=0` leaves out the rows)."""
        return ok(export().sync_json(sync_id, rows=request.args.get("rows", "1") not in ("0", "false")))

    @bp.delete("/syncs/<sync_id>")
    def stop_sync(sync_id: str) -> Response:
        """Stop a sync."""
        return ok(export().stop_sync(sync_id))

    return bp


def braze_blueprint(currents: Callable[[], CurrentsRegistry], reset: Callable[[], None]) -> Blueprint:
    """Routes on fake Braze; `currents()` gives the current `CurrentsRegistry` (`reset()` replaces it)."""
    bp = Blueprint(BRAZE_BLUEPRINT, __name__, url_prefix=f"{CONTROL_PREFIX}/currents")

    @bp.post("/reset")
    def reset_currents() -> Response:
        """Forget every Current."""
        reset()
        return ok({"reset": "currents"})

    @bp.post("")
    def create() -> Response:
        """Create a Mixpanel or Custom HTTP Current: `{"type", ...}`."""
        return ok(currents().create(json_body()), 201)

    @bp.get("/<current_id>")
    def describe(current_id: str) -> Response:
        """One Current and its settings."""
        return ok(currents().describe(current_id))

    @bp.post("/<current_id>/events")
    def submit(current_id: str) -> Response:
        """Queue Currents events on a Current (delivered on the simulated clock)."""
        return ok(currents().submit(current_id, json_body()), 202)

    @bp.post("/<current_id>/flush")
    def flush(current_id: str) -> Response:
        """Flush a Current's queue now."""
        return ok(currents().flush(current_id))

    @bp.get("/<current_id>/report")
    def report(current_id: str) -> Response:
        """A Current's delivery report."""
        return ok(currents().report(current_id))

    return bp
