"""`DurableStore`: a fake's state kept on disk as it changes (`harness serve --state-dir`).

Why an append-only log (Redis's AOF design) rather than SQLite: the fakes keep their state in memory and
change it a request at a time; what changed in one request (the events of a batch, the profiles it
touched) is already at hand as bytes, so one framed `write()` per request is all the durability costs, and
the same code writes the rewrite (the base) and replays both. A torn last record is ours to see (CRC) and
report; SQLite would drop it silently and would ask for a relational schema of every model.

- After every request the app calls `commit()`: under the state's lock the changes since the last commit
  (`FakeState.take_record()`) become one record, written with one `write()` before the answer leaves, so
  `kill -9` loses nothing acknowledged and a batch is all in one record or not at all.
- `fsync`: `always` (fsync before answering), `everysec` (default: a thread fsyncs once a second),
  `no` (the operating system decides); a process crash loses nothing under any of them, an operating
  system crash or power cut loses what was not yet fsynced.
- Restart replays the base, then the incr files. A rewrite (when the incr files have grown past
  `rewrite_min_bytes` and `rewrite_growth` times the base) starts a new incr file at once and writes a new
  base from a consistent capture in a background thread, so restart time follows the data, not the history.
- A clean stop only fsyncs and closes (no rewrite); an unfinished rewrite is abandoned (the manifest still
  names the previous base and every incr file).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakes.core.durable_log import (
    LogCorrupt,
    LogWriter,
    TornTail,
    decode_payload,
    encode_record,
    fsync_dir,
    read_manifest,
    read_records,
    write_manifest,
)

if TYPE_CHECKING:
    from fakes.core.state import FakeState

DEFAULT_REWRITE_MIN_BYTES = 64 << 20
Notice = Callable[[str], None]


class StateNotSaved(RuntimeError):
    """The change could not be written to the state directory (the request is answered 503)."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class DurableStore:
    def __init__(self, state: FakeState, directory: Path, *, name: str | None = None, fsync: str = "everysec",
                 rewrite_min_bytes: int = DEFAULT_REWRITE_MIN_BYTES, rewrite_growth: float = 1.0,
                 notice: Notice = _stderr) -> None:
        self.state = state
        self.directory = Path(directory)
        self.name = name or state.service
        self.fsync = fsync
        self.rewrite_min_bytes = rewrite_min_bytes
        self.rewrite_growth = rewrite_growth
        self.notice = notice
        self.base = ""
        self.incr: list[str] = []
        self.base_bytes = 0
        self.writer: LogWriter | None = None
        self._generation = 0
        self._unwritten: bytes | None = None
        self._rewrite_thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.torn: list[TornTail] = []
        self.restored = False
        self._write_lock = threading.Lock()  # taken while holding the state's lock, never the other way

    # -- start --------------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.directory / f"{self.name}.manifest").exists()

    def open(self) -> bool:
        """Replay the saved state into the (fresh) fake state and start appending; False when there was none.

        Raises `LogCorrupt` (one line naming the file) for a file that does not read back or a bad row."""
        manifest = read_manifest(self.directory, self.name)
        restored = manifest is not None
        if manifest is None:
            self._generation = 1
            self.base = f"{self.name}.base.1"
            with self.state.lock:
                self._write_base(self.directory / self.base, self.state.capture_records())
                self.state.take_record()  # already in the base
            self.incr = [f"{self.name}.incr.1"]
            (self.directory / self.incr[0]).touch(mode=0o600)
            write_manifest(self.directory, self.name, self.base, self.incr)
        else:
            self.base, self.incr = manifest["base"], list(manifest["incr"])
            if not self.incr:
                raise LogCorrupt(f"{self.directory / (self.name + '.manifest')}: names no incr file")
            self._generation = max(_generation(n) for n in [self.base, *self.incr])
            files = [(self.base, False)] + [(n, i == len(self.incr) - 1) for i, n in enumerate(self.incr)]
            collecting = gc.isenabled()
            gc.disable()  # replay builds many short-lived containers and no cycles
            try:
                for file_name, last in files:
                    self._replay(self.directory / file_name, last=last)
            finally:
                if collecting:
                    gc.enable()
            self.state.take_record()  # what the replay itself marked as changed is already on disk
        self._remove_strays()
        self.base_bytes = (self.directory / self.base).stat().st_size
        self.writer = LogWriter(self.directory / self.incr[-1], self.fsync)
        self.state.durable = self
        self._maybe_rewrite()
        return restored

    def _replay(self, path: Path, *, last: bool) -> None:
        if not path.exists():
            raise LogCorrupt(f"{path}: missing (named by {self.name}.manifest)")
        for offset, payload in read_records(path, last=last, torn=self._torn):
            where = f"{path}: record at byte {offset}"
            head, blobs = decode_payload(payload, where)
            try:
                self.state.replay_record(head, blobs)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:  # a row of the wrong shape
                raise LogCorrupt(f"{where}: {exc}") from None
            except RecursionError:
                raise LogCorrupt(f"{where}: nested too deeply") from None

    def _torn(self, tail: TornTail) -> None:
        self.torn.append(tail)
        self.notice(f"harness serve: {self.name}: {tail.path}: dropped a torn last record at byte {tail.offset} "
                    f"({tail.dropped_bytes} bytes of an unfinished write, never acknowledged)")

    def _remove_strays(self) -> None:
        keep = {self.base, *self.incr}
        for path in self.directory.glob(f"{self.name}.*"):
            kind = path.name[len(self.name) + 1:].split(".", 1)[0]
            if kind in ("base", "incr") and path.name not in keep:
                path.unlink(missing_ok=True)
        for path in self.directory.glob(f".{self.name}.*.tmp"):
            path.unlink(missing_ok=True)

    # -- every request ---------------------------------------------------------------------------------
    def commit(self) -> None:
        """Write what changed since the last commit; return once it is written (and fsynced with `always`)."""
        state = self.state
        with state.lock:
            writer = self.writer
            if writer is None:
                return
            taken = state.take_record()
            # Taken in order under the state's lock, written in that order under the write lock, so the
            # next request is served while this record is encoded and written.
            self._write_lock.acquire()
        try:
            record = self._unwritten
            if taken is not None:
                encoded = encode_record(*taken)
                record = encoded if record is None else record + encoded
            if record is not None:
                before = writer.size
                try:
                    writer.append(record)
                except OSError as exc:
                    self._unwritten = record  # written with the next commit that succeeds
                    _truncate(writer, before)
                    raise StateNotSaved(f"{self.name}: state not saved to {writer.path}: "
                                        f"{exc.strerror or exc}") from None
                self._unwritten = None
            end = writer.size
        finally:
            self._write_lock.release()
        try:
            writer.sync(end)
        except OSError as exc:
            raise StateNotSaved(f"{self.name}: state not synced to {writer.path}: {exc.strerror or exc}") from None
        self._maybe_rewrite()

    # -- rewrite ---------------------------------------------------------------------------------------
    def incr_bytes(self) -> int:
        size = 0
        for name in self.incr:
            try:
                size += (self.directory / name).stat().st_size
            except OSError:
                pass
        return size

    def _maybe_rewrite(self) -> None:
        if self._rewrite_thread is not None or self._closing.is_set():
            return
        grown = self.writer.size if self.writer is not None and len(self.incr) == 1 else self.incr_bytes()
        if grown >= self.rewrite_min_bytes and grown >= self.rewrite_growth * self.base_bytes:
            self.rewrite()

    def rewrite(self, *, wait: bool = False) -> None:
        """Start a new incr file now and write a new base from a consistent capture (in a thread)."""
        state = self.state
        with state.lock:
            if self._rewrite_thread is not None or self.writer is None or self._closing.is_set():
                thread = self._rewrite_thread
            else:
                self._commit_locked()
                records = state.capture_records()  # consistent: taken under the lock
                self._generation += 1
                generation = self._generation
                new_incr = f"{self.name}.incr.{generation}"
                old_writer = self.writer
                self.writer = LogWriter(self.directory / new_incr, self.fsync)
                self.incr.append(new_incr)
                write_manifest(self.directory, self.name, self.base, self.incr)
                old_writer.close()
                thread = threading.Thread(target=self._write_new_base, args=(records, generation, list(self.incr)),
                                          name=f"rewrite {self.name}", daemon=True)
                self._rewrite_thread = thread
                thread.start()
        if wait and thread is not None:
            thread.join()

    def _commit_locked(self) -> None:
        """Under the state's lock: write what changed (after any record still being written)."""
        with self._write_lock:
            self._commit_under_write_lock()

    def _commit_under_write_lock(self) -> None:
        taken = self.state.take_record()
        record = self._unwritten
        if taken is not None:
            encoded = encode_record(*taken)
            record = encoded if record is None else record + encoded
        if record is not None and self.writer is not None:
            self.writer.append(record)
            self._unwritten = None

    def _write_new_base(self, records: Iterable[tuple[dict[str, Any], list[bytes]]], generation: int,
                        incr_then: list[str]) -> None:
        base = f"{self.name}.base.{generation}"
        path = self.directory / base
        try:
            if not self._write_base(path, records, abortable=True):
                path.unlink(missing_ok=True)
                return
            with self.state.lock:
                if self._closing.is_set():
                    path.unlink(missing_ok=True)
                    return
                old = [self.base, *incr_then[:-1]]
                self.incr = [name for name in self.incr if name not in incr_then[:-1]]
                self.base = base
                write_manifest(self.directory, self.name, self.base, self.incr)
                self.base_bytes = path.stat().st_size
            for name in old:
                (self.directory / name).unlink(missing_ok=True)
        except Exception as exc:  # a failed rewrite must never take the log down with it
            self.notice(f"harness serve: {self.name}: state rewrite failed ({exc}); the previous files stay in use")
            path.unlink(missing_ok=True)
        finally:
            self._rewrite_thread = None

    def _write_base(self, path: Path, records: Iterable[tuple[dict[str, Any], list[bytes]]], *,
                    abortable: bool = False) -> bool:
        """Write every record, fsync; False when stopped half-way (`abortable` and closing)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb", buffering=1 << 20, closefd=False) as fh:
                for head, blobs in records:
                    if abortable and self._closing.is_set():
                        return False
                    fh.write(encode_record(head, blobs))
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.directory)
        return True

    # -- stop ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Fast: everything is already written; fsync and close (an unfinished rewrite is abandoned)."""
        with self.state.lock:
            try:
                self._commit_locked()
            except OSError as exc:
                self.notice(f"harness serve: {self.name}: last changes not saved: {exc}")
            self._closing.set()
            writer, self.writer = self.writer, None
            if self.state.durable is self:
                self.state.durable = None
        thread = self._rewrite_thread
        if thread is not None:
            thread.join()
        if writer is not None:
            writer.close()


def _generation(file_name: str) -> int:
    tail = file_name.rsplit(".", 1)[-1]
    if not tail.isdigit():
        raise LogCorrupt(f"state file name {file_name!r} has no generation number")
    return int(tail)


def _truncate(writer: LogWriter, size: int) -> None:
    try:
        os.truncate(writer.path, size)
        writer.size = size
    except OSError:
        pass
