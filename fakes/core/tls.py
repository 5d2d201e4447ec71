"""HTTPS for server mode (mixpanel-ingestion.md §2.3): a harness test CA, server certificates, and a TLS
front door that relays decrypted bytes to the fake's waitress port.

Clients build `https://` URLs only (the Python SDK's `api_host`), so server mode also listens on HTTPS. The
certificate is issued by a throw-away harness CA (trustme) with the fakes' host names plus `localhost` and
`127.0.0.1` as SANs; clients trust it through its PEM file (`REQUESTS_CA_BUNDLE=...`, `verify=...`,
`NODE_EXTRA_CA_CERTS=...`). ALPN offers `http/1.1` only.

The front door is a byte relay, so keep-alive, pipelining and `Connection: close` behave exactly as on the
plain port, and connection faults carry through: a FIN from the fake closes the TLS connection, a reset
(drop mode `rst`) resets it.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("fakes.core.tls")

ALWAYS_SANS = ("localhost", "127.0.0.1")
RELAY_CHUNK = 65536
HANDSHAKE_TIMEOUT_S = 10.0


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


class TlsFrontDoor:
    """Listens on (host, port) for TLS and relays each connection to the plain backend port."""

    def __init__(self, context: ssl.SSLContext, backend: tuple[str, int], *, host: str = "127.0.0.1", port: int = 0,
                 name: str = "fake") -> None:
        self.context = context
        self.peers: dict[tuple[str, int], tuple[str, int, int]] = {}
        """Relay socket address (as the backend sees it) -> (client host, client port, TLS port)."""
        self.backend = backend
        self.host = host
        self.requested_port = port
        self.name = name
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("TLS front door not started")
        return int(self._listener.getsockname()[1])

    def start(self) -> TlsFrontDoor:
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.requested_port))
        except OSError:
            listener.close()
            raise
        listener.listen(128)
        listener.settimeout(0.25)  # the accept loop notices stop() within this time
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, name=f"harness-{self.name}-tls", daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed: stopping
            conn.settimeout(None)
            name = f"harness-{self.name}-tls-conn"
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name=name).start()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._open.add if add else self._open.discard)(sock)

    def _serve(self, raw: socket.socket) -> None:
        self._track(raw, True)
        tls: ssl.SSLSocket | None = None
        upstream: socket.socket | None = None
        local: tuple[str, int] | None = None
        try:
            raw.settimeout(HANDSHAKE_TIMEOUT_S)
            tls = self.context.wrap_socket(raw, server_side=True)
            tls.settimeout(None)
            self._track(tls, True)
            upstream = socket.create_connection(self.backend)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._track(upstream, True)
            # Registered before any byte is relayed, so the server can tell this is an HTTPS request.
            local = upstream.getsockname()[:2]
            client = tls.getpeername()[:2]
            self.peers[local] = (client[0], client[1], self.port)
            inbound = threading.Thread(target=self._client_to_backend, args=(tls, upstream), daemon=True)
            inbound.start()
            reset = self._backend_to_client(upstream, tls)
            # The fake closed: wake the reader (SHUT_RD sends nothing), then close: FIN, or RST when the fake
            # reset its side (SO_LINGER 0 only resets once no other thread still holds the socket).
            _shutdown(tls, socket.SHUT_RD)
            inbound.join(5)
            if reset:
                try:
                    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
        except (OSError, ssl.SSLError):
            pass  # a failed handshake or a client gone: nothing to answer
        finally:
            if local is not None:
                self.peers.pop(local, None)
            for sock in (upstream, tls, raw):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass
                    self._track(sock, False)

    @staticmethod
    def _client_to_backend(tls: ssl.SSLSocket, upstream: socket.socket) -> None:
        try:
            while data := tls.recv(RELAY_CHUNK):
                upstream.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        try:
            upstream.shutdown(socket.SHUT_WR)  # the client is done sending; the fake still answers
        except OSError:
            pass

    @staticmethod
    def _backend_to_client(upstream: socket.socket, tls: ssl.SSLSocket) -> bool:
        """Relay the fake's bytes; True when the fake reset the connection (drop mode rst)."""
        try:
            while data := upstream.recv(RELAY_CHUNK):
                tls.sendall(data)
        except ConnectionResetError:
            return True
        except (OSError, ssl.SSLError):
            pass
        return False

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            _shutdown(sock, socket.SHUT_RDWR)  # wakes threads blocked in recv (close alone does not, on Linux)
            try:
                sock.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(2)
        self._listener = None
        self._thread = None


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        socket.socket.shutdown(sock, how)  # the plain-socket call: leaves the TLS object alone
    except OSError:
        pass
