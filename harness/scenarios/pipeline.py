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
from harness.connectors import Agenda, CohortSyncEngine, Current, CurrentOptions, MixpanelCurrent, MixpanelTarget
from harness.connectors.cohort_sync.model import Sync
from harness.connectors.mixpanel_cohorts import MixpanelCohorts
from harness.connectors.mixpanel_reader import DEFAULT_BASE_URL, MixpanelReader
from harness.generate import StreamConfig, World, WorldConfig, build_world, generate_events
from harness.mapping import MappingConfig, map_currents_event
from harness.scenarios.observation import Observation
from harness.scenarios.sut import CallableCurrent, SutCallable, SutTarget

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


@dataclass(frozen=True)
class PipelineConfig:
    seed: int = 0
    world: WorldConfig = field(default_factory=lambda: WorldConfig(users=60))
    stream: StreamConfig = field(default_factory=lambda: StreamConfig(events=600))
    cohorts: tuple[CohortSpec, ...] = ()
    connector: SutCallable | None = None
    """A user's `function(events, target)` in place of the reference Mixpanel Current (None: reference)."""
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
        self.world: World = build_world(self.config.seed, self.config.world)
        self.stream: list[dict[str, Any]] = []
        self.submitted: list[dict[str, Any]] = []
        self.current: Current = self._connector()
        self.reader = MixpanelReader(self.mixpanel_url, session=self.session)
        self.cohorts = MixpanelCohorts(self.reader, profile_ids=self.profile_ids())
        self.engine = CohortSyncEngine(self.agenda, self.cohorts, session=self.session)
        self.syncs: dict[int, Sync] = {}
        self._members_seen: dict[int, dict[float, list[str]]] = {}
        self._connection_id: str | None = None

    # -- the steps -----------------------------------------------------------------------------------
    def start(self) -> Pipeline:
        """Clock just after the anchor; users into Braze; profiles into Mixpanel; the stream delivered; the
        cohorts defined and their syncs created (each sync's first, full run happens at once)."""
        self.fleet.clock.set(self.config.stream.anchor + START_AFTER_ANCHOR_S)
        self.seed_braze_users()
        self.send_profiles()
        self.deliver(self.generate_stream())
        self.start_syncs()
        return self

    def seed_braze_users(self) -> None:
        """`POST /_harness/users` of fake Braze with the world's user store."""
        answer = self.session.post(f"{self.braze_url}/_harness/users", json={"users": self.world.braze_user_store()},
                                   timeout=30)
        answer.raise_for_status()

    def profile_ids(self) -> list[str]:
        """The distinct_ids of the Mixpanel profiles the app creates: every user with an external id."""
        return [u.external_user_id for u in self.world.users if u.external_user_id is not None]

    def send_profiles(self) -> None:
        """`/engage` `$set` updates with the project token, as an app's Mixpanel SDK sends them."""
        updates = [{"$token": self.config.token, "$distinct_id": user.external_user_id,
                    "$set": {BRAZE_EXTERNAL_ID: user.external_user_id, "$email": user.email,
                             "$first_name": user.first_name, "$last_name": user.last_name,
                             "$country_code": user.country}}
                   for user in self.world.users if user.external_user_id is not None]
        for start in range(0, len(updates), ENGAGE_BATCH):
            answer = self.session.post(f"{self.mixpanel_url}/engage",
                                       data={"data": json.dumps(updates[start:start + ENGAGE_BATCH]), "verbose": "1"},
                                       timeout=30)
            body = answer.json() if answer.status_code == 200 else {}
            if body.get("status") != 1:
                raise RuntimeError(f"/engage refused the profiles: HTTP {answer.status_code} {answer.text[:200]}")

    def generate_stream(self) -> list[dict[str, Any]]:
        """The world's Currents stream, plus the seeded redeliveries (the same events again)."""
        self.stream = list(generate_events(self.world, self.config.stream, seed=self.config.seed))
        rng = random.Random(f"pipeline-redeliver:{self.config.seed}")
        again = [e for e in self.stream if rng.random() < self.config.redeliver_share]
        return self.stream + again

    def deliver(self, events: Iterable[dict[str, Any]]) -> None:
        """Submit Currents events to the connector and move the clock until its queue is empty (or it waits
        on a retry beyond a minute of simulated time)."""
        events = list(events)
        self.submitted.extend(events)
        self.current.submit(events)
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
        if self._connection_id is None:
            self._connection_id = self.engine.connect(self.config.data_import_key, self.braze_url).connection_id
        for spec in self.config.cohorts:
            if spec.sync is not None and spec.cohort_id not in self.syncs:
                self.syncs[spec.cohort_id] = self.engine.create_sync(spec.cohort_id, self._connection_id,
                                                                     type="dynamic" if spec.sync == "dynamic"
                                                                     else "one_time")
                self.note_members(spec.cohort_id, now)

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

    def expected(self) -> dict[str, dict[str, Any]]:
        """The oracle: the reference mapping of every submitted event it exports, keyed by `$insert_id`."""
        mapping = MappingConfig(token=self.config.token)
        out: dict[str, dict[str, Any]] = {}
        for event in self.submitted:
            result = map_currents_event(event, mapping)
            if result.event is not None:
                out[result.event["properties"]["$insert_id"]] = result.event
        return out

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
        self.engine.close()
        self.current.close()

    # -- inside --------------------------------------------------------------------------------------
    def _connector(self) -> Current:
        config = self.config
        if config.connector is not None:
            target = SutTarget(self.mixpanel_url, config.token, config.api_secret, config.project_id)
            return CallableCurrent(self.agenda, config.connector, target, options=config.current,
                                   seed=config.seed)
        return MixpanelCurrent(self.agenda,
                               MixpanelTarget(api_secret=config.api_secret, token=config.token,
                                              base_url=self.mixpanel_url),
                               options=config.current, session=self.session, seed=config.seed)


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
