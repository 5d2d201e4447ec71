"""Braze's Custom HTTP Current (issue 9 item 3; DESIGN.md §3): `{"events": [...]}` batches of at most 100
Custom HTTP events, optional bearer token, 2xx = received, anything else retried with back-off; fed here
into a small HTTP service written in the test, on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from currents_kit import currents_events

from harness.connectors import CurrentOptions, CustomHttpCurrent, HttpEndpoint


class Receiver:
    """A minimal Custom HTTP endpoint: records each batch; answers the statuses queued in `answers` first."""

    def __init__(self) -> None:
        self.batches: list[dict] = []
        self.authorizations: list[str | None] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.authorizations.append(self.headers.get("Authorization"))
                if status == 200:
                    receiver.batches.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/currents"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [event for batch in self.batches for event in batch["events"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    service = Receiver()
    yield service
    service.close()


def test_every_event_arrives_as_braze_sends_it_in_batches_of_100(fleet, receiver):
    events = currents_events(events=450)
    current = CustomHttpCurrent(fleet.scheduler, HttpEndpoint(receiver.url))
    current.submit(events)
    fleet.clock.advance(60)
    assert [len(b["events"]) for b in receiver.batches] == [100, 100, 100, 100, 50]
    assert receiver.events() == events  # the Custom HTTP shape, in order, anonymous users included
    assert current.report.delivered == 450 and current.report.accounted()
    assert receiver.authorizations == [None] * 5


def test_the_bearer_token_is_sent_when_configured(fleet, receiver):
    current = CustomHttpCurrent(fleet.scheduler, HttpEndpoint(receiver.url, bearer_token="s3cret"))
    current.submit(currents_events(events=10))
    current.flush()
    assert receiver.authorizations == ["Bearer s3cret"]


def test_any_answer_but_2xx_is_retried_with_back_off(fleet, receiver):
    receiver.answers = [500, 404, 401, 302]
    events = currents_events(events=30)
    current = CustomHttpCurrent(fleet.scheduler, HttpEndpoint(receiver.url))
    current.submit(events)
    fleet.clock.advance(5)
    assert receiver.events() == [] and current.report.pending == 30 and current.waiting_for == "retry"
    fleet.clock.advance(600)
    assert receiver.events() == events and current.report.retries == 4 and current.report.accounted()


def test_a_service_that_is_down_leaves_events_pending_never_lost(fleet):
    current = CustomHttpCurrent(fleet.scheduler, HttpEndpoint("http://127.0.0.1:9/down", timeout_s=2),
                                options=CurrentOptions(max_batch_events=100, flush_interval_s=1))
    current.submit(currents_events(events=40))
    fleet.clock.advance(3600)
    assert current.report.pending == 40 and current.report.delivered == 0 and current.report.retries > 5
    current.close()
    assert fleet.scheduler.pending(owner=current.owner) == []


def test_flat_and_storage_records_are_sent_in_the_custom_http_shape(fleet, receiver):
    from harness.currents_io import normalise_record

    events = currents_events(events=20)
    current = CustomHttpCurrent(fleet.scheduler, HttpEndpoint(receiver.url))
    current.submit(normalise_record(e) for e in events)
    current.flush()
    assert [e["id"] for e in receiver.events()] == [e["id"] for e in events]
    assert all(set(e) == {"event_type", "id", "time", "user", "properties"} for e in receiver.events())


def test_a_bad_url_is_refused():
    with pytest.raises(ValueError, match="http://"):
        HttpEndpoint("ftp://example")
