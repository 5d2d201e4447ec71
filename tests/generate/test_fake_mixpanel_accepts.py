"""Generated events, mapped by the reference mapping, pass the fake Mixpanel's strict `/import` checks
(mixpanel-ingestion.md §5.4: time not in the future and after 1971, $insert_id format, no placeholder ids)."""

from __future__ import annotations

import base64
import json

from fakes.mixpanel import create_app
from harness.generate import RecordFactory, StreamConfig, build_world, generate_records
from harness.generate.streams import DEFAULT_ANCHOR
from harness.generate.writers import WriteSummary, mixpanel_events
from harness.mapping import MappingConfig

AUTH = {"Authorization": "Basic " + base64.b64encode(b"harness-secret:").decode(), "Content-Type": "application/json"}


def test_every_mapped_generated_event_is_imported_strictly():
    client = create_app().test_client()
    assert client.post("/_harness/clock", json={"now": DEFAULT_ANCHOR + 60}).status_code == 200
    factory = RecordFactory()
    summary = WriteSummary()
    records = generate_records(build_world(8), StreamConfig(events=5000), factory=factory)
    events = list(mixpanel_events(records, factory, MappingConfig(token="harness-token"), summary))
    assert events and summary.skipped["no_external_user_id"] > 0
    for start in range(0, len(events), 2000):
        answer = client.post("/import?strict=1&project_id=1", data=json.dumps(events[start:start + 2000]), headers=AUTH)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        assert answer.get_json()["num_records_imported"] == len(events[start:start + 2000])
    stored = client.get("/_harness/events?view=raw").get_json()
    assert stored["count"] == len(events)
