"""HTTPS to the fake Braze under its real REST host names (braze-cohort-sync.md §4.1 instance table;
DESIGN.md §4 server mode). HOST_PATTERNS are globs a certificate cannot carry, so the fake lists its
concrete hosts in TLS_HOSTNAMES for the harness test certificate."""

import http.client
import json
import socket
import ssl
from urllib.parse import urlsplit

from fakes.braze import HOST_PATTERNS, TLS_HOSTNAMES
from fakes.braze.clusters import CLUSTERS


def _https(server, host: str) -> http.client.HTTPSConnection:
    """A connection to the server's TLS port that sends SNI and Host `host` and verifies against the CA."""
    port = urlsplit(server.https_base_url).port
    context = ssl.create_default_context(cafile=server.ca_pem)  # check_hostname and CERT_REQUIRED
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    # the name never reaches DNS: every connection goes to the loopback port, the name only to TLS and Host
    conn._create_connection = lambda _address, *a, **kw: socket.create_connection(("127.0.0.1", port), *a, **kw)
    return conn


def test_tls_hostnames_are_the_concrete_rest_hosts_of_the_cluster_table():
    assert tuple(c.host for c in CLUSTERS) == TLS_HOSTNAMES
    assert "rest.iad-01.braze.com" in TLS_HOSTNAMES and "rest.fra-02.braze.eu" in TLS_HOSTNAMES
    assert not any("*" in h for h in TLS_HOSTNAMES) and all("*" in p for p in HOST_PATTERNS)


def test_https_request_to_rest_iad_01_verifies_against_the_harness_ca(braze_server):
    conn = _https(braze_server, "rest.iad-01.braze.com")
    try:
        conn.request("GET", "/_harness/health")
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read()) == {"status": "ok", "service": "braze"}
        assert conn.sock.server_hostname == "rest.iad-01.braze.com"
    finally:
        conn.close()


def test_every_cluster_host_verifies_and_picks_its_cluster(braze_server):
    """§4.1: a known REST host names the cluster; over HTTPS each host's handshake verifies."""
    for cluster in CLUSTERS:
        conn = _https(braze_server, cluster.host)
        try:
            conn.request("POST", "/partners/mixpanel/cohorts", body=b"{}", headers={"Content-Type": "application/json"})
            conn.getresponse().read()
        finally:
            conn.close()
    journal = json.loads(_get(braze_server, "/_harness/requests?path=/partners/mixpanel/cohorts"))
    assert [e["cluster"] for e in journal["requests"][-len(CLUSTERS):]] == [c.instance for c in CLUSTERS]


def _get(server, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(server.base_url).port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()
