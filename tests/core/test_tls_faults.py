"""Transport faults over HTTPS fail the way they fail over plain HTTP (mixpanel-ingestion.md §2.3 and §13:
FIN and RST drops, mid-response drops and hangs; issue 13 item 6).

Each test runs the same raw exchange on the plain port and through the TLS front door. A clean end of
stream over TLS is the server's close_notify: the client reads b"" even with `suppress_ragged_eofs=False`
(a FIN without close_notify would raise SSLEOFError there, and a broken relay a decode error).
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess

import pytest
import requests
from raw_http_client import read_response, request_bytes
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import FakeServer
from fakes.core.tls import issue_test_certificates, server_context

KINDS = ("plain", "tls")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return issue_test_certificates(tmp_path_factory.mktemp("tls"), ["api.standin.test"])


@pytest.fixture
def srv(app, tls_files):
    context = server_context(tls_files.cert_pem, tls_files.key_pem)
    with FakeServer(app, port=0, name="standin", tls_context=context) as s:
        yield s


def _port(srv, kind: str) -> int:
    return srv.port if kind == "plain" else int(srv.https_base_url.rsplit(":", 1)[1])


def _base(srv, kind: str) -> str:
    return srv.base_url if kind == "plain" else srv.https_base_url


def _connect(srv, kind: str, tls_files) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", _port(srv, kind)), timeout=10)
    if kind == "plain":
        return raw
    ctx = ssl.create_default_context(cafile=str(tls_files.ca_pem))
    return ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)


def _read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until a clean end of stream (raises on a reset or a TLS error)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _raw_reset_seen(sock: socket.socket) -> bool:
    """Below TLS: drain the TCP stream; True when it ends in a reset (False: a FIN)."""
    raw = socket.socket(fileno=os.dup(sock.fileno()))
    raw.settimeout(10)
    try:
        while raw.recv(65536):
            pass
    except ConnectionResetError:
        return True
    finally:
        raw.close()
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_fin_drop_is_a_clean_end_of_stream_without_an_answer(srv, state, tls_files, kind):
    """§13 drop_before_response mode fin: the request is read, then the connection ends cleanly, no answer."""
    state.faults.install({"times": 1, "action": {"type": "drop_before_response", "mode": "fin"}})
    with _connect(srv, kind, tls_files) as sock:
        sock.sendall(request_bytes("POST", "/ingest", b'{"n": 1}', AUTH))
        assert _read_to_end(sock) == b""
    assert state.journal.entries()[-1]["transport_fault"] == "drop_before_response"


@pytest.mark.parametrize("kind", KINDS)
def test_rst_drop_resets_the_connection(srv, state, tls_files, kind):
    """§13 drop_before_response mode rst (SO_LINGER 0): the client's TCP connection is reset, over TLS too."""
    state.faults.install({"times": 1, "action": {"type": "drop_before_response", "mode": "rst"}})
    with _connect(srv, kind, tls_files) as sock:
        sock.sendall(request_bytes("POST", "/ingest", b'{"n": 1}', AUTH))
        assert _raw_reset_seen(sock)


@pytest.mark.parametrize("kind", KINDS)
def test_mid_response_drop_sends_part_of_the_body_then_ends(srv, state, tls_files, kind):
    """§13 drop_mid_response: status line, headers and `sent_bytes` of the body, then a clean end."""
    state.faults.install({"times": 1, "action": {"type": "drop_mid_response", "status": 200, "body": "0123456789",
                                                 "sent_bytes": 4}})
    with _connect(srv, kind, tls_files) as sock:
        sock.sendall(request_bytes("GET", "/ingest", headers=AUTH))
        head, _, body = _read_to_end(sock).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 10" in head
    assert body == b"0123"


@pytest.mark.parametrize("kind", KINDS)
def test_hang_sends_nothing_then_ends_cleanly(srv, state, tls_files, kind):
    """§13 hang: no answer until max_hang_ms, then the connection closes (a clean end, no bytes)."""
    state.faults.install({"times": 1, "action": {"type": "hang", "max_hang_ms": 300}})
    with _connect(srv, kind, tls_files) as sock:
        sock.sendall(request_bytes("GET", "/ingest", headers=AUTH))
        assert _read_to_end(sock) == b""


@pytest.mark.parametrize("kind", KINDS)
def test_drop_on_a_pipelined_request_after_an_answer(srv, state, tls_files, kind):
    """§2.3 pipelining: the first answer arrives whole, the dropped second one ends the stream cleanly."""
    state.faults.install({"nth": [2], "action": {"type": "drop_before_response"}})
    with _connect(srv, kind, tls_files) as sock:
        sock.sendall(b"".join(request_bytes("POST", "/ingest", b'{"n": %d}' % n, AUTH) for n in (1, 2)))
        fp = sock.makefile("rb")
        first = read_response(fp)
        assert first.status == 200 and first.body == b'{"stored":1}'
        assert fp.read() == b""


@pytest.mark.parametrize("kind", KINDS)
def test_python_clients_see_the_same_exceptions(srv, state, tls_files, kind):
    """§13 expected client reactions: ConnectionError (RemoteDisconnected) for a FIN drop and a hang,
    ChunkedEncodingError for a mid-response drop, on both ports."""
    base, verify = _base(srv, kind), str(tls_files.ca_pem)
    state.faults.install([
        {"id": "fin", "nth": [1], "action": {"type": "drop_before_response"}},
        {"id": "mid", "nth": [2], "action": {"type": "drop_mid_response", "status": 200, "body": "x" * 50}},
        {"id": "hang", "nth": [3], "action": {"type": "hang", "max_hang_ms": 200}},
    ])

    def call() -> None:
        requests.post(base + "/ingest", headers=AUTH, json={}, verify=verify, timeout=10)

    with pytest.raises(requests.exceptions.ConnectionError, match="without response"):
        call()
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        call()
    with pytest.raises(requests.exceptions.ConnectionError, match="without response"):
        call()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
@pytest.mark.parametrize("mode, exit_code, message", [("fin", 52, "Empty reply from server"),
                                                      ("rst", 56, "Connection reset by peer")])
def test_curl_reports_the_same_failure_over_https(srv, state, tls_files, mode, exit_code, message):
    """An OpenSSL client (curl) names the fault as over plain HTTP: an empty reply for FIN, a reset for RST."""
    for kind in KINDS:
        state.faults.install({"id": f"d-{kind}", "times": 1, "action": {"type": "drop_before_response", "mode": mode}})
        done = subprocess.run(["curl", "-sS", "--noproxy", "*", "--max-time", "10", "--cacert", str(tls_files.ca_pem),
                               "-H", f"Authorization: {AUTH['Authorization']}", _base(srv, kind) + "/ingest"],
                              capture_output=True, text=True, timeout=30)
        assert (done.returncode, kind) == (exit_code, kind) and message in done.stderr
