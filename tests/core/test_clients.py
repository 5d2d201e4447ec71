"""Transport adapters (braze-cohort-sync.md §2: one `post(url, json) -> (status, headers, body)`, in-process
and real HTTP, through the same wire code)."""

import pytest
import requests
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core.clients import InProcessClient, LoopbackClient


@pytest.fixture(params=["in-process", "loopback"])
def client_for(request, app, server):
    if request.param == "in-process":
        return InProcessClient(app)
    return LoopbackClient(server.base_url)


def test_same_answers_both_ways(client_for, state):
    status, headers, body = client_for.post("https://rest.iad-01.standin.test/ingest?project_id=2", json={"a": 1},
                                            headers=AUTH)
    assert status == 200 and body == b'{"stored":1}' and headers["Content-Type"] == "application/json"
    entry = state.journal.entries()[-1]
    assert entry["headers"]["Host"] == "rest.iad-01.standin.test"  # the real host reaches the fake
    assert entry["query"] == {"project_id": ["2"]} and state.items == [{"a": 1}]
    status, _, _ = client_for.request("PUT", "https://api.standin.test/ingest")
    assert status == 405


def test_network_faults_are_requests_exceptions_both_ways(client_for, state):
    state.faults.install({"times": 1, "action": {"type": "drop_before_response"}})
    with pytest.raises(requests.exceptions.ConnectionError):
        client_for.post("https://api.standin.test/ingest", json={}, headers=AUTH)
    assert client_for.post("https://api.standin.test/ingest", json={}, headers=AUTH)[0] == 200


def test_bad_arguments():
    with pytest.raises(ValueError):
        LoopbackClient("127.0.0.1:80")
    with pytest.raises(ValueError):
        InProcessClient(None).request("POST", "https://x.test/", json={}, data=b"x")
