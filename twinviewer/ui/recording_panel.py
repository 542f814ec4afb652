"""Recorded data in the window: the timeline bar and charts dock, the Data menu, dropped files, auto-load.

``install(window)`` (listed in ``PANEL_MODULES``) builds a :class:`RecordingPanel` that

- puts the :class:`~twinviewer.ui.timeline.TimelineBar` in a tool bar along the bottom of the window,
  docks the :class:`~twinviewer.ui.charts.ChartsPanel` above it, and keeps both on the window's session
  (``twin_opened``, ``recording_loaded``, ``frame_shown``, ``part_selected``, sensor activation);
- adds Data → Open recording… (native Parquet, CSV — one or several files as one recording, through the
  column-mapping dialog — or a hydraulic-rig folder), Export recording…, Load the project's recording,
  Show the last import report, and the playback actions with their shortcuts;
- opens dropped .csv/.tsv/.txt/.parquet files as recordings (other drops still go to ``window.open_path``);
- loads the project's ``[[sources]]`` recording off the GUI thread when a twin opens; when its files are
  not found (``${SKAB_DIR}`` not set, folder moved) it says so and offers to choose the data folder.

Every import runs with ``ui.tasks.run_task`` (progress, Cancel) and builds a new store; the session is
only touched when the whole import succeeded, so a failed or cancelled import leaves the data as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMessageBox, QToolBar

from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import CancelledError, RecordingError, TwinViewerError
from twinviewer.core.session import LoadedRecording
from twinviewer.ui.chains import DROP_RECORDINGS
from twinviewer.ui.charts import ChartsPanel
from twinviewer.ui.tasks import Task, run_task
from twinviewer.ui.timeline import TimelineBar

if TYPE_CHECKING:  # the import dialog (and its CSV machinery) loads when first used
    from twinviewer.ui.import_dialog import ImportDialog

PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
RECORDING_FILTER = ("Recordings (*.parquet *.pq *.csv *.tsv *.txt);;TwinViewer recording (*.parquet);;"
                    "CSV files (*.csv *.tsv *.txt);;All files (*)")


def is_recording_path(path: Path) -> bool:
    """A file (or hydraulic-rig folder) that opens as a recording rather than as a twin or mesh."""
    from twinviewer.io.adapters import is_hydraulic_folder
    from twinviewer.io.dataset import is_dataset_folder

    path = Path(path)
    if path.is_dir():
        return is_hydraulic_folder(path) or is_dataset_folder(path)
    return path.suffix.lower() in PARQUET_SUFFIXES | TEXT_SUFFIXES


def needs_mapping(paths: list[Path]) -> bool:
    """CSV-like text files go through the column-mapping dialog; Parquet and rig folders do not."""
    return any(Path(p).is_file() and Path(p).suffix.lower() in TEXT_SUFFIXES for p in paths)


def recording_name(paths: list[Path]) -> str:
    if len(paths) == 1:
        return paths[0].name
    return f"{paths[0].parent.name}/ ({len(paths)} files)"


class RecordingPanel:
    """The window's recording features; see the module docstring."""

    def __init__(self, window, current: CurrentSession):
        self.window = window
        self.current = current  # the open twin and session, and their signals
        self.task: Task | None = None
        self.last_report = None
        self.report_box: QMessageBox | None = None
        self.missing_box: QMessageBox | None = None
        self.import_dialog: ImportDialog | None = None
        self._pending_paths: list[Path] = []
        self._sized = False

        self.timeline = TimelineBar(self.current.session)
        self.charts = ChartsPanel(self.current.session, self.current.twin.project if self.current.twin else None)
        self.charts_dock = window.add_dock("Charts", self.charts, Qt.DockWidgetArea.BottomDockWidgetArea)
        # A bottom tool bar spans the whole window under every dock: the natural place for a timeline.
        self.timeline_toolbar = QToolBar("Timeline", window)
        self.timeline_toolbar.setObjectName("toolbar_timeline")
        self.timeline_toolbar.setMovable(False)
        self.timeline_toolbar.addWidget(self.timeline)
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.timeline_toolbar)
        window.panels_menu.addAction(self.timeline_toolbar.toggleViewAction())
        self._build_menu()

        window.twin_opened.connect(self._twin_opened)
        current.recording_changed.connect(self._recording_loaded)
        window.frame_shown.connect(self._frame_shown)
        current.selection_changed.connect(self.charts.show_part)
        window.sensor_table.sensor_activated.connect(self.charts.pin)
        window.properties.sensor_activated.connect(self.charts.pin)
        self.charts.seeked.connect(lambda _t: self.timeline.refresh())
        window.drop_handlers.add(DROP_RECORDINGS, "recordings", self.open_dropped)

    # ----- menu ----------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        window = self.window
        menu = window.menu("&Data")
        self.data_menu = menu
        self.open_action = menu.addAction("&Open recording…", self.open_dialog)
        self.open_action.setShortcut("Ctrl+Shift+O")
        self.open_action.setStatusTip("Open a recording: TwinViewer Parquet, CSV (several files = one "
                                      "recording)")
        self.project_action = menu.addAction("&Load the project's recording",
                                             lambda: self.load_project_recording())
        self.folder_action = menu.addAction("Choose the recording &folder…", self.choose_data_folder)
        self.folder_action.setStatusTip("Where the project's recording files are (replaces ${…} in its path)")
        self.export_action = menu.addAction("&Export recording…", self.export_dialog)
        self.report_action = menu.addAction("Last import &report…", self.show_last_report)
        menu.addSeparator()
        playback = menu.addMenu("&Playback")
        for name, action in self.timeline.actions_by_name.items():
            playback.addAction(action)
            window.addAction(action)
            if name in ("forward10", "loop_out"):
                playback.addSeparator()
        menu.aboutToShow.connect(self._update_menu)
        self._update_menu()

    def _update_menu(self) -> None:
        has_twin = self.current.twin is not None
        has_data = self.current.session is not None and self.current.session.has_data
        sources = self._recording_sources()
        for action in (self.open_action,):
            action.setEnabled(has_twin)
        self.project_action.setEnabled(bool(sources))
        self.folder_action.setEnabled(bool(sources))
        self.export_action.setEnabled(has_data)
        self.report_action.setEnabled(self.last_report is not None)

    def _recording_sources(self):
        if self.current.twin is None:
            return []
        from twinviewer.io.importers import recording_sources

        return recording_sources(self.current.twin.project)

    # ----- window signals ------------------------------------------------------------------------------
    def _twin_opened(self, twin) -> None:
        session = self.current.session
        if not self._sized:
            self._sized = True
            QTimer.singleShot(0, self._size_charts_dock)
        self.timeline.set_session(session)
        self.charts.set_session(session, twin.project)
        pending, self._pending_paths = self._pending_paths, []
        if pending:
            self.open_recording(pending)
        elif self._recording_sources() and not getattr(twin.project, "history", None):  # [[history]] wins
            self.load_project_recording()

    def _size_charts_dock(self) -> None:
        """Once the window is laid out: the charts get a third of the height and half the bottom width."""
        window = self.window
        if window.dockWidgetArea(self.charts_dock) != Qt.DockWidgetArea.BottomDockWidgetArea:
            return  # the window's layout (ui/layout.py) keeps the charts in a tab beside the view
        window.resizeDocks([self.charts_dock], [max(window.height() // 3, 240)], Qt.Orientation.Vertical)
        bottom = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()
                  and window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
        others = [d for d in bottom if d is not self.charts_dock]
        if others:
            share = window.width() // 2
            window.resizeDocks([self.charts_dock, *others],
                               [share, *[max(share // len(others), 120)] * len(others)],
                               Qt.Orientation.Horizontal)

    def _recording_loaded(self, session) -> None:
        self.timeline.set_session(session)
        self.charts.set_session(session, session.project)

    def _frame_shown(self, frame) -> None:
        self.timeline.refresh(frame)
        self.charts.update_charts(frame)

    # ----- opening -------------------------------------------------------------------------------------
    def open_dropped(self, paths: list[Path]) -> bool:
        """Recordings among dropped files open as one recording; a twin among them opens first (the
        window's handler, when there are no recordings)."""
        recordings = [Path(p) for p in paths if is_recording_path(Path(p))]
        others = [Path(p) for p in paths if not is_recording_path(Path(p))]
        if others:
            if not recordings:
                return False
            self.window.open_path(others[0])
            self._pending_paths = recordings  # opened once the dropped twin is shown
            return True
        if recordings:
            self.open_recording(recordings)
        return True

    def open_dialog(self) -> None:
        window = self.window
        start = window.settings.value("last_recording_dir", str(Path.home()))
        paths, _ = QFileDialog.getOpenFileNames(window, "Open recording (several CSV files = one recording)",
                                                start, RECORDING_FILTER)
        if paths:
            window.settings.setValue("last_recording_dir", str(Path(paths[0]).parent))
            self.open_recording([Path(p) for p in paths])

    def open_recording(self, paths: list[Path]) -> None:
        """Open files as one recording: CSV through the mapping dialog, Parquet and rig folders directly."""
        window = self.window
        paths = [Path(p) for p in paths]
        if self.current.twin is None or self.current.session is None:
            window.show_error("No twin open", "Open a twin project first; its sensors are what a recording's "
                                              "columns are mapped to.")
            return
        if needs_mapping(paths):
            source = next(iter(self._recording_sources()), None)
            try:
                from twinviewer.ui.import_dialog import ImportDialog

                dialog = ImportDialog(paths, self.current.twin.project, source, window)
            except TwinViewerError as exc:
                window.show_error(f"Cannot import {recording_name(paths)}", str(exc))
                return
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.accepted.connect(lambda: self.import_files(paths, dialog.settings()))
            dialog.finished.connect(lambda _r: setattr(self, "import_dialog", None))
            self.import_dialog = dialog
            dialog.open()
            return
        self.import_files(paths, {})

    def import_files(self, paths: list[Path], settings: dict, *, show_report: bool = True) -> Task | None:
        """Import ``paths`` with ``import_recording(**settings)`` off the GUI thread, then swap it in."""
        from twinviewer.io.importers import import_recording

        project = self.current.twin.project
        periods = {s.id: s.expected_period_s for s in project.sensors}
        name = recording_name(paths)

        def work(progress, cancelled):
            return import_recording(paths, periods=periods, progress=progress, cancel=cancelled, **settings)

        return self._run_import(f"Importing {name}", name, work, show_report, paths=paths)

    def load_project_recording(self, override_dir: Path | str | None = None) -> Task | None:
        """Load the project's first ``[[sources]]`` recording (``override_dir`` replaces ``${VAR}/…``)."""
        from twinviewer.io.importers import import_source

        window = self.window
        sources = self._recording_sources()
        if not sources:
            return None
        source = sources[0]
        project = self.current.twin.project
        if override_dir is None:
            remembered = window.settings.value(self._folder_key(), "")
            override_dir = remembered or None
        name = source.name or Path(source.file).name

        def work(progress, cancelled):
            return import_source(project, source, override_dir=override_dir, progress=progress,
                                 cancel=cancelled)

        try:
            from twinviewer.io.importers import resolve_recording_files

            paths = resolve_recording_files(project, source, override_dir)
        except TwinViewerError:
            paths = []  # the import itself reports what is missing
        return self._run_import(f"Loading {name}", name, work, show_report=False, project_source=True, paths=paths)

    def _folder_key(self) -> str:
        return f"recording_folders/{self.current.twin.path}"

    def choose_data_folder(self) -> None:
        window = self.window
        if not self._recording_sources():
            return
        start = window.settings.value(self._folder_key(), "") or str(self.current.twin.path.parent)
        folder = QFileDialog.getExistingDirectory(window, "Folder with the project's recording data", start)
        if folder:
            self.use_data_folder(folder)

    def use_data_folder(self, folder: Path | str) -> Task | None:
        """Remember ``folder`` for this project and load its recording from there."""
        self.window.settings.setValue(self._folder_key(), str(folder))
        return self.load_project_recording(folder)

    def _run_import(self, title: str, name: str, work, show_report: bool, project_source: bool = False,
                    paths: list[Path] | None = None):
        window = self.window
        if self.task is not None and self.task.running:
            window.show_error("Busy", "A recording is still loading; wait for it or cancel it first.")
            return None
        session = self.current.session
        window.show_status(f"{title}…")

        def done(result) -> None:
            store, report = result
            if self.current.session is not session:
                window.show_status(f"{name} was loaded for a twin that is no longer open; discarded.")
                return
            self.last_report = report
            session.set_recording(LoadedRecording(store, list(report.events), name, str(report),
                                                  list(paths or [])))
            window.refresh_now()
            problems = sum(report.counts.values())
            summary = (f"Loaded {name}: {report.rows:,} rows, {len(report.sensors)} sensors"
                       + (f", {problems:,} problems (Data → Last import report…)" if problems else ""))
            window.show_status(summary)
            if show_report and not report.clean:
                self.show_last_report()  # only when something was skipped; a clean import says so in the status bar

        def failed(exc: BaseException, details: str) -> None:
            if isinstance(exc, CancelledError):
                window.show_status(f"{title} cancelled; the data shown is unchanged.")
                return
            message = str(exc) if isinstance(exc, TwinViewerError) else f"{type(exc).__name__}: {exc}"
            if project_source and isinstance(exc, RecordingError):
                self._report_missing_source(name, message)
                return
            window.show_error(f"Cannot load {name}", message + "\n\nThe data shown is unchanged.")
            window.show_status(f"Could not load {name}; the data shown is unchanged.")

        self.task = run_task(window, title, work, done, failed)
        return self.task

    def _report_missing_source(self, name: str, message: str) -> None:
        """The project's recording could not be read: say why and offer the ways out."""
        window = self.window
        window.last_error = message
        window.show_status(f"Recording “{name}” not loaded: {message} — Data → Open recording… or "
                           "Data → Choose the recording folder…")
        box = QMessageBox(QMessageBox.Icon.Information, "Recording not found",
                          f"The project's recording “{name}” could not be loaded:\n\n{message}",
                          parent=window)
        folder = box.addButton("Choose folder…", QMessageBox.ButtonRole.AcceptRole)
        open_other = box.addButton("Open recording…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        folder.clicked.connect(self.choose_data_folder)
        open_other.clicked.connect(self.open_dialog)
        box.finished.connect(lambda _r: setattr(self, "missing_box", None))
        self.missing_box = box
        box.open()

    # ----- report and export ------------------------------------------------------------------------------
    def show_last_report(self) -> None:
        report = self.last_report
        if report is None:
            return
        text = str(report)
        icon = QMessageBox.Icon.Information if report.clean else QMessageBox.Icon.Warning
        box = QMessageBox(icon, "Import report", text.splitlines()[0], QMessageBox.StandardButton.Ok,
                          self.window)
        box.setInformativeText("\n".join(text.splitlines()[1:]) or "No problems found.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: setattr(self, "report_box", None))
        self.report_box = box
        box.open()

    def export_dialog(self) -> None:
        window = self.window
        if self.current.session is None or not self.current.session.has_data:
            return
        stem = Path(self.current.session.recording_name
                    or self.current.twin.path.stem).stem.replace("/", "_") or "recording"
        start = str(Path(window.settings.value("last_recording_dir", str(Path.home()))) / f"{stem}.parquet")
        path, chosen = QFileDialog.getSaveFileName(window, "Export recording", start,
                                                   "TwinViewer recording (*.parquet);;CSV, one column per "
                                                   "sensor (*.csv)")
        if path:
            self.export(Path(path),
                        "csv" if "csv" in chosen.lower() or path.lower().endswith(".csv") else "parquet")

    def export(self, path: Path, kind: str = "parquet") -> Task | None:
        """Write the session's store (project sensors with data) as native Parquet or a wide CSV."""
        from twinviewer.io.recording import export_csv, write_store

        window = self.window
        session = self.current.session
        store = session.store
        sensor_ids = [s for s in store.sensor_ids if store.sensor_time_range(s) is not None]
        project = self.current.twin.project
        metadata = {"asset": project.asset.name if project.asset else "",
                    "units": {s.id: s.unit for s in project.sensors if s.id in sensor_ids},
                    "events": list(session.events)}
        path = Path(path)
        if kind == "parquet" and path.suffix.lower() not in PARQUET_SUFFIXES:
            path = path.with_suffix(".parquet")

        def work(progress, cancelled):
            if kind == "csv":
                return export_csv(path, store, sensor_ids)
            return write_store(path, store, sensor_ids, metadata=metadata)

        def failed(exc, details):
            if not isinstance(exc, CancelledError):
                window.show_error("Cannot export",
                                  str(exc) if isinstance(exc, TwinViewerError) else repr(exc))

        self.task = run_task(
            window,
            f"Exporting {path.name}",
            work,
            lambda written: window.show_status(f"Exported {len(sensor_ids)} sensors to {written}"),
            failed,
        )
        return self.task


def install(window) -> RecordingPanel:
    return RecordingPanel(window, window.current)
