"""`--engine dask`: the same stages on a Dask cluster, beyond one machine (issue 11 §5).

Optional (`pip install '.[dask]'`), imported only when chosen. The mapping runs as the same pure function,
one task per Currents file (`map_currents_file`, as in the DuckDB engine's workers, rather than
`dask.bag.read_avro`, which loses which file and schema a record came from: the type may come from the
path, and samples name their file), each task yielding a pandas partition; each export file is one task
too. Both sides are grouped by the dedup key and joined by a dataframe merge; the buckets are counted per
partition and summed. The rules are those of `duckdb_engine` (dedup, duplicates beyond what Currents
explains, property variants by a 64-bit hash of their canonical JSON), so both engines give equal results.

`scheduler` is a distributed scheduler's address (`tcp://host:8786`); without one, Dask's local
multi-process scheduler runs the tasks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from harness.mapping import MappingConfig
from harness.reconcile.errors import ReconcileInputError
from harness.reconcile.expected import ExpectedSide, map_currents_file
from harness.reconcile.found import FoundSide, stage_export_file
from harness.reconcile.layout import CurrentsFile
from harness.reconcile.properties import property_differences, variant_differences
from harness.reconcile.result import Tally
from harness.reconcile.samples import duplicate_sample, key_sample, mismatch_sample, source_of
from harness.reconcile.staging import canonical_json, event_number, event_source
from harness.reconcile.window import TimeWindow

MISSING_DASK = "--engine dask needs Dask: pip install 'braze-mixpanel-harness[dask]' (dask[dataframe], distributed)"
KEY = ["e", "d", "t", "i"]
_COLUMNS = ("n", "e", "d", "t", "i", "h", "p")


class FrameSink:
    """Collects a partition's events as columns (the Dask engine's `EventSink`)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}

    def add(self, file_index: int, record: int, event: str, distinct_id: str, time_ms: int,
            insert_id: str | None, properties: dict[str, Any]) -> None:
        text = canonical_json(properties)
        columns = self.columns
        columns["n"].append(event_number(file_index, record))
        columns["e"].append(event)
        columns["d"].append(distinct_id)
        columns["t"].append(time_ms)
        columns["i"].append(insert_id)
        columns["h"].append(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little", signed=True))
        columns["p"].append(text.decode("utf-8"))

    def frame(self) -> Any:
        import pandas

        return pandas.DataFrame({
            name: pandas.Series(values, dtype="int64" if name in ("n", "t", "h") else object)
            for name, values in self.columns.items()})


def _currents_part(index: int, source: CurrentsFile, config: MappingConfig, window: TimeWindow,
                   sample_limit: int) -> tuple[Any, ExpectedSide]:
    sink = FrameSink()
    side = map_currents_file(index, source, config, window, sink, sample_limit)
    return sink.frame(), side


def _export_part(index: int, path: Path, window: TimeWindow, sample_limit: int) -> tuple[Any, FoundSide]:
    sink = FrameSink()
    side = FoundSide(Tally(sample_limit=sample_limit))
    stage_export_file(index, path, window, sink, side)
    return sink.frame(), side


def _group_partition(frame: Any, first: str) -> Any:
    grouped = frame.groupby(KEY, sort=False).agg(n=("n", first), copies=("n", "count"), lo=("h", "min"),
                                                 hi=("h", "max"))
    return grouped.reset_index()


def _grouped(rows: Any, first: str) -> Any:
    """One row per dedup key: its `n` (first or last copy), copies, least and greatest property hash. Rows
    are shuffled by key first, so each key's copies meet in one partition."""
    meta = _group_partition(rows._meta, first)
    return rows.shuffle(on=KEY).map_partitions(_group_partition, first, meta=meta)


def _bucket_counts(frame: Any) -> Any:
    """Per event name: matched (same hashes), differing, missing, extra, duplicates, repeated Currents records."""
    import pandas

    both = frame["_merge"] == "both"
    differ = both & ((frame["lo_x"] != frame["lo_m"]) | (frame["hi_x"] != frame["hi_m"]))
    xcopies = frame["copies_x"].fillna(0).astype("int64")
    mcopies = frame["copies_m"].fillna(0).astype("int64")
    counts = pandas.DataFrame({
        "e": frame["e"], "same": (both & ~differ).astype("int64"), "differ": differ.astype("int64"),
        "missing": (frame["_merge"] == "left_only").astype("int64"),
        "extra": (frame["_merge"] == "right_only").astype("int64"),
        "duplicates": (mcopies - xcopies.clip(lower=1)).clip(lower=0),
        "repeated": (xcopies - 1).clip(lower=0)})
    return counts.groupby("e").sum()


class DaskEngine:
    """Runs both sides and the join on Dask; fills the same Tally as `DuckDBEngine`."""

    name = "dask"

    def __init__(self, scheduler: str | None = None) -> None:
        self.scheduler = scheduler
        self.repeated_currents_records = 0

    def run(self, currents_files: list[CurrentsFile], export_files: list[Path], config: MappingConfig,
            window: TimeWindow, sample_limit: int) -> tuple[ExpectedSide, FoundSide, Tally]:
        """Both sides' counts and the tally of every bucket (samples in the same order as DuckDB's)."""
        try:
            import dask
            import dask.dataframe  # the dataframe collection must be importable
        except ImportError:
            raise ReconcileInputError(MISSING_DASK) from None
        if self.scheduler is None:
            with dask.config.set(scheduler="processes"):
                return self._run(currents_files, export_files, config, window, sample_limit)
        try:
            from distributed import Client
        except ImportError:
            raise ReconcileInputError(MISSING_DASK) from None
        try:
            client = Client(self.scheduler, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise ReconcileInputError(
                f"--scheduler {self.scheduler}: cannot reach the Dask scheduler ({exc})") from None
        with client, dask.config.set(scheduler=client):
            return self._run(currents_files, export_files, config, window, sample_limit)

    def _run(self, currents_files: list[CurrentsFile], export_files: list[Path], config: MappingConfig,
             window: TimeWindow, sample_limit: int) -> tuple[ExpectedSide, FoundSide, Tally]:
        import dask
        import dask.dataframe as dd
        from dask import delayed

        meta = FrameSink().frame()
        expected_parts = [delayed(_currents_part)(i, f, config, window, sample_limit)
                          for i, f in enumerate(currents_files)]
        found_parts = [delayed(_export_part)(i, p, window, sample_limit) for i, p in enumerate(export_files)]
        # Run every file's task once and keep its (frame, counts) where it ran; the rest reads from there.
        parts = dask.persist(*expected_parts, *found_parts)
        first, second = itemgetter(0), itemgetter(1)
        expected_rows = dd.from_delayed([delayed(first)(p) for p in parts[:len(expected_parts)]], meta=meta)
        found_rows = dd.from_delayed([delayed(first)(p) for p in parts[len(expected_parts):]], meta=meta)
        sides = dask.compute(*[delayed(second)(p) for p in parts])
        expected_side = ExpectedSide(Tally(sample_limit=sample_limit))
        found_side = FoundSide(Tally(sample_limit=sample_limit))
        for side in sides:  # in input order: the first samples stay first
            (expected_side if isinstance(side, ExpectedSide) else found_side).merge(side)
        # A row without $insert_id is never deduplicated: it gets a key of its own.
        found_rows = found_rows.assign(
            i=found_rows["i"].where(~found_rows["i"].isna(), "#" + found_rows["n"].astype(str)))
        joined = _grouped(expected_rows, "min").merge(_grouped(found_rows, "max"), how="outer", on=KEY,
                                                       suffixes=("_x", "_m"), indicator=True)
        both = joined["_merge"] == "both"
        differ = both & ((joined["lo_x"] != joined["lo_m"]) | (joined["hi_x"] != joined["hi_m"]))
        over = joined["copies_m"].fillna(0) > joined["copies_x"].fillna(0).clip(lower=1)
        counts, differing, missing, extra, duplicated = dask.compute(
            joined.map_partitions(_bucket_counts), joined[differ],
            joined[joined["_merge"] == "left_only"].nsmallest(sample_limit, "n_x"),
            joined[joined["_merge"] == "right_only"].nsmallest(sample_limit, "n_m"),
            joined[over].nsmallest(sample_limit, "n_m"))
        differing = differing.sort_values("n_x")
        keys = differing[KEY]
        duplicate_keys = duplicated[KEY]
        expected_copies, found_copies, duplicate_copies = dask.compute(
            expected_rows.merge(keys, on=KEY), found_rows.merge(keys, on=KEY),
            found_rows.merge(duplicate_keys, on=KEY))
        tally = Tally(sample_limit=sample_limit)
        tally.merge(expected_side.tally)
        tally.merge(found_side.tally)
        self._fill(tally, counts.groupby(level=0).sum(), differing, missing, extra, duplicated,
                   expected_copies, found_copies, duplicate_copies,
                   [str(f.path) for f in currents_files], [str(p) for p in export_files], config.float_tolerance)
        return expected_side, found_side, tally

    def _fill(self, tally: Tally, counts: Any, differing: Any, missing: Any, extra: Any, duplicated: Any,
              expected_copies: Any, found_copies: Any, duplicate_copies: Any, expected_files: Sequence[str],
              found_files: Sequence[str], tolerance: float) -> None:
        for name, row in counts.sort_index().iterrows():
            for bucket, column in (("matched", "same"), ("missing", "missing"), ("extra", "extra"),
                                   ("duplicates", "duplicates")):
                if int(row[column]):
                    tally.add(bucket, name, int(row[column]))
            self.repeated_currents_records += int(row["repeated"])
        variants_x = _variants(expected_copies)
        variants_m = _variants(found_copies)
        for row in differing.itertuples(index=False):
            key = (row.e, row.d, row.t, row.i)
            by_n_x, by_n_m = variants_x[key], variants_m[key]
            differences = property_differences(orjson.loads(by_n_x[int(row.n_x)]), orjson.loads(by_n_m[int(row.n_m)]),
                                               tolerance)
            if not differences and (row.copies_x > 1 or row.copies_m > 1):
                differences = variant_differences([orjson.loads(p) for p in sorted(set(by_n_x.values()))],
                                                  [orjson.loads(p) for p in sorted(set(by_n_m.values()))], tolerance)
            if not differences:
                tally.add("matched", row.e)
                continue
            tally.add("mismatched", row.e)
            if tally.wants_sample("mismatched"):
                fx, rx = event_source(int(row.n_x))
                fm, rm = event_source(int(row.n_m))
                tally.sample("mismatched", mismatch_sample(
                    row.e, row.d, int(row.t), row.i, source_of("currents", expected_files[fx], rx),
                    source_of("mixpanel", found_files[fm], rm), differences))
        for row in missing.sort_values("n_x").itertuples(index=False):
            f, r = event_source(int(row.n_x))
            tally.sample("missing", key_sample(row.e, row.d, int(row.t), row.i,
                                               source_of("currents", expected_files[f], r)))
        for row in extra.sort_values("n_m").itertuples(index=False):
            f, r = event_source(int(row.n_m))
            insert_id = None if str(row.i).startswith("#") else row.i
            tally.sample("extra", key_sample(row.e, row.d, int(row.t), insert_id,
                                             source_of("mixpanel", found_files[f], r)))
        copies_of = _variants(duplicate_copies)
        for row in duplicated.sort_values("n_m").itertuples(index=False):
            numbers = sorted(copies_of[(row.e, row.d, row.t, row.i)])
            tally.sample("duplicates", duplicate_sample(
                row.e, row.d, int(row.t), row.i, int(row.copies_m), _count(row.copies_x),
                [{"file": found_files[f], "line": r} for f, r in map(event_source, numbers)]))


def _count(value: Any) -> int:
    """A copies column after the outer merge: NaN where the side had no such key."""
    return 0 if value != value else int(value)


def _variants(rows: Any) -> dict[tuple[Any, ...], dict[int, str]]:
    """key -> {n: canonical properties} for the rows of some dedup keys."""
    out: dict[tuple[Any, ...], dict[int, str]] = {}
    for row in rows.itertuples(index=False):
        out.setdefault((row.e, row.d, row.t, row.i), {})[int(row.n)] = row.p
    return out
