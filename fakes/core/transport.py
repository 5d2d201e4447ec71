"""Transport-level faults (drops, hangs, trickled bodies): what the Flask app asks for, and the waiting.

A Flask handler cannot close a socket, so a fault that acts below HTTP leaves a `TransportFault` in the WSGI
environ. The server (`fakes.core.server`) carries it out on the real connection; the in-process router
(`fakes.core.inprocess`) turns it into the `requests` exception a client would see.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

ENVIRON_KEY = "harness.transport_fault"
MODE_KEY = "harness.mode"
"""`"server"` or `"in-process"`; absent under other WSGI servers."""
CANCEL_KEY = "harness.cancel"
"""A threading.Event set when the server stops, so waits inside requests end at once."""
WAITING_KEY = "harness.waiting"
"""A context manager factory from the server's worker pool: a stand-in worker runs while this one waits."""

_NEVER = threading.Event()


@dataclass(frozen=True)
class TransportFault:
    type: str
    """drop_before_response, drop_mid_response, slow_body or hang."""
    rule_id: str
    mode: str = "fin"
    sent_bytes: int | None = None
    bytes_per_s: int | None = None
    max_hang_ms: int | None = None


def transport_fault(environ: dict[str, Any]) -> TransportFault | None:
    fault = environ.get(ENVIRON_KEY)
    return fault if isinstance(fault, TransportFault) else None


def wait(environ: dict[str, Any], seconds: float) -> bool:
    """Sleep up to `seconds` (real time); returns True if the server is stopping and cut the wait short."""
    if seconds <= 0:
        return False
    event = environ.get(CANCEL_KEY)
    if not isinstance(event, threading.Event):
        event = _NEVER
    waiting = environ.get(WAITING_KEY)
    if waiting is None:
        return event.wait(seconds)
    with waiting():
        return event.wait(seconds)
