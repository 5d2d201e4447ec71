"""The base of every fake's state: lock, clock, journal, fault rules, configuration and seed.

A fake subclasses `FakeState`, declares its settings, fault match fields, fault stages and secret fields as
class attributes, keeps its model objects as attributes, and overrides the hooks it needs:
`reset_data()`, `secret_values()`, `rate_limit_fault_response()`, `snapshot_data()` / `restore_data()`.
All model access from request handlers happens under `state.lock` (an RLock): the fakes run under a
threaded server.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from fakes.core.clock import SimulatedClock
from fakes.core.config import FakeConfig, Setting
from fakes.core.faults import FaultSet
from fakes.core.journal import RequestJournal
from fakes.core.masking import DEFAULT_MAX_DEPTH, DEFAULT_SECRET_HEADERS, SecretMasker


def _host_patterns(value: Any) -> list[str]:
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of non-empty host names or globs")
    return [v.strip().lower() for v in value]


CORE_SETTINGS: tuple[Setting, ...] = (
    Setting("journal.capacity", 1000, int, minimum=1, maximum=1_000_000,
            doc="entries kept by GET /_harness/requests; the oldest fall out"),
    Setting("journal.max_body_chars", 65536, int, minimum=0,
            doc="request and response bodies longer than this are truncated in the journal"),
    Setting("journal.max_depth", DEFAULT_MAX_DEPTH, int, minimum=1, maximum=256,
            doc="annotated payloads show containers this many levels deep; deeper ones become a marker"),
    Setting("faults.max_delay_ms", 120_000, int, minimum=0, maximum=3_600_000,
            doc="largest delay_ms a fault rule may ask for"),
    Setting("faults.max_hang_ms", 30_000, int, minimum=0, maximum=3_600_000,
            doc="cap of a hang fault; the connection is closed after it"),
    Setting("server.allowed_hosts", [], list, validator=_host_patterns,
            doc="host names (globs) answered besides loopback and the fake's real host names "
                "(e.g. the machine's name when served on a non-loopback address)"),
)
"""Settings every fake has, beside its own."""

SNAPSHOT_FORMAT = 1
MAX_SEED_CHARS = 256


def check_seed(seed: Any) -> int | str:
    """`seed` if it is a usable run seed, else ValueError: an integer, or a string that UTF-8 can encode
    (random.Random encodes string seeds; a lone surrogate would fail there, after the reset began)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise ValueError("seed must be an integer or a string")
    if isinstance(seed, str):
        if len(seed) > MAX_SEED_CHARS:
            raise ValueError(f"seed must be at most {MAX_SEED_CHARS} characters")
        try:
            seed.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("seed must be valid Unicode text (no lone surrogates)") from None
    elif seed.bit_length() > 256:
        raise ValueError("seed must fit in 256 bits")
    return seed


class ModelChanges(Protocol):
    """A fake's own change tracking for `--state-dir` (what one request changed, written as it stands)."""

    def take(self) -> tuple[dict[str, Any], list[bytes]] | None: ...

    def replay(self, head: Mapping[str, Any], blobs: bytes) -> None: ...

    def capture(self) -> Iterable[tuple[dict[str, Any], list[bytes]]]: ...


class FakeState:
    service: ClassVar[str] = "fake"
    settings: ClassVar[Sequence[Setting]] = ()
    config_namespace: ClassVar[str | None] = None  # the prefix of its own keys a key may leave out (FakeConfig)
    fault_match_fields: ClassVar[Iterable[str]] = ()
    fault_stages: ClassVar[Sequence[str]] = ("default",)
    secret_fields: ClassVar[Iterable[str]] = ()
    secret_headers: ClassVar[Iterable[str]] = DEFAULT_SECRET_HEADERS

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        clock: SimulatedClock | None = None,
        seed: int | str = 0,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock if clock is not None else SimulatedClock()
        self.config = FakeConfig([*CORE_SETTINGS, *self.settings], config, namespace=self.config_namespace)
        self.seed = seed
        self.masker = SecretMasker(
            secret_values=self.secret_values,
            secret_fields=self.secret_fields,
            secret_headers=self.secret_headers,
        )
        self.journal = RequestJournal(self.config["journal.capacity"])
        self.faults = FaultSet(
            match_fields=self.fault_match_fields,
            stages=self.fault_stages,
            seed=seed,
            max_delay_ms=self.config["faults.max_delay_ms"],
            max_hang_ms=self.config["faults.max_hang_ms"],
        )
        self.durable: Any = None  # a fakes.core.durable.DurableStore under `harness serve --state-dir`
        self.changes: ModelChanges | None = None  # set by a fake that tracks its model's changes itself
        self._pending_reset: dict[str, Any] | None = None
        self._config_dirty = False
        self._snapshot_text: str | None = None

    # -- hooks for subclasses ------------------------------------------------------------------------
    def reset_data(self) -> None:
        """Drop everything recorded (events, profiles, cohorts, counters). Called under `self.lock`."""

    def secret_values(self) -> Iterable[str]:
        """Secret values known right now (tokens, API secrets, keys); masked wherever they appear."""
        return ()

    def rate_limit_fault_response(self) -> tuple[int, Mapping[str, str], bytes | str]:
        """(status, headers, body) of the fake's own 429, used by the `rate_limit` fault action."""
        return 429, {"Content-Type": "application/json"}, '{"error":"rate limited"}'

    def body_limit(self, path: str, content_encoding: str | None) -> int | None:
        """The largest body (decoded bytes) the fake reads on `path`, or None. Under the loopback server a
        larger one is refused as it streams in: the request reaches the fake with an empty body and
        `environ["harness.body_bytes_declared"]` (fakes.core.body_limit), and the fake answers its 413."""
        return None

    def on_config_changed(self, changed: Sequence[str]) -> None:
        """Called (under `self.lock`) after `update_config` changed the given keys."""

    def snapshot_data(self) -> Any:
        """JSON-able model data for `harness serve --state-dir`; None means the fake does not persist data."""
        return None

    def restore_data(self, data: Any) -> None:
        """Load what `snapshot_data` returned (called on a freshly reset state)."""
        raise NotImplementedError(f"{self.service}: restoring saved data is not supported")

    def take_data_changes(self) -> tuple[dict[str, Any], list[bytes]] | None:
        """For `--state-dir`: the model changes since the last call, as (JSON head, blobs), then forget them.
        Called under `self.lock` after every request; None when nothing changed.

        A fake that tracks its own changes sets `self.changes` (a `ModelChanges`), and these three hooks use it.
        Otherwise they serve a fake that only has `snapshot_data`: the whole snapshot, whenever it differs from
        the last one written (a cost that grows with the data)."""
        if self.changes is not None:
            return self.changes.take()
        if not self.supports_snapshot:
            return None
        data = self.snapshot_data()
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        if text == self._snapshot_text:
            return None
        self._snapshot_text = text
        return {"snapshot": data}, []

    def replay_data(self, head: Mapping[str, Any], blobs: bytes) -> None:
        """Apply one `take_data_changes` (or `capture_data`) result again, validating every row: raise
        ValueError naming the bad row."""
        if self.changes is not None:
            self.changes.replay(head, blobs)
            return
        if not self.supports_snapshot or set(head) != {"snapshot"}:
            raise ValueError(f"{self.service}: saved data this fake cannot read")
        self.reset_data()
        self.restore_data(head["snapshot"])
        self._snapshot_text = json.dumps(self.snapshot_data(), separators=(",", ":"), sort_keys=True)

    def capture_data(self) -> Iterable[tuple[dict[str, Any], list[bytes]]]:
        """Records that rebuild the whole model (replayed after a reset). Called under `self.lock`; what it
        returns may be iterated later without the lock, so it must not see later changes."""
        if self.changes is not None:
            return self.changes.capture()
        if not self.supports_snapshot:
            return ()
        return [({"snapshot": json.loads(json.dumps(self.snapshot_data()))}, [])]  # a copy: later changes unseen

    # -- durable state (fakes.core.durable) ----------------------------------------------------------
    def take_record(self) -> tuple[dict[str, Any], list[bytes]] | None:
        """Everything changed since the last call (reset, configuration, model), as one log record."""
        with self.lock:
            head: dict[str, Any] = {}
            if self._config_dirty:
                head["config"] = self.config.as_dict()
                self._config_dirty = False
            if self._pending_reset is not None:
                head["reset"] = self._pending_reset
                self._pending_reset = None
            data = self.take_data_changes()
            blobs: list[bytes] = []
            if data is not None:
                head["data"], blobs = data
            return (head, blobs) if head else None

    def replay_record(self, head: Mapping[str, Any], blobs: bytes) -> None:
        """Apply one record of `take_record` / `capture_records` (configuration, then reset, then data)."""
        unknown = set(head) - {"config", "reset", "data"}
        if unknown:
            raise ValueError(f"unknown record part(s) {', '.join(sorted(unknown))}")
        with self.lock:
            config = head.get("config")
            if config is not None:
                if not isinstance(config, Mapping):
                    raise ValueError("config: not an object")
                self.update_config({k: v for k, v in config.items() if k in self.config})
            reset = head.get("reset")
            if reset is not None:
                seed = reset.get("seed") if isinstance(reset, Mapping) else None
                if not isinstance(seed, (int, str)) or isinstance(seed, bool):
                    raise ValueError("reset: the seed must be an integer or a string")
                self.reset(seed=seed)
            data = head.get("data")
            if data is not None:
                if not isinstance(data, Mapping):
                    raise ValueError("data: not an object")
                self.replay_data(data, blobs)

    def capture_records(self) -> Iterable[tuple[dict[str, Any], list[bytes]]]:
        """The whole state as records (for a rewrite): configuration and seed first, then the model."""
        with self.lock:
            first: tuple[dict[str, Any], list[bytes]] = (
                {"config": self.config.as_dict(), "reset": {"seed": self.seed}}, [])
            data = self.capture_data()
            return itertools.chain([first], (({"data": head}, blobs) for head, blobs in data))

    def commit_changes(self) -> None:
        """After every request: with `--state-dir`, the request's changes are on disk when this returns."""
        durable = self.durable
        if durable is not None:
            durable.commit()

    # -- operations ----------------------------------------------------------------------------------
    def reset(self, *, seed: int | str | None = None) -> None:
        """Clear recorded data, the journal and fault rules.

        Configuration is kept, and so is the clock: it may be shared with other fakes (a `FakeFleet`,
        `harness serve`), so only its owner moves it (`POST /_harness/clock {"mode": "real"}`,
        `FakeFleet.reset()`). A new `seed` replaces the run seed (fault probabilities restart from it).
        An unusable seed raises ValueError before anything is cleared.
        """
        if seed is not None:
            seed = check_seed(seed)
        with self.lock:
            if seed is not None:
                self.seed = seed
            self.journal.clear()
            self.faults.clear()
            self.faults.reseed(self.seed)
            self.reset_data()
            self._pending_reset = {"seed": self.seed}

    def update_config(self, values: Mapping[str, Any]) -> list[str]:
        """Validate and apply configuration (dotted keys or nested objects); returns the changed keys."""
        with self.lock:
            changed = self.config.update(values)
            if "journal.capacity" in changed:
                self.journal.resize(self.config["journal.capacity"])
            self.faults.max_delay_ms = self.config["faults.max_delay_ms"]
            self.faults.max_hang_ms = self.config["faults.max_hang_ms"]
            if changed:
                self._config_dirty = True
                self.on_config_changed(changed)
            return changed

    @property
    def supports_snapshot(self) -> bool:
        return type(self).snapshot_data is not FakeState.snapshot_data

    def snapshot(self) -> dict[str, Any]:
        """Everything `harness serve --state-dir` saves: configuration, seed and (if supported) data."""
        with self.lock:
            data = self.snapshot_data()
            snap = {
                "format": SNAPSHOT_FORMAT,
                "service": self.service,
                "seed": self.seed,
                "config": self.config.as_dict(),
                "data": data,
            }
        try:
            json.dumps(snap)  # fail here, not half-way through writing a file
        except RecursionError:
            raise ValueError(f"{self.service}: the data is nested too deeply to save") from None
        return snap

    def restore(self, snap: Mapping[str, Any]) -> None:
        if not isinstance(snap, Mapping) or snap.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("not a harness state snapshot (unknown format)")
        if snap.get("service") != self.service:
            raise ValueError(f"snapshot is for {snap.get('service')!r}, not {self.service!r}")
        with self.lock:
            saved = snap.get("config") or {}
            # Keys a newer version dropped are skipped rather than failing the whole restore.
            self.update_config({k: v for k, v in saved.items() if k in self.config})
            self.reset(seed=snap.get("seed", self.seed))
            if snap.get("data") is not None:
                self.restore_data(snap["data"])
