"""`ConnectorControl`: the reference connectors of one fleet, reachable over HTTP (DESIGN.md §7.1).

It owns a `CohortExport` (Mixpanel's side) and a `CurrentsRegistry` (Braze's side) on the fleet's
scheduler, and mounts their blueprints on the fleet's fake Mixpanel and fake Braze. Flask takes blueprints
only before an app's first request, so mount right after the fleet (or the member) is built:

    fleet = FakeFleet(mode="loopback")
    control = ConnectorControl(fleet).mount_all()
    fleet.start()

The fakes' URLs are read when first needed (a loopback server's port is known only once it runs):
in-process, the real host names the fleet routes. A fake's `POST /_harness/reset` leaves the connectors
alone (the fakes know nothing of them, and `FakeFleet.reset()` neither); `control.reset()` drops every
cohort, connection, sync and Current and cancels their pending actions (the pytest plugin does it before
each server test); over HTTP, `POST /_harness/mixpanel/reset` and `POST /_harness/currents/reset` do it for
one side each.
"""

from __future__ import annotations

import threading

import requests

from fakes.fleet import FakeFleet, FakeHandle
from harness.connector_routes.blueprints import BRAZE_BLUEPRINT, MIXPANEL_BLUEPRINT, braze_blueprint, mixpanel_blueprint
from harness.connector_routes.cohort_export import CohortExport
from harness.connector_routes.currents import CurrentsRegistry
from harness.connectors.mixpanel_reader import DEFAULT_BASE_URL as MIXPANEL_IN_PROCESS_URL

BRAZE_IN_PROCESS_URL = "https://rest.iad-01.braze.com"


class ConnectorControl:
    """The connectors' control routes of one fleet."""

    def __init__(self, fleet: FakeFleet, *, seed: int | str | None = None) -> None:
        self.fleet = fleet
        self.seed = fleet.seed if seed is None else seed
        self.session = requests.Session()
        self._export: CohortExport | None = None
        self._currents: CurrentsRegistry | None = None
        self._lock = threading.RLock()

    # -- mounting ------------------------------------------------------------------------------------
    def mount(self, handle: FakeHandle) -> bool:
        """Register the routes of `handle`'s side on its app (mixpanel or braze; others: False). Idempotent."""
        app = handle.app
        if handle.name == "mixpanel" and MIXPANEL_BLUEPRINT not in app.blueprints:
            app.register_blueprint(mixpanel_blueprint(self.export, self.reset_export))
        elif handle.name == "braze" and BRAZE_BLUEPRINT not in app.blueprints:
            app.register_blueprint(braze_blueprint(self.currents, self.reset_currents))
        return handle.name in ("mixpanel", "braze")

    def mount_all(self) -> ConnectorControl:
        for handle in self.fleet:
            self.mount(handle)
        return self

    # -- the two sides -------------------------------------------------------------------------------
    def mixpanel_url(self) -> str | None:
        return self._url("mixpanel", MIXPANEL_IN_PROCESS_URL)

    def braze_url(self) -> str | None:
        return self._url("braze", BRAZE_IN_PROCESS_URL)

    def export(self) -> CohortExport:
        with self._lock:
            if self._export is None:
                self._export = CohortExport(self.fleet.scheduler, self.mixpanel_url() or MIXPANEL_IN_PROCESS_URL,
                                            self.braze_url, session=self.session)
            return self._export

    def currents(self) -> CurrentsRegistry:
        with self._lock:
            if self._currents is None:
                self._currents = CurrentsRegistry(self.fleet.scheduler, self.mixpanel_url, session=self.session,
                                                  seed=self.seed)
            return self._currents

    def reset(self) -> None:
        """Forget every cohort, connection, sync and Current; cancel their pending actions."""
        self.reset_export()
        self.reset_currents()

    def reset_export(self) -> None:
        """Mixpanel's side only (`POST /_harness/mixpanel/reset`): cohorts, connections, syncs."""
        with self._lock:
            if self._export is not None:
                self._export.close()
            self._export = None

    def reset_currents(self) -> None:
        """Braze's side only (`POST /_harness/currents/reset`): every Current, its queue and report."""
        with self._lock:
            if self._currents is not None:
                self._currents.close()
            self._currents = None

    close = reset

    def _url(self, name: str, in_process: str) -> str | None:
        if name not in self.fleet:
            return None
        return self.fleet[name].base_url or in_process
