"""Adapters for public data sets that are not plain time-series tables.

Hydraulic test rig (ZeMA, UCI data set 447): one tab-separated matrix per sensor, one row per 60 s load
cycle and one column per sample in the cycle (60 columns = 1 Hz for TS1..4, VS1, CE, CP, SE; 600 = 10 Hz
for FS1/2; 6000 = 100 Hz for PS1..6, EPS1 — the rate is taken from each file's column count). The adapter
lays the cycles back to back from ``HYDRAULIC_START`` (2018-01-01 00:00:00 UTC; the data set carries no
wall-clock time) so cycle ``c``, sample ``j`` of a file with ``n`` columns is at
``start + 60·c + j·60/n``. ``profile.txt`` (cooler %, valve %, pump leakage, accumulator bar, stable flag
per cycle) becomes "condition" events: a span for each run of cycles where a component is not in its
optimal state.

NAB (Numenta Anomaly Benchmark): labels live beside the CSV in ``combined_windows.json`` (anomaly
windows) and ``combined_labels.json`` (labelled anomaly instants), keyed ``<category>/<file name>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa

from twinviewer.core.errors import CancelledError, RecordingError
from twinviewer.core.events import Event
from twinviewer.core.project import ColumnMap
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.import_report import ImportReport
from twinviewer.io.tables import ColumnMapping, check_targets, finish_report, normalise_mapping
from twinviewer.io.timestamps import TimeParser

HYDRAULIC_START = 1514764800.0  # 2018-01-01T00:00:00Z
HYDRAULIC_CYCLE_S = 60.0
HYDRAULIC_SENSORS: dict[str, tuple[str, str]] = {
    "PS1": ("pressure", "bar"), "PS2": ("pressure", "bar"), "PS3": ("pressure", "bar"),
    "PS4": ("pressure", "bar"), "PS5": ("pressure", "bar"), "PS6": ("pressure", "bar"),
    "EPS1": ("motor power", "W"), "FS1": ("volume flow", "l/min"), "FS2": ("volume flow", "l/min"),
    "TS1": ("temperature", "°C"), "TS2": ("temperature", "°C"), "TS3": ("temperature", "°C"),
    "TS4": ("temperature", "°C"), "VS1": ("vibration", "mm/s"), "CE": ("cooling efficiency", "%"),
    "CP": ("cooling power", "kW"), "SE": ("efficiency factor", "%"),
}
# profile.txt columns: name, optimal value, {value: meaning}
_PROFILE = (
    ("cooler", 100, {3: "close to total failure", 20: "reduced efficiency", 100: "full efficiency"}, "%"),
    ("valve", 100,
     {100: "optimal switching", 90: "small lag", 80: "severe lag", 73: "close to total failure"}, "%"),
    ("pump leakage", 0, {0: "no leakage", 1: "weak leakage", 2: "severe leakage"}, ""),
    ("accumulator", 130, {130: "optimal pressure", 115: "slightly reduced pressure",
                          100: "severely reduced pressure", 90: "close to total failure"}, " bar"),
    ("stability", 0, {0: "stable", 1: "static conditions may not be reached yet"}, ""),
)

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


def is_hydraulic_folder(path: Path) -> bool:
    path = Path(path)
    return path.is_dir() and any((path / f"{name}.txt").is_file() for name in HYDRAULIC_SENSORS)


def _read_matrix(path: Path, report: ImportReport) -> np.ndarray:
    """A tab-separated cycles × samples matrix; a row with the wrong number of fields becomes NaN."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror or exc})") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise RecordingError(f"{path}: the file is empty")
    width = len(lines[0].split("\t"))
    matrix = np.full((len(lines), width), np.nan)
    truncated, unparsable = [], 0
    bad_lines: list[str] = []
    for row, line in enumerate(lines):
        fields = line.split("\t")
        if len(fields) != width:
            truncated.append(f"{path.name}:{row + 1}")
            continue
        try:
            matrix[row] = np.array(fields, dtype=np.float64)
        except ValueError:
            for col, field in enumerate(fields):
                try:
                    matrix[row, col] = float(field)
                except ValueError:
                    unparsable += 1
                    if len(bad_lines) < 5:
                        bad_lines.append(f"{path.name}:{row + 1}")
    report.add("truncated line", len(truncated), truncated)
    report.add("unparsable number", unparsable, bad_lines)
    return matrix


def import_hydraulic(folder: Path | str, mapping: ColumnMapping = None, *, start: float = HYDRAULIC_START,
                     progress: Progress | None = None, cancel: Cancel | None = None,
                     periods: Mapping[str, float] | None = None) -> tuple[TimeSeriesStore, ImportReport]:
    """The ZeMA hydraulic rig folder → a new store (one block per sampling rate) and its report."""
    folder = Path(folder)
    if not is_hydraulic_folder(folder):
        raise RecordingError(
            f"{folder}: not a hydraulic-rig folder (expected files such as TS1.txt, VS1.txt)"
        )
    report = ImportReport(source=str(folder))
    available = [name for name in HYDRAULIC_SENSORS if (folder / f"{name}.txt").is_file()]
    maps = normalise_mapping(mapping) or [_identity(name) for name in available]
    check_targets(maps)
    report.missing_columns = [m.column for m in maps if m.column not in available]
    present = [m for m in maps if m.column in available]
    report.unmapped_columns = [name for name in available if name not in {m.column for m in present}]
    if not present:
        raise RecordingError(f"{folder}: none of the mapped sensors ({', '.join(m.column for m in maps)}) "
                             f"has a file here; found {', '.join(available)}")
    by_rate: dict[int, list[tuple[str, np.ndarray]]] = {}
    cycles = None
    for i, m in enumerate(present):
        if cancel is not None and cancel():
            raise CancelledError(f"import of {folder.name} cancelled")
        if progress is not None:
            progress(i / len(present), f"Reading {m.column}.txt")
        matrix = _read_matrix(folder / f"{m.column}.txt", report)
        if cycles is None:
            cycles = matrix.shape[0]
        elif matrix.shape[0] != cycles:
            report.notes.append(f"{m.column}.txt has {matrix.shape[0]} cycles, {present[0].column}.txt "
                                f"{cycles}; "
                                "cycles are aligned from the first one")
        values = matrix.reshape(-1) * m.scale + m.offset
        by_rate.setdefault(matrix.shape[1], []).append((m.sensor, values))
        report.files.append(f"{m.column}.txt")
    store = TimeSeriesStore()
    rows = 0
    for samples_per_cycle, series in by_rate.items():
        period = HYDRAULIC_CYCLE_S / samples_per_cycle
        length = max(v.size for _, v in series)
        times = start + np.arange(length) * period
        matrix = np.full((length, len(series)), np.nan)
        for j, (_, values) in enumerate(series):
            matrix[:values.size, j] = values
        for sensor_id, _ in series:
            store.add_sensor(sensor_id, (periods or {}).get(sensor_id, period))
        store.append_block(times, [s for s, _ in series], matrix, copy=False)
        rows = max(rows, length)
    profile = folder / "profile.txt"
    if profile.is_file():
        report.events.extend(hydraulic_profile_events(profile, report, start))
        report.files.append("profile.txt")
    finish_report(report, store, rows)
    report.metadata["units"] = {m.sensor: HYDRAULIC_SENSORS[m.column][1] for m in present}
    return store, report


def _identity(name: str) -> ColumnMap:
    return ColumnMap(column=name, sensor=name)


def hydraulic_profile_events(profile: Path, report: ImportReport,
                             start: float = HYDRAULIC_START) -> list[Event]:
    """Runs of cycles where a component is not optimal → "condition" span events."""
    matrix = _read_matrix(profile, report)
    events: list[Event] = []
    for column, (component, optimal, meanings, unit) in enumerate(_PROFILE[:matrix.shape[1]]):
        states = matrix[:, column]
        change = np.flatnonzero(np.diff(states) != 0) + 1
        run_starts = np.concatenate(([0], change))
        run_ends = np.concatenate((change, [states.size]))
        for a, b in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
            value = states[a]
            if np.isnan(value) or value == optimal:
                continue
            code = int(value)
            meaning = meanings.get(code, "unlisted state")
            label = f"{component}: {meaning}" if component == "stability" else \
                f"{component} {code:g}{unit} ({meaning})"
            events.append(Event(start + a * HYDRAULIC_CYCLE_S, start + b * HYDRAULIC_CYCLE_S, "condition",
                                label))
    events.sort(key=lambda e: e.t)
    return events


def nab_events(csv_path: Path | str, timezone: str | None = None) -> list[Event]:
    """NAB anomaly windows and labelled instants for ``csv_path`` from the label files beside it ([] if none).

    Label timestamps are naive like the CSV's, so they are read with the same ``timezone`` rule.
    """
    csv_path = Path(csv_path)
    events: list[Event] = []
    parser = TimeParser("iso", timezone, where=str(csv_path))

    def to_seconds(stamps: list[str]) -> np.ndarray:
        raw, bad, naive = parser.parse(pa.array(stamps, type=pa.string()))
        return np.where(bad, np.nan, parser.finish(raw, naive))

    for file_name, kind in (("combined_windows.json", "anomaly window"), ("combined_labels.json", "anomaly")):
        label_file = csv_path.parent / file_name
        if not label_file.is_file():
            continue
        try:
            labels = json.loads(label_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RecordingError(f"{label_file}: cannot read the NAB labels ({exc})") from None
        entries = next((v for k, v in labels.items() if k.split("/")[-1] == csv_path.name), None)
        if not entries:
            continue
        if kind == "anomaly window":
            starts = to_seconds([str(pair[0]) for pair in entries])
            ends = to_seconds([str(pair[1]) for pair in entries])
            events.extend(Event(float(a), float(b), kind, "NAB anomaly window")
                          for a, b in zip(starts, ends, strict=True) if np.isfinite(a) and np.isfinite(b))
        else:
            events.extend(Event(float(t), None, kind, "NAB labelled anomaly")
                          for t in to_seconds([str(s) for s in entries]) if np.isfinite(t))
    events.sort(key=lambda e: e.t)
    return events
