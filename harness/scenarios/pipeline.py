"""The pipeline (DESIGN.md §3, issue 9 item 7): one seed → world → Braze users (fake Braze) and Mixpanel
profiles carrying `$braze_external_id` (through `/engage`, as an app sends them) → the Currents stream →
a connector (Braze's reference Mixpanel Current, or a user's callable) → fake Mixpanel → cohorts → the
reference sync engine → fake Braze → segments; `observe()` returns an `Observation`.

    with FakeFleet() as fleet:                                   # or mode="loopback"
        pipeline = Pipeline(fleet, PipelineConfig(seed=7, cohorts=(CohortSpec(1, "Clicked", D),)))
        pipeline.start()                                         # users, profiles, stream delivered, syncs
        pipeline.advance(7200)                                   # the next sync tick
        observation = pipeline.observe()

Only this layer knows both sides (DESIGN.md §7): it takes a `FakeFleet` for its clock, scheduler and the
URLs of its fakes; every connector in it speaks HTTP to those URLs (in-process: the real host names,
routed by the fleet). One seed fixes the world, the stream, the redeliveries and the retry jitter.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from fakes.fleet import FakeFleet, FleetMode
from harness.connectors import Agenda, CohortSyncConfig, CohortSyncEngine, Current, CurrentOptions, MixpanelTarget
from harness.connectors.cohort_sync.model import Sync
from harness.connectors.mixpanel_cohorts import MixpanelCohorts
from harness.connectors.mixpanel_reader import DEFAULT_BASE_URL, MixpanelReader
from harness.generate import StreamConfig, World, WorldConfig, build_world, generate_events
from harness.mapping import MappingConfig, map_currents_event
from harness.scenarios.cohort_sut import BrazeTarget, CallableCohortSync, CohortSutCallable
from harness.scenarios.observation import Observation
from harness.scenarios.sut import CallableSut, ReferenceSut, SutCallable, SutTarget, SystemUnderTest

BRAZE_IN_PROCESS_URL = "https://rest.iad-01.braze.com"
BRAZE_EXTERNAL_ID = "$braze_external_id"
ENGAGE_BATCH = 200  # the batch size of Mixpanel's documentation samples (mixpanel-ingestion.md §7)
START_AFTER_ANCHOR_S = 60.0
"""The clock starts this long after the stream's anchor, so every generated event lies in the past."""


@dataclass(frozen=True)
class CohortSpec:
    """A Mixpanel cohort the pipeline defines and syncs to Braze (definition: DESIGN.md §7.1)."""

    cohort_id: int
    name: str
    definition: dict[str, Any]
    sync: str | None = "dynamic"
    """"dynamic", "one_time", or None (defined, not synced)."""
    interval_s: float | None = None
    """A dynamic sync's own interval (None: the engine's `dynamic_interval_s`)."""


_UNSET: Any = object()


@dataclass(frozen=True)
class PipelineUser:
    """A user the pipeline creates: a Braze profile (`braze`) and a Mixpanel profile (`mixpanel`, through
    `/engage`) whose `$braze_external_id` is `braze_external_id` (default: the external id; None: unset)."""

    external_id: str | None = None
    braze: bool = True
    mixpanel: bool | None = None
    """None: a Mixpanel profile exactly when the user has an external id."""
    braze_external_id: Any = _UNSET
    profile: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[tuple[str, str], ...] = ()
    device_ids: tuple[str, ...] = ()

    @property
    def has_profile(self) -> bool:
        return self.external_id is not None if self.mixpanel is None else self.mixpanel

    def braze_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"aliases": [{"alias_name": n, "alias_label": lb} for n, lb in self.aliases],
                                 "device_ids": list(self.device_ids)}
        return {"external_id": self.external_id, **entry} if self.external_id is not None else entry

    def profile_update(self, token: str) -> dict[str, Any]:
        props = dict(self.profile)
        export_id = self.external_id if self.braze_external_id is _UNSET else self.braze_external_id
        if export_id is not None:
            props[BRAZE_EXTERNAL_ID] = export_id
        return {"$token": token, "$distinct_id": self.external_id, "$set": props}


@dataclass(frozen=True)
class PipelineConfig:
    seed: int = 0
    world: WorldConfig | None = field(default_factory=lambda: WorldConfig(users=60))
    """The generated world (None: no generated users or stream; only `users` and `events`)."""
    stream: StreamConfig = field(default_factory=lambda: StreamConfig(events=600))
    cohorts: tuple[CohortSpec, ...] = ()
    users: tuple[PipelineUser, ...] = ()
    """Users beside the world's."""
    events: tuple[dict[str, Any], ...] = ()
    """Currents events delivered after the world's stream."""
    connector: SutCallable | None = None
    """A user's `function(events, target)` in place of the reference Mixpanel Current (None: reference)."""
    sut: SystemUnderTest | None = None
    """The Currents leg under test (None: `connector` if given, else the reference Mixpanel Current)."""
    mapping: MappingConfig | None = None
    """The mapping of the oracle and of the reference Current (None: defaults with `token`)."""
    sync_config: CohortSyncConfig | None = None
    cohort_sut: CohortSutCallable | None = None
    """A user's cohort export `function(cohort, target)` in place of the reference sync engine."""
    user_id_property: str | None = None
    braze_url: str | None = None
    """The connection's Braze instance (None: the fleet's fake Braze)."""
    current: CurrentOptions | None = None
    redeliver_share: float = 0.0
    """This share of the stream (picked by the seed) is submitted a second time, as at-least-once Currents do."""
    data_import_key: str = "harness-data-import-key"
    token: str = "harness-token"
    api_secret: str = "harness-secret"
    project_id: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.redeliver_share <= 1.0:
            raise ValueError(f"redeliver_share must be between 0 and 1, got {self.redeliver_share}")


class Pipeline:
    """One pipeline on a running fleet. Steps can be driven one by one; `run_pipeline` does them all."""

    def __init__(self, fleet: FakeFleet, config: PipelineConfig | None = None) -> None:
        self.fleet = fleet
        self.config = config or PipelineConfig()
        self.session = requests.Session()
        self.mixpanel_url = fleet["mixpanel"].base_url or DEFAULT_BASE_URL
        self.braze_url = fleet["braze"].base_url or BRAZE_IN_PROCESS_URL
        self.agenda: Agenda = fleet.scheduler
        self.world: World | None = (build_world(self.config.seed, self.config.world)
                                    if self.config.world is not None else None)
        self.users: list[PipelineUser] = self._world_users() + list(self.config.users)
        self.mapping = self.config.mapping or MappingConfig(token=self.config.token)
        self.stream: list[dict[str, Any]] = []
        self.submitted: list[dict[str, Any]] = []
        self._oracle_seen: list[tuple[str, dict[str, Any]] | None] = []
        self.sut: SystemUnderTest = self._sut()
        self.current: Current = self.sut.current(self)
        self.reader = MixpanelReader(self.mixpanel_url, session=self.session)
        self.cohorts = MixpanelCohorts(self.reader, profile_ids=self.profile_ids())
        self.engine = CohortSyncEngine(self.agenda, self.cohorts, config=self.config.sync_config,
                                       session=self.session)
        self.syncs: dict[int, Sync] = {}
        self.cohort_leg: CallableCohortSync | None = None
        if self.config.cohort_sut is not None:
            self.cohort_leg = CallableCohortSync(
                self.agenda, self.cohorts, self.config.cohort_sut,
                BrazeTarget(self.config.braze_url or self.braze_url, self.config.data_import_key),
                braze_cohort_id=self.engine.config.braze_cohort_id,
                default_interval_s=self.engine.config.dynamic_interval_s)
        self._members_seen: dict[int, dict[float, list[str]]] = {}
        self._connection_id: str | None = None

    # -- the steps -----------------------------------------------------------------------------------
    def start(self, *, at: float | None = None) -> Pipeline:
        """Clock at `at` (default: just after the anchor); users into Braze; profiles into Mixpanel; the stream
        delivered; the cohorts defined and their syncs created (each sync's first, full run happens at once).

        With `at`, the first batches go out at once (no wait for the flush tick), so the syncs start at `at`
        itself unless a delivery is retried; a scenario's times are then plain offsets from its start."""
        self.fleet.clock.set(self.config.stream.anchor + START_AFTER_ANCHOR_S if at is None else at)
        self.seed_braze_users(self.users)
        self.send_profiles(self.users)
        self.deliver(self.generate_stream() + list(self.config.events), flush_now=at is not None)
        self.start_syncs()
        return self

    def seed_braze_users(self, users: Sequence[PipelineUser]) -> None:
        """`POST /_harness/users` of fake Braze with the users that have a Braze profile."""
        entries = [u.braze_entry() for u in users if u.braze]
        if not entries:
            return
        answer = self.session.post(f"{self.braze_url}/_harness/users", json={"users": entries}, timeout=30)
        answer.raise_for_status()

    def profile_ids(self) -> list[str]:
        """The distinct_ids of the Mixpanel profiles the app creates."""
        return [str(u.external_id) for u in self.users if u.has_profile and u.external_id is not None]

    def add_users(self, users: Sequence[PipelineUser]) -> None:
        """More users, created now (a profile created after a cohort run, EC-04)."""
        self.users.extend(users)
        self.cohorts.profile_ids.extend(str(u.external_id) for u in users if u.has_profile and u.external_id)
        self.seed_braze_users(users)
        self.send_profiles(users)

    def send_profiles(self, users: Sequence[PipelineUser]) -> None:
        """`/engage` `$set` updates with the project token, as an app's Mixpanel SDK sends them."""
        self.engage([u.profile_update(self.config.token) for u in users if u.has_profile and u.external_id])

    def engage(self, updates: Sequence[dict[str, Any]]) -> None:
        """Profile updates through `/engage`, in batches; a refusal raises."""
        for start in range(0, len(updates), ENGAGE_BATCH):
            answer = self.session.post(f"{self.mixpanel_url}/engage",
                                       data={"data": json.dumps(updates[start:start + ENGAGE_BATCH]), "verbose": "1"},
                                       timeout=30)
            body = answer.json() if answer.status_code == 200 else {}
            if body.get("status") != 1:
                raise RuntimeError(f"/engage refused the profiles: HTTP {answer.status_code} {answer.text[:200]}")

    def generate_stream(self) -> list[dict[str, Any]]:
        """The world's Currents stream, plus the seeded redeliveries (the same events again)."""
        if self.world is None:
            return []
        self.stream = list(generate_events(self.world, self.config.stream, seed=self.config.seed))
        rng = random.Random(f"pipeline-redeliver:{self.config.seed}")
        again = [e for e in self.stream if rng.random() < self.config.redeliver_share]
        return self.stream + again

    def deliver(self, events: Iterable[dict[str, Any]], *, flush_now: bool = False) -> None:
        """Submit Currents events to the connector and move the clock until its queue is empty (or it waits
        on a retry beyond a minute of simulated time). `flush_now`: the first batches go out without waiting
        for the flush tick."""
        events = list(events)
        self.submitted.extend(events)
        self.current.submit(events)
        if flush_now:
            self.current.flush()
        options = self.current.options
        for _ in range(60):
            if self.current.report.pending == 0:
                break
            self.fleet.clock.advance(max(options.flush_interval_s, 1.0))

    def start_syncs(self) -> None:
        """Define every cohort; connect to fake Braze; create the syncs (first runs happen now)."""
        now = self.fleet.clock.now()
        for spec in self.config.cohorts:
            self.cohorts.define(spec.cohort_id, spec.name, spec.definition, at=now)
        for spec in self.config.cohorts:
            self.start_sync(spec)

    @property
    def connection_id(self) -> str:
        """The connection to Braze (made on first use with the configured key, instance and id property)."""
        if self._connection_id is None:
            self._connection_id = self.engine.connect(self.config.data_import_key,
                                                      self.config.braze_url or self.braze_url,
                                                      user_id_property=self.config.user_id_property).connection_id
        return self._connection_id

    def start_sync(self, spec: CohortSpec) -> Sync | None:
        """Create the cohort's sync (if it has one and none exists yet): its first run happens now."""
        if spec.sync is None or spec.cohort_id in self.syncs:
            return self.syncs.get(spec.cohort_id)
        if self.cohort_leg is not None:  # the user's export in place of the reference engine
            self.cohort_leg.start(spec.cohort_id, dynamic=spec.sync == "dynamic", interval_s=spec.interval_s)
            self.note_members(spec.cohort_id, self.fleet.clock.now())
            return None
        sync = self.engine.create_sync(spec.cohort_id, self.connection_id,
                                       type="dynamic" if spec.sync == "dynamic" else "one_time",
                                       interval_s=spec.interval_s)
        self.syncs[spec.cohort_id] = sync
        self.note_members(spec.cohort_id, self.fleet.clock.now())
        return sync

    def advance(self, seconds: float) -> None:
        """Move the fleet's clock: deliveries, retries and sync ticks due on the way run in time order."""
        self.fleet.clock.advance(seconds)

    # -- looking -------------------------------------------------------------------------------------
    def note_members(self, cohort_id: int, at: float) -> list[str]:
        """The cohort's members at `at` per the definition over fake Mixpanel (also kept for `observe`)."""
        members = sorted(self.cohorts.member_ids(cohort_id, at))
        self._members_seen.setdefault(cohort_id, {})[at] = members
        return members

    def segment(self, cohort_id: int) -> list[str]:
        """Fake Braze's segment "Mixpanel Cohorts includes <cohort>": the members' external ids, sorted."""
        braze_id = self.engine.config.braze_cohort_id(cohort_id)
        answer = self.session.post(f"{self.braze_url}/_harness/segments/evaluate",
                                   json={"filter": {"mixpanel_cohorts": {"includes": braze_id}}}, timeout=30)
        answer.raise_for_status()
        return sorted(str(m["external_id"]) for m in answer.json()["members"] if m.get("external_id") is not None)

    def oracle(self) -> list[tuple[str, dict[str, Any]]]:
        """(Currents event id, its reference mapping) for every submitted event the mapping exports, in order.
        Mapped once per event: `submitted` only grows, so earlier results are kept."""
        done = len(self._oracle_seen)
        for event in self.submitted[done:]:
            mapped = map_currents_event(event, self.mapping).event
            self._oracle_seen.append(None if mapped is None else (str(event.get("id")), mapped))
        return [pair for pair in self._oracle_seen if pair is not None]

    def expected(self) -> dict[str, dict[str, Any]]:
        """The oracle: the reference mapping of every submitted event it exports, keyed by `$insert_id`."""
        return {mapped["properties"]["$insert_id"]: mapped for _, mapped in self.oracle()}

    def observe(self, at_times: Sequence[float] = ()) -> Observation:
        """What the pipeline saw now; cohort members are also noted at each run's start and at `at_times`."""
        for sync in self.syncs.values():
            for run in self.engine.runs(sync.sync_id):
                self.note_members(sync.cohort_id, run.started_at)
        for spec in self.config.cohorts:
            for t in at_times:
                self.note_members(spec.cohort_id, t)
        dedup = self.reader.event_rows("dedup")
        arrived = {str(row["properties"].get("$insert_id")): {"event": row["event"], "properties": row["properties"]}
                   for row in dedup}
        return Observation(
            seed=self.config.seed, report=self.current.report, arrived=arrived, expected=self.expected(),
            raw_count=len(self.reader.event_rows("raw")), submitted=len(self.submitted),
            cohort_members={c: dict(sorted(m.items())) for c, m in self._members_seen.items()},
            runs={s.sync_id: list(self.engine.runs(s.sync_id)) for s in self.syncs.values()},
            segments={cohort_id: self.segment(cohort_id) for cohort_id in self.syncs},
            at=self.fleet.clock.now())

    def close(self) -> None:
        if self.cohort_leg is not None:
            self.cohort_leg.close()
        self.engine.close()
        self.current.close()

    # -- inside --------------------------------------------------------------------------------------
    def _sut(self) -> SystemUnderTest:
        if self.config.sut is not None:
            return self.config.sut
        if self.config.connector is not None:
            return CallableSut(self.config.connector)
        return ReferenceSut()

    def _world_users(self) -> list[PipelineUser]:
        if self.world is None:
            return []
        return [PipelineUser(external_id=u.external_user_id, mixpanel=u.external_user_id is not None,
                             profile={"$email": u.email, "$first_name": u.first_name, "$last_name": u.last_name,
                                      "$country_code": u.country},
                             aliases=tuple((a.alias_name, a.alias_label) for a in u.aliases),
                             device_ids=tuple(d.device_id for d in u.devices))
                for u in self.world.users]

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def current_options(self) -> CurrentOptions | None:
        return self.config.current

    def target(self) -> MixpanelTarget:
        """Where and as whom the Currents leg delivers: the fleet's fake Mixpanel."""
        return MixpanelTarget(api_secret=self.config.api_secret, token=self.config.token, base_url=self.mixpanel_url)

    def sut_target(self) -> SutTarget:
        return SutTarget(self.mixpanel_url, self.config.token, self.config.api_secret, self.config.project_id)


def run_pipeline(config: PipelineConfig | None = None, *, fleet: FakeFleet | None = None,
                 mode: FleetMode = "in-process", advance_s: float = 0.0) -> Observation:
    """Run the whole pipeline on `fleet` (or a new fleet in `mode`), let `advance_s` simulated seconds pass,
    and observe."""
    if fleet is not None:
        pipeline = Pipeline(fleet, config).start()
        if advance_s:
            pipeline.advance(advance_s)
        observation = pipeline.observe()
        pipeline.close()
        return observation
    with FakeFleet(mode=mode) as own:
        return run_pipeline(config, fleet=own, advance_s=advance_s)
