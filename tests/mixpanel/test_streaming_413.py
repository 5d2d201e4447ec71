"""Bodies over the size limit are refused as they stream in (issue 13 item 7): the 413 with the spec's exact
body (mixpanel-ingestion.md §5.2; braze-cohort-sync.md §4.10) comes back before the body has been sent, the
connection stays usable after the refused body, and a chunked body is cut off past the limit."""

from __future__ import annotations

import base64
import json
import socket

import pytest

from fakes.braze import create_app as braze_app
from fakes.braze import new_state as braze_state
from fakes.core import FakeServer
from fakes.mixpanel import create_app, new_state

AUTH = "Basic " + base64.b64encode(b"harness-secret:").decode()
LIMIT = 1000
EXPECTED_413 = {"code": 413, "error": f"request exceeds max limit of {LIMIT} bytes", "status": "Request Entity Too Large"}


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before an answer: {bytes(buffer)!r}")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


@pytest.fixture
def mixpanel_server():
    state = new_state({"import.max_body_bytes": LIMIT})
    with FakeServer(create_app(state), port=0, name="mixpanel") as server:
        yield server, state


def _connect(server: FakeServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)  # a guard, not a measurement
    return sock


def test_413_arrives_before_the_body_is_sent(mixpanel_server):
    server, state = mixpanel_server
    sock = _connect(server)
    declared = 300 * 1024 * 1024  # 300 MB announced; not one byte of it is sent
    sock.sendall(f"POST /import HTTP/1.1\r\nHost: api.mixpanel.com\r\nAuthorization: {AUTH}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n".encode())
    status, _, body = _read_response(sock, bytearray())
    assert status == 413 and json.loads(body) == EXPECTED_413
    assert body == json.dumps(EXPECTED_413, separators=(",", ":")).encode()  # byte-exact
    entry = state.journal.entries()[-1]
    assert entry["body_bytes"] == declared and "refused before it was read" in entry["body_note"]
    sock.close()


def test_the_refused_body_is_dropped_and_the_connection_serves_the_next_request(mixpanel_server):
    server, state = mixpanel_server
    sock = _connect(server)
    refused = b"[" + b" " * 5000 + b"]"
    ok_body = json.dumps([{"event": "e", "properties": {"time": 1_700_000_000, "distinct_id": "u",
                                                         "$insert_id": "i1"}}]).encode()
    request = (f"POST /import?strict=1 HTTP/1.1\r\nHost: api.mixpanel.com\r\nAuthorization: {AUTH}\r\n"
               "Content-Type: application/json\r\nContent-Length: {n}\r\n\r\n")
    pipelined = (request.format(n=len(refused)).encode() + refused
                 + request.format(n=len(ok_body)).encode() + ok_body)
    sock.sendall(pipelined)
    buffer = bytearray()
    status, _, body = _read_response(sock, buffer)
    assert status == 413 and json.loads(body) == EXPECTED_413
    status, _, body = _read_response(sock, buffer)
    assert status == 200, body
    assert state.model.store.counts()["raw"] == 1
    sock.close()


def test_a_chunked_body_is_cut_off_past_the_limit(mixpanel_server):
    server, _ = mixpanel_server
    sock = _connect(server)
    sock.sendall(f"POST /import HTTP/1.1\r\nHost: api.mixpanel.com\r\nAuthorization: {AUTH}\r\n"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"x" * 600
    for _ in range(3):  # 1800 bytes: past the limit; the stream never ends
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    status, headers, body = _read_response(sock, bytearray())
    assert status == 413 and json.loads(body) == EXPECTED_413
    assert headers.get("connection", "").lower() == "close"
    sock.close()


def test_under_the_limit_nothing_changes(mixpanel_server):
    server, _ = mixpanel_server
    sock = _connect(server)
    body = json.dumps([{"event": "e", "properties": {"time": 1_700_000_000, "distinct_id": "u",
                                                      "$insert_id": "i2"}}]).encode()
    sock.sendall(f"POST /import?strict=1 HTTP/1.1\r\nHost: api.mixpanel.com\r\nAuthorization: {AUTH}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    status, _, answer = _read_response(sock, bytearray())
    assert status == 200, answer
    sock.close()


def test_braze_413_before_the_body_with_the_documented_body():
    """braze-cohort-sync.md §4.10: the same 413 body as for a body read whole (in-process)."""
    state = braze_state({"braze.max_body_bytes": LIMIT})
    app = braze_app(state)
    oversize = json.dumps({"cohort_id": "c", "padding": "x" * (2 * LIMIT)})
    expected = app.test_client().post("/partners/mixpanel/cohorts/users", data=oversize,
                                      content_type="application/json")
    assert expected.status_code == 413
    with FakeServer(app, port=0, name="braze") as server:
        sock = _connect(server)
        sock.sendall(b"POST /partners/mixpanel/cohorts/users HTTP/1.1\r\nHost: rest.iad-01.braze.com\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
        status, _, body = _read_response(sock, bytearray())
        sock.close()
    assert status == 413 and body == expected.data


def test_expect_100_continue_gets_the_413_instead_of_continue(mixpanel_server):
    """curl sends `Expect: 100-continue` for large bodies: the answer is the 413 (no 100), then a close."""
    server, _ = mixpanel_server
    sock = _connect(server)
    sock.sendall(f"POST /import HTTP/1.1\r\nHost: api.mixpanel.com\r\nAuthorization: {AUTH}\r\n"
                 "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n".encode())
    status, headers, body = _read_response(sock, bytearray())
    assert status == 413 and json.loads(body) == EXPECTED_413
    assert headers.get("connection", "").lower() == "close"
    sock.close()
