"""HTTPS for server mode (mixpanel-ingestion.md §2.3): a harness test CA, server certificates, and a TLS
front door that relays decrypted bytes to the fake's waitress port.

Clients build `https://` URLs only (the Python SDK's `api_host`), so server mode also listens on HTTPS. The
certificate is issued by a throw-away harness CA (trustme) with the fakes' host names plus `localhost` and
`127.0.0.1` as SANs; clients trust it through its PEM file (`REQUESTS_CA_BUNDLE=...`, `verify=...`,
`NODE_EXTRA_CA_CERTS=...`). ALPN offers `http/1.1` only.

The front door (`fakes.core.tls_front_door`) is a byte relay, so keep-alive, pipelining and `Connection:
close` behave exactly as on the plain port, and connection faults carry through: a FIN from the fake ends
the TLS stream cleanly (close_notify), a reset (drop mode `rst`) resets it.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ALWAYS_SANS = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class TlsFiles:
    ca_pem: Path | None
    """The CA to trust (None when the user brought their own certificate)."""
    cert_pem: Path
    key_pem: Path


def issue_test_certificates(directory: Path, hostnames: Iterable[str]) -> TlsFiles:
    """A new harness CA and one server certificate for `hostnames` (+ localhost, 127.0.0.1), as PEM files."""
    import trustme  # only needed when HTTPS is asked for

    names = list(dict.fromkeys([*(h for h in hostnames if h and "*" not in h), *ALWAYS_SANS]))
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="braze-mixpanel-harness", organization_unit_name="test CA (not for production)")
    cert = ca.issue_cert(*names)
    files = TlsFiles(directory / "harness-ca.pem", directory / "harness-server.pem", directory / "harness-server.key")
    ca.cert_pem.write_to_path(str(files.ca_pem))
    with open(files.cert_pem, "wb") as fh:
        for blob in cert.cert_chain_pems:
            fh.write(blob.bytes())
    write_private(files.key_pem, cert.private_key_pem.bytes())
    return files


def write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only (0600), from its first byte on: created with that
    mode, and an existing file's mode tightened before the new key goes in."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def load_or_issue_certificates(directory: Path, hostnames: Iterable[str]) -> TlsFiles:
    """Reuse the CA and certificate already in `directory` (so clients keep trusting the same CA file across
    runs) when they cover `hostnames`; otherwise issue new ones."""
    ca, cert, key = directory / "harness-ca.pem", directory / "harness-server.pem", directory / "harness-server.key"
    if all(p.is_file() for p in (ca, cert, key)) and _covers(cert, hostnames):
        key.chmod(0o600)  # a key an older version left readable by others is tightened
        return TlsFiles(ca, cert, key)
    return issue_test_certificates(directory, hostnames)


def _covers(cert_pem: Path, hostnames: Iterable[str]) -> bool:
    try:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        addresses = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
        names = set(sans.get_values_for_type(x509.DNSName)) | addresses
    except Exception:  # unreadable or foreign certificate: issue a new one
        return False
    wanted = {h for h in hostnames if h and "*" not in h} | set(ALWAYS_SANS)
    return wanted <= names


def server_context(cert_pem: Path, key_pem: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_pem), str(key_pem))
    context.set_alpn_protocols(["http/1.1"])  # no HTTP/2 (§2.3)
    return context
