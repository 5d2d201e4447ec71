"""`harness serve --allow-host NAME` (issue 13 item 5): a name that is not loopback nor a real upstream host is
answered only when allowed, so serving on a non-loopback address stays usable and DNS rebinding does not."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]


def _status(port: int, host: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /_harness/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(65536)
    return int(head.split()[1])


def test_allow_host_names_are_answered_and_others_refused() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--fakes", "braze", "--braze-port", "0",
                             "--allow-host", "harness.lan", "--allow-host", "*.test.internal"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("braze: "), (line, proc.stderr.read() if proc.poll() is not None else "")
        port = urlsplit(line.split(": ", 1)[1].strip()).port
        assert port is not None
        assert _status(port, "harness.lan:8082") == 200
        assert _status(port, "ci.test.internal") == 200
        assert _status(port, "127.0.0.1") == 200
        assert _status(port, "rest.iad-01.braze.com") == 200
        assert _status(port, "evil.example") == 421
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
