"""HTTPS in server mode (mixpanel-ingestion.md §2.3): harness test CA, SANs, ALPN http/1.1, and the same
transport behaviour (keep-alive, pipelining, drops) as the plain port."""

import json
import socket
import ssl

import pytest
import requests
import stand_in_fake
from raw_http_client import read_response, request_bytes
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import FakeServer
from fakes.core.tls import issue_test_certificates, server_context


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return issue_test_certificates(tmp_path_factory.mktemp("tls"), ["api.standin.test", "rest.*.standin.test"])


@pytest.fixture
def tls_server(app, tls_files):
    with FakeServer(app, port=0, name="standin", tls_context=server_context(tls_files.cert_pem, tls_files.key_pem)) as srv:
        yield srv


def client_context(tls_files) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(tls_files.ca_pem))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def test_https_with_the_harness_ca(tls_server, tls_files, state):
    assert tls_server.https_base_url.startswith("https://127.0.0.1:")
    r = requests.post(tls_server.https_base_url + "/ingest", json={"a": 1}, headers=AUTH, verify=str(tls_files.ca_pem))
    assert r.status_code == 200 and state.items == [{"a": 1}]
    # the plain port still answers
    assert requests.get(tls_server.url("/_harness/health")).status_code == 200


def test_certificate_names_and_alpn(tls_server, tls_files):
    """§2.3: SANs cover the fake's host names, localhost and 127.0.0.1; ALPN offers http/1.1 only."""
    port = int(tls_server.https_base_url.rsplit(":", 1)[1])
    for name in ("api.standin.test", "localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with client_context(tls_files).wrap_socket(raw, server_hostname=name) as tls:
                assert tls.selected_alpn_protocol() == "http/1.1"
    with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
        client_context(tls_files).wrap_socket(raw, server_hostname="other.example")


def test_unknown_ca_is_refused(tls_server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_server.https_base_url + "/_harness/health")


def test_pipelining_over_tls(tls_server, tls_files):
    port = int(tls_server.https_base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with client_context(tls_files).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"".join(request_bytes("POST", "/ingest", json.dumps({"n": i}).encode(),
                                               {"Authorization": "Bearer standin-token"}) for i in range(20)))
            fp = tls.makefile("rb")
            stored = [json.loads(read_response(fp).body)["stored"] for _ in range(20)]
    assert stored == list(range(1, 21))


@pytest.mark.parametrize("mode", ["fin", "rst"])
def test_drops_carry_through_tls(tls_server, tls_files, state, mode):
    state.faults.install({"times": 1, "action": {"type": "drop_before_response", "mode": mode}})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(tls_server.https_base_url + "/ingest", headers=AUTH, verify=str(tls_files.ca_pem), timeout=10)


def test_mid_response_drop_over_tls(tls_server, tls_files, state):
    state.faults.install({"times": 1, "action": {"type": "drop_mid_response", "status": 200, "body": "x" * 100}})
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        requests.get(tls_server.https_base_url + "/ingest", headers=AUTH, verify=str(tls_files.ca_pem), timeout=10)


def test_connection_close_over_tls(tls_server, tls_files):
    port = int(tls_server.https_base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with client_context(tls_files).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request_bytes("GET", "/_harness/health", headers={"Connection": "close"}))
            fp = tls.makefile("rb")
            assert read_response(fp).status == 200
            # Read to the end chunk by chunk, so bytes that came before a TLS error are still seen. The front
            # door closes without close_notify, which OpenSSL reports as an EOF or an alert: either is a close,
            # as long as nothing followed the response.
            rest = b""
            try:
                while chunk := fp.read1(4096):
                    rest += chunk
            except ssl.SSLError:
                pass
            assert rest == b""


def test_stop_closes_tls_port(app, tls_files):
    srv = FakeServer(app, port=0, tls_context=server_context(tls_files.cert_pem, tls_files.key_pem)).start()
    port = int(srv.https_base_url.rsplit(":", 1)[1])
    srv.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5)
    assert stand_in_fake  # the module fixture app comes from the stand-in


def test_requests_through_tls_look_like_https_to_the_fake(tls_server, tls_files, app):
    """The fake sees scheme https, the HTTPS port and the client's address (not the relay's)."""
    seen = {}

    @app.before_request
    def grab():
        from flask import request
        seen.update(scheme=request.scheme, port=request.environ["SERVER_PORT"], remote=request.remote_addr)

    https_port = tls_server.https_base_url.rsplit(":", 1)[1]
    requests.get(tls_server.https_base_url + "/_harness/health", verify=str(tls_files.ca_pem))
    assert seen == {"scheme": "https", "port": https_port, "remote": "127.0.0.1"}
    requests.get(tls_server.url("/_harness/health"))
    assert seen["scheme"] == "http" and seen["port"] == str(tls_server.port)


def test_certificates_are_reused_when_they_cover_the_names(tmp_path):
    from fakes.core.tls import load_or_issue_certificates

    first = load_or_issue_certificates(tmp_path, ["api.example.test"])
    ca = first.ca_pem.read_bytes()
    again = load_or_issue_certificates(tmp_path, ["api.example.test"])
    assert again.ca_pem.read_bytes() == ca
    wider = load_or_issue_certificates(tmp_path, ["api.example.test", "api-eu.example.test"])
    assert wider.ca_pem.read_bytes() != ca
