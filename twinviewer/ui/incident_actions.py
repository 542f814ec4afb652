"""File → Save incident bundle…, Open incident bundle…, Export report…, Export video… (and the Compare panel).

The bundle is written and unpacked on a worker thread (``ui.tasks``). The report and the clip render
offscreen, so they run as ``twinviewer report`` / ``twinviewer video`` in a child process fed with this
session's data (the recording window as Parquet, the bookmarks and the view state as JSON): the 3D view
never shares its OpenGL context with another thread, the window stays responsive, and Cancel ends the child
at once. Its ``PROGRESS`` lines drive the progress bar.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QProcess, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.bookmarks import ViewState
from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import CancelledError
from twinviewer.ui.bookmarks_panel import BOOKMARK_KIND

BUNDLE_FILTER = "Incident bundle (*.twinbundle)"


def current_state(window) -> ViewState:
    """What the window shows now: time, camera, overlay, labels and selection."""
    from twinviewer.render.incident_render import camera_state

    session = window.current.session
    t = session.clock.t if session is not None and session.has_data else None
    overlay = window.overlay.mode if window.overlay is not None else "status"
    labels = window.overlay.labels if window.overlay is not None else None
    return ViewState(t=t, camera=camera_state(window.scene), overlay=overlay, labels=labels,
                     selected_part=window.scene.selected)


def apply_state(window, state: ViewState) -> None:
    """Restore a bundle's view state in the window (after its recording is loaded)."""
    from twinviewer.render.incident_render import apply_camera

    session = window.current.session
    if session is None:
        return
    if state.overlay:
        window.set_overlay_mode(state.overlay)
    if state.labels:
        window.set_label_mode(state.labels)
        action = window.label_actions.get(state.labels)
        if action is not None:
            action.setChecked(True)
    if state.t is not None and session.has_data:
        session.clock.pause()
        session.clock.seek(state.t)
    if state.camera is not None:
        apply_camera(window.scene, state.camera)
        window.parallel_action.setChecked(state.camera.parallel)
    window.select_part(state.selected_part if state.selected_part in window.scene.parts else None)
    window.refresh_now()


class _WindowChooser(QWidget):
    """From/to pickers defaulting to the loop interval (else the whole recording)."""

    def __init__(self, window):
        super().__init__()
        session = window.current.session
        start, end = session.store.time_range()
        loop = getattr(session.clock, "loop", None)
        t0, t1 = loop if loop else (start, end)
        self.start, self.end = start, end
        self.from_edit, self.to_edit = QDateTimeEdit(), QDateTimeEdit()
        from PySide6.QtCore import QDateTime

        for edit, t in ((self.from_edit, t0), (self.to_edit, t1)):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
            edit.setCalendarPopup(True)
            edit.setDateTime(QDateTime.fromMSecsSinceEpoch(int(round(t * 1000))))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.from_edit)
        layout.addWidget(QLabel("→"))
        layout.addWidget(self.to_edit)
        whole = QPushButton("Whole recording")
        whole.clicked.connect(lambda: self.set_span(start, end))
        layout.addWidget(whole)

    def set_span(self, t0: float, t1: float) -> None:
        from PySide6.QtCore import QDateTime

        self.from_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(int(round(t0 * 1000))))
        self.to_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(int(round(t1 * 1000))))

    def span(self) -> tuple[float, float]:
        t0 = max(self.from_edit.dateTime().toMSecsSinceEpoch() / 1000.0, self.start)
        t1 = min(self.to_edit.dateTime().toMSecsSinceEpoch() / 1000.0, self.end)
        return t0, t1

    def is_whole(self) -> bool:
        t0, t1 = self.span()
        return t0 <= self.start + 0.5 and t1 >= self.end - 0.5


class ExportDialog(QDialog):
    """Interval, output file and the options of one kind of export (bundle, report or video)."""

    def __init__(self, window, kind: str, default_out: Path):
        super().__init__(window)
        self.kind = kind
        self.setWindowTitle({"bundle": "Save incident bundle", "report": "Export report",
                             "video": "Export video"}[kind])
        form = QFormLayout()
        self.interval = _WindowChooser(window)
        form.addRow("Interval", self.interval)
        self.out_edit = QLineEdit(str(default_out))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out_edit, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        if kind == "report":
            self.paper = QComboBox()
            self.paper.addItems(["a4", "letter"])
            self.html = QCheckBox("Also write the report as HTML")
            form.addRow("Paper", self.paper)
            form.addRow("", self.html)
        if kind == "video":
            self.speed = QDoubleSpinBox()
            self.speed.setRange(0.01, 1e6)
            self.speed.setValue(max(1.0, round((self.interval.span()[1] - self.interval.span()[0]) / 60.0, 1)))
            self.speed.setSuffix(" × real time")
            self.fps = QSpinBox()
            self.fps.setRange(1, 60)
            self.fps.setValue(10)
            self.size = QComboBox()
            self.size.addItems(["1280x720", "1920x1080", "960x540", "640x360"])
            self.length = QLabel("")
            for w in (self.speed, self.fps):
                w.valueChanged.connect(self._update_length)
            self.interval.from_edit.dateTimeChanged.connect(self._update_length)
            self.interval.to_edit.dateTimeChanged.connect(self._update_length)
            form.addRow("Speed", self.speed)
            form.addRow("Frames per second", self.fps)
            form.addRow("Size", self.size)
            form.addRow("Clip", self.length)
            self._update_length()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _update_length(self, *_args) -> None:
        t0, t1 = self.interval.span()
        seconds = max(t1 - t0, 0) / self.speed.value()
        self.length.setText(f"{seconds:.1f} s, {round(seconds * self.fps.value())} frames")

    def _browse(self) -> None:
        filters = {"bundle": BUNDLE_FILTER, "report": "PDF (*.pdf)", "video": "MP4 video (*.mp4)"}
        path, _ = QFileDialog.getSaveFileName(self, self.windowTitle(), self.out_edit.text(), filters[self.kind])
        if path:
            self.out_edit.setText(path)

    def out(self) -> Path:
        return Path(self.out_edit.text()).expanduser()


class IncidentActions:
    def __init__(self, window, current: CurrentSession):
        self.window = window
        self.current = current  # the open twin and session, and their signals
        self.task = None
        self.process: QProcess | None = None
        self.progress: QProgressDialog | None = None
        self.dialog: ExportDialog | None = None
        self.last_output: Path | None = None
        self.last_error: str | None = None
        self._extracted: list[Path] = []
        self._pending_state: ViewState | None = None
        self._job_folder: Path | None = None
        a = window._action
        self.save_bundle_action = a("Save incident &bundle…", lambda: self.export_dialog("bundle"),
                                    tip="One .twinbundle file with the project, models, recording, bookmarks, "
                                    "acknowledgements, events and this view, for a colleague or an auditor")
        self.open_bundle_action = a("Open incident b&undle…", lambda: self.open_bundle_dialog(),
                                    tip="Open a .twinbundle at the time, camera, overlay and selection it was saved with")
        self.report_action = a("Export &report…", lambda: self.export_dialog("report"),
                               tip="A PDF (and HTML) report of an interval: summary, alarms, acknowledgements, "
                               "events, and a picture and charts per bookmark")
        self.video_action = a("Export &video…", lambda: self.export_dialog("video"),
                              tip="An MP4 replay of an interval with the legend and time stamp burned in")
        file_menu = window.menu("&File")
        file_menu.insertAction(window.quit_action, self.open_bundle_action)
        for action in (self.save_bundle_action, self.report_action, self.video_action):
            file_menu.insertAction(window.quit_action, action)
        file_menu.insertSeparator(window.quit_action)
        window.twin_opened.connect(lambda _t: self._update())
        current.recording_changed.connect(self._recording_loaded)
        self._update()

    def _update(self) -> None:
        session = self.current.session
        ready = (session is not None and session.has_data and self.current.twin is not None
                 and not self.current.twin.is_raw_mesh)
        for action in (self.save_bundle_action, self.report_action, self.video_action):
            action.setEnabled(ready)

    def _recording_loaded(self, _session) -> None:
        self._update()
        state, self._pending_state = self._pending_state, None
        if state is not None:
            QTimer.singleShot(0, lambda: apply_state(self.window, state))

    def _apply_after_open(self, _twin) -> None:
        self.window.twin_opened.disconnect(self._apply_after_open)
        state, self._pending_state = self._pending_state, None
        if state is not None:
            QTimer.singleShot(0, lambda: apply_state(self.window, state))

    # ----- dialogs ---------------------------------------------------------------------------------
    def _default_out(self, suffix: str) -> Path:
        window = self.window
        folder = Path(window.settings.value("last_export_dir", str(Path.home())))
        stem = Path(self.current.session.recording_name or self.current.twin.path.stem).stem.replace("/", "_") or "incident"
        return folder / f"{stem}{suffix}"

    def export_dialog(self, kind: str) -> ExportDialog | None:
        if not self.save_bundle_action.isEnabled():
            self.window.show_status("Open a twin project and a recording first")
            return None
        suffix = {"bundle": ".twinbundle", "report": ".pdf", "video": ".mp4"}[kind]
        dialog = ExportDialog(self.window, kind, self._default_out(suffix))
        dialog.accepted.connect(lambda: self._start(dialog))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _start(self, dialog: ExportDialog) -> None:
        out = dialog.out()
        self.window.settings.setValue("last_export_dir", str(out.parent))
        span = None if dialog.interval.is_whole() else dialog.interval.span()
        if dialog.kind == "bundle":
            self.save_bundle(out, span)
        elif dialog.kind == "report":
            self.export_report(out, span or dialog.interval.span(), dialog.paper.currentText(), dialog.html.isChecked())
        else:
            width, height = (int(v) for v in dialog.size.currentText().split("x"))
            self.export_video(out, span or dialog.interval.span(), dialog.speed.value(), dialog.fps.value(),
                              (width, height))

    # ----- bundle ----------------------------------------------------------------------------------
    def _inputs(self):
        from twinviewer.core.alarms import sidecar_path as acks_path
        from twinviewer.io.incident import IncidentInputs

        window = self.window
        session = self.current.session
        bookmarks_panel = window.panels.get("bookmarks_panel")
        acks = acks_path(self.current.twin.path)
        events = [e for e in session.events if e.kind != BOOKMARK_KIND]
        anomaly = getattr(session, "anomaly", None)
        if anomaly is not None:
            events = sorted(events + anomaly.events(), key=lambda e: e.t)
        return IncidentInputs(self.current.twin, session.store, events,
                              Path(session.recording_name or "recording").stem, list(session.recording_paths),
                              list(bookmarks_panel.bookmarks) if bookmarks_panel else [],
                              acks if acks.is_file() else None, current_state(window))

    def save_bundle(self, out: Path, span: tuple[float, float] | None = None):
        from twinviewer.io.incident import make_bundle
        from twinviewer.ui.tasks import run_task

        window = self.window
        if out.suffix.lower() != ".twinbundle":
            out = out.with_name(out.name + ".twinbundle")
        inputs = self._inputs()

        def done(path) -> None:
            self.last_output = path
            window.show_status(f"Saved incident bundle {path} ({path.stat().st_size / 1e6:.1f} MB)")

        def failed(exc, _details) -> None:
            self.last_error = str(exc)
            if not isinstance(exc, CancelledError):
                window.show_error("Cannot save the bundle", str(exc))

        self.task = run_task(window, f"Saving {out.name}", lambda p, c: make_bundle(inputs, out, span, p, c),
                             done, failed)
        return self.task

    def open_bundle_dialog(self) -> None:
        start = self.window.settings.value("last_export_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open incident bundle", start,
                                              f"{BUNDLE_FILTER};;All files (*)")
        if path:
            self.open_bundle(Path(path))

    def open_bundle(self, path: Path):
        """Check and unpack off the GUI thread, open its project (its recording loads with it), then restore
        the saved time, camera, overlay and selection."""
        from twinviewer.io.bundle import extract_bundle
        from twinviewer.ui.tasks import run_task

        window = self.window
        parent = Path(tempfile.gettempdir()) / "twinviewer-bundles"

        def done(extracted) -> None:
            self._extracted.append(extracted.folder)
            self._pending_state = extracted.state
            if extracted.recording_path is None:  # nothing to load: restore once the twin is shown
                window.twin_opened.connect(self._apply_after_open)
            window.open_path(extracted.project_path)
            window.show_status(f"Opened bundle {path.name} ({extracted.manifest.asset})")

        def failed(exc, _details) -> None:
            self.last_error = str(exc)
            if not isinstance(exc, CancelledError):
                window.show_error(f"Cannot open {path.name}", str(exc))

        self.task = run_task(window, f"Opening {path.name}", lambda p, c: extract_bundle(path, parent, p, c),
                             done, failed)
        return self.task

    def open_dropped(self, paths: list[Path]) -> bool:
        """A dropped (or command-line) ``.twinbundle`` opens as a bundle."""
        bundles = [Path(p) for p in paths if str(p).lower().endswith(".twinbundle")]
        if not bundles:
            return False
        self.open_bundle(bundles[0])
        return True

    def cleanup(self) -> None:
        """The window closes: stop a running export, remove unpacked bundles and export scratch files."""
        if self.process is not None:
            self.process.kill()
            self.process.waitForFinished(3000)
        if self._job_folder is not None:
            shutil.rmtree(self._job_folder, ignore_errors=True)
            self._job_folder = None
        for folder in self._extracted:
            shutil.rmtree(folder, ignore_errors=True)
        self._extracted.clear()

    # ----- report and video (child process) ---------------------------------------------------------
    def _job_files(self, span: tuple[float, float]) -> list[str]:
        """This session's data for the child: the recording window, bookmarks and view state."""
        from twinviewer.core.bookmarks import bookmarks_between
        from twinviewer.io.bookmarks_file import write_bookmarks_file
        from twinviewer.io.bundle import windowed_store
        from twinviewer.io.recording import write_store

        inputs = self._inputs()
        folder = Path(tempfile.mkdtemp(prefix="twinviewer-export-"))
        self._job_folder = folder
        store = windowed_store(inputs.store, *span)
        recording = folder / f"{inputs.recording_name or 'recording'}.parquet"
        sensor_ids = [s for s in store.sensor_ids if store.sensor_time_range(s) is not None]
        write_store(recording, store, sensor_ids, metadata={"events": inputs.events})
        bookmarks = folder / "bookmarks.json"
        write_bookmarks_file(bookmarks, bookmarks_between(inputs.bookmarks, *span))
        state = folder / "state.json"
        state.write_text(inputs.state.model_dump_json(), encoding="utf-8")
        return [str(self.current.twin.path), "--recording", str(recording), "--bookmarks", str(bookmarks),
                "--state", str(state), "--from", repr(span[0]), "--to", repr(span[1]), "--progress"]

    def export_report(self, out: Path, span: tuple[float, float], paper: str = "a4", html: bool = False):
        if out.suffix.lower() != ".pdf":
            out = out.with_suffix(".pdf")
        args = ["report", *self._job_files(span), "--out", str(out), "--paper", paper] + (["--html"] if html else [])
        return self._run_child(args, out, f"Exporting {out.name}")

    def export_video(self, out: Path, span: tuple[float, float], speed: float, fps: int, size: tuple[int, int]):
        if out.suffix.lower() != ".mp4":
            out = out.with_suffix(".mp4")
        args = ["video", *self._job_files(span), "--out", str(out), "--speed", repr(float(speed)), "--fps",
                str(int(fps)), "--size", f"{size[0]}x{size[1]}"]
        return self._run_child(args, out, f"Exporting {out.name}")

    def _run_child(self, args: list[str], out: Path, title: str) -> QProcess:
        window = self.window
        if self.process is not None:
            window.show_error("Busy", "Another export is still running; wait for it or cancel it first.")
            return self.process
        process = QProcess(window)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "twinviewer", *args])
        env = process.processEnvironment()
        if env.isEmpty():
            from PySide6.QtCore import QProcessEnvironment

            env = QProcessEnvironment.systemEnvironment()
        import twinviewer

        package_root = str(Path(twinviewer.__file__).resolve().parents[1])
        env.insert("PYTHONPATH", package_root + (":" + env.value("PYTHONPATH") if env.value("PYTHONPATH") else ""))
        process.setProcessEnvironment(env)
        progress = QProgressDialog(title, "Cancel", 0, 10000, window)
        progress.setWindowTitle(title)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setValue(0)
        self.progress = progress
        self.process = process
        self.last_output = None
        self.last_error = None
        buffer = {"out": b""}

        def read_output() -> None:
            buffer["out"] += bytes(process.readAllStandardOutput())
            *lines, buffer["out"] = buffer["out"].split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace").strip()
                if text.startswith("PROGRESS "):
                    _, fraction, *message = text.split(" ", 2)
                    progress.setValue(int(float(fraction) * 10000))
                    if message:
                        progress.setLabelText(f"{title}\n{message[0]}")

        def finished(code: int, _status) -> None:
            read_output()
            error = bytes(process.readAllStandardError()).decode("utf-8", "replace").strip()
            cancelled = progress.wasCanceled()
            progress.close()
            self.process = None
            self.progress = None
            if self._job_folder is not None:
                shutil.rmtree(self._job_folder, ignore_errors=True)
                self._job_folder = None
            if cancelled:
                for partial in out.parent.glob(f".{out.stem}.partial*"):
                    partial.unlink(missing_ok=True)
                self.last_error = "cancelled"
                window.show_status(f"{title} cancelled")
            elif code == 0:
                self.last_output = out
                window.show_status(f"Wrote {out}")
            else:
                self.last_error = error.splitlines()[-1] if error else f"exit code {code}"
                window.show_error("Export failed", self.last_error.removeprefix("twinviewer: error: "))

        process.readyReadStandardOutput.connect(read_output)
        process.finished.connect(finished)
        progress.canceled.connect(process.kill)
        process.start()
        return process


class _CloseWatcher(QObject):
    def __init__(self, actions: IncidentActions, window):
        super().__init__(window)
        self.actions = actions

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Close:
            self.actions.cleanup()
        return False


def install(window) -> IncidentActions:
    from PySide6.QtWidgets import QApplication

    from twinviewer.ui import compare_panel
    from twinviewer.ui.chains import DROP_BUNDLE

    actions = IncidentActions(window, window.current)
    actions.compare = compare_panel.install(window)
    window.drop_handlers.add(DROP_BUNDLE, "incident bundle", actions.open_dropped)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(actions.cleanup)
    window.installEventFilter(_CloseWatcher(actions, window))
    return actions

