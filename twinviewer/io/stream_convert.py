"""Converting large CSV files into a dataset folder in bounded memory.

Each CSV file is cut into pieces of about ``chunk_bytes`` (its header line plus whole lines) and every piece
is imported with :func:`~twinviewer.io.importers.import_recording` and the same options as a whole file, so
the rules (layouts, time formats, column mapping, validation) are the importer's. Two passes: the first
keeps only the sensor ids, the time range and the sample period (the dataset writer needs them up front);
the second writes each piece as soon as it is read. Memory is one piece, whatever the size of the input.

Inputs are read back to back in time order, as by ``import_recording``: rows that go back in time across
a piece boundary are dropped and counted (a whole-file import would sort them instead).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.errors import RecordingError
from twinviewer.core.formatting import counted
from twinviewer.io.adapters import nab_events
from twinviewer.io.dataset import DatasetWriter
from twinviewer.io.importers import import_recording

STREAM_CHUNK_BYTES = 32 * 1024 * 1024
"""Size of one piece of a CSV file read at a time (its rows are held in memory while it is written)."""
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


@dataclass
class StreamReport:
    """What a streamed conversion read and wrote."""

    files: list[str] = field(default_factory=list)
    pieces: int = 0
    rows: int = 0
    samples: int = 0
    sensors: list[str] = field(default_factory=list)
    dropped_rows: int = 0
    events: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    locations: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (f"Read {counted(len(self.files), 'file')} in {counted(self.pieces, 'piece')}: "
                f"{counted(self.rows, 'row')}, {counted(len(self.sensors), 'sensor')}")
        if self.dropped_rows:
            text += f"; {self.dropped_rows:,} rows dropped (earlier than the piece before them)"
        fixes = [f"  {kind}: {count:,}" + (f" (first at {', '.join(self.locations[kind])})"
                                           if self.locations.get(kind) else "")
                 for kind, count in sorted(self.counts.items())]
        return "\n".join([text, *(["Kept with fixes or skipped:", *fixes] if fixes else []), *self.notes])


def can_stream(paths: Sequence[Path]) -> bool:
    """Plain CSV files (not a folder, Parquet or a hydraulic-rig set) can be converted piece by piece."""
    return bool(paths) and all(p.is_file() and p.suffix.lower() in CSV_SUFFIXES for p in paths)


def csv_pieces(path: Path, chunk_bytes: int, workdir: Path) -> Iterator[tuple[Path, int]]:
    """``(piece file, line number of its first data row)``: the header line plus whole lines."""
    with open(path, "rb") as handle:
        header = handle.readline()
        line = 2
        while True:
            body = handle.read(max(int(chunk_bytes), 1))
            if not body:
                return
            body += handle.readline()  # finish the last line
            piece = workdir / f"piece{path.suffix.lower()}"
            piece.write_bytes(header + body)
            yield piece, line
            line += body.count(b"\n")


def _import_piece(piece: Path, original: Path, first_line: int, options: Mapping[str, Any]):
    try:
        return import_recording(piece, **options)
    except RecordingError as exc:
        message = str(exc).replace(str(piece), f"{original} (piece from line {first_line})")
        raise RecordingError(message.replace(piece.name, f"{original.name} (piece from line {first_line})")) \
            from None


def _file_line(location: str, original: Path, first_line: int) -> str:
    """``piece.csv:N`` → ``original.csv:M`` (line 2 of a piece is ``first_line`` of the file)."""
    _, _, number = location.rpartition(":")
    if not number.isdigit():
        return location
    return f"{original.name}:{int(number) - 2 + first_line}"


def convert_csv_to_dataset(paths: Sequence[Path | str], folder: Path | str, *, options: Mapping[str, Any],
                           metadata: Mapping[str, Any] | None = None, chunk_bytes: int = STREAM_CHUNK_BYTES,
                           progress: Callable[[float, str], None] | None = None) -> tuple[Path, StreamReport]:
    """Convert CSV ``paths`` (in time order) into the dataset ``folder``; ``options`` are
    ``import_recording``'s keyword arguments (source, delimiter, time_column, time_format, timezone,
    layout, periods)."""
    files = [Path(p) for p in paths]
    report = StreamReport(files=[str(p) for p in files])
    total = sum(p.stat().st_size for p in files) or 1
    sensors: dict[str, None] = {}
    first, last = math.inf, -math.inf
    periods: list[float] = []
    aligned_everywhere = True
    with tempfile.TemporaryDirectory(prefix="twinviewer-convert-") as scratch:
        workdir = Path(scratch)

        def pieces(stage: str, share: float, offset: float) -> Iterator[tuple[Any, Any]]:
            done = 0
            for path in files:
                for piece, line in csv_pieces(path, chunk_bytes, workdir):
                    done += piece.stat().st_size
                    store, piece_report = _import_piece(piece, path, line, options)
                    for kind, places in piece_report.locations.items():  # piece lines → the file's lines
                        piece_report.locations[kind] = [_file_line(p, path, line) for p in places]
                    if progress is not None:
                        progress(offset + share * min(done / total, 1.0), f"{stage} {path.name}")
                    yield store, piece_report

        for store, _ in pieces("Scanning", 0.3, 0.0):  # pass 1: sensors, time range, period
            span = store.time_range()
            if span is None:
                continue
            ids = [s for s in store.sensor_ids if store.sensor_time_range(s)]
            sensors.update(dict.fromkeys(ids))
            first, last = min(first, span[0]), max(last, span[1])
            aligned = store.aligned_samples(ids)
            if aligned is None:
                aligned_everywhere = False
            elif aligned[0].size > 1 and len(periods) < 16:
                periods.append(float(np.median(np.diff(aligned[0]))))
        if not sensors:
            raise RecordingError(f"{folder}: nothing to write (no samples in {', '.join(p.name for p in files)})")
        report.sensors = list(sensors)
        period = float(np.median(periods)) if periods else 1.0
        for path in files:
            report.events.extend(nab_events(path, options.get("timezone")))
        metadata = {**(metadata or {}), "events": report.events, "source_files": report.files}
        if metadata.get("units"):
            metadata["units"] = {k: v for k, v in metadata["units"].items() if k in sensors}
        writer = DatasetWriter(folder, report.sensors, first, last, period, metadata,
                               layout="grid" if aligned_everywhere else "long")
        column = {s: j for j, s in enumerate(report.sensors)}
        try:
            for store, piece_report in pieces("Writing", 0.7, 0.3):  # pass 2
                report.pieces += 1
                report.notes.extend(n for n in piece_report.notes if n not in report.notes)
                for kind, count in piece_report.counts.items():
                    report.counts[kind] = report.counts.get(kind, 0) + count
                    kept = report.locations.setdefault(kind, [])
                    kept.extend(piece_report.locations.get(kind, [])[:max(5 - len(kept), 0)])
                ids = [s for s in store.sensor_ids if store.sensor_time_range(s)]
                if not ids:
                    continue
                if aligned_everywhere:
                    times, values = store.aligned_samples(ids)
                    keep = times > writer.range[1]
                    report.dropped_rows += int((~keep).sum())
                    matrix = np.full((int(keep.sum()), len(report.sensors)), np.nan)
                    matrix[:, [column[s] for s in ids]] = values[keep]
                    writer.write(times[keep], matrix)
                    report.rows += int(keep.sum())
                    report.samples += int(np.isfinite(values[keep]).sum())
                else:
                    series = [store.samples(s) for s in ids]
                    times = np.concatenate([t for t, _ in series])
                    codes = np.concatenate([np.full(t.size, column[s], dtype=np.int32)
                                            for s, (t, _) in zip(ids, series, strict=True)])
                    values = np.concatenate([v for _, v in series])
                    order = np.argsort(times, kind="stable")
                    times, codes, values = times[order], codes[order], values[order]
                    keep = times >= writer.range[1]
                    report.dropped_rows += int((~keep).sum())
                    writer.write_long(times[keep], codes[keep], values[keep])
                    report.rows += int(keep.sum())
                    report.samples += int(keep.sum())
            return writer.close(), report
        except BaseException:
            writer.abort()
            raise
