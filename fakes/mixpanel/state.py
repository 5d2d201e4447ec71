"""The fake Mixpanel's state: the core base (lock, clock, journal, faults, config) plus the model parts
(project registry, event store, profiles, rate limiter, stats). Plain Python: tests drive it directly."""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fakes.core.state import FakeState

from .answers import Answer, dumps
from .errors import RateLimitExceeded
from .importing import handle_import
from .ingest import IngestRequest
from .lookup_tables import LookupTableStore
from .profile_updates import handle_profile_updates
from .profiles import ProfileStore
from .projects import ProjectRegistry
from .ratelimit import RateLimiter
from .settings import MIXPANEL_SETTINGS
from .stats import IngestionStats
from .storage import EventStore
from .tracking import handle_track
from .validation import placeholder_ids

ENDPOINTS = ("import", "track", "engage", "groups")


class MixpanelState(FakeState):
    service = "mixpanel"
    settings = MIXPANEL_SETTINGS
    fault_match_fields = ("project_id", "region", "endpoint")
    secret_fields = ("secret", "api_secret", "api_key", "password", "bearer_tokens")

    def __init__(self, config: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.store = EventStore()
        self.profiles = ProfileStore()
        self.group_profiles = ProfileStore()
        self.limiter = RateLimiter()
        self.stats = IngestionStats()
        self.quarantine_updates: list[dict[str, Any]] = []
        self.lookup_tables = LookupTableStore()
        self._id_lock = threading.Lock()
        super().__init__(config, **kwargs)
        self._rng = random.Random(f"mixpanel-insert-ids:{self.seed}")
        self._refresh_config()

    # -- configuration --------------------------------------------------------------------------------
    def _refresh_config(self) -> None:
        """Per-request code reads `self.cfg` (a plain dict snapshot) and the derived tables."""
        cfg = self.config.as_dict()
        self.registry = ProjectRegistry.from_config(cfg["projects"])
        self.bad_ids = placeholder_ids(cfg["import.bad_ids"], cfg["import.bad_ids_include_lmy47d"])
        self.profiles.max_properties = cfg["engage.max_profile_properties"]
        self.group_profiles.max_properties = cfg["engage.max_profile_properties"]
        self.cfg = cfg

    def on_config_changed(self, changed: Sequence[str]) -> None:
        self._refresh_config()

    def secret_values(self) -> Iterable[str]:
        registry = getattr(self, "registry", None)
        if registry is None:
            return ()
        values: list[str] = []
        for project in registry.projects:
            values += [project.secret, project.token, *project.bearer_tokens]
            values += [sa.secret for sa in project.service_accounts]
        return values

    def rate_limit_fault_response(self) -> tuple[int, Mapping[str, str], bytes | str]:
        """§13 `rate_limit`: the exact §5.8 body (Retry-After only when the rule asks for it)."""
        return 429, {"Content-Type": "application/json"}, dumps(RateLimitExceeded().body())

    # -- data -----------------------------------------------------------------------------------------
    def reset_data(self) -> None:
        self.store.clear()
        self.profiles.clear()
        self.group_profiles.clear()
        self.limiter.clear()
        self.stats.clear()
        self.quarantine_updates = []
        self.lookup_tables.clear()
        self._rng = random.Random(f"mixpanel-insert-ids:{self.seed}")

    def snapshot_data(self) -> Any:
        """Events (raw, quarantine, with metadata), profiles, group profiles and lookup tables."""
        return {
            "events": self.store.snapshot(),
            "profiles": self.profiles.snapshot(),
            "group_profiles": self.group_profiles.snapshot(),
            "lookup_tables": self.lookup_tables.snapshot(),
        }

    def restore_data(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise ValueError("mixpanel snapshot data must be an object")
        self.store.restore(data.get("events", []))
        self.profiles.restore(data.get("profiles", []))
        self.group_profiles.restore(data.get("group_profiles", []))
        self.lookup_tables.restore(data.get("lookup_tables", []))

    def new_insert_id(self) -> str:
        """§5.7: a generated 32-hex `$insert_id`, deterministic for a seed."""
        with self._id_lock:
            return f"{self._rng.getrandbits(128):032x}"

    # -- ingestion ------------------------------------------------------------------------------------
    def handle(self, req: IngestRequest) -> Answer:
        """Answer one ingestion request and record it in the stats.

        The cyclic garbage collector is paused while a batch is decoded and stored: a 2000-event batch
        allocates thousands of (acyclic) containers, and each collection would rescan every stored row."""
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            return self._handle(req)
        finally:
            if paused:
                gc.enable()

    def _handle(self, req: IngestRequest) -> Answer:
        if req.endpoint == "import":
            answer = handle_import(self, req)
        elif req.endpoint == "track":
            answer = handle_track(self, req)
        elif req.endpoint in ("engage", "groups"):
            answer = handle_profile_updates(self, req)
        else:
            raise ValueError(f"unknown ingestion endpoint {req.endpoint!r}")
        notes = answer.notes
        project = notes.get("project_id")
        if project is None and notes.get("project_ids"):
            project = ",".join(str(p) for p in notes["project_ids"])
        self.stats.record(endpoint=req.endpoint, project_id=project, user_agent=req.user_agent,
                          dialect=notes.get("dialect", "none"), status=answer.status,
                          accepted=notes.get("records_accepted", 0), dropped=notes.get("records_dropped", 0),
                          failed=notes.get("records_failed", 0))
        return answer
