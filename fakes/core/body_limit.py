"""Bodies over a fake's size limit are refused as they stream in, not after (issue 13 item 7).

waitress reads a whole request body before the app runs. `LimitedParser` asks the fake, as soon as the
headers are in, how large a body it reads on that path (`FakeState.body_limit`). A `Content-Length` past the
limit completes the request at once with an empty body and `environ[DECLARED_KEY]` = the declared size, so
the fake answers its own 413 (its exact body) without the bytes ever being held; the channel then discards
that many bytes as they arrive, and the connection stays usable. A chunked body is counted as it arrives and
cut off the same way once past the limit; the connection is closed after the answer (the rest of the stream
is discarded unread).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from waitress.parser import HTTPRequestParser

DECLARED_KEY = "harness.body_bytes_declared"
"""In the WSGI environ: the size of a body refused before it was read (the request's body reads as empty)."""

BodyLimit = Callable[[str, "str | None"], "int | None"]
"""(path, Content-Encoding) -> the largest body the fake reads there, or None for no limit."""

DISCARD_ALL = -1


def wire_limit(limit: int, content_encoding: str | None) -> int:
    """Wire bytes past which a body is certainly over `limit` once decoded: the limit itself, or for a
    compressed body the limit plus what deflate's stored blocks and headers can add (0.1% and 1 KiB)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return limit
    return limit + limit // 1000 + 1024


class LimitedParser(HTTPRequestParser):
    def __init__(self, adj: Any, *, channel: Any) -> None:
        super().__init__(adj)
        self.channel = channel
        self.harness_declared: int | None = None
        self._limit: int | None = None

    def received(self, data: bytes) -> int:
        in_headers = not self.headers_finished
        consumed = super().received(data)
        if self.completed or self.error is not None:
            return consumed
        if in_headers and self.headers_finished:
            self._limit = self._lookup_limit()
            if self._limit is not None and not self.chunked and self.content_length > self._limit:
                # Expect: 100-continue gets no 100: the client may or may not send the body, so close after
                if getattr(self, "expect_continue", False):
                    self.expect_continue = False
                    self._refuse(self.content_length, discard=DISCARD_ALL)
                    return len(data)
                body_here = min(len(data) - consumed, self.content_length)  # already read: dropped with it
                self._refuse(self.content_length, discard=self.content_length - body_here)
                return consumed + body_here
        elif self.chunked and self._limit is not None and self.body_bytes_received > self._limit:
            self._refuse(self.body_bytes_received, discard=DISCARD_ALL)
        return consumed

    def _lookup_limit(self) -> int | None:
        server = getattr(self.channel, "server", None)
        body_limit: BodyLimit | None = getattr(server, "harness_body_limit", None)
        if body_limit is None:
            return None
        limit = body_limit(self.path or "/", self.headers.get("CONTENT_ENCODING"))
        return None if limit is None else wire_limit(limit, self.headers.get("CONTENT_ENCODING"))

    def _refuse(self, declared: int, *, discard: int) -> None:
        self.harness_declared = declared
        receiver: Any = getattr(self, "body_rcv", None)
        if receiver is not None:
            receiver.getfile().close()
        self.body_rcv = None
        self.headers["CONTENT_LENGTH"] = "0"
        if discard == DISCARD_ALL:
            self.headers["CONNECTION"] = "close"
        self.completed = True
        self.channel.harness_discard = discard


def discard_prefix(channel: Any, data: bytes) -> bytes:
    """What is left of `data` once the refused body's bytes still due on this channel are dropped."""
    due = getattr(channel, "harness_discard", 0)
    if not due:
        return data
    if due == DISCARD_ALL:
        return b""
    dropped = min(due, len(data))
    channel.harness_discard = due - dropped
    return data[dropped:]
