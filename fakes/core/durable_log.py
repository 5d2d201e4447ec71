"""The append-only files behind `harness serve --state-dir`, in the manner of Redis's multi-part AOF.

A fake's state lives in `DIR/<name>.manifest`, which names one *base* file (every record needed to rebuild
the state at the last rewrite) and the *incr* files appended to since. Both hold records framed as

    magic b"HRC1" | payload length (u32, big-endian) | CRC-32 of the payload (u32) | payload

and a payload is `head length (u32) | head (JSON) | blobs` (blobs: raw bytes the head describes, e.g. the
stored events' JSON, so restoring never re-encodes them). A record is written with one `write()`, so a process
killed at any moment leaves whole records plus at most one torn last record, which the CRC (or a short
length) gives away: `read_records` drops it with a message and truncates the file there. A bad record that
is not the last one is corruption and is refused.

`LogWriter` appends records and fsyncs per policy: `always` (before the answer), `everysec` (a background
thread, once a second), `no` (left to the operating system). The manifest is replaced atomically (temporary
file, fsync, rename, fsync of the directory).
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"HRC1"
_HEADER = struct.Struct(">4sII")
_HEAD_LEN = struct.Struct(">I")
MAX_RECORD = 1 << 31
FSYNC_POLICIES = ("always", "everysec", "no")
MANIFEST_FORMAT = 1


class LogCorrupt(ValueError):
    """A state file that cannot be read back (named in the message)."""


def encode_record(head: dict[str, Any], blobs: list[bytes] | tuple[bytes, ...] = ()) -> bytes:
    head_bytes = json.dumps(head, separators=(",", ":")).encode("ascii")  # ASCII: lone surrogates survive
    payload = b"".join((_HEAD_LEN.pack(len(head_bytes)), head_bytes, *blobs))
    if len(payload) >= MAX_RECORD:
        raise ValueError("a state record over 2 GiB")
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode_payload(payload: bytes, where: str) -> tuple[dict[str, Any], bytes]:
    """(head, blobs) of one record's payload."""
    if len(payload) < _HEAD_LEN.size:
        raise LogCorrupt(f"{where}: record too short")
    (head_len,) = _HEAD_LEN.unpack_from(payload)
    if _HEAD_LEN.size + head_len > len(payload):
        raise LogCorrupt(f"{where}: record head runs past the record")
    try:
        head = json.loads(payload[_HEAD_LEN.size:_HEAD_LEN.size + head_len])
    except (ValueError, RecursionError) as exc:
        raise LogCorrupt(f"{where}: record head is not JSON ({exc})") from None
    if not isinstance(head, dict):
        raise LogCorrupt(f"{where}: record head is not an object")
    return head, payload[_HEAD_LEN.size + head_len:]


@dataclass
class TornTail:
    path: Path
    offset: int
    dropped_bytes: int


def read_records(path: Path, *, last: bool, torn: Callable[[TornTail], None] | None = None
                 ) -> Iterator[tuple[int, bytes]]:
    """(offset, payload) of every whole record of `path`, in order.

    `last`: the file written most recently, whose final record may be torn by a crash; it is dropped (the
    file is truncated before it) and reported to `torn`. Anything else that does not read back is a
    `LogCorrupt` naming the file and the byte offset."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        offset = 0
        while offset < size:
            header = fh.read(_HEADER.size)
            problem = None
            payload = b""
            if len(header) < _HEADER.size:
                problem = "incomplete record header"
            else:
                magic, length, crc = _HEADER.unpack(header)
                if magic != MAGIC:
                    problem = "no record starts here"
                else:
                    payload = fh.read(length)
                    if len(payload) < length:
                        problem = "record shorter than its length"
                    elif zlib.crc32(payload) != crc:
                        problem = "record checksum does not match"
            if problem is not None:
                record_end = offset + _HEADER.size + len(payload)
                at_tail = problem in ("incomplete record header", "record shorter than its length") or (
                    problem == "record checksum does not match" and record_end >= size) or _zeros_from(path, offset)
                if not (last and at_tail):
                    raise LogCorrupt(f"{path}: byte {offset}: {problem} (the file is damaged)")
                with open(path, "r+b") as out:
                    out.truncate(offset)
                    out.flush()
                    os.fsync(out.fileno())
                if torn is not None:
                    torn(TornTail(path, offset, size - offset))
                return
            yield offset, payload
            offset += _HEADER.size + len(payload)


def _zeros_from(path: Path, offset: int) -> bool:
    """True when the file holds only zero bytes from `offset` (a crash can extend a file with zeros)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        while chunk := fh.read(1 << 20):
            if chunk.strip(b"\0"):
                return False
    return True


class LogWriter:
    """Appends records to one file; `sync(offset)` makes everything up to `offset` durable per policy."""

    def __init__(self, path: Path, policy: str = "everysec", *, interval_s: float = 1.0) -> None:
        if policy not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(FSYNC_POLICIES)}, not {policy!r}")
        self.path = path
        self.policy = policy
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self._fd).st_size
        self._synced = self.size
        self._sync_lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if policy == "everysec":
            self._thread = threading.Thread(target=self._every_second, args=(interval_s,),
                                            name=f"fsync {path.name}", daemon=True)
            self._thread.start()

    def append(self, record: bytes) -> int:
        """Write one record (the caller serialises appends); returns the file's size after it."""
        view = memoryview(record)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(record)
        return self.size

    def sync(self, upto: int) -> None:
        """`always`: return only once `upto` bytes are on stable storage (one fsync serves every waiter)."""
        if self.policy != "always" or self._synced >= upto:
            return
        self._fsync()

    def _fsync(self) -> None:
        with self._sync_lock:
            target = self.size
            if self._synced >= target or self._closed.is_set():
                return
            os.fsync(self._fd)
            self._synced = target

    def _every_second(self, interval_s: float) -> None:
        while not self._closed.wait(interval_s):
            try:
                self._fsync()
            except OSError:  # reported by the next write, which fails the same way
                pass

    def close(self) -> None:
        if self._closed.is_set():
            return
        try:
            self._fsync()
        finally:
            self._closed.set()
            os.close(self._fd)


def write_manifest(directory: Path, name: str, base: str, incr: list[str]) -> None:
    path = directory / f"{name}.manifest"
    tmp = directory / f".{name}.manifest.tmp"
    data = json.dumps({"format": MANIFEST_FORMAT, "base": base, "incr": incr}).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(directory)


def read_manifest(directory: Path, name: str) -> dict[str, Any] | None:
    path = directory / f"{name}.manifest"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise LogCorrupt(f"{path}: not a readable manifest ({exc})") from None
    ok = (isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT and isinstance(data.get("base"), str)
          and isinstance(data.get("incr"), list) and all(isinstance(i, str) for i in data["incr"]))
    names = [data["base"], *data["incr"]] if ok else []
    if not ok or any("/" in n or "\\" in n or n.startswith(".") for n in names):
        raise LogCorrupt(f"{path}: not a harness state manifest")
    return data


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
