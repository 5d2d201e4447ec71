"""Per-event validation and normalisation (mixpanel-ingestion.md §5.2, §5.4–5.7, §5.11, §6).

One pass per event over precomputed tables: `EventRules` is built once per request from the settings
and the project; `EventRules.check(record)` returns a storage `Row` or a `Rejection` naming the first
failing rule in the §5.4 order. On /import, `check` first tries a fast path that only accepts the common
valid event needing no normalisation; everything else goes to the full rule evaluation (`check.full_check`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .decoding import MAX_SAFE_DEPTH, NotJson, deeper_than
from .event_values import exact_json_size, first_bad_utf8_key, stringify_id
from .storage import Row

# §5.4 V5: 1971-01-01T00:00:00Z.
MIN_TIME_MS = 31_536_000_000
# §5.4 V13 identity events.
IDENTITY_EVENTS = frozenset({"$identify", "$create_alias", "$merge"})
_INSERT_ID_FORMAT = re.compile(r"[A-Za-z0-9-]{1,36}").fullmatch
_DAY_MS = 86_400_000


class Rejection:
    """The first failing rule of one record; `key` fills `{key}` in the rule's texts."""

    __slots__ = ("rule_id", "key", "insert_id")

    def __init__(self, rule_id: str, key: str = "", insert_id: str = "") -> None:
        self.rule_id = rule_id
        self.key = key
        self.insert_id = insert_id

    def __repr__(self) -> str:
        return f"Rejection({self.rule_id!r}, {self.key!r})"


@dataclass
class EventRules:
    """Rule tables for one request. `mode` is "import" (V3–V6 fail) or "track" (§6 time rules)."""

    now_ms: int
    strict: bool = True
    mode: str = "import"
    simplified: bool = True
    skip: frozenset[str] = frozenset()
    bad_ids: frozenset[str] = frozenset()
    ms_threshold: float = 1e11
    future_grace_ms: int = 3_600_000
    max_event_bytes: int = 1_048_576
    max_properties: int = 254
    max_object_keys: int = 254
    max_depth: int = 3
    max_array_len: int = 254
    max_string_len: int = 255
    truncate_bytes: bool = False
    check_size: bool = True
    check_utf8: bool = False
    track_max_age_ms: int | None = None  # §6: older rows are kept raw only (or failed when strict)
    track_keep_old: bool = False
    enforce_8kb: bool = False  # §5.2 `import.enforce_8kb`: list/object properties limited to 8 KB
    geo_stub: dict[str, Any] = field(default_factory=dict)
    request_ip: str | None = None  # §5.11: `ip=1` geolocates (stub) and, on /track, hashes into an id
    ingest_properties: dict[str, Any] | None = None
    new_insert_id: Callable[[], str] = lambda: ""

    def __post_init__(self) -> None:
        self._skip_v7 = "V7" in self.skip
        self._skip_v8 = "V8" in self.skip
        self._skip_v9 = "V9" in self.skip
        self._skip_v10 = "V10" in self.skip
        self._skip_v12 = "V12" in self.skip
        self._size_estimate_cap = self.max_event_bytes // 6
        self.check = self._build_check()

    # ------------------------------------------------------------------------------------------
    def _build_check(self) -> Callable[[Any], Row | Rejection]:
        """The per-event function, with every table bound as a closure local (one pass per event)."""
        strict = self.strict
        import_mode = self.mode == "import"
        simplified = self.simplified
        skip_v7, skip_v8, skip_v9, skip_v10 = self._skip_v7, self._skip_v8, self._skip_v9, self._skip_v10
        skip_v12 = self._skip_v12
        bad_ids = self.bad_ids
        threshold = self.ms_threshold
        now_ms = self.now_ms
        latest_ms = now_ms + self.future_grace_ms
        oldest_track_ms = None if self.track_max_age_ms is None else now_ms - self.track_max_age_ms
        track_keep_old = self.track_keep_old
        limit = self.max_string_len
        by_bytes = self.truncate_bytes
        max_props = self.max_properties
        check_utf8 = self.check_utf8
        geo_stub = self.geo_stub
        request_ip = self.request_ip
        ip_distinct = None
        if request_ip and not import_mode:
            ip_distinct = "ip:" + hashlib.sha256(request_ip.encode()).hexdigest()[:16]
        request_geo = geo_stub.get(request_ip) if request_ip else None
        ingest_properties = self.ingest_properties
        new_insert_id = self.new_insert_id
        walk = self._walk
        insert_id_ok = _INSERT_ID_FORMAT
        isfinite = math.isfinite
        # Strings longer than this may need truncation (in bytes mode a 64-char string can pass 255 bytes).
        str_scan = limit // 4 if by_bytes else limit
        missing = _MISSING
        # Without the walk an event has only short names and scalar values: its JSON is at most
        # ~6 bytes per character of a 255-char name and value, or a 4300-digit number, per property.
        # Up to `fast_props` properties it therefore cannot pass the size limit.
        fast_props = min(max_props, self.max_event_bytes // (12 * limit + 4300 + 8)) if self.check_size \
            else max_props

        def full_check(record: Any) -> Row | Rejection:
            if type(record) is not dict:
                return Rejection("V1" if isinstance(record, NotJson) else "V2")
            event = record.get("event")
            if type(event) is not str or not event or event.isspace():
                return Rejection("V2")
            props = record.get("properties")
            if type(props) is not dict:
                return Rejection("V2b")
            raw_insert = props.get("$insert_id")
            report_id = raw_insert if type(raw_insert) is str else ""
            changes: dict[Any, Any] | None = None
            dropped = None

            # --- time (V3–V6, §6) ---
            t = props.get("time", missing)
            tt = type(t)
            if tt is int or (tt is float and isfinite(t)):
                time_ms = int(t * 1000) if -threshold < t < threshold else int(t)
                if import_mode and time_ms < MIN_TIME_MS:
                    return Rejection("V5", insert_id=report_id)
            elif import_mode:
                return Rejection("V3" if t is missing else "V4", insert_id=report_id)
            else:  # §6: missing (or unusable) → receipt time
                time_ms = now_ms
                changes = {"time": now_ms // 1000}
            if time_ms > now_ms:
                if time_ms > latest_ms:
                    return Rejection("V6", insert_id=report_id)
                time_ms = now_ms  # within the grace hour: stored as the receipt time
                changes = changes or {}
                changes["time"] = now_ms // 1000
            if oldest_track_ms is not None and time_ms < oldest_track_ms:
                if strict:
                    return Rejection("V6track", insert_id=report_id)
                if not track_keep_old:
                    dropped = "older_than_5_days"

            # --- distinct id (V7, V8; §5.7 derivation) ---
            distinct = props.get("distinct_id")
            if type(distinct) is str and distinct:
                distinct_id = distinct
                if not skip_v8 and distinct.lower() in bad_ids:
                    return Rejection("V8", insert_id=report_id)
            elif distinct is None or distinct == "":
                derived = None
                if simplified:
                    user_id = props.get("$user_id")
                    device_id = props.get("$device_id")
                    if user_id is not None and user_id != "":
                        derived = stringify_id(user_id)
                    elif device_id is not None and device_id != "":
                        derived = "$device:" + stringify_id(device_id)
                if derived is None and distinct is None and ip_distinct is not None:
                    derived = ip_distinct
                if derived is not None:
                    distinct_id = derived
                    changes = changes or {}
                    changes["distinct_id"] = derived
                elif distinct is None and not skip_v7:
                    return Rejection("V7", insert_id=report_id)
                else:
                    distinct_id = ""
            else:
                distinct_id = stringify_id(distinct)
                if not skip_v8 and distinct_id.lower() in bad_ids:
                    return Rejection("V8", insert_id=report_id)

            # --- $insert_id (V9, V10) ---
            generated = False
            if raw_insert is None:
                if strict and not skip_v9:
                    return Rejection("V9")
                insert_id = new_insert_id()
                generated = True
            elif type(raw_insert) is str:
                if not skip_v10:
                    if not insert_id_ok(raw_insert):
                        return Rejection("V10", insert_id=report_id)
                    if raw_insert.lower() in bad_ids:
                        return Rejection("V10placeholder", insert_id=report_id)
                insert_id = raw_insert
            else:
                if not skip_v10:
                    return Rejection("V10", insert_id=report_id)
                insert_id = stringify_id(raw_insert)

            # --- V11 (only when the body may hold a bad string) ---
            if check_utf8:
                bad_key = first_bad_utf8_key(props)
                if bad_key is not None:
                    return Rejection("V11", bad_key, report_id)

            # --- V12 limits and truncation: the full walk only when something can need it ---
            needs_walk = len(props) > fast_props
            if not needs_walk:
                for k, v in props.items():
                    if len(k) > limit:
                        needs_walk = True
                        break
                    tv = type(v)
                    if tv is str:
                        if len(v) > str_scan:
                            needs_walk = True
                            break
                    elif tv is dict or tv is list:
                        needs_walk = True
                        break
            if needs_walk:
                changes = changes or {}
                problem = walk(props, record, changes)
                if problem is not None:
                    problem.insert_id = report_id
                    if not skip_v12 or deeper_than(props, MAX_SAFE_DEPTH):  # never store absurd nesting
                        return problem

            # --- §5.11 normalisation ---
            if "ip" in props:
                ip = props["ip"]
                changes = changes or {}
                changes["ip"] = _REMOVE
                if type(ip) is str and ip in geo_stub:
                    changes.update(geo_stub[ip])
            elif request_geo:
                changes = changes or {}
                changes.update(request_geo)
            if ingest_properties:
                changes = changes or {}
                changes.update(ingest_properties)
            if "$ignore" in props:
                dropped = "ignore_property"  # V15: counted as imported, absent from the views

            if changes:
                normalised = dict(props)
                for key, value in changes.items():
                    if value is _REMOVE:
                        normalised.pop(key, None)
                    elif type(key) is tuple:  # a renamed (truncated) key
                        normalised.pop(key[0], None)
                        normalised[key[1]] = value
                    else:
                        normalised[key] = value
            else:
                normalised = props
            return Row(None, event, distinct_id, time_ms, insert_id, generated, normalised, props, dropped)

        # Fast path for the common valid event: integer seconds in range, non-empty string distinct_id and
        # $insert_id, short names, short scalar values, nothing to normalise. It only accepts events that
        # `full_check` stores unchanged, with the same Row; anything else (including every rejection) goes
        # to `full_check`, so error texts and the rule order come from one place.
        fast_enabled = import_mode and oldest_track_ms is None and not check_utf8 and not request_geo \
            and not ingest_properties
        # §5.6 seconds branch, V5 and "not in the future" as an integer range of seconds (exact:
        # MIN_TIME_MS is a whole second and t * 1000 <= now_ms ⇔ t <= now_ms // 1000).
        lo_s = -(-MIN_TIME_MS // 1000)
        hi_s = now_ms // 1000
        if not hi_s < threshold:  # the range would reach the milliseconds branch
            fast_enabled = False
        if not fast_enabled:
            return full_check

        def check(record: Any) -> Row | Rejection:
            if type(record) is dict:
                props = record.get("properties")
                event = record.get("event")
                if type(props) is dict and type(event) is str and event and not event.isspace() \
                        and len(props) <= fast_props:
                    t = props.get("time")
                    distinct = props.get("distinct_id")
                    insert_id = props.get("$insert_id")
                    if type(t) is int and lo_s <= t <= hi_s and type(distinct) is str and distinct \
                            and type(insert_id) is str and insert_id_ok(insert_id) \
                            and distinct.lower() not in bad_ids and insert_id.lower() not in bad_ids \
                            and "ip" not in props and "$ignore" not in props:
                        for k, v in props.items():
                            if len(k) > limit:
                                break
                            tv = type(v)
                            if tv is str:
                                if len(v) > str_scan:
                                    break
                            elif tv is dict or tv is list:
                                break
                        else:
                            return Row(None, event, distinct, t * 1000, insert_id, False, props, props, None)
            return full_check(record)

        check.full_check = full_check  # type: ignore[attr-defined]  # for tests: the reference path
        return check

    # ------------------------------------------------------------------------------------------
    def _walk(self, props: dict[str, Any], record: dict[str, Any], changes: dict[Any, Any]) -> Rejection | None:
        """V12 checks (size, count, nesting, arrays) and 255-limit truncation of names and strings.
        Truncations go into `changes`; the first V12 failure (in the documented order) is returned."""
        limit = self.max_string_len
        by_bytes = self.truncate_bytes
        size = 16 + len(record.get("event", ""))
        nested_problem: Rejection | None = None
        for key, value in props.items():
            tv = type(value)
            size += len(key) + 4
            new_value: Any = _SAME
            if tv is str:
                n = len(value)
                size += n
                if n > limit or (by_bytes and n * 4 > limit and len(value.encode("utf-8", "surrogatepass")) > limit):
                    new_value = self._truncate(value)
            elif tv is dict or tv is list:
                walked, nsize, issue = self._nested(value, 1)
                size += nsize
                if issue is None and self.enforce_8kb and exact_json_size(value) > 8192:
                    issue = "V12eightkb"
                if issue is not None and nested_problem is None:
                    nested_problem = Rejection(issue, key)
                if walked is not value:
                    new_value = walked
            elif tv is int:
                size += value.bit_length() // 3 + 2
            else:
                size += 24
            if len(key) > limit:
                changes[(key, self._truncate(key))] = value if new_value is _SAME else new_value
            elif new_value is not _SAME:
                changes[key] = new_value
        if self.check_size and size > self._size_estimate_cap and exact_json_size(record) > self.max_event_bytes:
            return Rejection("V12size")
        if len(props) > self.max_properties:
            return Rejection("V12count")
        return nested_problem

    def _nested(self, value: Any, depth: int) -> tuple[Any, int, str | None]:
        """(value with long strings truncated, approximate JSON size, V12 sub-rule or None)."""
        if depth > self.max_depth:
            return value, 2, "V12nested"
        limit = self.max_string_len
        size = 2
        issue: str | None = None
        if type(value) is dict:
            if len(value) > self.max_object_keys:
                issue = "V12nested"
            out: dict[str, Any] | None = None
            for k, v in value.items():
                nv, vsize, sub = self._leaf(v, depth)
                size += len(k) + 4 + vsize
                if issue is None and sub is not None:
                    issue = sub
                nk = self._truncate(k) if len(k) > limit else k
                if nv is not v or nk is not k:
                    if out is None:
                        out = dict(value)
                    if nk is not k:
                        out.pop(k, None)
                    out[nk] = nv
            return (out if out is not None else value), size, issue
        if len(value) > self.max_array_len:
            issue = "V12array"
        out_list: list[Any] | None = None
        for i, v in enumerate(value):
            nv, vsize, sub = self._leaf(v, depth)
            size += vsize + 1
            if issue is None and sub is not None:
                issue = sub
            if nv is not v:
                if out_list is None:
                    out_list = list(value)
                out_list[i] = nv
        return (out_list if out_list is not None else value), size, issue

    def _leaf(self, v: Any, depth: int) -> tuple[Any, int, str | None]:
        tv = type(v)
        if tv is str:
            n = len(v)
            if n > self.max_string_len or (
                    self.truncate_bytes and len(v.encode("utf-8", "surrogatepass")) > self.max_string_len):
                return self._truncate(v), n + 2, None
            return v, n + 2, None
        if tv is dict or tv is list:
            return self._nested(v, depth + 1)
        if tv is int:
            return v, v.bit_length() // 3 + 2, None
        return v, 24, None

    def _truncate(self, s: str) -> str:
        """§5.2: 255 characters, or 255 bytes cut on a UTF-8 boundary (`import.truncate_unit`)."""
        limit = self.max_string_len
        if not self.truncate_bytes:
            return s[:limit]
        data = s.encode("utf-8", "surrogatepass")[:limit]
        return data.decode("utf-8", "ignore")


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_MISSING = _Sentinel("MISSING")
_REMOVE = _Sentinel("REMOVE")
_SAME = _Sentinel("SAME")

