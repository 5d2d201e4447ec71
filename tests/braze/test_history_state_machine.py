"""Stateful property test (hypothesis): membership history under adds, removes, identify, delete and time.

A tiny reference model records, per profile, the simulated times it entered and left the cohort; at every
step the fake's membership at every past instant must equal the reference (§4.9 history, §6 identify /
delete rules, §7 evaluation at time t).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fakes.braze import create_app, new_state
from fakes.core.clock import SimulatedClock

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}
EXTERNAL = [f"e{i}" for i in range(4)]
DEVICES = [f"d{i}" for i in range(3)]


class CohortHistory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = new_state(clock=SimulatedClock(1_000_000))
        self.client = create_app(self.state).test_client()
        users = self.state.model.users()
        self.by_ext = {e: users.add_identified(e).braze_id for e in EXTERNAL}
        self.by_dev = {d: users.add_anonymous(devices=[d]).braze_id for d in DEVICES}
        self.identified_devices: set[str] = set()
        self.deleted: set[str] = set()
        self.events: list[tuple[float, str, bool]] = []  # (t, braze_id, member after)
        self.current: set[str] = set()
        self.times = [self.state.clock.now()]
        assert self._post([]) == 201

    def _post(self, changes: list) -> int:
        body = {**CREDS, "cohort_id": "c", "cohort_changes": changes}
        return self.client.post("/partners/mixpanel/cohorts/users", json=body).status_code

    def _record(self, braze_id: str, member: bool) -> None:
        if braze_id in self.deleted or (braze_id in self.current) == member:
            return
        (self.current.add if member else self.current.discard)(braze_id)
        self.events.append((self.state.clock.now(), braze_id, member))

    @rule(ext=st.sampled_from(EXTERNAL), remove=st.booleans())
    def change_by_external_id(self, ext, remove):
        assert self._post([{"user_ids": [ext], "should_remove": remove}]) == 201
        self._record(self.by_ext[ext], not remove)

    @rule(dev=st.sampled_from(DEVICES), remove=st.booleans())
    def change_by_device(self, dev, remove):
        assert self._post([{"device_ids": [dev], "should_remove": remove}]) == 201
        if dev not in self.identified_devices:  # devices of identified profiles are ignored
            self._record(self.by_dev[dev], not remove)

    @rule(dev=st.sampled_from(DEVICES))
    def identify(self, dev):
        braze_id = self.by_dev[dev]
        if dev in self.identified_devices or braze_id in self.deleted:
            return
        self.state.model.users().identify(f"id-{dev}", braze_id=braze_id)
        self.identified_devices.add(dev)

    @rule(ext=st.sampled_from(EXTERNAL))
    def delete(self, ext):
        braze_id = self.by_ext[ext]
        if braze_id in self.deleted:
            return
        self._record(braze_id, False)  # deletion closes the open interval
        self.state.model.users().delete(braze_id)
        self.deleted.add(braze_id)

    @rule(seconds=st.integers(min_value=1, max_value=5000))
    def advance(self, seconds):
        self.state.clock.advance(seconds)
        self.times.append(self.state.clock.now())

    def _reference_at(self, t: float) -> set[str]:
        members: set[str] = set()
        for at, braze_id, member in self.events:
            if at <= t:
                (members.add if member else members.discard)(braze_id)
        return members

    @invariant()
    def history_matches_reference_at_every_instant(self):
        cohort = self.state.model.workspace().cohorts.get("mixpanel", "c")
        if cohort is None:
            assert not self.events
            return
        assert cohort.membership.current == self.current
        for t in self.times + [t - 0.5 for t in self.times]:
            assert cohort.membership.members_at(t) == self._reference_at(t), t


CohortHistory.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestCohortHistory = CohortHistory.TestCase
