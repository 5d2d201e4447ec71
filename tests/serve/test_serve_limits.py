"""`harness serve`'s availability options (issue 13 item 2; DESIGN.md §5): the connection limit, idle timeout
and control lane reach the servers, and a bad value is one error line."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def _serve(*args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("HARNESS_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "harness", "serve", "--fakes", "mixpanel", "--mixpanel-port", "0",
                             *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_connection_limit_option_makes_room_for_a_new_client():
    proc = _serve("--connection-limit", "5", "--idle-timeout", "60", "--control-threads", "1")
    socks: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        name, _, url = proc.stdout.readline().strip().partition(": ")
        assert name == "mixpanel", proc.stderr.read() if proc.stderr else ""
        port = int(url.rsplit(":", 1)[1])
        for _ in range(10):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        assert requests.get(url + "/_harness/health", timeout=10).json()["status"] == "ok"
        # the five oldest idle connections were closed to make room: each reads EOF at once
        selector = selectors.DefaultSelector()
        for sock in socks[:5]:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + 10
        closed: set[int] = set()
        while len(closed) < 5 and time.monotonic() < deadline:
            closed |= {key.fd for key, _ in selector.select(timeout=0.1)}
        selector.close()
        assert len(closed) == 5
    finally:
        for sock in socks:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


@pytest.mark.parametrize("args, message", [
    (("--idle-timeout", "0"), "--idle-timeout: must be an integer between 1 and 86400, got 0"),
    (("--connection-limit", "0"), "--connection-limit: must be an integer between 1 and 1000000, got 0"),
    (("--control-threads", "500"), "--control-threads: must be an integer between 1 and 100, got 500"),
])
def test_bad_limit_is_one_error_line(args, message):
    done = subprocess.run([sys.executable, "-m", "harness", "serve", "--mixpanel-port", "0", "--braze-port", "0",
                           *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == f"harness serve: error: {message}"
