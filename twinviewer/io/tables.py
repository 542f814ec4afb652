"""From parsed rows (one or several files) to a new ``TimeSeriesStore``: mapping, ordering, duplicates, gaps.

Readers (CSV, generic Parquet, adapters) produce a ``WideTable`` (a time column and one column per
signal) or a ``LongTable`` (time, signal name, value per row), each row remembering its file and line.
``assemble_wide`` / ``assemble_long`` apply the column → sensor mapping (with scale and offset), put
several files back to back in time order, sort out-of-order rows, keep the last of duplicate timestamps,
find gaps, turn label columns into events, record every one of those in the ``ImportReport``, and fill a
fresh store. Nothing touches a store until the whole import has succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.errors import RecordingError
from twinviewer.core.events import Event
from twinviewer.core.project import ColumnMap
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.import_report import ImportReport

FLOAT32_ABOVE_SAMPLES = 10_000_000  # "auto" value dtype: float32 for big recordings, float64 otherwise
GAP_FACTOR = 3.0
LABEL_COLUMNS = {"anomaly", "changepoint", "label", "labels", "is_anomaly", "attack"}
POINT_LABELS = {"changepoint"}


@dataclass
class WideTable:
    """One file's rows: ``values[:, j]`` is column ``columns[j]``; ``lines`` are 1-based line numbers."""

    file: str
    times: np.ndarray
    lines: np.ndarray
    columns: list[str]
    values: np.ndarray
    labels: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class LongTable:
    """One file's rows as (time, name, value): ``names`` indexes ``name_list``."""

    file: str
    times: np.ndarray
    lines: np.ndarray
    name_list: list[str]
    names: np.ndarray
    values: np.ndarray
    quality: np.ndarray | None = None


ColumnMapping = list[ColumnMap] | Mapping[str, str | ColumnMap] | None


def normalise_mapping(mapping: ColumnMapping) -> list[ColumnMap]:
    """A project's ``columns`` list or a ``{column: sensor_id | ColumnMap}`` dict → list of ColumnMap."""
    if mapping is None:
        return []
    if isinstance(mapping, Mapping):
        out = []
        for column, target in mapping.items():
            out.append(target if isinstance(target, ColumnMap)
                       else ColumnMap(column=column, sensor=str(target)))
        return out
    return list(mapping)


def choose_dtype(value_dtype: str, samples: int) -> np.dtype:
    if value_dtype == "auto":
        return np.dtype(np.float32 if samples > FLOAT32_ABOVE_SAMPLES else np.float64)
    return np.dtype(value_dtype)


def _locations(files: list[str], file_index: np.ndarray, lines: np.ndarray, rows: np.ndarray,
               limit: int = 5) -> list[str]:
    return [f"{files[file_index[r]]}:{lines[r]}" for r in rows[:limit].tolist()]


def check_targets(maps: list[ColumnMap]) -> None:
    seen: dict[str, str] = {}
    for m in maps:
        if m.sensor in seen and seen[m.sensor] != m.column:
            raise RecordingError(f"the mapping sends both columns {seen[m.sensor]!r} and {m.column!r} to "
                                 f"sensor {m.sensor!r}; map each sensor once")
        seen[m.sensor] = m.column


def _order_rows(times: np.ndarray, file_index: np.ndarray, lines: np.ndarray, files: list[str],
                report: ImportReport, keys: np.ndarray | None = None) -> np.ndarray:
    """Indices that sort rows by (key, time) stably, dropping all but the last of duplicate (key, time)."""
    if keys is None:
        running_max = np.maximum.accumulate(times)
        late = np.flatnonzero(times[1:] < running_max[:-1]) + 1
        order = np.argsort(times, kind="stable") if late.size else np.arange(times.size)
    else:
        order = np.lexsort((times, keys))
        late = np.empty(0, dtype=np.int64)
        for key in np.unique(keys):
            rows = np.flatnonzero(keys == key)
            t = times[rows]
            bad = np.flatnonzero(t[1:] < np.maximum.accumulate(t)[:-1]) + 1
            late = np.concatenate((late, rows[bad]))
        late.sort()
    report.add("out of order", late.size, _locations(files, file_index, lines, late))
    sorted_times = times[order]
    same = sorted_times[1:] == sorted_times[:-1]
    if keys is not None:
        same &= keys[order][1:] == keys[order][:-1]
    if same.any():
        later_duplicates = order[1:][same]
        report.add("duplicate timestamp", later_duplicates.size,
                   _locations(files, file_index, lines, np.sort(later_duplicates)))
        keep = np.ones(order.size, dtype=bool)
        keep[:-1] = ~same
        order = order[keep]
    return order


def median_period(times: np.ndarray) -> float:
    if times.size < 2:
        return 1.0
    steps = np.diff(times)
    steps = steps[steps > 0]
    return float(np.median(steps)) if steps.size else 1.0


def _report_gaps(times: np.ndarray, period: float, file_index: np.ndarray, lines: np.ndarray,
                 files: list[str], report: ImportReport) -> None:
    if times.size < 2:
        return
    after_gap = np.flatnonzero(np.diff(times) > GAP_FACTOR * period) + 1
    report.add("gap", after_gap.size, _locations(files, file_index, lines, after_gap))


def label_events(times: np.ndarray, labels: Mapping[str, np.ndarray]) -> list[Event]:
    """Label columns (0/1 or counts) → events: runs of non-zero rows become spans, changepoints markers."""
    events: list[Event] = []
    for name, column in labels.items():
        flagged = np.nan_to_num(column, nan=0.0) != 0
        if not flagged.any():
            continue
        if name.lower() in POINT_LABELS:
            events.extend(Event(float(t), None, name.lower(), name) for t in times[flagged])
            continue
        edges = np.diff(np.concatenate(([0], flagged.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        events.extend(Event(float(times[a]), float(times[b]),
                            "anomaly" if name.lower() in ("anomaly", "is_anomaly")
                            else "label", name) for a, b in zip(starts, ends, strict=True))
    events.sort(key=lambda e: e.t)
    return events


def finish_report(report: ImportReport, store: TimeSeriesStore, rows: int) -> None:
    report.rows = rows
    report.samples = store.sample_count
    report.sensors = store.sensor_ids
    report.time_range = store.time_range()


def _tables_by_start(tables, report: ImportReport) -> tuple[list, list[str]]:
    """The tables that hold rows, earliest first, and their files (also written to the report)."""
    tables = sorted((t for t in tables if t.times.size), key=lambda t: float(np.nanmin(t.times)))
    if not tables:
        raise RecordingError(f"{report.source}: no data rows to import")
    report.files = [t.file for t in tables]
    return tables, list(report.files)


def assemble_wide(tables: Iterable[WideTable], mapping: ColumnMapping, report: ImportReport, *,
                  value_dtype: str = "auto", time_offset_s: float = 0.0,
                  periods: Mapping[str, float] | None = None) -> TimeSeriesStore:
    """Wide tables (one per file, any order) → one new store holding one block for all mapped sensors."""
    tables, files = _tables_by_start(tables, report)
    all_columns: list[str] = []
    for table in tables:
        all_columns.extend(c for c in table.columns if c not in all_columns)
    maps = normalise_mapping(mapping) or [ColumnMap(column=c, sensor=c) for c in all_columns]
    check_targets(maps)
    present = [m for m in maps if m.column in all_columns]
    report.missing_columns = [m.column for m in maps if m.column not in all_columns]
    mapped = {m.column for m in present}
    report.unmapped_columns = [c for c in all_columns if c not in mapped]
    if not present:
        raise RecordingError(f"{report.source}: none of the mapped columns "
                             f"({', '.join(m.column for m in maps)}) "
                             f"is in the data; its columns are {', '.join(all_columns) or 'none'}")
    times = np.concatenate([t.times for t in tables]) + time_offset_s
    lines = np.concatenate([t.lines for t in tables])
    file_index = np.concatenate([np.full(t.times.size, i, dtype=np.int32) for i, t in enumerate(tables)])
    label_names = list(dict.fromkeys(name for t in tables for name in t.labels))
    report.label_columns = label_names
    order = _order_rows(times, file_index, lines, files, report)
    times, lines, file_index = times[order], lines[order], file_index[order]
    dtype = choose_dtype(value_dtype, times.size * len(present))
    matrix = np.empty((times.size, len(present)), dtype=dtype)
    for j, m in enumerate(present):
        column = np.concatenate([
            t.values[:, t.columns.index(m.column)] if m.column in t.columns else np.full(t.times.size, np.nan)
            for t in tables])
        column = column[order]
        if m.scale != 1.0 or m.offset != 0.0:
            column = column * m.scale + m.offset
        matrix[:, j] = column
    labels = {}
    for name in label_names:
        labels[name] = np.concatenate([t.labels.get(name, np.zeros(t.times.size)) for t in tables])[order]
    period = median_period(times)
    _report_gaps(times, period, file_index, lines, files, report)
    report.events.extend(label_events(times, labels))
    store = TimeSeriesStore()
    sensor_ids = [m.sensor for m in present]
    for sensor_id in sensor_ids:
        store.add_sensor(sensor_id, (periods or {}).get(sensor_id, period))
    store.append_block(times, sensor_ids, matrix, copy=False)
    finish_report(report, store, times.size)
    return store


def assemble_long(tables: Iterable[LongTable], mapping: ColumnMapping, report: ImportReport, *,
                  value_dtype: str = "auto", time_offset_s: float = 0.0,
                  periods: Mapping[str, float] | None = None) -> TimeSeriesStore:
    """Long tables → one new store: one shared block when every sensor has every timestamp, else a block
    each."""
    tables, files = _tables_by_start(tables, report)
    all_names: list[str] = []
    for table in tables:
        all_names.extend(n for n in table.name_list if n not in all_names)
    name_code = {name: i for i, name in enumerate(all_names)}
    maps = normalise_mapping(mapping) or [ColumnMap(column=n, sensor=n) for n in all_names]
    check_targets(maps)
    report.missing_columns = [m.column for m in maps if m.column not in name_code]
    present = [m for m in maps if m.column in name_code]
    times = np.concatenate([t.times for t in tables]) + time_offset_s
    lines = np.concatenate([t.lines for t in tables])
    file_index = np.concatenate([np.full(t.times.size, i, dtype=np.int32) for i, t in enumerate(tables)])
    codes = np.concatenate([np.array([name_code[n] for n in t.name_list], dtype=np.int64)[t.names]
                            if t.name_list else np.zeros(0, np.int64) for t in tables])
    values = np.concatenate([t.values for t in tables])
    quality = [t.quality if t.quality is not None else np.zeros(t.times.size, np.uint8) for t in tables]
    bad_quality = np.concatenate(quality) == 2
    if bad_quality.any():
        report.add("bad quality", int(bad_quality.sum()),
                   _locations(files, file_index, lines, np.flatnonzero(bad_quality)))
        values = np.where(bad_quality, np.nan, values)
    # map file names → sensor slots; rows of names not mapped are "unknown sensor"
    sensor_of_code = np.full(len(all_names), -1, dtype=np.int64)
    scale = np.ones(len(present))
    shift = np.zeros(len(present))
    for slot, m in enumerate(present):
        sensor_of_code[name_code[m.column]] = slot
        scale[slot], shift[slot] = m.scale, m.offset
    slots = sensor_of_code[codes]
    unknown = np.flatnonzero(slots < 0)
    if unknown.size:
        report.add("unknown sensor", unknown.size, _locations(files, file_index, lines, unknown))
        report.unmapped_columns = [n for n in all_names if sensor_of_code[name_code[n]] < 0]
    if not present:
        raise RecordingError(f"{report.source}: none of the mapped sensor names "
                             f"({', '.join(m.column for m in maps)})"
                             f" occurs in the data; it names {', '.join(all_names[:10]) or 'none'}")
    keep = slots >= 0
    times, lines, file_index, slots, values = (
        times[keep],
        lines[keep],
        file_index[keep],
        slots[keep],
        values[keep],
    )
    values = values * scale[slots] + shift[slots]
    order = _order_rows(times, file_index, lines, files, report, keys=slots)
    times, lines, file_index, slots, values = (a[order] for a in (times, lines, file_index, slots, values))
    sensor_ids = [m.sensor for m in present]
    store = TimeSeriesStore()
    unique_times, time_index = np.unique(times, return_inverse=True)
    dense = unique_times.size * len(present) == times.size
    if dense:
        dtype = choose_dtype(value_dtype, times.size)
        matrix = np.empty((unique_times.size, len(present)), dtype=dtype)
        matrix[time_index, slots] = values
        period = median_period(unique_times)
        for sensor_id in sensor_ids:
            store.add_sensor(sensor_id, (periods or {}).get(sensor_id, period))
        by_time = np.argsort(times, kind="stable")
        _report_gaps(times[by_time][::len(present)], period, file_index[by_time][::len(present)],
                     lines[by_time][::len(present)], files, report)
        store.append_block(unique_times, sensor_ids, matrix, copy=False)
    else:
        bounds = np.searchsorted(slots, np.arange(len(present) + 1))
        for slot, sensor_id in enumerate(sensor_ids):
            a, b = bounds[slot], bounds[slot + 1]
            period = median_period(times[a:b])
            store.add_sensor(sensor_id, (periods or {}).get(sensor_id, period))
            _report_gaps(times[a:b], period, file_index[a:b], lines[a:b], files, report)
            if b > a:
                store.append_many(sensor_id, times[a:b], values[a:b])
    finish_report(report, store, int(keep.sum()))
    return store
