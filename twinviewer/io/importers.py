"""One entry point for every recording the app can open: files → a new store and an ``ImportReport``.

``import_recording(paths, source=…)`` picks the reader from the file (native or generic Parquet, CSV,
the hydraulic-rig folder), reads several files as one recording (put back to back in time order), and
attaches labels found beside the data (NAB). ``import_source(project, name)`` does the same for a
project's ``[[sources]]`` entry of kind "recording", whose ``file`` may use ``${VARIABLE}`` and glob
patterns: ``file = "${SKAB_DIR}/valve1/*.csv"`` (see ``resolve_recording_files``).
Either everything succeeds and a filled store comes back, or ``RecordingError`` is raised and nothing is
left half-loaded. ``progress(fraction, message)`` is called as work advances; ``cancel()`` returning True
stops the import with ``CancelledError`` at the next chunk.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from twinviewer.core.errors import RecordingError
from twinviewer.core.project import Project, RecordingSource
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.adapters import HYDRAULIC_START, import_hydraulic, is_hydraulic_folder, nab_events
from twinviewer.io.csv_import import EmptyFileError, read_csv_table
from twinviewer.io.dataset import is_dataset_folder, open_dataset_recording
from twinviewer.io.import_report import ImportReport
from twinviewer.io.recording import read_parquet_table, read_recording
from twinviewer.io.tables import ColumnMapping, LongTable, WideTable, assemble_long, assemble_wide

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]
PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def resolve_recording_files(project: Project | None, source: RecordingSource | str,
                            override_dir: Path | str | None = None,
                            variables: Mapping[str, str] | None = None) -> list[Path]:
    """The files a recording source names, expanded and sorted naturally (0, 1, 2, …, 10).

    ``file`` may hold ``${NAME}`` (environment variables, or ``variables``), ``~`` and glob patterns.
    ``override_dir`` (a command-line option or a folder chosen in the UI) replaces everything up to and
    including the first variable — ``${SKAB_DIR}/valve1/*.csv`` with ``/data/skab`` gives
    ``/data/skab/valve1/*.csv`` — or, in a path without variables, the folder of the pattern.
    Relative paths are relative to the project file.
    """
    pattern = source.file if isinstance(source, RecordingSource) else str(source)
    first = _VARIABLE.search(pattern)
    if override_dir is not None:
        if first is not None:
            pattern = str(Path(override_dir)) + pattern[first.end():]
        else:
            pattern = str(Path(override_dir) / Path(pattern).name)
    values = {**os.environ, **(variables or {})}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise RecordingError(f"the recording path {pattern!r} uses ${{{name}}}, which is not set: set "
                                 f"the environment variable {name}, or give the folder (render --data-dir DIR; "
                                 "in the window: Data → Choose the recording folder…)")
        return values[name]

    expanded = os.path.expanduser(_VARIABLE.sub(substitute, pattern))
    if not Path(expanded).is_absolute():
        expanded = str(project.resolve(expanded) if project is not None else Path(expanded).resolve())
    if glob.has_magic(expanded):
        matches = sorted((Path(p) for p in glob.glob(expanded)), key=_natural_key)
        if not matches:
            raise RecordingError(f"no file matches the recording path {expanded}")
        return matches
    path = Path(expanded)
    if not path.exists():
        raise RecordingError(f"recording file not found: {path}")
    return [path]


def import_recording(paths: Path | str | Sequence[Path | str], *, source: RecordingSource | None = None,
                     mapping: ColumnMapping = None, format: str | None = None, layout: str | None = None,
                     delimiter: str | None = None, time_column: str | None = None,
                     time_format: str | None = None, timezone: str | None = None,
                     time_offset_s: float | None = None, periods: Mapping[str, float] | None = None,
                     progress: Progress | None = None, cancel: Cancel | None = None,
                     value_dtype: str = "auto") -> tuple[TimeSeriesStore, ImportReport]:
    """Import one or several files as one recording into a new store; see the module docstring."""
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    paths = files
    if not paths:
        raise RecordingError("no recording file given")
    settings = source or RecordingSource(kind="recording", file=str(paths[0]))
    format = format or settings.format
    layout = layout or settings.layout
    delimiter = delimiter or settings.delimiter
    time_column = time_column or settings.time_column
    time_format = time_format or settings.time_format
    timezone = timezone if timezone is not None else settings.timezone
    time_offset_s = settings.time_offset_s if time_offset_s is None else time_offset_s
    mapping = mapping if mapping is not None else (settings.columns or None)
    label = ", ".join(p.name for p in paths[:3]) + (f" … ({len(paths)} files)" if len(paths) > 3 else "")

    def step(i: int) -> Callable[[float], None]:
        def inner(fraction: float) -> None:
            if progress is not None:
                progress(0.9 * (i + fraction) / len(paths), f"Reading {paths[i].name} ({i + 1}/{len(paths)})")
        return inner

    if format == "hydraulic" or (format == "auto" and len(paths) == 1 and is_hydraulic_folder(paths[0])):
        store, report = import_hydraulic(paths[0], mapping, start=HYDRAULIC_START + time_offset_s,
                                         progress=progress, cancel=cancel, periods=periods)
        return store, report
    if len(paths) == 1 and format in ("auto", "parquet") and is_dataset_folder(paths[0]):
        return open_dataset_recording(paths[0], mapping, periods, progress, cancel)
    for path in paths:
        if path.is_dir():
            raise RecordingError(f"{path} is a folder; give the recording files (e.g. {path}/*.csv)")
    if len(paths) == 1 and (format == "parquet"
                            or (format == "auto" and paths[0].suffix.lower() in PARQUET_SUFFIXES)):
        store, report = read_recording(paths[0], progress, cancel, mapping=mapping, value_dtype=value_dtype,
                                       periods=periods)
        return store, report
    report = ImportReport(source=label)
    tables: list[WideTable | LongTable] = []
    for i, path in enumerate(paths):
        if format == "parquet" or (format == "auto" and path.suffix.lower() in PARQUET_SUFFIXES):
            tables.append(read_parquet_table(path, report, time_column=time_column, time_format=time_format,
                                             timezone=timezone, layout=layout, cancel=cancel))
            continue
        try:
            tables.append(read_csv_table(path, report, delimiter=delimiter, layout=layout,
                                         time_column=time_column, time_format=time_format, timezone=timezone,
                                         progress=step(i), cancel=cancel,
                                         display_name=path.name if len({p.name for p in paths}) == len(paths)
                                         else str(path)))
        except EmptyFileError:
            if len(paths) == 1:
                raise
            report.add("empty file", 1, [f"{path.name}:1"])
        report.events.extend(nab_events(path, timezone))
    if progress is not None:
        progress(0.92, "Sorting and checking rows")
    kinds = {type(t) for t in tables}
    if len(kinds) > 1:
        raise RecordingError(f"{label}: the files mix wide and long layouts; import them separately")
    assemble: Callable[..., Any] = assemble_long if kinds == {LongTable} else assemble_wide
    store = assemble(tables, mapping, report, value_dtype=value_dtype, time_offset_s=time_offset_s,
                     periods=periods)
    if progress is not None:
        progress(1.0, f"Imported {label}")
    return store, report


def recording_sources(project: Project) -> list[RecordingSource]:
    return [s for s in project.sources if isinstance(s, RecordingSource)]


def find_recording_source(project: Project, name: str | None = None) -> RecordingSource:
    """The project's recording source called ``name`` (or the first one when ``name`` is None)."""
    sources = recording_sources(project)
    if not sources:
        raise RecordingError(f"{project.path or 'the project'} has no [[sources]] of kind \"recording\"")
    if name is None:
        return sources[0]
    for source in sources:
        if source.name == name:
            return source
    names = ", ".join(repr(s.name) for s in sources if s.name) or "none with a name"
    raise RecordingError(f"no recording source named {name!r} in the project (it has {names})")


def import_source(project: Project, source: RecordingSource | str | None = None, *,
                  override_dir: Path | str | None = None, progress: Progress | None = None,
                  cancel: Cancel | None = None) -> tuple[TimeSeriesStore, ImportReport]:
    """Import a project's recording source with its column mapping and the sensors' expected periods."""
    if not isinstance(source, RecordingSource):
        source = find_recording_source(project, source)
    paths = resolve_recording_files(project, source, override_dir)
    periods = {s.id: s.expected_period_s for s in project.sensors}
    store, report = import_recording(paths, source=source, periods=periods, progress=progress, cancel=cancel)
    known = {s.id for s in project.sensors}
    strangers = [s for s in store.sensor_ids if s not in known]
    if strangers and project.sensors:
        report.notes.append(
            "Sensors in the recording that the project does not define: " + ", ".join(strangers)
        )
    return store, report
