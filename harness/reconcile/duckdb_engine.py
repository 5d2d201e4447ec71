"""The default engine: both staged sides loaded into an embedded DuckDB database, joined and counted in SQL.

The database is in memory, with a memory limit and the run's temporary directory as DuckDB's spill space,
so a side of tens of millions of events is joined within bounded memory. Only the pairs whose canonical
property JSON differs come back to Python (streamed in batches), where the property
diff with the float tolerance of currents-to-mixpanel.md §1 decides between `matched` and `mismatched`;
samples are fetched with LIMIT.

Dedup rules (mixpanel-ingestion.md §10): both sides are grouped by the dedup key; a row without
`$insert_id` is never deduplicated. Copies in the export beyond those the Currents side explains are
`duplicates` (Currents is at-least-once: a record delivered twice may arrive twice; repeated Currents
records are reported as input facts). A group's properties are compared as the set of its distinct
property objects, carried through the join as the least and greatest 64-bit hash of their canonical JSON
(only hashes, to keep the join small): exact for the one or two variants a dedup key carries in practice
(identical redeliveries; Braze's samples share one id across types whose Mixpanel names coincide).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from harness.reconcile.properties import property_differences, variant_differences
from harness.reconcile.result import Tally
from harness.reconcile.samples import duplicate_sample, key_sample, mismatch_sample, source_of
from harness.reconcile.staging import STAGING_COLUMNS, decode_field

DEFAULT_MEMORY_LIMIT = "2GB"
FETCH_ROWS = 10_000
MAX_LINE_BYTES = 8 << 20  # a staged line holds one event's properties (Mixpanel caps an event at 1 MB)
# DuckDB's CSV reader buffers 16 x max_line_size by default, capped at the file's size: set it, or a large
# staging file is read in one block as large as the memory limit.
CSV_BUFFER_BYTES = 4 * MAX_LINE_BYTES

_JOIN = """
CREATE TABLE joined AS
WITH x AS (
    SELECT e, d, t, i, min(n) AS n, count(*) AS copies, min(hash(p)) AS lo, max(hash(p)) AS hi
    FROM expected GROUP BY e, d, t, i
), m AS (
    SELECT e, d, t, coalesce(i, '#' || n) AS k, max(n) AS n, count(*) AS copies, min(hash(p)) AS lo,
           max(hash(p)) AS hi
    FROM found GROUP BY e, d, t, coalesce(i, '#' || n)
)
SELECT coalesce(x.e, m.e) AS e, x.n AS xn, m.n AS mn, coalesce(x.copies, 0) AS xcopies,
       coalesce(m.copies, 0) AS mcopies,
       (x.n IS NOT NULL AND m.n IS NOT NULL AND (x.lo <> m.lo OR x.hi <> m.hi)) AS differ
FROM x FULL OUTER JOIN m ON x.e = m.e AND x.d = m.d AND x.t = m.t AND x.i = m.k
"""

# Copies beyond those the Currents side explains (a record Braze delivered twice may arrive twice).
_COUNTS = """
SELECT e,
       count(*) FILTER (WHERE xn IS NOT NULL AND mn IS NOT NULL AND NOT differ) AS same,
       count(*) FILTER (WHERE mn IS NULL) AS missing,
       count(*) FILTER (WHERE xn IS NULL) AS extra,
       coalesce(sum(greatest(mcopies - greatest(xcopies, 1), 0)), 0) AS duplicates,
       coalesce(sum(greatest(xcopies - 1, 0)), 0) AS repeated
FROM joined GROUP BY e ORDER BY e
"""

_DIFFERING = """
SELECT x.e, x.d, x.t, x.i, x.f, x.r, x.p, m.f, m.r, m.p, j.xcopies, j.mcopies
FROM joined j JOIN expected x ON x.n = j.xn JOIN found m ON m.n = j.mn
WHERE j.differ ORDER BY j.xn
"""

_MISSING = """
SELECT x.e, x.d, x.t, x.i, x.f, x.r FROM joined j JOIN expected x ON x.n = j.xn
WHERE j.mn IS NULL ORDER BY j.xn LIMIT ?
"""

_EXTRA = """
SELECT m.e, m.d, m.t, m.i, m.f, m.r FROM joined j JOIN found m ON m.n = j.mn
WHERE j.xn IS NULL ORDER BY j.mn LIMIT ?
"""

_DUPLICATED = """
SELECT m.e, m.d, m.t, m.i, j.mcopies, j.xcopies FROM joined j JOIN found m ON m.n = j.mn
WHERE j.mcopies > greatest(j.xcopies, 1) ORDER BY j.mn LIMIT ?
"""

_COPIES = "SELECT f, r FROM found WHERE e = ? AND d = ? AND t = ? AND i = ? ORDER BY n"
_VARIANTS = "SELECT DISTINCT p FROM {table} WHERE e = ? AND d = ? AND t = ? AND i = ? ORDER BY p"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_staging(paths: Sequence[Path]) -> str:
    columns = ", ".join(f"{name}: '{kind}'" for name, kind in STAGING_COLUMNS)
    files = "[" + ", ".join(_sql_string(str(path)) for path in paths) + "]"
    return (f"read_csv({files}, delim='\t', quote='', escape='', header=false, "
            f"auto_detect=false, columns={{{columns}}}, max_line_size={MAX_LINE_BYTES}, "
            f"buffer_size={CSV_BUFFER_BYTES})")


def _key_sample(row: Sequence[Any], side: str, files: Sequence[str]) -> dict[str, Any]:
    event, distinct_id, moment, insert_id, file_index, number = row[:6]
    return key_sample(decode_field(event), decode_field(distinct_id), moment, decode_field(insert_id),
                      source_of(side, files[file_index], number))


def _variant_differences(con: Any, row: Sequence[Any], tolerance: float) -> dict[str, Any]:
    """The property variants of one dedup key on both sides, compared as sets (rare: several copies)."""
    key = list(row[:4])
    loads = orjson.loads
    expected = [loads(p) for (p,) in con.execute(_VARIANTS.format(table="expected"), key).fetchall()]
    found = [loads(p) for (p,) in con.execute(_VARIANTS.format(table="found"), key).fetchall()]
    return variant_differences(expected, found, tolerance)


class DuckDBEngine:
    """Loads the two staging files, joins them by the dedup key, and counts the buckets into a `Tally`."""

    name = "duckdb"

    def __init__(self, workdir: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None) -> None:
        self.workdir = workdir
        self.memory_limit = memory_limit
        self.threads = threads
        self.repeated_currents_records = 0

    def compare(self, expected: Sequence[Path], found: Sequence[Path], tally: Tally, expected_files: Sequence[str],
                found_files: Sequence[str], tolerance: float) -> None:
        import duckdb  # only when this engine runs: the CLI starts without it

        spill = self.workdir / "spill"
        spill.mkdir(exist_ok=True)
        # In memory, but spilling to the run's directory past the limit: several times faster than a
        # database file, which writes every loaded table out again at checkpoints.
        with duckdb.connect(":memory:") as con:
            con.execute(f"SET memory_limit = {_sql_string(self.memory_limit)}")
            con.execute(f"SET temp_directory = {_sql_string(str(spill))}")
            con.execute("SET preserve_insertion_order = false")
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            con.execute(f"CREATE TABLE expected AS SELECT * FROM {_read_staging(expected)}")
            con.execute(f"CREATE TABLE found AS SELECT * FROM {_read_staging(found)}")
            for path in (*expected, *found):
                path.unlink()  # loaded: the staged copy only takes disk space now
            con.execute(_JOIN)
            self._count(con, tally)
            self._compare_properties(con, tally, expected_files, found_files, tolerance)
            self._samples(con, tally, expected_files, found_files)

    def _count(self, con: Any, tally: Tally) -> None:
        for event, same, missing, extra, duplicates, repeated in con.execute(_COUNTS).fetchall():
            name = decode_field(event)
            for bucket, count in (("matched", same), ("missing", missing), ("extra", extra),
                                  ("duplicates", duplicates)):
                if count:
                    tally.add(bucket, name, int(count))
            self.repeated_currents_records += int(repeated)

    def _compare_properties(self, con: Any, tally: Tally, expected_files: Sequence[str],
                            found_files: Sequence[str], tolerance: float) -> None:
        """Pairs whose property JSON differs: a real difference, or only float noise within the tolerance."""
        cursor = con.execute(_DIFFERING)
        loads = orjson.loads
        while rows := cursor.fetchmany(FETCH_ROWS):
            for row in rows:
                name = decode_field(row[0])
                differences = property_differences(loads(row[6]), loads(row[9]), tolerance)
                if not differences and (row[10] > 1 or row[11] > 1):  # several copies: compare every variant
                    differences = _variant_differences(con, row, tolerance)
                if not differences:
                    tally.add("matched", name)
                    continue
                tally.add("mismatched", name)
                if tally.wants_sample("mismatched"):
                    tally.sample("mismatched", mismatch_sample(
                        name, decode_field(row[1]), row[2], decode_field(row[3]),
                        source_of("currents", expected_files[row[4]], row[5]),
                        source_of("mixpanel", found_files[row[7]], row[8]), differences))

    def _samples(self, con: Any, tally: Tally, expected_files: Sequence[str], found_files: Sequence[str]) -> None:
        limit = tally.sample_limit
        for row in con.execute(_MISSING, [limit]).fetchall():
            tally.sample("missing", _key_sample(row, "currents", expected_files))
        for row in con.execute(_EXTRA, [limit]).fetchall():
            tally.sample("extra", _key_sample(row, "mixpanel", found_files))
        for event, distinct_id, moment, insert_id, copies, explained in con.execute(_DUPLICATED, [limit]).fetchall():
            lines = con.execute(_COPIES, [event, distinct_id, moment, insert_id]).fetchall()
            tally.sample("duplicates", duplicate_sample(
                decode_field(event), decode_field(distinct_id), moment, decode_field(insert_id), int(copies),
                int(explained), [{"file": found_files[f], "line": r} for f, r in lines]))
