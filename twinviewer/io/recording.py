"""The native recording format (Parquet long table), generic Parquet input, and CSV export.

Native file (see docs/recording-format.md): columns ``time`` timestamp[us, tz=UTC], ``sensor``
dictionary<int32, string>, ``value`` float64, ``quality`` uint8 (0 good, 1 uncertain, 2 bad), sorted by
time; file metadata key ``b"twinviewer"`` holds JSON with ``format_version``, ``layout``, ``sensors``,
``asset``, ``units`` and ``events``. ``write_recording`` writes a wide matrix as a "grid": every timestamp
has one row per sensor in the same sensor order, which lets ``read_recording`` rebuild the matrix with a
reshape per row group instead of a pivot. Any other long table (written by other tools) takes the generic
pivot. Row groups hold about a million rows so files stream in bounded memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twinviewer.core.errors import CancelledError, RecordingError
from twinviewer.core.events import Event
from twinviewer.core.store import TimeSeriesStore
from twinviewer.core.timerange import RANGE_TEXT, times_ok
from twinviewer.io.import_report import ImportReport
from twinviewer.io.tables import (
    LABEL_COLUMNS,
    ColumnMapping,
    LongTable,
    WideTable,
    assemble_long,
    assemble_wide,
    choose_dtype,
    finish_report,
    median_period,
)
from twinviewer.io.timestamps import TimeParser, parse_numbers

METADATA_KEY = b"twinviewer"
FORMAT_VERSION = 1
ROW_GROUP_ROWS = 1 << 20
QUALITY_GOOD, QUALITY_UNCERTAIN, QUALITY_BAD = 0, 1, 2
SCHEMA = pa.schema([
    ("time", pa.timestamp("us", tz="UTC")),
    ("sensor", pa.dictionary(pa.int32(), pa.string())),
    ("value", pa.float64()),
    ("quality", pa.uint8()),
])

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


def _metadata_json(sensor_ids: Sequence[str], layout: str, metadata: Mapping[str, Any] | None) -> bytes:
    meta: dict[str, Any] = {"format_version": FORMAT_VERSION, "layout": layout, "sensors": list(sensor_ids),
                            "asset": "", "units": {}, "events": []}
    for key, value in (metadata or {}).items():
        meta[key] = value
    meta["events"] = [e.to_json() if isinstance(e, Event) else dict(e) for e in meta.get("events") or []]
    return json.dumps(meta, ensure_ascii=False).encode("utf-8")


def _schema_with(meta: bytes) -> pa.Schema:
    return SCHEMA.with_metadata({METADATA_KEY: meta})


@contextmanager
def _recording_writer(path: Path, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A Parquet writer into a temporary file next to ``path``, moved over ``path`` only when the ``with``
    block ends normally; on any error (or Ctrl+C) the temporary file is removed and ``path`` is untouched."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = pq.ParquetWriter(temporary, schema, compression="zstd", use_dictionary=["sensor"],
                                  write_statistics=["time", "quality"])
    except OSError as exc:
        raise RecordingError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        yield writer
    except BaseException:
        writer.close()
        temporary.unlink(missing_ok=True)
        raise
    writer.close()
    try:
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise RecordingError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_recording(path: Path | str, times: np.ndarray, sensor_ids: Sequence[str], values2d: np.ndarray,
                    quality: np.ndarray | int | None = None,
                    metadata: Mapping[str, Any] | None = None) -> Path:
    """Write wide arrays (``values2d`` is ``len(times) × len(sensor_ids)``) as a native recording.

    ``quality`` is None (all good), one code for everything, or an array shaped like ``values2d``.
    ``metadata`` may give ``asset`` (name), ``units`` ({sensor: unit}), ``events`` (Event list) and any
    other JSON-able keys. The file appears atomically (written aside, then renamed).
    """
    path = Path(path)
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    values2d = np.asarray(values2d)
    sensor_ids = list(sensor_ids)
    if values2d.shape != (times.size, len(sensor_ids)):
        raise ValueError(f"values shape {values2d.shape} does not match {times.size} times × "
                         f"{len(sensor_ids)} sensors")
    if len(set(sensor_ids)) != len(sensor_ids):
        raise ValueError("a sensor id appears twice")
    if not times_ok(times).all():
        raise RecordingError(f"{path}: cannot write a recording with timestamps that are not finite or lie "
                             f"outside {RANGE_TEXT}")
    quality_array = None if quality is None or np.isscalar(quality) else np.asarray(quality, dtype=np.uint8)
    if quality_array is not None and quality_array.shape != values2d.shape:
        raise ValueError(f"quality shape {quality_array.shape} does not match values {values2d.shape}")
    order = None
    if times.size > 1 and not np.all(np.diff(times) >= 0):
        order = np.argsort(times, kind="stable")
    k = len(sensor_ids)
    dictionary = pa.array(sensor_ids, type=pa.string())
    schema = _schema_with(_metadata_json(sensor_ids, "grid", metadata))
    with _recording_writer(path, schema) as writer:
        rows_per_group = max(1, ROW_GROUP_ROWS // max(k, 1))
        for start in range(0, times.size, rows_per_group):
            rows = np.arange(start, min(start + rows_per_group, times.size))
            if order is not None:
                rows = order[rows]
            m = rows.size
            time_us = np.round(times[rows] * 1e6).astype(np.int64)
            codes = np.tile(np.arange(k, dtype=np.int32), m)
            if quality_array is not None:
                quality_column = quality_array[rows].reshape(-1)
            else:
                quality_column = np.full(m * k, QUALITY_GOOD if quality is None else int(quality),
                                         dtype=np.uint8)
            table = pa.Table.from_arrays([
                pa.array(np.repeat(time_us, k), type=pa.timestamp("us", tz="UTC")),
                pa.DictionaryArray.from_arrays(pa.array(codes), dictionary),
                pa.array(values2d[rows].reshape(-1).astype(np.float64, copy=False)),
                pa.array(quality_column),
            ], schema=schema)
            writer.write_table(table, row_group_size=table.num_rows)
    return path


def write_store(path: Path | str, store: TimeSeriesStore, sensor_ids: Sequence[str] | None = None,
                metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a store's samples (all sensors, or ``sensor_ids``) as a native recording."""
    path = Path(path)
    sensor_ids = [s for s in (sensor_ids or store.sensor_ids) if store.has(s)]
    aligned = store.aligned_samples(sensor_ids)
    if aligned is not None:
        return write_recording(path, aligned[0], sensor_ids, aligned[1], metadata=metadata)
    series = [store.samples(s) for s in sensor_ids]
    times = np.concatenate([t for t, _ in series]) if series else np.empty(0)
    codes = np.concatenate([np.full(t.size, i, dtype=np.int32) for i, (t, _) in enumerate(series)]) \
        if series else np.empty(0, np.int32)
    values = np.concatenate([v for _, v in series]) if series else np.empty(0)
    order = np.argsort(times, kind="stable")
    schema = _schema_with(_metadata_json(sensor_ids, "long", metadata))
    dictionary = pa.array(sensor_ids, type=pa.string())
    with _recording_writer(path, schema) as writer:
        for start in range(0, max(order.size, 1), ROW_GROUP_ROWS):
            rows = order[start:start + ROW_GROUP_ROWS]
            table = pa.Table.from_arrays([
                pa.array(np.round(times[rows] * 1e6).astype(np.int64), type=pa.timestamp("us", tz="UTC")),
                pa.DictionaryArray.from_arrays(pa.array(codes[rows]), dictionary),
                pa.array(values[rows]),
                pa.array(np.zeros(rows.size, dtype=np.uint8)),
            ], schema=schema)
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
    return path


def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise RecordingError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def read_metadata(path: Path | str) -> dict[str, Any]:
    """The JSON metadata of a native recording ({} for other Parquet files)."""
    schema = _open_parquet(Path(path)).schema_arrow
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if not raw:
        return {}
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise RecordingError(f"{path}: the twinviewer metadata is not valid JSON") from None
    if not isinstance(meta, dict):
        raise RecordingError(f"{path}: the twinviewer metadata must be a JSON object")
    rules = {"format_version": (int, "an integer"), "sensors": (list, "a list of sensor ids"),
             "events": (list, "a list of events"), "layout": (str, "a string"), "units": (dict, "an object"),
             "asset": (str, "a string")}
    for key, (kind, described) in rules.items():
        value = meta.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise RecordingError(f"{path}: twinviewer metadata key {key!r} must be {described}, got "
                                 f"{type(value).__name__}")
    if any(not isinstance(s, str) for s in meta.get("sensors") or []):
        raise RecordingError(f"{path}: twinviewer metadata key 'sensors' must hold sensor ids (strings)")
    return meta


def read_recording(path: Path | str, progress: Progress | None = None, cancel: Cancel | None = None, *,
                   mapping: ColumnMapping = None, value_dtype: str = "auto",
                   periods: Mapping[str, float] | None = None) -> tuple[TimeSeriesStore, ImportReport]:
    """Read a native recording (or any long/wide Parquet table) into a new store, with its report."""
    path = Path(path)
    parquet = _open_parquet(path)
    meta = read_metadata(path)
    report = ImportReport(source=str(path), files=[path.name])
    report.metadata = {k: v for k, v in meta.items() if k not in ("events", "sensors")}
    version = meta.get("format_version", FORMAT_VERSION)
    if meta and version > FORMAT_VERSION:
        raise RecordingError(f"{path}: recording format version {version} is newer than this TwinViewer "
                             f"reads ({FORMAT_VERSION}); update TwinViewer")
    for event in meta.get("events") or []:
        try:
            report.events.append(Event.from_json(event))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            report.notes.append(f"An event in the metadata could not be read: {str(event)[:200]}")
    names = parquet.schema_arrow.names
    if meta.get("layout") == "grid" and not mapping and {"time", "sensor", "value"} <= set(names):
        store = _read_grid(path, parquet, meta, report, progress, cancel, value_dtype, periods)
        if store is not None:
            return store, report
    table = read_parquet_table(path, report, parquet=parquet, progress=progress, cancel=cancel)
    assemble: Callable[..., Any] = assemble_long if isinstance(table, LongTable) else assemble_wide
    store = assemble([table], mapping, report, value_dtype=value_dtype, periods=periods)
    if progress is not None:
        progress(1.0, f"Read {path.name}")
    return store, report


def _read_grid(path: Path, parquet: pq.ParquetFile, meta: dict[str, Any], report: ImportReport,
               progress: Progress | None, cancel: Cancel | None, value_dtype: str,
               periods: Mapping[str, float] | None) -> TimeSeriesStore | None:
    """Fast path for files written by ``write_recording``; None when the file does not follow the grid."""
    sensor_ids = [str(s) for s in meta.get("sensors") or []]
    k = len(sensor_ids)
    total = parquet.metadata.num_rows
    if k == 0 or total % k:
        return None
    n_times = total // k
    expected_codes = np.arange(k, dtype=np.int32)
    expected_dictionary = pa.array(sensor_ids, type=pa.string())
    dtype = choose_dtype(value_dtype, total)
    times = np.empty(n_times, dtype=np.float64)
    matrix = np.empty((n_times, k), dtype=dtype)
    position = 0
    bad_quality = 0
    groups = parquet.num_row_groups
    has_quality = "quality" in parquet.schema_arrow.names
    quality_index = parquet.schema_arrow.names.index("quality") if has_quality else -1
    for group in range(groups):
        if cancel is not None and cancel():
            raise CancelledError(f"reading {path.name} cancelled")
        # The sensor pattern is checked on the first row group; every group's times are checked below.
        columns = ["time", "value"] + (["sensor"] if group == 0 else [])
        if has_quality and _may_hold_nonzero(parquet, group, quality_index):
            columns.append("quality")
        table = parquet.read_row_group(group, columns=columns)
        m = table.num_rows // k
        if table.num_rows % k:
            return None
        for chunk in table.column("sensor").chunks if group == 0 else ():
            if not pa.types.is_dictionary(chunk.type) or not chunk.dictionary.equals(expected_dictionary):
                return None
            codes = chunk.indices.to_numpy(zero_copy_only=False)
            if codes.size % k or not np.array_equal(
                codes.reshape(-1, k), np.broadcast_to(expected_codes, (codes.size // k, k))
            ):
                return None
        time_us = table.column("time").combine_chunks().cast(pa.int64()).to_numpy().reshape(m, k)
        if not (time_us[:, 0] == time_us[:, -1]).all():
            return None
        times[position:position + m] = time_us[:, 0] * 1e-6
        values = table.column("value").combine_chunks().to_numpy(zero_copy_only=False).reshape(m, k)
        matrix[position:position + m] = values
        if "quality" in table.column_names:
            quality = table.column("quality").combine_chunks().to_numpy(zero_copy_only=False).reshape(m, k)
            bad = quality == QUALITY_BAD
            if bad.any():
                bad_quality += int(bad.sum())
                matrix[position:position + m][bad] = np.nan
        position += m
        if progress is not None:
            progress(position / max(n_times, 1), f"Reading {path.name}")
    if n_times > 1 and not np.all(np.diff(times) > 0):
        return None
    if not times_ok(times).all():
        return None  # the general path counts and drops the rows whose time is out of range
    not_finite = ~np.isfinite(matrix) & ~np.isnan(matrix)
    if not_finite.any():
        report.add("unparsable number", int(not_finite.sum()))
        matrix[not_finite] = np.nan
    if bad_quality:
        report.add("bad quality", bad_quality)
    store = TimeSeriesStore()
    period = median_period(times)
    for sensor_id in sensor_ids:
        store.add_sensor(sensor_id, (periods or {}).get(sensor_id, period))
    store.append_block(times, sensor_ids, matrix, copy=False)
    finish_report(report, store, n_times)
    return store


def _may_hold_nonzero(parquet: pq.ParquetFile, group: int, column: int) -> bool:
    """False when the row group's statistics prove the column is all zero (then it need not be read)."""
    statistics = parquet.metadata.row_group(group).column(column).statistics
    return statistics is None or not statistics.has_min_max or statistics.max != 0


def read_parquet_table(path: Path | str, report: ImportReport, *, parquet: pq.ParquetFile | None = None,
                       time_column: str | None = None, time_format: str = "auto", timezone: str | None = None,
                       layout: str = "auto", progress: Progress | None = None,
                       cancel: Cancel | None = None) -> WideTable | LongTable:
    """Any Parquet table → a wide table (time + numeric columns) or long table (time, sensor, value)."""
    path = Path(path)
    parquet = parquet or _open_parquet(path)
    names = parquet.schema_arrow.names
    lowered = {n.lower(): n for n in names}
    if layout == "auto":
        layout = "long" if "value" in lowered and any(k in lowered
                                                      for k in ("sensor", "tag", "name", "signal")) \
            else "wide"
    if time_column is None:
        timestamp_columns = [f.name for f in parquet.schema_arrow if pa.types.is_timestamp(f.type)]
        time_column = (timestamp_columns[0] if timestamp_columns else
                       next((lowered[k] for k in ("time", "timestamp", "datetime", "date", "ts")
                             if k in lowered),
                            names[0] if names else None))
    if time_column not in names:
        raise RecordingError(f"{path}: time column {time_column!r} not found; columns are {', '.join(names)}")
    if cancel is not None and cancel():
        raise CancelledError(f"reading {path.name} cancelled")
    try:
        table = parquet.read()
    except (pa.ArrowInvalid, OSError) as exc:
        raise RecordingError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
    if progress is not None:
        progress(0.5, f"Reading {path.name}")
    parser = TimeParser(time_format, timezone, where=str(path))
    raw, bad, naive = parser.parse(table.column(time_column).combine_chunks())
    rows = np.arange(1, table.num_rows + 1)
    all_times = parser.finish(raw, naive)
    bad = bad | np.isnan(all_times)  # unreadable, or outside the valid time range
    report.add("bad timestamp", int(bad.sum()), [f"{path.name}:{r}" for r in rows[bad][:5]])
    keep = ~bad
    times = all_times[keep]
    if layout == "long":
        sensor_name = next(lowered[k] for k in ("sensor", "tag", "name", "signal") if k in lowered)
        sensors = table.column(sensor_name).combine_chunks()
        if pa.types.is_dictionary(sensors.type):
            sensors = sensors.cast(pa.string())
        name_list, codes = np.unique(np.asarray(sensors.to_numpy(zero_copy_only=False), dtype=str),
                                     return_inverse=True)
        values, bad_numbers, _ = parse_numbers(table.column(lowered["value"]).combine_chunks())
        report.add("unparsable number", int(bad_numbers[keep].sum()))
        quality = None
        if "quality" in lowered:
            quality = np.asarray(table.column(lowered["quality"]).combine_chunks().fill_null(0)
                                 .to_numpy(zero_copy_only=False), dtype=np.uint8)[keep]
        return LongTable(path.name, times, rows[keep], [str(n) for n in name_list],
                         codes[keep].astype(np.int64),
                         values[keep], quality)
    data_columns, label_columns, skipped = [], [], []
    for field in parquet.schema_arrow:
        if field.name == time_column:
            continue
        numeric = (
            pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_boolean(field.type)
        )
        if not numeric:
            skipped.append(field.name)
        elif field.name.lower() in LABEL_COLUMNS:
            label_columns.append(field.name)
        else:
            data_columns.append(field.name)
    if skipped:
        report.notes.append(f"Columns that are not numbers were not imported: {', '.join(skipped)}")
    matrix = np.empty((times.size, len(data_columns)))
    for j, name in enumerate(data_columns):
        values, bad_numbers, missing = parse_numbers(table.column(name).combine_chunks())
        matrix[:, j] = values[keep]
        report.add("missing value", int(missing[keep].sum()))
        report.add("unparsable number", int(bad_numbers[keep].sum()), [f"{path.name}:{r}" for r in
                                                                       rows[keep & bad_numbers][:5]])
    labels = {name: parse_numbers(table.column(name).combine_chunks())[0][keep] for name in label_columns}
    return WideTable(path.name, times, rows[keep], data_columns, matrix, labels)


def export_csv(path: Path | str, store: TimeSeriesStore, sensor_ids: Sequence[str] | None = None,
               t0: float | None = None, t1: float | None = None) -> Path:
    """Write a wide CSV: ``time`` (ISO 8601, UTC, "Z") and one column per sensor; empty cell = no sample."""
    import pyarrow.csv as pacsv

    path = Path(path)
    sensor_ids = [s for s in (sensor_ids or store.sensor_ids) if store.has(s)]
    lo = -np.inf if t0 is None else t0
    hi = np.inf if t1 is None else t1
    aligned = store.aligned_samples(sensor_ids)
    if aligned is not None:
        times, matrix = aligned
        inside = (times >= lo) & (times <= hi)
        times, matrix = times[inside], matrix[inside].astype(np.float64)
    else:
        series = [store.samples(s) for s in sensor_ids]
        times = np.unique(np.concatenate([t[(t >= lo) & (t <= hi)] for t, _ in series] or [np.empty(0)]))
        matrix = np.full((times.size, len(sensor_ids)), np.nan)
        for j, (t, v) in enumerate(series):
            inside = (t >= lo) & (t <= hi)
            matrix[np.searchsorted(times, t[inside]), j] = v[inside]
    stamps = np.datetime_as_string(np.round(times * 1e6).astype("datetime64[us]"), unit="auto",
                                   timezone="UTC")
    columns = {"time": pa.array(stamps)}
    for j, sensor_id in enumerate(sensor_ids):
        columns[sensor_id] = pa.array(matrix[:, j], from_pandas=True)
    try:
        pacsv.write_csv(pa.table(columns), path)
    except OSError as exc:
        raise RecordingError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
