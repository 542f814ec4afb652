"""What an incident bundle, report or clip is made from, and writing the bundle from it.

:class:`IncidentInputs` gathers the twin, its recording (a store), the events, the bookmarks, the
project's acknowledgement file and the view state; the window fills it from what it shows, the CLI
(``cli/_incident.py``) from files. :func:`make_bundle` writes a ``.twinbundle`` from it (see ``io/bundle.py``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from twinviewer.core.bookmarks import Bookmark, ViewState, bookmarks_between
from twinviewer.core.events import Event
from twinviewer.core.store import TimeSeriesStore
from twinviewer.core.twin import Twin


@dataclass
class IncidentInputs:
    twin: Twin
    store: TimeSeriesStore
    events: list[Event]
    recording_name: str
    recording_paths: list[Path]
    bookmarks: list[Bookmark]
    acknowledgements_file: Path | None
    state: ViewState
    bundle: Path | None = None
    extracted: Path | None = None  # a bundle's temporary folder, removed by close()

    def close(self) -> None:
        if self.extracted is not None:
            shutil.rmtree(self.extracted, ignore_errors=True)
            self.extracted = None

    def __enter__(self) -> IncidentInputs:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def is_bundle(path: Path | str) -> bool:
    return str(path).lower().endswith(".twinbundle")


def make_bundle(inputs: IncidentInputs, out: Path | str, window: tuple[float, float] | None = None,
                progress=None, cancelled=None) -> Path:
    from twinviewer.io.bundle import BundleContents, collect_attachments, write_bundle

    twin = inputs.twin
    state = inputs.state
    if window is not None and state.t is not None and not window[0] <= state.t <= window[1]:
        state = state.model_copy(update={"t": window[0]})
    events = [e for e in inputs.events if window is None or (e.t <= window[1] and (e.t_end or e.t) >= window[0])]
    bookmarks = inputs.bookmarks if window is None else bookmarks_between(inputs.bookmarks, *window)
    contents = BundleContents(project_path=twin.path, store=inputs.store, recording_name=inputs.recording_name,
                              window=window, bookmarks=bookmarks, acknowledgements_file=inputs.acknowledgements_file,
                              events=events, state=state,
                              attachments=collect_attachments(twin.path, inputs.recording_paths),
                              recording_paths=inputs.recording_paths)
    return write_bundle(out, contents, progress, cancelled)


def import_recording_for(project, path: Path | str, progress=None, cancel=None):
    """``(store, report)`` of a recording file for this project: native Parquet as is, anything else with the
    project's first ``[[sources]]`` recording settings (column mapping, separator, time zone)."""
    from twinviewer.core.errors import RecordingError
    from twinviewer.io.importers import import_recording, recording_sources

    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such file")
    periods = {s.id: s.expected_period_s for s in project.sensors}
    source = None
    if path.suffix.lower() not in (".parquet", ".pq", ".parq"):
        source = next(iter(recording_sources(project)), None)
    return import_recording(path, source=source, periods=periods, progress=progress, cancel=cancel)
