"""`IngestionModel`: projects, events, profiles, lookup tables, rate limits and stats of the fake Mixpanel.

Plain Python, no HTTP (mixpanel-ingestion.md §1–§14). `ENDPOINTS` is the one table of ingestion endpoints
and their handlers: `handle` dispatches through it and the wire registers a route for each entry. The
handlers get an `IngestContext` (the configuration snapshot and the model's parts), never the model. The
raw export, a read, has its own handler (`exporting`, `export`). All state is guarded by one re-entrant
lock (the fake state's).
"""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, cast

from fakes.core import ControlError, FakeConfig, SimulatedClock

from . import answers
from .auth import parse_authorization
from .config import SETTINGS, MixpanelConfig
from .errors import EventStoreFull
from .event_values import placeholder_ids
from .exporting import handle_export
from .failures import FailedRecord, FailedRecords
from .importing import handle_import
from .ingest import IngestContext, IngestRequest
from .lookup_requests import handle_lookup_tables
from .lookup_tables import LookupTable, LookupTableStore
from .outcome import NO_ANSWER, ExportOutcome, IngestOutcome, LookupOutcome
from .profile_updates import handle_profile_updates
from .profiles import Profile, ProfileStore
from .projects import ProjectRegistry
from .ratelimit import ExportRateLimits, RateLimiter
from .stats import IngestionStats
from .storage import EventStore, Row, StoreFull
from .tracking import handle_track

EndpointHandler = Callable[[IngestContext, IngestRequest], IngestOutcome]

# §2.2: the ingestion endpoints, each served at `/<name>` under an optional region prefix.
ENDPOINTS: dict[str, EndpointHandler] = {
    "import": handle_import,
    "track": handle_track,
    "engage": handle_profile_updates,
    "groups": handle_profile_updates,
}
LOOKUP_TABLES = "lookup-tables"  # §9, its own routes (no region prefix)
# Endpoints where a lone project is the one a request names before auth (events carry only a token).
_TOKEN_ENDPOINT_PATHS = ("/track", "/engage", "/groups")


class IngestionModel:
    def __init__(self, clock: SimulatedClock, config: FakeConfig | None = None,
                 lock: threading.RLock | None = None, seed: int | str = 0) -> None:
        self.clock = clock
        self.config = config if config is not None else FakeConfig(SETTINGS)
        self.lock = lock if lock is not None else threading.RLock()
        self.store = EventStore()
        self.profiles = ProfileStore()
        self.group_profiles = ProfileStore()
        self.quarantine_updates: list[dict[str, Any]] = []
        self.limiter = RateLimiter()
        self.export_limits = ExportRateLimits()
        self.lookup_tables = LookupTableStore()
        self.stats = IngestionStats()
        self.failed = FailedRecords(self.config["store.max_failed_records"])
        self._id_lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(f"mixpanel-insert-ids:{seed}")
        self.configure()

    # --- configuration ----------------------------------------------------------------------------
    def configure(self) -> None:
        """Take a new configuration snapshot and rebuild what derives from it (call after every change)."""
        with self.lock:
            self.settings = MixpanelConfig.from_values(self.config.as_dict())
            self.store.max_events = self.settings.store_max_events
            self.registry = ProjectRegistry.from_config(self.settings.projects)
            self.profiles.max_properties = self.settings.engage_max_profile_properties
            self.group_profiles.max_properties = self.settings.engage_max_profile_properties
            self.failed.resize(self.settings.store_max_failed_records)
            self.context = IngestContext(
                config=self.settings,
                registry=self.registry,
                bad_ids=placeholder_ids(self.settings.import_bad_ids, self.settings.import_bad_ids_include_lmy47d),
                clock=self.clock,
                store=self.store,
                profiles=self.profiles,
                group_profiles=self.group_profiles,
                quarantine_updates=self.quarantine_updates,
                limiter=self.limiter,
                lookup_tables=self.lookup_tables,
                new_insert_id=self.new_insert_id,
                export_limits=self.export_limits,
                failed=self.failed,
            )

    # --- data -------------------------------------------------------------------------------------
    def reset(self, seed: int | str = 0) -> None:
        """Drop every event, profile, table, limit window and counter (configuration is kept)."""
        with self.lock:
            self.store.clear()
            self.profiles.clear()
            self.group_profiles.clear()
            self.limiter.clear()
            self.export_limits.clear()
            self.stats.clear()
            self.failed.clear()
            self.quarantine_updates.clear()
            self.lookup_tables.clear()
            self._seed = seed
            self._rng = random.Random(f"mixpanel-insert-ids:{seed}")

    def snapshot(self) -> dict[str, Any]:
        """Events (raw, quarantine, with metadata), profiles, group profiles and lookup tables."""
        with self.lock:
            return {
                "events": self.store.snapshot(),
                "profiles": self.profiles.snapshot(),
                "group_profiles": self.group_profiles.snapshot(),
                "lookup_tables": self.lookup_tables.snapshot(),
                "failed_records": self.failed.snapshot(),
            }

    def restore(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise ValueError("mixpanel snapshot data must be an object")
        with self.lock:
            self.store.restore(data.get("events", []))
            self.profiles.restore(data.get("profiles", []), "profiles")
            self.group_profiles.restore(data.get("group_profiles", []), "group_profiles")
            self.lookup_tables.restore(data.get("lookup_tables", []), "lookup_tables")
            self.failed.restore(data.get("failed_records"))

    def secrets(self) -> list[str]:
        """Every credential of the registry, for journal masking."""
        values: list[str] = []
        for project in self.registry.projects:
            values += [project.secret, project.token, *project.bearer_tokens]
            values += [sa.secret for sa in project.service_accounts]
        return values

    def reseed_insert_ids(self) -> None:
        """After a restore: generated ids go on from the stored rows' count, not from the seed's start again
        (which would repeat the ids generated before the restart)."""
        with self._id_lock:
            self._rng = random.Random(f"mixpanel-insert-ids:{self._seed}:{len(self.store)}")

    def new_insert_id(self) -> str:
        """§5.7: a generated 32-hex `$insert_id`, deterministic for a seed."""
        with self._id_lock:
            return f"{self._rng.getrandbits(128):032x}"

    # --- the ingestion endpoints --------------------------------------------------------------------
    def handle(self, req: IngestRequest, *, faulted: bool = False) -> IngestOutcome:
        """Answer one ingestion request and record it in the stats; `faulted`: a fault rule fired on it
        and lets it be processed (an ingesting fault or latency), which the stats count too.

        The cyclic garbage collector is paused while a batch is decoded and stored: a 2000-event batch
        allocates thousands of (acyclic) containers, and each collection would rescan every stored row."""
        handler = ENDPOINTS.get(req.endpoint)
        if handler is None:
            raise ValueError(f"unknown ingestion endpoint {req.endpoint!r}")
        with self.lock:
            paused = gc.isenabled()
            if paused:
                gc.disable()
            try:
                outcome = handler(self.context, req)
            except StoreFull as full:  # store.max_events: the whole batch refused, nothing stored
                outcome = IngestOutcome(dialect="unknown", deviations=["store.max_events reached"], payload=[],
                                        records_accepted=0, records_failed=full.batch)
                outcome.answered(answers.api_error(EventStoreFull(stored=full.stored, limit=full.limit,
                                                                  batch=full.batch)))
            finally:
                if paused:
                    gc.enable()
            if outcome.answer is NO_ANSWER:
                raise RuntimeError(f"the {req.endpoint} handler gave no answer")
            self.stats.record(endpoint=req.endpoint, project_id=outcome.stats_project(), user_agent=req.user_agent,
                              dialect=outcome.dialect, status=outcome.answer.status,
                              accepted=outcome.records_accepted or 0, dropped=outcome.records_dropped or 0,
                              failed=outcome.records_failed or 0)
        if faulted:
            self.record_fault(req.endpoint, req.user_agent, dialect="fault")
        return outcome

    def record_fault(self, endpoint: str, user_agent: str, *, dialect: str = "unknown") -> None:
        """§13/§14: a fault fired on a request (answered by the fault before processing, by default)."""
        self.stats.record(endpoint=endpoint, project_id=None, user_agent=user_agent, dialect=dialect, status=0,
                          fault=True)

    def lookup(self, req: IngestRequest, table_id: str | None) -> LookupOutcome:
        """§9: `GET /lookup-tables` (table_id None) or `PUT /lookup-tables/{table_id}`."""
        with self.lock:
            return handle_lookup_tables(self.context, req, table_id)

    def export(self, req: IngestRequest) -> ExportOutcome:
        """`GET /api/2.0/export`: an error answer, or the export's lines. They are produced as the answer is
        sent, after the lock is released, from the raw rows received before the request (never a copy)."""
        with self.lock:
            return handle_export(self.context, req)

    def claimed_project(self, project_id_param: str, authorization: str | None, path: str) -> int | None:
        """The project a request names before auth (for fault `match.project_id`), without decoding the body."""
        if project_id_param.isdigit():
            return int(project_id_param)
        registry = self.registry
        credential = parse_authorization(authorization)
        if credential.scheme == "basic" and not credential.password:
            project = registry.by_secret.get(credential.user) or registry.by_token.get(credential.user)
            if project is not None:
                return project.project_id
        if len(registry.projects) == 1 and path.rstrip("/").endswith(_TOKEN_ENDPOINT_PATHS):
            return registry.projects[0].project_id
        return None

    # --- read side (DESIGN.md §4, §10, §14) -----------------------------------------------------------
    def events(self, view: str = "dedup", **filters: Any) -> list[Row]:
        """Rows of a view (`dedup`, `raw`, `quarantine`), filtered as `EventStore.query` filters."""
        return list(self.store.query(view, compaction=self.settings.dedup_mode == "compaction", **filters))

    def failed_records(self, *, endpoint: str | None = None, project_id: int | None = None) -> list[FailedRecord]:
        """Records that failed validation, oldest first (at most `store.max_failed_records`)."""
        return self.failed.rows(endpoint=endpoint, project_id=project_id)

    def validation_counts(self, endpoint: str | None = None) -> dict[str, Any]:
        """Records validated: `{"good", "bad", "total", "by_endpoint"}` (or one endpoint's three counts)."""
        if endpoint is not None:
            return self.failed.counts(endpoint)
        return {**self.failed.counts(), "by_endpoint": self.failed.counts_by_endpoint()}

    def profile(self, identity: Hashable, project_id: int | None = None, *, group: bool = False) -> Profile | None:
        """A user (or group) profile: in `project_id` if given, else in the first project that has it."""
        store = self.group_profiles if group else self.profiles
        candidates = [project_id] if project_id is not None else [p.project_id for p in self.registry.projects]
        for candidate in candidates:
            found = store.get((candidate, identity))
            if found is not None:
                return found
        return None

    def user_profiles(self, project_id: int | None = None) -> dict[Hashable, Profile]:
        """Every user profile by distinct_id: of `project_id` if given, else each id as `profile` finds it
        (in the first project that has it)."""
        order = [project_id] if project_id is not None else [p.project_id for p in self.registry.projects]
        rank = {pid: i for i, pid in enumerate(order)}
        found: dict[Hashable, tuple[int, Profile]] = {}
        for key, profile in self.profiles.items():
            pid, identity = cast("tuple[int | None, Hashable]", key)
            if pid in rank and (identity not in found or rank[pid] < found[identity][0]):
                found[identity] = (rank[pid], profile)
        return {identity: profile for identity, (_, profile) in found.items()}

    def projects(self) -> list[dict[str, Any]]:
        return self.registry.describe()

    def create_lookup_table(self, name: str, project_id: Any, table_id: Any = None) -> LookupTable:
        """§9 extension: a new, empty table of a known project."""
        if project_id not in self.registry.by_id:
            raise ControlError(f"unknown project_id {project_id!r}")
        if table_id is not None and (not isinstance(table_id, str) or not table_id or "/" in table_id):
            raise ControlError("id must be a non-empty string without '/'")
        return self.lookup_tables.create(project_id, name, table_id)

    def stats_report(self) -> dict[str, Any]:
        report = self.stats.report()
        report["store"] = self.store.counts()
        report["profiles"] = len(self.profiles)
        report["group_profiles"] = len(self.group_profiles)
        return report
