"""Shared by ``twinviewer bundle``, ``report`` and ``video``: their options, reading their inputs from files
(a project or a bundle, a recording, the bookmark sidecar, a view state), and building the report and the
clip (rendered offscreen through ``render/incident_render.py``, written by ``io/report.py`` and
``io/video.py``). The window runs report and video through these commands in a child process.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from twinviewer.cli._incident_args import add_common_arguments  # noqa: F401 (re-exported)
from twinviewer.core.bookmarks import Bookmark, ViewState, bookmarks_between
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.formatting import counted, format_duration, format_number, format_time
from twinviewer.io.incident import IncidentInputs, is_bundle

REPORT_IMAGE_SIZE = (1280, 800)
MAX_CHARTS_PER_BOOKMARK = 6


def progress_printer(enabled: bool):
    if not enabled:
        return None

    def report(fraction: float, message: str = "") -> None:
        print(f"PROGRESS {fraction:.6f} {message}", flush=True)

    return report


def open_args(args):
    return open_inputs(args.target, args.recording, args.bookmarks, args.state)


def fail_if_exists_as_dir(path) -> None:
    from pathlib import Path

    from twinviewer.core.errors import TwinViewerError

    if Path(path).is_dir():
        raise TwinViewerError(f"--out {path} is a folder; give a file name")


def output_file(out: str, suffix: str):
    """The ``--out`` path with ``suffix`` (a different one is replaced), refused when it names a folder."""
    from pathlib import Path

    path = Path(out)
    if path.suffix.lower() != suffix:
        path = path.with_suffix(suffix)
    fail_if_exists_as_dir(path)
    return path


def size_option(flag: str, value: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` of a size option; the error names the option."""
    from twinviewer.core.views import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise TwinViewerError(f"{flag}: {exc}") from None


def open_inputs(target: Path | str, recording: Path | str | None = None, bookmarks_file: Path | str | None = None,
                state_file: Path | str | None = None) -> IncidentInputs:
    """The twin, recording, bookmarks, acknowledgements and view state for a project or a bundle."""
    from twinviewer.cli._render_state import load_recording
    from twinviewer.core.alarms import sidecar_path as acks_path
    from twinviewer.io.bookmarks_file import read_bookmarks_file, sidecar_path
    from twinviewer.io.importers import recording_sources, resolve_recording_files
    from twinviewer.io.twins import open_twin

    target = Path(target)
    extracted = None
    state = ViewState()
    bundle = None
    if is_bundle(target):
        from twinviewer.io.bundle import extract_bundle

        unpacked = extract_bundle(target)
        extracted, bundle, state = unpacked.folder, target, unpacked.state
        project_path = unpacked.project_path
        if recording is None and unpacked.recording_path is not None:
            recording = unpacked.recording_path
    else:
        project_path = target
    try:
        twin = open_twin(project_path)
        if twin.is_raw_mesh:
            raise TwinViewerError(f"{target}: a report, clip or bundle needs a twin project (*.twin.toml) or bundle")
        source_name = ""
        if recording is not None:
            paths = [Path(recording)]
        else:
            sources = recording_sources(twin.project)
            if not sources:
                raise TwinViewerError(f"{target}: give --recording (the project names no recording)")
            paths = resolve_recording_files(twin.project, sources[0])
            source_name = sources[0].name or ""
        store, report = load_recording(twin, recording)
        if store.time_range() is None:
            raise TwinViewerError(f"--recording {recording or 'of the project'}: the recording holds no samples")
        # a name people recognise: the project's name for its recording, else the file (or the folder of several)
        name = source_name or (Path(paths[0]).stem if len(paths) == 1 else Path(paths[0]).parent.name) or "recording"
        bookmarks = read_bookmarks_file(bookmarks_file or sidecar_path(paths), missing_ok=bookmarks_file is None)
        if state_file is not None:
            state = read_state_file(state_file)
        acks = acks_path(twin.path)
        events = list(report.events) + detected_anomalies(twin, store)
        return IncidentInputs(twin, store, sorted(events, key=lambda e: e.t), name, [Path(p) for p in paths], bookmarks,
                              acks if acks.is_file() else None, state, bundle, extracted)
    except BaseException:
        if extracted is not None:
            shutil.rmtree(extracted, ignore_errors=True)
        raise


def detected_anomalies(twin, store) -> list:
    """Episodes of the project's anomaly detector (``NAME.twin.anomaly.json`` beside it), if it has one that
    fits this recording; none otherwise (a report or clip does not fail for want of a detector)."""
    from twinviewer.core.anomaly_track import AnomalyTrack
    from twinviewer.io.anomaly_model import load_model, model_path

    path = model_path(twin.path)
    if not path.is_file():
        return []
    model = load_model(path)
    if not all(store.has(s) for s in model.sensors):
        return []
    return AnomalyTrack.score_store(model, store).events()


def read_state_file(path: Path | str) -> ViewState:
    from pydantic import ValidationError

    from twinviewer.core.bookmarks import describe_validation_error

    path = Path(path)
    try:
        raw = path.read_bytes()[: 1 << 20]
        return ViewState.model_validate_json(raw)
    except OSError as exc:
        raise TwinViewerError(f"--state {path}: cannot read: {exc.strerror or exc}") from None
    except ValidationError as exc:
        raise TwinViewerError(describe_validation_error(exc, f"--state {path}")) from None


def resolve_window(store, from_text: str | None, to_text: str | None) -> tuple[float, float]:
    """``--from`` / ``--to`` (ISO, epoch or +offset; default the recording's start / end) as epoch seconds."""
    from twinviewer.cli._render_state import parse_time

    start, end = store.time_range()
    t0 = parse_time(from_text, start, end) if from_text else start
    t1 = parse_time(to_text, start, end) if to_text else end
    if t1 <= t0:
        raise TwinViewerError(f"--to {to_text or format_time(t1)} must be after --from {from_text or format_time(t0)}")
    return t0, t1


# ----------------------------------------------------------------------------------------------- report
def _alarm_tracker(twin, store, t0: float, t1: float):
    from twinviewer.core.alarms import AlarmTracker, alarm_settings

    sensors = twin.project.sensors
    tracker = AlarmTracker(sensors, settings=alarm_settings(sensors))  # the window's one rule
    acks = None
    from twinviewer.core.alarms import sidecar_path
    from twinviewer.io.alarm_log import load_acknowledgements

    acks = sidecar_path(twin.path)
    if acks.is_file():
        load_acknowledgements(tracker, acks)
    tracker.catch_up(store, focus=t0)
    tracker.refine_between(store, t0, t1)  # the report's interval at sample times, however long it takes
    return tracker


def _chart_series(twin, store, sensor_ids: list[str], t0: float, t1: float):
    from twinviewer.io.report import ChartSeries

    series = []
    for sensor_id in sensor_ids:
        try:
            sensor = twin.project.sensor(sensor_id)
        except (KeyError, ValueError, TwinViewerError):
            continue
        if not store.has(sensor_id):
            continue
        times, lo, hi = store.window(sensor_id, t0, t1, max_points=600)
        values = (np.asarray(lo, float) + np.asarray(hi, float)) / 2.0
        limits = [(k, float(v)) for k in ("alarm_low", "warning_low", "warning_high", "alarm_high")
                  if (v := getattr(sensor.thresholds, k, None)) is not None]
        series.append(ChartSeries(sensor.id, sensor.label, sensor.unit, np.asarray(times, float), values, limits))
    return series


def bookmark_sensors(twin, bookmark: Bookmark) -> list[str]:
    """The sensors a bookmark concerns: its own list, else the sensors on its tagged parts."""
    if bookmark.sensors:
        return list(bookmark.sensors)
    parts = set(bookmark.parts)
    return [s.id for s in twin.project.sensors if s.part in parts]


def build_report_data(inputs: IncidentInputs, t0: float, t1: float, overlay: str | None = None,
                      image_size: tuple[int, int] = REPORT_IMAGE_SIZE, progress=None, cancelled=None):
    from twinviewer.core.alarms import iso_utc
    from twinviewer.core.errors import CancelledError
    from twinviewer.io.report import ReportBookmark, ReportData
    from twinviewer.render.incident_render import MomentRenderer

    progress = progress or (lambda _f, _m="": None)
    cancelled = cancelled or (lambda: False)
    twin, store = inputs.twin, inputs.store
    project = twin.project
    asset = project.asset
    identity = [("Asset", asset.name)]
    identity += [(label, value) for label, value in (("Serial", asset.serial), ("Manufacturer", asset.manufacturer),
                                                    ("Description", asset.description)) if value]
    identity += [("Project file", twin.path.name), ("Recording", inputs.recording_name)]
    if inputs.bundle is not None:
        identity.append(("Bundle", inputs.bundle.name))
    span = store.time_range()
    identity.append(("Recording spans", f"{format_time(span[0])} → {format_time(span[1])}"))
    time_range = f"{format_time(t0)} → {format_time(t1)} ({format_duration(t1 - t0)}, local time)"

    tracker = _alarm_tracker(twin, store, t0, t1)
    alarms = [a for a in tracker.alarms if t0 <= a.onset_t <= t1]
    units = {s.id: s.unit for s in project.sensors}
    events = [e for e in inputs.events if e.t <= t1 and (e.t_end if e.t_end is not None else e.t) >= t0]
    anomalies = [e for e in events if "anomal" in e.kind.lower()]
    summary = []
    if anomalies:
        first = anomalies[0]
        summary.append(f"First anomaly at {format_time(first.t)}: {first.label or first.kind}"
                       + (f" ({first.sensor})" if first.sensor else ""))
    else:
        summary.append("No anomaly was flagged in this interval.")
    if alarms:
        summary.append(f"{counted(sum(a.is_alarm for a in alarms), 'alarm')} and "
                       f"{counted(sum(not a.is_alarm for a in alarms), 'warning')}; "
                       f"the first at {format_time(alarms[0].onset_t)} on {alarms[0].sensor_id}.")
        for a in alarms[:20]:
            summary.append(f"{format_time(a.onset_t)} {a.sensor_id} {a.level} {a.direction}: "
                           f"{format_number(a.onset_value)} {units.get(a.sensor_id, '')} beyond "
                           f"{format_number(a.threshold)}" + (f", cleared {format_time(a.cleared_t)}"
                                                             if a.cleared_t is not None else ", still active"))
    else:
        summary.append("No alarms or warnings in this interval.")
    acked = [a for a in alarms if a.acknowledgement is not None]
    for a in acked:
        ack = a.acknowledgement
        summary.append(f"{a.sensor_id} {a.level} acknowledged by {ack.user} at {format_time(ack.t)}"
                       + (f": {ack.comment}" if ack.comment else ""))
    alarm_rows = [[format_time(a.onset_t), f"{a.sensor_id} ({a.part})", a.level,
                   f"{format_number(a.onset_value)} {units.get(a.sensor_id, '')}".strip(),
                   format_number(a.threshold), format_time(a.cleared_t) if a.cleared_t is not None else "active"]
                  for a in alarms]
    ack_rows = [[format_time(a.acknowledgement.t), f"{a.sensor_id} {a.level} @ {format_time(a.onset_t)}",
                 a.acknowledgement.user, a.acknowledgement.comment] for a in acked]
    event_rows = [[format_time(e.t), format_time(e.t_end) if e.is_span else "", e.kind, e.label, e.sensor or ""]
                  for e in events]

    bookmarks = bookmarks_between(inputs.bookmarks, t0, t1)
    renderer = MomentRenderer(twin, store, image_size, overlay or inputs.state.overlay, inputs.state.labels,
                              title=asset.name)
    report_bookmarks = []
    try:
        state = inputs.state
        overview_t = state.t if state.t is not None and t0 <= state.t <= t1 else (
            alarms[0].onset_t if alarms else t0)
        renderer.set_camera(state.camera)
        renderer.select(state.selected_part)
        overview = renderer.image(overview_t)
        for n, bookmark in enumerate(bookmarks):
            if cancelled():
                raise CancelledError("report cancelled")
            progress(0.1 + 0.8 * n / max(len(bookmarks), 1), f"Bookmark {n + 1} of {len(bookmarks)}")
            renderer.set_camera(bookmark.camera)
            renderer.select(bookmark.selected_part)
            image = renderer.image(bookmark.t)
            when = format_time(bookmark.t) + (f" → {format_time(bookmark.t_end)}" if bookmark.is_interval else "")
            sensors = bookmark_sensors(twin, bookmark)[:MAX_CHARTS_PER_BOOKMARK]
            report_bookmarks.append(ReportBookmark(bookmark.title, when, bookmark.author, bookmark.text,
                                                   list(bookmark.parts), image,
                                                   _chart_series(twin, store, sensors, t0, t1), bookmark.t,
                                                   bookmark.t_end))
    finally:
        renderer.close()
    notes = [(f"{b.title} ({format_time(b.t)}, {b.author or 'unknown author'})", b.text) for b in bookmarks if b.text]
    tagged = {p for b in bookmarks for p in b.parts}
    for part in project.parts:
        if part.name in tagged and part.notes:
            notes.append((f"Maintenance notes: {project.part_label(part.name)}", part.notes))
    generated = f"Generated {iso_utc(time.time())} by TwinViewer"
    data = ReportData(asset.name, identity, time_range, generated, summary, alarm_rows, ack_rows, event_rows,
                      report_bookmarks, notes, overview)
    return data


def make_report(inputs: IncidentInputs, t0: float, t1: float, out: Path | str, paper: str = "a4",
                html_out: Path | str | None = None, overlay: str | None = None, progress=None, cancelled=None,
                picture_size: tuple[int, int] = REPORT_IMAGE_SIZE) -> Path:
    from twinviewer.io.report import write_html, write_pdf

    progress = progress or (lambda _f, _m="": None)
    progress(0.02, "Finding alarms and events")
    data = build_report_data(inputs, t0, t1, overlay, picture_size, progress=progress, cancelled=cancelled)
    progress(0.92, "Writing the PDF")
    out = write_pdf(out, data, paper, chart_span=(t0, t1))
    if html_out is not None:
        write_html(html_out, data, chart_span=(t0, t1))
    progress(1.0, "Report written")
    return out


# ----------------------------------------------------------------------------------------------- video
def make_video(inputs: IncidentInputs, t0: float, t1: float, out: Path | str, speed: float = 1.0, fps: float = 10.0,
               size: tuple[int, int] = (1280, 720), overlay: str | None = None, progress=None, cancelled=None) -> dict:
    """Render ``[t0, t1]`` at ``speed`` × real time to an MP4; returns frame count and export speed."""
    from twinviewer.io.video import clip_times, even_size, write_clip
    from twinviewer.render.incident_render import MomentRenderer

    size = even_size(size)
    times = clip_times(t0, t1, speed, fps)
    state = inputs.state
    renderer = MomentRenderer(inputs.twin, inputs.store, size, overlay or state.overlay, state.labels,
                              title=f"{inputs.twin.project.asset.name}  ×{speed:g}")
    try:
        renderer.set_camera(state.camera)
        renderer.select(state.selected_part)
        return write_clip(out, times, renderer.image, size, fps, progress, cancelled)
    finally:
        renderer.close()
