"""Local-only control plane (issue 13 item 5, fakes/core/access.py): over a socket, the fakes answer only a
loopback `Host`, a real upstream host name they serve, or a configured name; the control API refuses
browser cross-origin writes (a non-loopback `Origin`, or a simple-request Content-Type). A refused request
changes nothing and is not journalled. In-process requests (the real host names through `responses`) work."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fakes.core.access import host_allowed, host_name, origin_allowed
from fakes.fleet import FakeFleet

FAULT = {"match": {"path": "/nowhere"}, "action": {"type": "status", "status": 503}}


@pytest.fixture(scope="module")
def fleet() -> Iterator[FakeFleet]:
    with FakeFleet(["mixpanel", "braze"], mode="both") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(fleet: FakeFleet) -> None:
    fleet.reset()
    for handle in fleet:
        handle.configure({"server.allowed_hosts": []})


def _raw(port: int, request: bytes) -> tuple[int, bytes]:
    """One request as raw bytes (so the Host header is exactly what the test says), its status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _get(fleet: FakeFleet, fake: str, path: str, host: str) -> tuple[int, bytes]:
    port = fleet[fake].server.port  # type: ignore[union-attr]
    return _raw(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8081", "127.0.0.1.evil.example", "localhost.evil",
                                  "api.mixpanel.com.evil.example", "10.0.0.1", "[::2]", "mixpanel.com"])
def test_a_foreign_host_is_refused_with_421_and_not_journalled(fleet: FakeFleet, host: str) -> None:
    """DNS rebinding: a page whose name now points at 127.0.0.1 still sends its own name; the secrets of
    GET /_harness/config and the ingestion endpoints are out of its reach."""
    status, body = _get(fleet, "mixpanel", "/_harness/config?reveal=1", host)
    assert status == 421 and b"harness-secret" not in body and b"server.allowed_hosts" in body
    assert _get(fleet, "mixpanel", "/import", host)[0] == 421
    assert fleet["mixpanel"].state.journal.entries() == []


@pytest.mark.parametrize(("fake", "host"), [
    ("mixpanel", "127.0.0.1"), ("mixpanel", "127.0.0.1:8081"), ("mixpanel", "localhost"), ("mixpanel", "LOCALHOST:1"),
    ("mixpanel", "[::1]:8081"), ("mixpanel", "127.8.9.10"), ("mixpanel", "app.localhost"),
    ("mixpanel", "api.mixpanel.com"), ("mixpanel", "API-EU.Mixpanel.com:443"), ("mixpanel", "data-in.mixpanel.com"),
    ("braze", "rest.iad-01.braze.com"), ("braze", "rest.fra-02.braze.eu:443"), ("braze", "localhost:8082"),
])
def test_loopback_and_the_real_host_names_are_answered(fleet: FakeFleet, fake: str, host: str) -> None:
    assert _get(fleet, fake, "/_harness/health", host)[0] == 200


def test_a_configured_name_is_answered(fleet: FakeFleet) -> None:
    """`server.allowed_hosts` (globs, any case) makes a non-loopback name usable, e.g. `harness serve --host`."""
    assert _get(fleet, "braze", "/_harness/health", "harness.lan")[0] == 421
    assert fleet["braze"].client.put("/_harness/config", json={"server.allowed_hosts": ["*.LAN"]}).status_code == 200
    assert _get(fleet, "braze", "/_harness/health", "harness.lan:8082")[0] == 200
    assert _get(fleet, "braze", "/_harness/health", "harness.lan.evil")[0] == 421
    bad = fleet["braze"].client.put("/_harness/config", json={"server.allowed_hosts": [""]})
    assert bad.status_code == 400


def test_in_process_requests_to_the_real_host_names_work(fleet: FakeFleet) -> None:
    """DESIGN.md §4 in-process mode: `responses` routes the real names into the apps; no socket, no check."""
    answer = requests.get("https://api.mixpanel.com/_harness/health", timeout=10)
    assert answer.status_code == 200
    faults = requests.post("https://rest.iad-01.braze.com/_harness/faults", json=FAULT, timeout=10)
    assert faults.status_code == 201


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost.evil.example",
                                    "file://", "http://127.0.0.1.nip.io"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/_harness/faults", FAULT), ("post", "/_harness/reset", None), ("put", "/_harness/config",
                                                                              {"journal.capacity": 5}),
    ("delete", "/_harness/faults", None), ("post", "/_harness/clock", {"advance_s": 60}),
])
def test_cross_origin_control_writes_are_refused(fleet: FakeFleet, origin: str, method: str, path: str,
                                                 body: Any) -> None:
    handle = fleet["mixpanel"]
    handle.add_faults({"id": "keep", **FAULT})
    fleet.clock.set(1_790_000_000)
    before = (handle.state.faults.rules(), handle.state.config.as_dict(), fleet.clock.now())
    answer = requests.request(method, handle.url(path), json=body, headers={"Origin": origin}, timeout=10)
    assert answer.status_code == 403 and "origin" in answer.json()["error"]
    assert (handle.state.faults.rules(), handle.state.config.as_dict(), fleet.clock.now()) == before


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1", "https://[::1]:8443"])
def test_loopback_pages_may_write(fleet: FakeFleet, origin: str) -> None:
    answer = requests.post(fleet["braze"].url("/_harness/faults"), json=FAULT, headers={"Origin": origin}, timeout=10)
    assert answer.status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "TEXT/PLAIN"])
def test_simple_request_content_types_are_refused_on_control_writes(fleet: FakeFleet, content_type: str) -> None:
    """A cross-origin `fetch(..., {mode: "no-cors", body: JSON})` goes out as text/plain without a preflight
    (and may carry no Origin through some proxies): the control API takes JSON only."""
    handle = fleet["braze"]
    answer = requests.post(handle.url("/_harness/faults"), data=b'{"action": {"type": "hang"}}',
                           headers={"Content-Type": content_type}, timeout=10)
    assert answer.status_code == 415 and "application/json" in answer.json()["error"]
    assert handle.state.faults.rules() == []


def test_reads_and_bodiless_writes_without_origin_still_work(fleet: FakeFleet) -> None:
    """curl and test code send no Origin; a bodiless POST (reset) has no Content-Type."""
    handle = fleet["mixpanel"]
    assert requests.get(handle.url("/_harness/faults"), headers={"Origin": "https://evil.example"},
                        timeout=10).status_code == 200
    assert requests.post(handle.url("/_harness/reset"), timeout=10).status_code == 200


def test_the_ingestion_endpoints_keep_their_form_bodies(fleet: FakeFleet) -> None:
    """mixpanel-ingestion.md §6: /track takes form bodies from anywhere (browsers do send them); the Origin and
    content-type rules are the control API's."""
    answer = requests.post(fleet["mixpanel"].url("/track"), data={"data": "[]"},
                           headers={"Origin": "https://shop.example"}, timeout=10)
    assert answer.status_code < 500 and answer.status_code not in (403, 415, 421)


def test_the_host_helpers() -> None:
    assert host_name("[::1]:80") == "::1" and host_name("Api.Mixpanel.com:443") == "api.mixpanel.com"
    assert host_name("localhost.") == "localhost"
    assert host_allowed("rest.iad-01.braze.com", ["rest.*.braze.com"])
    assert not host_allowed("", ["*"]) and not host_allowed("evil", [])
    assert origin_allowed("http://localhost:5173") and not origin_allowed("http://[::1")
