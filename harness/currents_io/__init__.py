"""Reading Currents records in every shape Braze produces (currents-to-mixpanel.md §1).

    from harness.currents_io import CurrentsReader, normalise_record, read_records

    for record, size in CurrentsReader.from_path("events.ndjson"):   # avro / json / ndjson, auto-detected
        ...                                                          # record: flat dict with `event_type`

`normalise_record(record, type_id=None)` turns a Custom HTTP event or a storage-JSON record (Avro-JSON
unions) into the flat form the mapping reads; `to_custom_http(record)` goes the other way;
`CurrentsInputError` is the one error for unreadable input.
"""

from harness.currents_io.custom_http import to_custom_http
from harness.currents_io.normalise import (
    TYPE_KEY,
    is_custom_http_event,
    normalise_custom_http,
    normalise_record,
    normalise_storage_record,
    unwrap_storage_json,
)
from harness.currents_io.readers import (
    FORMATS,
    CurrentsInputError,
    CurrentsReader,
    detect_format,
    iter_ndjson,
    ndjson_chunks,
    read_records,
)

__all__ = [
    "FORMATS", "TYPE_KEY", "CurrentsInputError", "CurrentsReader", "detect_format", "is_custom_http_event",
    "iter_ndjson", "ndjson_chunks",
    "normalise_custom_http", "normalise_record", "normalise_storage_record", "read_records", "to_custom_http",
    "unwrap_storage_json",
]
