"""Read Currents records from files or streams in every shape Braze produces (currents-to-mixpanel.md §1).

Formats, detected from the content (the file name only helps to name the type of storage records):

* `avro`   - an Avro object container (magic `Obj\\x01`); the type id comes from the writer schema's name.
* `json`   - one JSON document: a Custom HTTP event, an array of events, a Custom HTTP batch
             `{"events": [...]}`, or a storage-JSON record (type from its `event_type` key or the file stem,
             e.g. `users.behaviors.CustomEvent.json`).
* `ndjson` - one JSON object per line, each of any of the shapes above.

Every record comes out normalised (see `harness.currents_io.normalise`; with `flatten_custom_http=False`
records stay as parsed, which `map_currents_event(..., storage_json=True)` reads directly) with its size
when the reader knows it (NDJSON line length), for the mapping's E12 oversize rule. A malformed NDJSON line
is recorded in `CurrentsReader.malformed` and yielded as `None` (counted, never a crash); a file that is
none of the formats raises `CurrentsInputError` with one clear line.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from harness.catalog import load_catalog, type_id_from_avro_name
from harness.currents_io.normalise import TYPE_KEY, is_custom_http_event, normalise_record

AVRO_MAGIC = b"Obj\x01"
FORMATS = ("avro", "json", "ndjson")
_MAX_REPORTED_LINES = 5


class CurrentsInputError(ValueError):
    """An input that cannot be read at all (missing, unreadable, not a Currents format); one clear line."""


def detect_format(head: bytes, whole: bytes | None = None) -> str:
    """`avro` by magic bytes; `json` if the whole text is one JSON document; else `ndjson`."""
    if head.startswith(AVRO_MAGIC):
        return "avro"
    if whole is not None:
        try:
            orjson.loads(whole)
            return "json"
        except orjson.JSONDecodeError:
            return "ndjson"
    return "ndjson"


def _stem_type(name: str | None) -> str | None:
    """`.../users.behaviors.CustomEvent.json` -> the type id, when the stem is a catalog type."""
    if not name:
        return None
    stem = Path(name).name
    for suffix in (".ndjson", ".jsonl", ".json", ".avro"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem if stem in load_catalog() else None


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CurrentsInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CurrentsInputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise CurrentsInputError(f"{path}: cannot read ({exc.strerror or exc})") from None


class CurrentsReader:
    """Iterate `(record, size)` pairs from one source. `record` is a normalised flat record, or None for a
    malformed NDJSON line (then listed in `.malformed` as `(line number, message)`)."""

    def __init__(self, data: bytes | bytearray | memoryview | str | os.PathLike[str], name: str | None = None, *,
                 flatten_custom_http: bool = True) -> None:
        """`data` is the input's bytes, or the path of a file to read (a `str` or `Path`: JSON text is
        given as bytes). `name` names the input in messages (default: the path, or `<stdin>`)."""
        if isinstance(data, (str, os.PathLike)):
            name = name if name is not None else str(data)
            data = _read_file(Path(data))
        elif not isinstance(data, bytes):
            if not isinstance(data, (bytearray, memoryview)):
                raise TypeError(f"CurrentsReader takes bytes or a path, got {type(data).__name__}")
            data = bytes(data)
        name = name if name is not None else "<stdin>"
        self.name = name
        # False: records are yielded as parsed (Custom HTTP events untouched, storage-JSON unions still
        # wrapped, `event_type` added from the file name when missing); `map_currents_event(...,
        # storage_json=True)` reads them directly, which is much faster than normalising first.
        self.flatten_custom_http = flatten_custom_http
        self.data = data
        self.type_hint = _stem_type(name)
        self._document_value: Any = None
        if data.startswith(AVRO_MAGIC):
            self.format = "avro"
        else:
            try:  # one JSON document? (fails fast on NDJSON: right after the first line)
                self._document_value = orjson.loads(data)
                self.format = "json"
            except orjson.JSONDecodeError:
                self.format = "ndjson"
        self.malformed: list[tuple[int, str]] = []
        self.malformed_count = 0
        if self.format == "ndjson":
            self._check_first_line()
        self._avro_reader = self._open_avro() if self.format == "avro" else None

    def _open_avro(self) -> Any:
        """Read the Avro header now, so a broken file fails before any record is produced."""
        import fastavro  # only for Avro input: it is slow to import

        try:
            return fastavro.reader(io.BytesIO(self.data))
        except Exception as exc:  # fastavro raises many types for a broken header
            raise CurrentsInputError(f"{self.name}: not a readable Avro file ({exc})") from None

    def _check_first_line(self) -> None:
        """Whole-file errors are found before any record is produced: the first non-blank line of NDJSON
        must be JSON, otherwise the input is none of the formats."""
        data, start, number = self.data, 0, 1
        while start < len(data) and data[start] in b" \t\r\n\f\v":
            number += data[start] == 0x0A
            start += 1
        end = data.find(b"\n", start)
        first = data[start:end if end >= 0 else len(data)]
        if first.strip():
            try:
                orjson.loads(first)
            except orjson.JSONDecodeError as exc:
                raise CurrentsInputError(f"{self.name}: not JSON, NDJSON or Avro (line {number}: {exc})") from None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **options: Any) -> CurrentsReader:
        return cls(Path(path), str(path), **options)

    @classmethod
    def from_stream(cls, stream: BinaryIO, name: str = "<stdin>", **options: Any) -> CurrentsReader:
        return cls(stream.read(), name, **options)

    @property
    def is_empty(self) -> bool:
        """Nothing but white space: no record at all."""
        return not self.data.strip()

    def looks_like_mixpanel_events(self) -> bool:
        """The first record has Mixpanel's event shape, `{"event": name, "properties": {...}}`, and no Currents
        type: Mixpanel events (the harness's own mapped output, say) given where Currents events are read."""
        first: Any = None
        if self.format == "json":
            document = self._document_value
            first = document[0] if type(document) is list and document else document
        elif self.format == "ndjson":
            for line in self.data[:65536].splitlines():
                if line.strip():
                    try:
                        first = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        return False
                    break
        return (type(first) is dict and type(first.get("event")) is str and type(first.get("properties")) is dict
                and TYPE_KEY not in first and "type" not in first)

    @property
    def may_hold_unions(self) -> bool:
        """Records may still carry Avro-JSON union wrappers (raw mode, JSON text input)."""
        return not self.flatten_custom_http and self.format != "avro"

    def __iter__(self) -> Iterator[tuple[Any, int | None]]:
        if self.format == "avro":
            return self._avro()
        if self.format == "json":
            return self._document()
        return self._ndjson()

    # --- formats -----------------------------------------------------------------------------------------

    def _avro(self) -> Iterator[tuple[Any, int | None]]:
        reader = self._avro_reader if self._avro_reader is not None else self._open_avro()
        self._avro_reader = None
        schema = reader.writer_schema
        full_name = schema.get("name", "") if isinstance(schema, dict) else ""
        if full_name and "." not in full_name and schema.get("namespace"):  # name and namespace given apart
            full_name = f"{schema['namespace']}.{full_name}"
        type_id = type_id_from_avro_name(full_name) if full_name else self.type_hint
        count = 0
        try:
            for record in reader:
                count += 1
                if type(record) is dict:
                    record[TYPE_KEY] = type_id
                yield record, None
        except Exception as exc:
            raise CurrentsInputError(f"{self.name}: corrupt Avro data after {count} record(s) ({exc})") from None

    def _items_of(self, document: Any) -> list[Any]:
        if type(document) is list:
            return document
        if type(document) is dict:
            events = document.get("events")
            if type(events) is list and not is_custom_http_event(document) and TYPE_KEY not in document:
                return events
            return [document]
        raise CurrentsInputError(
            f"{self.name}: expected a JSON object, an array of events or {{\"events\": [...]}}, "
            f"got a JSON {type(document).__name__}"
        )

    def _document(self) -> Iterator[tuple[Any, int | None]]:
        document, self._document_value = self._document_value, None
        hint = self.type_hint
        raw = not self.flatten_custom_http
        for item in self._items_of(document):
            if raw and type(item) is dict:
                if hint is not None and TYPE_KEY not in item and type(item.get("user")) is not dict:
                    item[TYPE_KEY] = hint
                yield item, None
            else:
                yield normalise_record(item, hint), None

    def _ndjson(self) -> Iterator[tuple[Any, int | None]]:
        return iter_ndjson(self.data, type_hint=self.type_hint, raw=not self.flatten_custom_http,
                           on_malformed=self._bad_line)

    def note_malformed(self, lines: list[tuple[int, str]], count: int) -> None:
        """Record malformed lines found elsewhere (e.g. by worker processes mapping chunks of this input)."""
        self.malformed_count += count
        self.malformed.extend(lines[: max(0, _MAX_REPORTED_LINES - len(self.malformed))])

    def _bad_line(self, number: int, message: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < _MAX_REPORTED_LINES:
            self.malformed.append((number, message))


def iter_ndjson(
    data: bytes,
    *,
    first_line: int = 1,
    type_hint: str | None = None,
    raw: bool = False,
    on_malformed: Callable[[int, str], None] | None = None,
) -> Iterator[tuple[Any, int | None]]:
    """`(record, size)` per non-blank line of NDJSON `data` (line numbers start at `first_line`).
    A malformed line yields `(None, None)` and is reported through `on_malformed(number, message)`.
    `raw=True` keeps records as parsed (see `CurrentsReader`), else they are normalised."""
    loads = orjson.loads
    normalise = normalise_record
    for number, line in enumerate(data.splitlines(), start=first_line):
        if not line or line.isspace():
            continue
        try:
            item = loads(line)
        except orjson.JSONDecodeError as exc:
            if on_malformed is not None:
                on_malformed(number, str(exc))
            yield None, None
            continue
        if type(item) is not dict:
            if on_malformed is not None:
                on_malformed(number, f"expected a JSON object, got {type(item).__name__}")
            yield None, None
            continue
        if raw:
            if type_hint is not None and TYPE_KEY not in item and type(item.get("user")) is not dict:
                item[TYPE_KEY] = type_hint
            yield item, len(line)
        else:
            yield normalise(item, type_hint), len(line)


def ndjson_chunks(data: bytes, target_bytes: int) -> Iterator[tuple[int, int, int]]:
    """Split NDJSON into `(start, end, first line number)` ranges of about `target_bytes`, on line ends."""
    start, line, size = 0, 1, len(data)
    while start < size:
        end = data.find(b"\n", min(start + target_bytes, size - 1))
        end = size if end < 0 else end + 1
        yield start, end, line
        line += data.count(b"\n", start, end)
        start = end


def read_records(path: str | os.PathLike[str]) -> list[Any]:
    """All normalised records of one file (convenience for tests and small inputs)."""
    return [record for record, _size in CurrentsReader.from_path(path)]
