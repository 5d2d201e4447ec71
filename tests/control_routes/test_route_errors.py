"""The connectors' control routes answer bad input with JSON errors naming the key (400) or the unknown id
(404), never a 500; they are mounted on the plugin's session servers and cleared before each test."""

from __future__ import annotations

from typing import Any

import pytest
import requests

CLICKED = {"did_event": {"event": "Email Click", "min_count": 1, "within_days": 7}}


def _error(answer: requests.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    message: str = answer.json()["error"]
    return message


@pytest.mark.parametrize(("body", "message"), [
    (None, "a JSON body is required"),
    ([1], "cohort must be a JSON object"),
    ({"name": "A", "definition": CLICKED}, '"id" is required'),
    ({"id": "42", "name": "A", "definition": CLICKED}, '"id" must be an integer'),
    ({"id": 1, "definition": CLICKED}, '"name" is required'),
    ({"id": 1, "name": "A"}, '"definition" is required'),
    ({"id": 1, "name": "A", "definition": []}, '"definition" must be a JSON object'),
    ({"id": 1, "name": "A", "definition": {"did_event": {"min_count": 1}}}, "definition: did_event"),
    ({"id": 1, "name": "A", "definition": CLICKED, "colour": "red"}, "unknown key(s) colour"),
    ({"id": 1, "name": "A", "definition": CLICKED, "profile_ids": "u1"}, '"profile_ids" must be a list'),
])
def test_bad_cohort_bodies_name_the_key(mixpanel_server: Any, body: Any, message: str) -> None:
    answer = requests.post(mixpanel_server.url("/_harness/mixpanel/cohorts"), json=body, timeout=30)
    assert message in _error(answer, 400)


@pytest.mark.parametrize(("method", "path", "message"), [
    ("get", "/_harness/mixpanel/cohorts/7/members", "no cohort 7"),
    ("get", "/_harness/mixpanel/cohorts/x/members", "cohort ids are integers"),
    ("delete", "/_harness/mixpanel/cohorts/7", "no cohort 7"),
    ("get", "/_harness/mixpanel/syncs/s99", "no sync 's99'"),
    ("delete", "/_harness/mixpanel/syncs/s99", "no sync 's99'"),
])
def test_unknown_mixpanel_ids_are_404(mixpanel_server: Any, method: str, path: str, message: str) -> None:
    assert message in _error(requests.request(method, mixpanel_server.url(path), timeout=30), 404)


def test_connection_and_sync_errors(mixpanel_server: Any, braze_server: Any) -> None:
    url = mixpanel_server.url
    assert '"data_import_key" is required' in _error(
        requests.post(url("/_harness/mixpanel/connections"), json={"braze_url": braze_server.base_url}, timeout=30),
        400)
    assert "must start with http://" in _error(requests.post(url("/_harness/mixpanel/connections"), json={
        "data_import_key": "k", "braze_url": "ftp://x"}, timeout=30), 400)
    connection = requests.post(url("/_harness/mixpanel/connections"), json={"data_import_key": "k"}, timeout=30)
    assert connection.status_code == 201 and connection.json()["braze_url"] == braze_server.base_url
    connection_id = connection.json()["id"]
    assert "no cohort 5" in _error(requests.post(url("/_harness/mixpanel/syncs"), json={
        "cohort_id": 5, "connection_id": connection_id}, timeout=30), 404)
    requests.post(url("/_harness/mixpanel/cohorts"), json={"id": 5, "name": "A", "definition": CLICKED}, timeout=30)
    assert "?at= must be epoch seconds" in _error(
        requests.get(url("/_harness/mixpanel/cohorts/5/members?at=noon"), timeout=30), 400)
    for body, status, message in [
        ({"cohort_id": 5, "connection_id": "c404"}, 404, "no connection 'c404'"),
        ({"cohort_id": 5}, 400, '"connection_id" is required'),
        ({"cohort_id": 5, "connection_id": connection_id, "type": "weekly"}, 400, '"type" must be'),
        ({"cohort_id": 5, "connection_id": connection_id, "interval_s": 0}, 400, '"interval_s" must be > 0'),
        ({"cohort_id": 5, "connection_id": connection_id, "interval_s": "2h"}, 400, '"interval_s" must be a number'),
    ]:
        assert message in _error(requests.post(url("/_harness/mixpanel/syncs"), json=body, timeout=30), status)
    created = requests.post(url("/_harness/mixpanel/syncs"), json={
        "cohort_id": 5, "connection_id": connection_id, "interval_s": 900}, timeout=30)
    assert created.status_code == 201 and created.json()["next_run_at"] == pytest.approx(
        created.json()["created_at"] + 900)
    other = requests.post(url("/_harness/mixpanel/syncs"), json={  # each sync keeps its own interval
        "cohort_id": 5, "connection_id": connection_id, "interval_s": 1800}, timeout=30)
    assert other.status_code == 201 and other.json()["next_run_at"] == pytest.approx(
        other.json()["created_at"] + 1800)
    assert requests.delete(url("/_harness/mixpanel/cohorts/5"), timeout=30).json() == {"id": 5, "deleted": True}
    assert "was deleted" in _error(requests.post(url("/_harness/mixpanel/cohorts"), json={
        "id": 5, "name": "A", "definition": CLICKED}, timeout=30), 400)
    assert "cohort 5 was deleted" in _error(requests.get(url("/_harness/mixpanel/cohorts/5/members"), timeout=30), 404)
    stopped = requests.get(url(f"/_harness/mixpanel/syncs/{created.json()['id']}"), timeout=30).json()
    assert stopped["state"] == "stopped"


@pytest.mark.parametrize(("body", "message"), [
    ({"api_secret": "s"}, '"type" is required'),
    ({"type": "kafka"}, '"type" must be "mixpanel" or "custom_http"'),
    ({"type": "mixpanel", "token": "t"}, '"api_secret" is required'),
    ({"type": "mixpanel", "api_secret": "s", "token": "t", "url": "http://x"}, "unknown key(s) url"),
    ({"type": "custom_http"}, '"url" is required'),
    ({"type": "custom_http", "url": "x"}, "must start with http://"),
    ({"type": "custom_http", "url": "http://127.0.0.1:9", "events": "users.*"}, '"events" must be a list'),
    ({"type": "custom_http", "url": "http://127.0.0.1:9", "events": ["users.nothing.*"]}, "matches no Currents"),
    ({"type": "custom_http", "url": "http://127.0.0.1:9", "max_batch_events": 0}, '"max_batch_events" must be'),
])
def test_bad_current_bodies_name_the_key(braze_server: Any, body: Any, message: str) -> None:
    assert message in _error(requests.post(braze_server.url("/_harness/currents"), json=body, timeout=30), 400)


def test_current_errors_and_unknown_ids(braze_server: Any, mixpanel_server: Any) -> None:
    url = braze_server.url
    for method, path in [("get", "/_harness/currents/cur9"), ("post", "/_harness/currents/cur9/events"),
                         ("post", "/_harness/currents/cur9/flush"), ("get", "/_harness/currents/cur9/report")]:
        assert "no current 'cur9'" in _error(requests.request(method, url(path), json=[], timeout=30), 404)
    created = requests.post(url("/_harness/currents"), json={"type": "mixpanel", "api_secret": "harness-secret",
                                                             "token": "harness-token"}, timeout=30)
    assert created.status_code == 201
    current = created.json()["id"]
    assert "JSON array of Currents events" in _error(
        requests.post(url(f"/_harness/currents/{current}/events"), json={"event": {}}, timeout=30), 400)
    queued = requests.post(url(f"/_harness/currents/{current}/events"), json={"events": [42]}, timeout=30)
    assert queued.status_code == 202 and queued.json()["queued"] == 1
    report = requests.get(url(f"/_harness/currents/{current}/report"), timeout=30).json()
    assert (report["not_exported"], report["pending"]) == (1, 0)


def test_connector_state_is_cleared_between_server_tests_first(mixpanel_server: Any) -> None:
    answer = requests.post(mixpanel_server.url("/_harness/mixpanel/cohorts"),
                           json={"id": 77, "name": "A", "definition": CLICKED}, timeout=30)
    assert answer.status_code == 201


def test_connector_state_is_cleared_between_server_tests_then(mixpanel_server: Any) -> None:
    assert "no cohort 77" in _error(
        requests.get(mixpanel_server.url("/_harness/mixpanel/cohorts/77/members"), timeout=30), 404)
