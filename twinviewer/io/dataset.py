"""Recording *datasets*: a folder of Parquet files partitioned by day, opened lazily, with a cached summary.

Layout (see docs/recording-format.md, "Datasets")::

    plant/                          any folder name
      _twinviewer.json              sensors, units, events, time range, row count
      date=2024-03-01/part-0.parquet
      date=2024-03-02/part-0.parquet
      _summary/                     cache: min, max, mean, count per bucket at a ladder of resolutions

Each day file is a native recording (same columns, same footer metadata), so DuckDB, Polars and Spark read
the folder as it is (``read_parquet('plant/*/*.parquet', hive_partitioning=true)``; folders starting with
``_`` are skipped by Spark and Hive). :class:`ParquetDataset` reads only the row groups a question needs
(row-group time statistics locate them), keeps a few decoded groups, and answers long ranges from the
summary, memory-mapped. :class:`DatasetWriter` writes day files and the summary in one pass.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twinviewer.core.budgets import MAX_DATASET_LOAD_ROWS, MAX_SUMMARY_BYTES
from twinviewer.core.errors import CancelledError, RecordingError
from twinviewer.core.events import Event, _limits, crossings_in
from twinviewer.core.formatting import counted
from twinviewer.core.history import (
    LAZY_MAX_POINTS,
    RESOLUTION_LADDER_S,
    HistorySource,
    Summary,
    crossings_from_summary,
    crossings_of_buckets,
    decimate,
    join_samples,
    pick_resolution,
    summarize,
    window_from_summary,
)
from twinviewer.core.store import NO_DATA, STALE, Snapshot
from twinviewer.core.timerange import RANGE_TEXT, time_ok
from twinviewer.io.recording import (
    METADATA_KEY,
    QUALITY_BAD,
    QUALITY_GOOD,
    SCHEMA,
    Cancel,
    Progress,
    _metadata_json,
    _open_parquet,
    read_metadata,
)

DATASET_META = "_twinviewer.json"
SUMMARY_DIR = "_summary"
DATASET_FORMAT = "twinviewer-dataset"
DATASET_VERSION = 1
DAY_S = 86400.0
ROW_GROUP_ROWS = 1 << 18
RAW_ROW_BUDGET = 3_000_000
"""A chart reads raw rows for its range when at most this many; beyond, it reads the summary."""
GROUP_CACHE = 24
FILE_CACHE = 16
LOOKBACK_GROUPS = 4
"""values_at looks this many row groups back for a sensor without a sample in the group holding t."""
TIMELINE_BUCKETS = 2048
"""Threshold episodes over a long range come from the summary level giving at most this many buckets."""
SUMMARY_BASE_PERIODS = 30.0
"""The finest summary level is the first ladder step at least this many median sample periods long."""
_PARTITION_PREFIX = "date="


class DatasetMeta(BaseModel):
    """``_twinviewer.json``."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    format: str = DATASET_FORMAT
    format_version: int = Field(DATASET_VERSION, ge=1)
    sensors: list[str] = Field(default_factory=list)
    asset: str = ""
    units: dict[str, str] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    rows: int = Field(0, ge=0)
    period_s: float = Field(1.0, gt=0, allow_inf_nan=False)
    time_range: tuple[float, float] | None = None


def is_dataset_folder(path: Path | str) -> bool:
    """A folder holding ``_twinviewer.json`` or ``date=YYYY-MM-DD`` partitions of Parquet files."""
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / DATASET_META).is_file():
        return True
    return any(p.is_dir() and p.name.startswith(_PARTITION_PREFIX) for p in path.iterdir())


def _day_name(day: int) -> str:
    return _PARTITION_PREFIX + (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _day_of(name: str) -> int | None:
    try:
        return (dt.date.fromisoformat(name[len(_PARTITION_PREFIX):]) - dt.date(1970, 1, 1)).days
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------ summary
class _SummaryBuilder:
    """Accumulates the finest summary level into memory-mapped arrays, then derives the coarser ones."""

    def __init__(self, folder: Path, sensor_ids: list[str], first_day: int, last_day: int, base_s: float):
        self.folder = folder
        self.k = len(sensor_ids)
        self.base_s = float(base_s)
        self.origin = first_day * DAY_S
        self.n = int(round((last_day - first_day + 1) * DAY_S / self.base_s))
        MAX_SUMMARY_BYTES.check(_BUILD_BYTES * self.k * self.n, str(folder.parent), "the summary would take",
                                RecordingError)
        folder.mkdir(parents=True, exist_ok=True)
        shape = (self.k, self.n)

        def new(name: str, dtype, fill) -> np.ndarray:
            try:
                array = np.lib.format.open_memmap(folder / f".build.{name}.npy", mode="w+", dtype=dtype,
                                                  shape=shape)
            except (OSError, ValueError) as exc:
                if isinstance(exc, OSError) and exc.errno != errno.ENOMEM:
                    raise  # a folder that cannot be written: the caller tries the cache folder
                raise RecordingError(f"{folder}: cannot create the summary ({exc})") from None
            array[:] = fill
            return array

        self.vmin = new("min", np.float32, np.nan)
        self.vmax = new("max", np.float32, np.nan)
        self.total = new("sum", np.float64, 0.0)
        self.count = new("count", np.uint32, 0)

    def add_grid(self, times: np.ndarray, values: np.ndarray) -> None:
        """Rows of all sensors (``values`` is ``len(times) × k``, NaN = no value), times sorted."""
        if times.size == 0:
            return
        buckets = np.floor((times - self.origin) / self.base_s).astype(np.int64)
        starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
        ids = buckets[starts]
        finite = np.isfinite(values)
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(values, starts, axis=0).T
            hi = np.fmax.reduceat(values, starts, axis=0).T
        total = np.add.reduceat(np.where(finite, values, 0.0), starts, axis=0).T
        count = np.add.reduceat(finite, starts, axis=0, dtype=np.uint32).T
        cols: slice | np.ndarray
        if ids.size and np.all(np.diff(ids) == 1):
            cols = slice(int(ids[0]), int(ids[-1]) + 1)
        else:
            cols = ids
        self.vmin[:, cols] = np.fmin(self.vmin[:, cols], lo)
        self.vmax[:, cols] = np.fmax(self.vmax[:, cols], hi)
        self.total[:, cols] += total
        self.count[:, cols] += count

    def add_long(self, times: np.ndarray, codes: np.ndarray, values: np.ndarray) -> None:
        """Samples of any sensors: ``codes`` index the dataset's sensor list."""
        keep = np.isfinite(values) & (codes >= 0)
        buckets = np.floor((times[keep] - self.origin) / self.base_s).astype(np.int64)
        flat = codes[keep].astype(np.int64) * self.n + buckets
        v = values[keep]
        np.fmin.at(self.vmin.reshape(-1), flat, v.astype(np.float32))
        np.fmax.at(self.vmax.reshape(-1), flat, v.astype(np.float32))
        np.add.at(self.total.reshape(-1), flat, v)
        np.add.at(self.count.reshape(-1), flat, 1)

    def finish(self, signature: dict[str, Any]) -> None:
        """Write every level (``L{seconds}.{min,max,mean,count}.npy``) and ``levels.json``."""
        levels = [s for s in RESOLUTION_LADDER_S if s >= self.base_s and DAY_S % s == 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            for level in levels:
                factor = int(round(level / self.base_s))
                if factor == 1:
                    lo, hi, total, count = self.vmin, self.vmax, self.total, self.count
                else:
                    m = self.n // factor
                    lo = np.fmin.reduce(self.vmin[:, :m * factor].reshape(self.k, m, factor), axis=2)
                    hi = np.fmax.reduce(self.vmax[:, :m * factor].reshape(self.k, m, factor), axis=2)
                    total = self.total[:, :m * factor].reshape(self.k, m, factor).sum(axis=2)
                    count = self.count[:, :m * factor].reshape(self.k, m, factor).sum(axis=2, dtype=np.uint32)
                stem = f"L{int(level)}"
                np.save(self.folder / f"{stem}.min.npy", lo)
                np.save(self.folder / f"{stem}.max.npy", hi)
                np.save(self.folder / f"{stem}.count.npy", count)
                mean = np.where(count > 0, total / np.maximum(count, 1), np.nan).astype(np.float32)
                np.save(self.folder / f"{stem}.mean.npy", mean)
        del self.vmin, self.vmax, self.total, self.count
        for name in ("min", "max", "sum", "count"):
            (self.folder / f".build.{name}.npy").unlink(missing_ok=True)
        info = {"levels": levels, "origin": self.origin, "buckets_base": self.n, "signature": signature}
        (self.folder / "levels.json").write_text(json.dumps(info), encoding="utf-8")


_BUILD_BYTES = 20  # per sensor and bucket while building: min, max (float32), sum (float64), count (uint32)


def summary_base(period_s: float, sensors: int, first_day: int, last_day: int) -> float:
    """The finest summary level: the first ladder step at least :data:`SUMMARY_BASE_PERIODS` sample periods
    long whose build fits ``MAX_SUMMARY_BYTES`` (1,000 sensors at 1 Hz over a year: 600 s, not 60 s)."""
    buckets_per_day = [(s, DAY_S / s) for s in RESOLUTION_LADDER_S
                       if s >= SUMMARY_BASE_PERIODS * period_s and DAY_S % s == 0] or [(DAY_S, 1.0)]
    days = last_day - first_day + 1
    for level, per_day in buckets_per_day:
        if _BUILD_BYTES * sensors * days * per_day <= MAX_SUMMARY_BYTES.value:
            return level
    return buckets_per_day[-1][0]  # the builder refuses it with the limit's message


def _group_stats_of(day_file: _DayFile) -> tuple[np.ndarray, ...]:
    return day_file.t_min, day_file.t_max, day_file.rows, day_file.quality_set


def _write_group_index(folder: Path, days: Sequence[int], stats: Sequence[tuple[np.ndarray, ...]]) -> None:
    """Every row group's time bounds, rows and quality flag (``stats`` per day file, from
    :func:`_group_stats_of`) in one small file, so opening a day file to seek in it needs no walk over its
    row-group statistics."""
    counts = [s[0].size for s in stats]

    def joined(i: int, dtype) -> np.ndarray:
        return np.concatenate([s[i] for s in stats]).astype(dtype) if stats else np.empty(0, dtype)

    np.savez(folder / "groups.npz", day=np.repeat(np.asarray(days, dtype=np.int64), counts),
             t_min=joined(0, np.float64), t_max=joined(1, np.float64), rows=joined(2, np.int64),
             quality_set=joined(3, bool))


def _read_group_index(path: Path) -> dict[int, tuple[np.ndarray, ...]]:
    try:
        with np.load(path) as data:
            day, t_min, t_max = data["day"], data["t_min"], data["t_max"]
            rows, quality_set = data["rows"], data["quality_set"]
    except (OSError, ValueError, KeyError):
        return {}
    if not (day.shape == t_min.shape == t_max.shape == rows.shape == quality_set.shape):
        return {}
    if day.size and (np.any(np.diff(day) < 0) or not (np.isfinite(t_min).all() and np.isfinite(t_max).all())):
        return {}
    cuts = np.flatnonzero(np.diff(day)) + 1
    starts, ends = np.concatenate(([0], cuts)), np.concatenate((cuts, [day.size]))
    return {int(day[a]): (t_min[a:b], t_max[a:b], rows[a:b], quality_set[a:b]) for a, b in zip(starts, ends,
                                                                                                strict=True)
            if b > a}


class _SummaryInfo(BaseModel):
    """``_summary/levels.json``."""

    model_config = ConfigDict(allow_inf_nan=False)
    levels: list[float] = Field(min_length=1)
    origin: float
    signature: dict[str, Any]
    sensors: list[str] | None = None
    rows: int = Field(0, ge=0)


def _fallback_summary_folder(dataset: Path) -> Path | None:
    """Where the summary of a read-only dataset is cached: the user cache folder (``TWINVIEWER_CACHE_DIR``),
    keyed by the dataset's absolute path; None when the cache is switched off (set empty)."""
    import hashlib

    configured = os.environ.get("TWINVIEWER_CACHE_DIR")
    if configured is not None and not configured:
        return None
    if configured:
        root = Path(configured)
    else:
        from platformdirs import user_cache_dir

        root = Path(user_cache_dir("twinviewer"))
    digest = hashlib.sha1(str(dataset.resolve()).encode()).hexdigest()[:16]
    return root / "dataset-summaries" / f"{dataset.name}-{digest}"


def _signature(folder: Path) -> dict[str, Any]:
    """What the summary was built from: the day files' names, sizes and modification times."""
    files = sorted(folder.glob(f"{_PARTITION_PREFIX}*/*.parquet"))
    total = sum(f.stat().st_size for f in files)
    latest = max((f.stat().st_mtime_ns for f in files), default=0)
    return {"files": len(files), "bytes": total, "mtime_ns": latest}


# ------------------------------------------------------------------------------------------ writing
class DatasetWriter:
    """Writes a dataset folder in one pass: day files (grid layout) and the summary.

    ``write(times, values2d, quality=None)`` takes rows of every sensor in time order (any chunk size; a
    chunk may cross midnight). ``write_long(times, codes, values)`` takes samples of sensors with their own
    timestamps (``codes`` index ``sensor_ids``), sorted by time; a dataset is written one way or the other.
    ``close()`` finishes the last day file, the summary and ``_twinviewer.json``. The dataset is built in
    ``<folder>.part`` and moved into place at the end.
    """

    def __init__(self, folder: Path | str, sensor_ids: Sequence[str], first_time: float, last_time: float,
                 period_s: float = 1.0, metadata: Mapping[str, Any] | None = None, layout: str = "grid"):
        self.folder = Path(folder)
        self.sensor_ids = list(sensor_ids)
        if len(set(self.sensor_ids)) != len(self.sensor_ids):
            raise ValueError("a sensor id appears twice")
        if not (time_ok(first_time) and time_ok(last_time) and last_time >= first_time):
            raise RecordingError(f"{self.folder}: cannot write a dataset over the time range "
                                 f"{first_time} – {last_time}")
        self.metadata = dict(metadata or {})
        self.period_s = float(period_s) if period_s and period_s > 0 else 1.0
        self.work = self.folder.with_name(f".{self.folder.name}.part")
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.first_day = int(first_time // DAY_S)
        self.last_day = int(last_time // DAY_S)
        base = summary_base(self.period_s, len(self.sensor_ids), self.first_day, self.last_day)
        self.summary = _SummaryBuilder(self.work / SUMMARY_DIR, self.sensor_ids, self.first_day, self.last_day, base)
        if layout not in ("grid", "long"):
            raise ValueError(f"layout must be 'grid' or 'long', not {layout!r}")
        self.layout = layout
        self._schema = SCHEMA.with_metadata({METADATA_KEY: _metadata_json(self.sensor_ids, layout, self.metadata)})
        self._dictionary = pa.array(self.sensor_ids, type=pa.string())
        self._day: int | None = None
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0
        self.range: list[float] = [math.inf, -math.inf]

    def _open_day(self, day: int) -> pq.ParquetWriter:
        if self._day == day and self._writer is not None:
            return self._writer
        if self._writer is not None:
            self._writer.close()
        target = self.work / _day_name(day)
        target.mkdir(exist_ok=True)
        self._writer = pq.ParquetWriter(target / "part-0.parquet", self._schema, compression="zstd",
                                        use_dictionary=["sensor"], use_byte_stream_split=["value"],
                                        write_statistics=["time", "quality"])
        self._day = day
        return self._writer

    def write(self, times: np.ndarray, values2d: np.ndarray, quality: np.ndarray | None = None) -> None:
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        values2d = np.asarray(values2d)
        k = len(self.sensor_ids)
        if values2d.shape != (times.size, k):
            raise ValueError(f"values shape {values2d.shape} does not match {times.size} times × {k} sensors")
        if times.size == 0:
            return
        if not np.isfinite(times).all() or (times.size > 1 and not np.all(np.diff(times) > 0)) \
                or times[0] <= self.range[1]:
            raise RecordingError(f"{self.folder}: rows must come in strictly increasing, finite time order")
        for day, lo, hi in self._day_runs(times, "rows"):
            self._write_day(day, times[lo:hi], values2d[lo:hi],
                            None if quality is None else np.asarray(quality)[lo:hi])
        self.range = [min(self.range[0], float(times[0])), float(times[-1])]

    def _day_runs(self, times: np.ndarray, what: str) -> list[tuple[int, int, int]]:
        """``(day, lo, hi)`` for each run of ``times`` (in order) within one UTC day; ``what`` ("rows") names
        them in the refusal when they fall outside the announced time range."""
        days = np.floor(times / DAY_S).astype(np.int64)
        if days[0] < self.first_day or days[-1] > self.last_day:
            raise RecordingError(f"{self.folder}: {what} outside the announced time range")
        cuts = np.flatnonzero(np.diff(days)) + 1
        return [(int(days[lo]), int(lo), int(hi)) for lo, hi in
                zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [times.size])), strict=True)]

    def write_long(self, times: np.ndarray, codes: np.ndarray, values: np.ndarray) -> None:
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        codes = np.asarray(codes, dtype=np.int32).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if self.layout != "long" or not (times.shape == codes.shape == values.shape):
            raise ValueError("write_long needs layout='long' and times, codes, values of one length")
        if times.size == 0:
            return
        if not np.isfinite(times).all() or np.any(np.diff(times) < 0) or times[0] < self.range[1] \
                or codes.min() < 0 or codes.max() >= len(self.sensor_ids):
            raise RecordingError(f"{self.folder}: samples must come in time order with known sensors")
        for day, lo, hi in self._day_runs(times, "samples"):
            writer = self._open_day(day)
            table = pa.Table.from_arrays([
                pa.array(np.round(times[lo:hi] * 1e6).astype(np.int64), type=pa.timestamp("us", tz="UTC")),
                pa.DictionaryArray.from_arrays(pa.array(codes[lo:hi]), self._dictionary),
                pa.array(values[lo:hi]),
                pa.array(np.zeros(hi - lo, dtype=np.uint8)),
            ], schema=self._schema)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.summary.add_long(times[lo:hi], codes[lo:hi], values[lo:hi])
            self.rows += int(hi - lo)
        self.range = [min(self.range[0], float(times[0])), float(times[-1])]

    def _write_day(self, day: int, times: np.ndarray, values: np.ndarray, quality: np.ndarray | None) -> None:
        writer = self._open_day(day)
        k = len(self.sensor_ids)
        m = times.size
        values = values.astype(np.float64, copy=False)
        quality_column = (np.full(m * k, QUALITY_GOOD, dtype=np.uint8) if quality is None
                          else quality.astype(np.uint8).reshape(-1))
        table = pa.Table.from_arrays([
            pa.array(np.repeat(np.round(times * 1e6).astype(np.int64), k), type=pa.timestamp("us", tz="UTC")),
            pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(k, dtype=np.int32), m)), self._dictionary),
            pa.array(values.reshape(-1)),
            pa.array(quality_column),
        ], schema=self._schema)
        writer.write_table(table, row_group_size=max(ROW_GROUP_ROWS // max(k, 1), 1) * k)
        summary_values = values if quality is None else np.where(quality == QUALITY_BAD, np.nan, values)
        self.summary.add_grid(times, summary_values)
        self.rows += m * k

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        shutil.rmtree(self.work, ignore_errors=True)

    def close(self) -> Path:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        meta = dict(self.metadata)
        meta["events"] = [e.to_json() if isinstance(e, Event) else dict(e) for e in meta.get("events") or []]
        meta.update(format=DATASET_FORMAT, format_version=DATASET_VERSION, sensors=self.sensor_ids,
                    rows=self.rows, period_s=self.period_s,
                    time_range=list(self.range) if self.rows else None)
        (self.work / DATASET_META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        index = {s: i for i, s in enumerate(self.sensor_ids)}
        days = sorted(d for d in (_day_of(p.name) for p in self.work.glob(f"{_PARTITION_PREFIX}*")) if d is not None)
        _write_group_index(self.work / SUMMARY_DIR, days,
                           [_group_stats_of(_DayFile(self.work / _day_name(d) / "part-0.parquet", index, d))
                            for d in days])
        self.summary.finish(_signature(self.work))
        if self.folder.exists():
            if not is_dataset_folder(self.folder) and any(self.folder.iterdir()):
                self.abort()
                raise RecordingError(f"{self.folder}: exists and is not a dataset; not overwriting it")
            shutil.rmtree(self.folder)
        os.replace(self.work, self.folder)
        return self.folder


def write_dataset(folder: Path | str, store, sensor_ids: Sequence[str] | None = None,
                  metadata: Mapping[str, Any] | None = None, progress: Progress | None = None,
                  cancel: Cancel | None = None) -> Path:
    """Write a store's samples as a dataset folder (sensors that share no time index are aligned on the
    union of their times; a sensor without a sample at a time is written as a bad-quality row)."""
    sensor_ids = [s for s in (sensor_ids or store.sensor_ids) if store.has(s) and store.sensor_time_range(s)]
    if not sensor_ids:
        raise RecordingError(f"{folder}: nothing to write (no samples)")
    aligned = store.aligned_samples(sensor_ids)
    if aligned is None:
        return _write_long_dataset(folder, store, sensor_ids, metadata, progress, cancel)
    times, matrix = aligned
    period = float(np.median(np.diff(times))) if times.size > 1 else 1.0
    writer = DatasetWriter(folder, sensor_ids, float(times[0]), float(times[-1]), period, metadata)
    return _write_in_chunks(folder, writer, times.size, max(ROW_GROUP_ROWS * 8 // len(sensor_ids), 1),
                            lambda a, b: writer.write(times[a:b], matrix[a:b]), progress, cancel)


def _write_long_dataset(folder, store, sensor_ids: list[str], metadata, progress, cancel) -> Path:
    """Sensors with their own timestamps (live recordings): long day files, one row per real sample."""
    series = [store.samples(s) for s in sensor_ids]
    times = np.concatenate([t for t, _ in series])
    codes = np.concatenate([np.full(t.size, j, dtype=np.int32) for j, (t, _) in enumerate(series)])
    values = np.concatenate([v for _, v in series])
    order = np.argsort(times, kind="stable")
    times, codes, values = times[order], codes[order], values[order]
    period = float(np.median([np.median(np.diff(t)) for t, _ in series if t.size > 1] or [1.0]))
    writer = DatasetWriter(folder, sensor_ids, float(times[0]), float(times[-1]), period, metadata, layout="long")
    return _write_in_chunks(folder, writer, times.size, ROW_GROUP_ROWS * 8,
                            lambda a, b: writer.write_long(times[a:b], codes[a:b], values[a:b]), progress, cancel)


def _write_in_chunks(folder, writer: DatasetWriter, count: int, step: int, write, progress, cancel) -> Path:
    """Feed ``write(start, stop)`` rows ``step`` at a time, reporting progress and honouring cancel; close the
    writer, or abort it (no half-written dataset is left) on any error."""
    try:
        for start in range(0, count, step):
            if cancel is not None and cancel():
                raise CancelledError(f"writing {Path(folder).name} cancelled")
            stop = start + step
            write(start, stop)
            if progress is not None:
                progress(min(stop, count) / count, f"Writing {Path(folder).name}")
        return writer.close()
    except BaseException:
        writer.abort()
        raise


# ------------------------------------------------------------------------------------------ reading
class _DayFile:
    """One day file: its row groups' time bounds and row counts, and how its rows map to the sensors."""

    def __init__(self, path: Path, dataset_index: Mapping[str, int], day: int,
                 stats: tuple[np.ndarray, ...] | None = None):
        try:
            self.parquet = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise RecordingError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
        self.path = path
        names = self.parquet.schema_arrow.names
        missing = {"time", "sensor", "value"} - set(names)
        if missing:
            raise RecordingError(f"{path}: missing {'column' if len(missing) == 1 else 'columns'} "
                                 f"{', '.join(sorted(missing))}")
        self.has_quality = "quality" in names
        meta = read_metadata(path)  # checked: a dict whose keys have the right types
        sensors = [str(s) for s in meta.get("sensors") or []]
        self.grid = meta.get("layout") == "grid" and bool(sensors)
        self.grid_columns = np.array([dataset_index.get(s, -1) for s in sensors], dtype=np.int64)
        metadata = self.parquet.metadata
        if stats is not None and stats[0].size == metadata.num_row_groups:  # from _summary/groups.npz
            self.t_min, self.t_max, self.rows, self.quality_set = stats
            return
        time_index = names.index("time")
        quality_index = names.index("quality") if self.has_quality else -1
        self.quality_set = np.zeros(metadata.num_row_groups, dtype=bool)  # may hold a non-zero quality
        self.t_min = np.empty(metadata.num_row_groups)
        self.t_max = np.empty(metadata.num_row_groups)
        self.rows = np.empty(metadata.num_row_groups, dtype=np.int64)
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            time_stats = group.column(time_index).statistics
            self.rows[g] = group.num_rows
            if time_stats is None or not time_stats.has_min_max:
                raise RecordingError(f"{path}: row group {g} has no time statistics; rewrite it with "
                                     "`twinviewer convert`")
            self.t_min[g] = _seconds(time_stats.min)
            self.t_max[g] = _seconds(time_stats.max)
            if quality_index >= 0:
                q = group.column(quality_index).statistics
                self.quality_set[g] = q is None or not q.has_min_max or q.max != 0
        if self.t_min.size and (self.t_min.min() < day * DAY_S or self.t_max.max() >= (day + 1) * DAY_S):
            raise RecordingError(f"{path}: holds rows outside its day {path.parent.name} (a dataset keeps each "
                                 "UTC day in its own partition; rewrite it with `twinviewer convert`)")


def _seconds(value: Any) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    return float(value) * 1e-6


class _Group:
    """A decoded row group as long arrays: times, sensor indices (into the dataset's list), values."""

    __slots__ = ("times", "codes", "values", "grid_times", "grid_values", "grid_columns")

    def __init__(self):
        self.times = self.codes = self.values = None
        self.grid_times = self.grid_values = self.grid_columns = None


def _samples_of(group: _Group, code: int, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray] | None:
    """One sensor's samples with ``t0 <= t <= t1`` in a decoded row group (None: the sensor is not in it)."""
    if group.grid_values is not None:
        col = np.flatnonzero(group.grid_columns == code)
        if col.size == 0:
            return None
        times, values = group.grid_times, group.grid_values[:, int(col[0])]
    else:
        mine = group.codes == code
        times, values = group.times[mine], group.values[mine]
    inside = (times >= t0) & (times <= t1)
    return times[inside], values[inside]


class ParquetDataset(HistorySource):
    """A dataset folder as a lazy :class:`~twinviewer.core.history.HistorySource`."""

    in_memory = False

    def __init__(self, folder: Path | str, progress: Progress | None = None, cancel: Cancel | None = None,
                 rename: Mapping[str, str] | None = None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise RecordingError(f"{self.folder}: no such folder")
        days = []
        for entry in self.folder.iterdir():
            day = _day_of(entry.name) if entry.is_dir() and entry.name.startswith(_PARTITION_PREFIX) else None
            if day is None:
                continue
            files = sorted(entry.glob("*.parquet"))
            if len(files) > 1:
                raise RecordingError(f"{entry}: more than one Parquet file in a day partition "
                                     f"({', '.join(f.name for f in files[:3])}); merge them with `twinviewer convert`")
            if files:
                days.append((day, files[0]))
        if not days:
            raise RecordingError(f"{self.folder}: no day partitions (date=YYYY-MM-DD/*.parquet) found")
        days.sort()
        for day, path in (days[0], days[-1]):
            if not (time_ok(day * DAY_S) and time_ok((day + 1) * DAY_S - 1)):
                raise RecordingError(f"{path.parent}: a day outside {RANGE_TEXT}")
        self.days = np.array([d for d, _ in days], dtype=np.int64)
        self.paths = [p for _, p in days]
        self.meta = self._read_meta()
        self._file_ids = list(self.meta.sensors) or self._sensors_from_first_file()
        self._index = {s: i for i, s in enumerate(self._file_ids)}  # names in the files → position
        self._ids = [(rename or {}).get(s, s) for s in self._file_ids]  # the names views ask for
        if len(set(self._ids)) != len(self._ids):
            raise RecordingError(f"{self.folder}: the column mapping gives two sensors the same id")
        self._public = {s: i for i, s in enumerate(self._ids)}
        self._periods: dict[str, float] = {}
        self._density: float | None = None
        self._crossings_cache: dict[tuple, dict[str, list]] = {}
        self._periods_version = 0
        self._lookup_cache: tuple | None = None
        self._group_stats: dict[int, tuple[np.ndarray, ...]] = {}
        self._lock = threading.RLock()
        self._files: OrderedDict[int, _DayFile] = OrderedDict()
        self._groups: OrderedDict[tuple[int, int], _Group] = OrderedDict()
        first, last = self._file(0), self._file(len(self.paths) - 1)
        self._range = (float(first.t_min.min()), float(last.t_max.max())) if first.rows.size and last.rows.size \
            else None
        self.stale_factor = 3.0
        self.levels: dict[float, dict[str, np.ndarray]] = {}
        self._load_summary(progress, cancel)

    # ----- opening
    def _read_meta(self) -> DatasetMeta:
        path = self.folder / DATASET_META
        if not path.is_file():
            return DatasetMeta()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            meta = DatasetMeta.model_validate(data)
        except json.JSONDecodeError as exc:
            raise RecordingError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise RecordingError(f"{path}: {where}: {first['msg']}") from None
        if meta.format_version > DATASET_VERSION:
            raise RecordingError(f"{path}: dataset format version {meta.format_version} is newer than this "
                                 f"TwinViewer reads ({DATASET_VERSION}); update TwinViewer")
        return meta

    def _sensors_from_first_file(self) -> list[str]:
        sensors = read_metadata(self.paths[0]).get("sensors")
        if sensors:
            return [str(s) for s in sensors]
        parquet = _open_parquet(self.paths[0])
        if parquet.num_row_groups == 0:
            raise RecordingError(f"{self.paths[0]}: no rows, so no sensors; write _twinviewer.json")
        column = parquet.read_row_group(0, columns=["sensor"]).column("sensor").combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary
        return sorted({str(s) for s in column.to_pylist() if s is not None})

    def _load_summary(self, progress: Progress | None, cancel: Cancel | None) -> None:
        """Memory-map the summary beside the data (or in the user cache for a read-only folder); build it
        first when it is missing, unreadable, or was made from other files."""
        signature = _signature(self.folder)
        for folder in (self.folder / SUMMARY_DIR, _fallback_summary_folder(self.folder)):
            if folder is not None and self._map_summary(folder, signature):
                return
        for folder in (self.folder / SUMMARY_DIR, _fallback_summary_folder(self.folder)):
            if folder is None:
                continue
            try:
                self._build_summary(folder, progress, cancel, signature)
            except OSError:
                continue  # a read-only dataset: its summary goes to the user's cache folder
            if self._map_summary(folder, signature):
                return
        raise RecordingError(f"{self.folder}: cannot write its summary beside it or in the cache folder "
                             "(TWINVIEWER_CACHE_DIR)")

    def _map_summary(self, folder: Path, signature: dict[str, Any]) -> bool:
        try:
            info = _SummaryInfo.model_validate_json((folder / "levels.json").read_bytes())
        except (OSError, ValidationError):
            return False
        if info.signature != signature or (info.sensors is not None and info.sensors != self._file_ids):
            return False
        levels: dict[float, dict[str, np.ndarray]] = {}
        for level in info.levels:
            stem = folder / f"L{int(level)}"
            try:
                arrays = {part: np.load(f"{stem}.{part}.npy", mmap_mode="r")
                          for part in ("min", "max", "mean", "count")}
            except (OSError, ValueError):
                return False
            shapes = {a.shape for a in arrays.values()}
            if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != len(self._file_ids):
                return False
            levels[float(level)] = arrays
        self.levels = levels
        self._group_stats = _read_group_index(folder / "groups.npz")
        self.origin = info.origin
        self._rows = self.meta.rows or info.rows
        return True

    def _build_summary(self, folder: Path, progress: Progress | None, cancel: Cancel | None,
                       signature: dict[str, Any]) -> None:
        """First open of a dataset written elsewhere (or changed since): read every day once."""
        base = summary_base(self.meta.period_s, len(self._file_ids), int(self.days[0]), int(self.days[-1]))
        builder = _SummaryBuilder(folder, self._file_ids, int(self.days[0]), int(self.days[-1]), base)
        rows = 0
        stats = []
        for i in range(len(self.paths)):
            day_file = self._file(i)
            rows += int(day_file.rows.sum())
            stats.append(_group_stats_of(day_file))
            for g in range(day_file.rows.size):
                if cancel is not None and cancel():
                    raise CancelledError(f"summarising {self.folder.name} cancelled")
                group = self._decode(i, g, cache=False)
                if group.grid_values is not None and (group.grid_columns == np.arange(len(self._ids))).all():
                    builder.add_grid(group.grid_times, group.grid_values)
                elif group.grid_values is not None:
                    m, k = group.grid_values.shape
                    builder.add_long(np.repeat(group.grid_times, k), np.tile(group.grid_columns, m),
                                     group.grid_values.reshape(-1))
                else:
                    builder.add_long(group.times, group.codes, group.values)
            if progress is not None:
                progress((i + 1) / len(self.paths), f"Summarising {self.folder.name}")
        _write_group_index(folder, [int(d) for d in self.days], stats)
        builder.finish(signature)
        info = json.loads((folder / "levels.json").read_text(encoding="utf-8"))
        info["sensors"] = self._file_ids
        info["rows"] = rows
        (folder / "levels.json").write_text(json.dumps(info), encoding="utf-8")

    def _file(self, i: int) -> _DayFile:
        with self._lock:
            day_file = self._files.get(i)
            if day_file is None:
                day = int(self.days[i])
                day_file = _DayFile(self.paths[i], self._index, day, self._group_stats.get(day))
                self._files[i] = day_file
                while len(self._files) > FILE_CACHE:
                    self._files.popitem(last=False)
            else:
                self._files.move_to_end(i)
            return day_file

    def _decode(self, i: int, g: int, cache: bool = True) -> _Group:
        key = (i, g)
        with self._lock:
            group = self._groups.get(key)
            if group is not None:
                self._groups.move_to_end(key)
                return group
        day_file = self._file(i)
        with_quality = day_file.has_quality and bool(day_file.quality_set[g])  # all good: not read
        columns = ["time", "value"] + (["quality"] if with_quality else [])
        grid = day_file.grid and (day_file.grid_columns >= 0).all()
        if not grid:
            columns.append("sensor")
        try:
            with self._lock:  # one reader per file at a time (a detector may read on a worker thread)
                table = day_file.parquet.read_row_group(g, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise RecordingError(f"{day_file.path}: row group {g} unreadable ({exc})") from None
        time_us = table.column("time").combine_chunks().cast(pa.int64()).to_numpy()
        values = table.column("value").combine_chunks().to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
        if with_quality:
            quality = table.column("quality").combine_chunks().fill_null(0).to_numpy(zero_copy_only=False)
            values[quality == QUALITY_BAD] = np.nan
        group = _Group()
        k = day_file.grid_columns.size
        if grid and time_us.size % k == 0:
            m = time_us.size // k
            grid_time = time_us.reshape(m, k)
            if (grid_time[:, 0] == grid_time[:, -1]).all():
                group.grid_times = grid_time[:, 0] * 1e-6
                group.grid_values = values.reshape(m, k)
                group.grid_columns = day_file.grid_columns
        if group.grid_values is None:
            if "sensor" not in table.column_names:
                with self._lock:
                    table = day_file.parquet.read_row_group(g, columns=["sensor"])
            sensors = table.column("sensor").combine_chunks()
            if pa.types.is_dictionary(sensors.type):
                lookup = np.array([self._index.get(str(s), -1) for s in sensors.dictionary.to_pylist()] + [-1],
                                  dtype=np.int64)
                indices = sensors.indices.fill_null(-1).to_numpy(zero_copy_only=False)
                codes = lookup[indices]
            else:
                codes = np.array([self._index.get(str(s), -1) for s in sensors.to_pylist()], dtype=np.int64)
            times = time_us * 1e-6
            order = np.argsort(times, kind="stable")
            group.times, group.codes, group.values = times[order], codes[order], values[order]
        if cache:
            with self._lock:
                self._groups[key] = group
                while len(self._groups) > GROUP_CACHE:
                    self._groups.popitem(last=False)
        return group

    # ----- locating
    def _position(self, t: float) -> tuple[int, int] | None:
        """(file, group) of the last row group starting at or before ``t``, None before the data."""
        i = int(np.searchsorted(self.days, math.floor(t / DAY_S), side="right")) - 1
        while i >= 0:
            day_file = self._file(i)
            g = int(np.searchsorted(day_file.t_min, t, side="right")) - 1
            if g >= 0:
                return i, g
            i -= 1
        return None

    def _previous(self, i: int, g: int) -> tuple[int, int] | None:
        if g > 0:
            return i, g - 1
        while i > 0:
            i -= 1
            n = self._file(i).rows.size
            if n:
                return i, n - 1
        return None

    def _groups_between(self, t0: float, t1: float) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        first_day = math.floor(t0 / DAY_S)
        last_day = math.floor(t1 / DAY_S)
        lo = int(np.searchsorted(self.days, first_day, side="left"))
        hi = int(np.searchsorted(self.days, last_day, side="right"))
        for i in range(lo, hi):
            day_file = self._file(i)
            hits = np.flatnonzero((day_file.t_max >= t0) & (day_file.t_min <= t1))
            out.extend((i, int(g)) for g in hits)
        return out

    # ----- HistorySource
    @property
    def sensor_ids(self) -> list[str]:
        return list(self._ids)

    def has(self, sensor_id: str) -> bool:
        return sensor_id in self._public

    def add_sensor(self, sensor_id: str, expected_period_s: float | None = None) -> None:
        if expected_period_s is not None:
            self._periods[sensor_id] = float(expected_period_s)
            self._periods_version += 1

    def expected_period(self, sensor_id: str) -> float:
        return self._periods.get(sensor_id, self.meta.period_s)

    @property
    def version(self) -> int:
        return 0

    def time_range(self) -> tuple[float, float] | None:
        return self._range

    @property
    def sample_count(self) -> int:
        return self._rows

    def _lookup(self, ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Column of each sensor and the age after which its value is stale, kept for the last sensor list
        (the window asks for the same thousand sensors on every frame)."""
        key = (ids, self.stale_factor, self._periods_version)
        if self._lookup_cache is None or self._lookup_cache[0] != key:
            wanted = np.array([self._public.get(s, -1) for s in ids], dtype=np.int64)
            stale_after = np.array([self.expected_period(s) * self.stale_factor for s in ids])
            self._lookup_cache = (key, wanted, stale_after)
        return self._lookup_cache[1], self._lookup_cache[2]

    def values_at(self, t: float, sensor_ids: Sequence[str] | None = None) -> Snapshot:
        ids = tuple(self._ids if sensor_ids is None else sensor_ids)
        n = len(ids)
        wanted, stale_after = self._lookup(ids)
        values = np.full(n, np.nan)
        times = np.full(n, np.nan)
        k = len(self._ids)
        found_value = np.full(k, np.nan)
        found_time = np.full(k, np.nan)
        pending = np.zeros(k, dtype=bool)
        pending[wanted[wanted >= 0]] = True
        position = self._position(t) if np.isfinite(t) else None
        steps = 0
        while position is not None and pending.any() and steps <= LOOKBACK_GROUPS:
            group = self._decode(*position)
            if group.grid_values is not None:
                row = int(np.searchsorted(group.grid_times, t, side="right")) - 1
                if row >= 0:
                    cols = group.grid_columns
                    take = cols >= 0
                    fill = take.copy()
                    fill[take] = pending[cols[take]]
                    found_value[cols[fill]] = group.grid_values[row, fill]
                    found_time[cols[fill]] = group.grid_times[row]
                    pending[cols[fill]] = False
            else:
                end = int(np.searchsorted(group.times, t, side="right"))
                codes = group.codes[:end][::-1]
                unique, first = np.unique(codes, return_index=True)
                last_rows = end - 1 - first
                use = (unique >= 0)
                use[use] = pending[unique[use]]
                found_value[unique[use]] = group.values[last_rows[use]]
                found_time[unique[use]] = group.times[last_rows[use]]
                pending[unique[use]] = False
            position = self._previous(*position)
            steps += 1
        known = wanted >= 0
        values[known] = found_value[wanted[known]]
        times[known] = found_time[wanted[known]]
        state = np.zeros(n, dtype=np.int8)
        with np.errstate(invalid="ignore"):
            state[(t - times) > stale_after] = STALE
        state[np.isnan(values)] = NO_DATA
        return Snapshot(float(t), ids, values, times, state)

    def _raw_rows(self, t0: float, t1: float) -> float:
        """Rows a raw read of ``[t0, t1]`` would decode, estimated from the data's density (no file opened)."""
        if self._range is None:
            return 0.0
        if self._density is None:
            first = self._file(0)
            span = max(float(first.t_max.max() - first.t_min.min()), 1.0)
            self._density = float(self._rows) / max(self._range[1] - self._range[0], 1.0) if self._rows \
                else float(first.rows.sum()) / span
        return (min(t1, self._range[1]) - max(t0, self._range[0]) + 1.0) * self._density

    def threshold_crossings(self, sensor_id: str, thresholds: Any, t0: float | None = None,
                            t1: float | None = None) -> list[tuple[float, str, str]]:
        """Exact from raw samples over a short range, else from the summary level of about 4,000 buckets."""
        if sensor_id not in self._public or self._range is None:
            return []
        lo = self._range[0] if t0 is None else max(t0, self._range[0])
        hi = self._range[1] if t1 is None else min(t1, self._range[1])
        if self._raw_rows(lo, hi) <= RAW_ROW_BUDGET or not self.levels:
            times, values = self.samples_between(sensor_id, lo, hi)
            return crossings_in(times, values, thresholds)
        level = pick_resolution(list(self.levels), hi - lo, TIMELINE_BUCKETS)
        return crossings_from_summary(self._level_summary(sensor_id, lo, hi, level), thresholds)

    def threshold_crossings_many(self, limits: Mapping[str, Any], t0: float | None = None,
                                 t1: float | None = None) -> dict[str, list[tuple[float, str, str]]]:
        """Every sensor's crossings from one read of the summary level of ≈ 4,000 buckets (short ranges:
        per sensor from raw samples)."""
        if self._range is None:
            return {s: [] for s in limits}
        key = (tuple((s, tuple(_limits(t).values())) for s, t in limits.items()), t0, t1)
        cached = self._crossings_cache.get(key)
        if cached is None:  # the data never change: the timeline and the events list ask the same
            cached = self._crossings_many(limits, t0, t1)
            if len(self._crossings_cache) >= 8:
                self._crossings_cache.clear()
            self._crossings_cache[key] = cached
        return {s: list(c) for s, c in cached.items()}

    def _crossings_many(self, limits: Mapping[str, Any], t0: float | None,
                        t1: float | None) -> dict[str, list[tuple[float, str, str]]]:
        span = self._range
        assert span is not None  # checked by the caller
        lo = span[0] if t0 is None else max(t0, span[0])
        hi = span[1] if t1 is None else min(t1, span[1])
        if self._raw_rows(lo, hi) <= RAW_ROW_BUDGET or not self.levels:
            return super().threshold_crossings_many(limits, t0, t1)
        known = [s for s in limits if s in self._public]
        level = pick_resolution(list(self.levels), hi - lo, TIMELINE_BUCKETS)
        arrays = self.levels[level]
        n = arrays["count"].shape[1]
        b0 = max(int(math.floor((lo - self.origin) / level)), 0)
        b1 = min(int(math.floor((hi - self.origin) / level)) + 1, n)
        rows = np.array([self._public[s] for s in known], dtype=np.intp)
        table = [_limits(limits[s]) for s in known]
        # Only sensors that leave their normal band anywhere in the range can have an episode. The coarsest
        # level bounds every finer one (its min/max are over the same samples, its buckets cover the range),
        # so it picks them in a read of a few buckets a sensor; the fine level is read for those rows only.
        coarse = max(self.levels)
        if coarse > level and rows.size:
            c_arrays = self.levels[coarse]
            c0 = max(int(math.floor((lo - self.origin) / coarse)), 0)
            c1 = min(int(math.floor((hi - self.origin) / coarse)) + 1, c_arrays["count"].shape[1])
            cmin = np.fmin.reduce(np.asarray(c_arrays["min"][:, c0:c1])[rows], axis=1, initial=np.inf)
            cmax = np.fmax.reduce(np.asarray(c_arrays["max"][:, c0:c1])[rows], axis=1, initial=-np.inf)
            high = np.array([min((v for v in (row["warning_high"], row["alarm_high"]) if v is not None),
                                 default=np.inf) for row in table])
            low = np.array([max((v for v in (row["warning_low"], row["alarm_low"]) if v is not None),
                                default=-np.inf) for row in table])
            leaving = np.flatnonzero((cmax > high) | (cmin < low))
        else:
            leaving = np.arange(rows.size)
        result: dict[str, list[tuple[float, str, str]]] = {}
        if leaving.size:
            picked = rows[leaving]
            vmin = np.asarray(arrays["min"][:, b0:b1])[picked]  # an empty bucket is NaN in min and max
            vmax = np.asarray(arrays["max"][:, b0:b1])[picked]
            times = self.origin + level * np.arange(b0, b1, dtype=np.float64)
            found = crossings_of_buckets(times, vmin, vmax, [limits[known[j]] for j in leaving])
            result = {known[j]: episodes for j, episodes in zip(leaving.tolist(), found, strict=True)}
        return {s: result.get(s, []) for s in limits}

    def value_ranges(self, sensor_ids: Sequence[str], t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest value of each sensor over the coarsest summary buckets that cover
        ``[t0, t1]`` (a bound, possibly over a little more than the range; NaN when unknown)."""
        n = len(sensor_ids)
        lows, highs = np.full(n, np.nan), np.full(n, np.nan)
        if self._range is None or not self.levels or n == 0:
            return lows, highs
        lo, hi = max(t0, self._range[0]), min(t1, self._range[1])
        if hi < lo:
            return lows, highs
        coarse = max(self.levels)
        arrays = self.levels[coarse]
        b0 = max(int(math.floor((lo - self.origin) / coarse)), 0)
        b1 = min(int(math.floor((hi - self.origin) / coarse)) + 1, arrays["count"].shape[1])
        rows = np.array([self._public.get(s, -1) for s in sensor_ids], dtype=np.intp)
        known = rows >= 0
        if b1 <= b0 or not known.any():
            return lows, highs
        vmin = np.asarray(arrays["min"][:, b0:b1])[rows[known]]
        vmax = np.asarray(arrays["max"][:, b0:b1])[rows[known]]
        with np.errstate(invalid="ignore"):
            lows[known] = np.fmin.reduce(vmin, axis=1, initial=np.inf)
            highs[known] = np.fmax.reduce(vmax, axis=1, initial=-np.inf)
        empty = ~np.isfinite(lows) | ~np.isfinite(highs)
        lows[empty], highs[empty] = np.nan, np.nan
        return lows, highs

    def samples_between(self, sensor_id: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Raw samples of one sensor with ``t0 <= t <= t1`` (reads every row group of the range)."""
        code = self._public.get(sensor_id)
        if code is None:
            return np.empty(0), np.empty(0)
        parts_t, parts_v = [], []
        for i, g in self._groups_between(t0, t1):
            found = _samples_of(self._decode(i, g), code, t0, t1)
            if found is not None:
                parts_t.append(found[0])
                parts_v.append(found[1])
        if not parts_t:
            return np.empty(0), np.empty(0)
        return np.concatenate(parts_t), np.concatenate(parts_v)

    def raw_read_unit(self) -> tuple[float, float]:
        """(seconds, rows) of a typical row group: a raw read decodes whole groups, every sensor's rows in them
        (the alarm tracker budgets its raw reads with it)."""
        if self._range is None:
            return (1.0, 0.0)
        first = self._file(0)
        group_s = float(np.median(first.t_max - first.t_min)) if len(first.rows) else 0.0
        # never finer than 1/20,000 of the range, so that a span of the whole range is a bounded count
        seconds = max(group_s, (self._range[1] - self._range[0]) / 20_000, 1.0)
        return seconds, self._raw_rows(self._range[0], self._range[0] + seconds)

    def samples_in_spans(self, spans: Mapping[str, Sequence[tuple[float, float]]]
                         ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Raw samples of several sensors, each over its own time spans (``t0 <= t <= t1``), decoding each row
        group once for all of them (what the alarm tracker asks for: a few short spans of many sensors)."""
        wanted: dict[tuple[int, int], list[tuple[str, int, float, float]]] = {}
        for sensor_id, ranges in spans.items():
            code = self._public.get(sensor_id)
            if code is None:
                continue
            for t0, t1 in ranges:
                for key in self._groups_between(t0, t1):
                    wanted.setdefault(key, []).append((sensor_id, code, t0, t1))
        parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {s: ([], []) for s in spans}
        for (i, g) in sorted(wanted):
            group = self._decode(i, g, cache=False)
            for sensor_id, code, t0, t1 in wanted[(i, g)]:
                found = _samples_of(group, code, t0, t1)
                if found is not None:
                    parts[sensor_id][0].append(found[0])
                    parts[sensor_id][1].append(found[1])
        return {sensor_id: join_samples(list(zip(ts, vs, strict=True))) for sensor_id, (ts, vs) in parts.items()}

    def _whole(self) -> tuple[float, float]:
        """The whole range, when it is small enough to load (else a RecordingError that says so)."""
        if self._range is None:
            return (0.0, -1.0)
        MAX_DATASET_LOAD_ROWS.check(int(self._raw_rows(*self._range)), str(self.folder),
                                    "loading it whole (export, detectors) reads", RecordingError)
        return self._range

    def samples(self, sensor_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Every sample of one sensor (when the whole dataset is within ``MAX_DATASET_LOAD_ROWS`` rows)."""
        return self.samples_between(sensor_id, *self._whole())

    def aligned_samples(self, sensor_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """``(times, values (n, k))`` of a grid dataset in one read, else None (then ``samples`` per sensor)."""
        t0, t1 = self._whole()
        cols = [self._public.get(s, -1) for s in sensor_ids]
        if not cols or min(cols) < 0:
            return None
        times, blocks = [], []
        for i, g in self._groups_between(t0, t1):
            group = self._decode(i, g)
            if group.grid_values is None:
                return None
            where = {int(c): j for j, c in enumerate(group.grid_columns)}
            if any(c not in where for c in cols):
                return None
            times.append(group.grid_times)
            blocks.append(group.grid_values[:, [where[c] for c in cols]])
        if not times:
            return np.empty(0), np.empty((0, len(cols)))
        return np.concatenate(times), np.concatenate(blocks)

    def window(self, sensor_id: str, t0: float, t1: float,
               max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        empty = np.empty(0)
        if sensor_id not in self._public or not t1 >= t0 or self._range is None:
            return empty, empty, empty
        t0, t1 = max(t0, self._range[0]), min(t1, self._range[1])
        if t1 < t0:
            return empty, empty, empty
        max_points = min(int(max_points), LAZY_MAX_POINTS)
        if self._raw_rows(t0, t1) <= RAW_ROW_BUDGET or not self.levels:
            times, values = self.samples_between(sensor_id, t0, t1)
            return decimate(times, values, max_points) if times.size else (empty, empty, empty)
        level = pick_resolution(list(self.levels), t1 - t0, max(int(max_points), 1))
        return window_from_summary(self._level_summary(sensor_id, t0, t1, level))

    def _level_summary(self, sensor_id: str, t0: float, t1: float, level: float) -> Summary:
        arrays = self.levels[level]
        n = arrays["count"].shape[1]
        b0 = max(int(math.floor((t0 - self.origin) / level)), 0)
        b1 = min(int(math.floor((t1 - self.origin) / level)) + 1, n)
        if b1 <= b0:
            return Summary.empty(level)
        row = self._public[sensor_id]
        count = np.asarray(arrays["count"][row, b0:b1], dtype=np.float64)
        empty = count == 0
        lo = np.asarray(arrays["min"][row, b0:b1], dtype=np.float64)
        hi = np.asarray(arrays["max"][row, b0:b1], dtype=np.float64)
        mean = np.asarray(arrays["mean"][row, b0:b1], dtype=np.float64)
        for array in (lo, hi, mean):
            array[empty] = np.nan
        times = self.origin + level * np.arange(b0, b1, dtype=np.float64)
        return Summary(level, times, lo, hi, mean, count)

    def summary(self, sensor_id: str, t0: float, t1: float, resolution_s: float) -> Summary:
        """From the cached level equal to ``resolution_s`` if there is one, else from raw samples when the
        range is short enough to read, else the closest cached level (``Summary.resolution_s`` says which)."""
        if sensor_id not in self._public or not t1 >= t0:
            return Summary.empty(resolution_s)
        if float(resolution_s) in self.levels:
            return self._level_summary(sensor_id, t0, t1, float(resolution_s))
        if self._raw_rows(t0, t1) <= RAW_ROW_BUDGET or not self.levels:
            times, values = self.samples_between(sensor_id, t0, t1)
            return summarize(times, values, resolution_s)
        level = min(self.levels, key=lambda lv: abs(math.log(lv / resolution_s)))
        return self._level_summary(sensor_id, t0, t1, level)

    def events(self) -> list[Event]:
        out = []
        for event in self.meta.events:
            try:
                out.append(Event.from_json(event))
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def close(self) -> None:
        """Drop the decoded row groups and open files (the memory-mapped summary goes with the object)."""
        with self._lock:
            self._groups.clear()
            self._files.clear()


def open_dataset_recording(folder: Path | str, mapping: Any = None, periods: Mapping[str, float] | None = None,
                           progress: Progress | None = None, cancel: Cancel | None = None):
    """A dataset folder as a recording: ``(ParquetDataset, ImportReport)``, nothing read but footers and the
    summary (built here on the first open of a dataset written by another tool). ``mapping`` renames
    sensors (``{name in the files: sensor id}`` or a project's ``[[sources.columns]]``)."""
    from twinviewer.io.import_report import ImportReport

    rename: dict[str, str] = {}
    if isinstance(mapping, Mapping):
        rename = {str(k): str(v) for k, v in mapping.items()}
    elif mapping:
        for column in mapping:
            if getattr(column, "scale", 1.0) not in (None, 1.0) or getattr(column, "offset", 0.0) not in (None, 0.0):
                raise RecordingError(f"{folder}: a dataset is read as written; scale/offset of column "
                                     f"{column.column!r} cannot be applied (convert the data instead)")
            rename[str(column.column)] = str(column.sensor)
    dataset = ParquetDataset(folder, progress=progress, cancel=cancel, rename=rename)
    for sensor_id, period in (periods or {}).items():
        dataset.add_sensor(sensor_id, period)
    folder = Path(folder)
    report = ImportReport(source=str(folder), files=[p.parent.name for p in dataset.paths[:3]]
                          + ([f"… ({len(dataset.paths)} days)"] if len(dataset.paths) > 3 else []))
    report.rows = report.samples = dataset.sample_count
    report.sensors = dataset.sensor_ids
    report.time_range = dataset.time_range()
    report.events = dataset.events()
    report.metadata = {"asset": dataset.meta.asset, "units": dict(dataset.meta.units)}
    report.notes.append(f"Dataset of {counted(len(dataset.paths), 'day file')}, read lazily; summary levels "
                        + ", ".join(f"{lv:g} s" for lv in sorted(dataset.levels)))
    return dataset, report
