"""The main window: 3D view, part tree, properties, sensor list, menus, toolbars and the frame timer.

Handlers only translate user intent into calls on the scene and the core. Files open off the GUI thread
(``ui.tasks``); a failed open shows a dialog and leaves what was open untouched.

Over 600 lines: the window's own menus, actions and view commands belong to one QMainWindow; every panel
lives in its own module (``PANEL_MODULES``).
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSlider,
    QToolBar,
    QWidget,
)

from twinviewer import __version__
from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import CancelledError, TwinViewerError
from twinviewer.core.formatting import counted, format_length, format_number, format_time
from twinviewer.core.options import LABEL_MODES, SIMPLE_OVERLAY_MODES, VIEW_NAMES
from twinviewer.core.overlay import status_name
from twinviewer.core.overlay_engine import mode_of_view
from twinviewer.core.secrets import SecretStore
from twinviewer.core.session import Frame, Session
from twinviewer.core.signals import HandlerChain
from twinviewer.core.twin import Twin
from twinviewer.io.recordings_folder import RecordingsFolder
from twinviewer.render.overlay_layer import OverlayLayer
from twinviewer.sources.live import LiveController
from twinviewer.ui.chains import DROP_OPEN_TWIN
from twinviewer.ui.icons import icon
from twinviewer.ui.part_tree import PartTree
from twinviewer.ui.properties import PropertiesPanel
from twinviewer.ui.sensor_table import SensorTable
from twinviewer.ui.standins import StandInSwap
from twinviewer.ui.tasks import Task, run_task, stop_all_tasks
from twinviewer.ui.twin_loading import EarlyOpen, load_for_display
from twinviewer.ui.viewer import Viewer3D

FRAME_INTERVAL_MS = 33
PANEL_INTERVAL_S = 0.1
# Panels that plug into the window: each module has ``install(window)`` that builds its panel with the
# window and ``window.current`` (the CurrentSession, whose signals it subscribes to), adds docks and menus.
PANEL_MODULES: list[str] = ["twinviewer.ui.overlay_panel", "twinviewer.ui.recording_panel",
                            "twinviewer.ui.live_panel", "twinviewer.ui.scenario_panel",
                            "twinviewer.ui.anomaly_panel", "twinviewer.ui.events_panel",
                            "twinviewer.ui.bookmarks_panel", "twinviewer.ui.incident_actions",
                            "twinviewer.ui.history_panel", "twinviewer.ui.units"]
MAX_RECENT = 10
VIEW_SHORTCUTS = {"front": "1", "top": "2", "right": "3", "left": "4", "back": "5", "bottom": "6", "iso": "0"}


class MainWindow(QMainWindow):
    """The window. Signals for panels: ``twin_opened(twin)`` once a twin and its session are shown,
    ``frame_shown(frame)`` whenever the views show a new instant, ``part_selected(name or None)``,
    ``recording_loaded(session)`` after data was swapped into the session."""

    twin_opened = Signal(object)
    frame_shown = Signal(object)
    part_selected = Signal(object)
    recording_loaded = Signal(object)

    def __init__(self, settings: QSettings | None = None, secret_store: SecretStore | None = None,
                 live: LiveController | None = None, recordings: RecordingsFolder | None = None):
        super().__init__()
        self.settings = settings or QSettings("TwinViewer", "TwinViewer")
        self.secret_store = secret_store  # where live sources find remembered passwords (app.py: the keyring)
        # Built by app.build_window; the live panel shows them (without them the window has no Live menu).
        self.live = live
        self.recordings = recordings
        self.twin: Twin | None = None
        self.session: Session | None = None
        # What panels take and subscribe to; its relays reach the window's Qt signals too.
        self.current = CurrentSession()
        self.current.recording_changed.connect(self.recording_loaded.emit)
        self.current.selection_changed.connect(self.part_selected.emit)
        self.current.overlay_changed.connect(self._check_overlay_action)
        self.overlay: OverlayLayer | None = None
        self.frame: Frame | None = None
        self.task: Task | None = None
        self.early_open: EarlyOpen | None = None  # set by the launch: the first file, already being read
        self.drop_handlers = HandlerChain("files dropped on the window")
        self.drop_handlers.add(DROP_OPEN_TWIN, "open as a twin", self._open_dropped_twin)
        self.last_error: str | None = None
        self.setWindowTitle("TwinViewer")
        self.setWindowIcon(icon("app"))
        self.resize(1440, 900)
        self.setAcceptDrops(True)

        self.viewer = Viewer3D(self)
        self.standins = StandInSwap(self)
        self.scene = self.viewer.scene
        self.setCentralWidget(self.viewer)
        self.part_tree = PartTree()
        self.properties = PropertiesPanel()
        self.sensor_table = SensorTable()
        self.parts_dock = self._dock("Parts", self.part_tree, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.properties_dock = self._dock("Properties", self.properties,
                                          Qt.DockWidgetArea.RightDockWidgetArea)
        self.sensors_dock = self._dock("Sensors", self.sensor_table, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.parts_dock, self.properties_dock], [300, 460], Qt.Orientation.Horizontal)
        self.resizeDocks([self.properties_dock, self.sensors_dock], [380, 420], Qt.Orientation.Vertical)

        self.status_label = QLabel("Ready")
        self.statusBar().addWidget(self.status_label, 1)
        self.time_label = QLabel("")
        self.statusBar().addPermanentWidget(self.time_label)
        self.model_label = QLabel("")
        self.statusBar().addPermanentWidget(self.model_label)

        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self._wire()
        self.panels: dict[str, object] = {}
        for module_name in PANEL_MODULES:
            module = importlib.import_module(module_name)
            self.panels[module_name.rsplit(".", 1)[-1]] = module.install(self)
        from twinviewer.ui import layout

        layout.install(self)

        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_INTERVAL_MS)
        self.frame_timer.timeout.connect(self.tick)
        self.frame_timer.start()
        self._last_tick = time.monotonic()
        self._properties_refreshed = 0.0
        self._panels_shown = 0.0
        self._panels_behind = False

    # ----- construction ----------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def add_dock(self, title: str, widget: QWidget,
                 area=Qt.DockWidgetArea.BottomDockWidgetArea) -> QDockWidget:
        """For panels: a dock listed in View → Panels."""
        dock = self._dock(title, widget, area)
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def menu(self, title: str):
        """For panels: the top-level menu called ``title`` (created before Help if missing)."""
        for action in self.menuBar().actions():
            if action.menu() is not None and action.text().replace("&", "") == title.replace("&", ""):
                return action.menu()
        from PySide6.QtWidgets import QMenu

        menu = QMenu(title, self)
        self.menuBar().insertMenu(self.help_menu.menuAction(), menu)
        return menu

    def _action(self, text: str, slot, shortcut: str | None = None, checkable: bool = False,
                tip: str | None = None, icon_name: str | None = None) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.setToolTip(f"{tip or text} ({shortcut})" if shortcut else (tip or text))
        action.setStatusTip(tip or text)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.open_action = a("&Open…", lambda: self.open_dialog(), "Ctrl+O",
                             tip="Open a twin project or a mesh file", icon_name="open")
        self.demo_action = a("Open &demo twin", self.open_demo, tip="Open the bundled pump skid demo")
        self.save_starter_action = a("Save as starter &project…", lambda: self.save_starter_dialog(),
                                     "Ctrl+Shift+S",
                                     tip="Write a *.twin.toml listing every part of this mesh")
        self.split_bodies_action = a("Split into &bodies", lambda checked: self.set_split_bodies(checked),
                                     checkable=True,
                                     tip="List every connected body of this mesh as a part of its "
                                     "own (for a mesh exported as one piece), so it can be clicked and given "
                                     "sensors")
        for action in (self.save_starter_action, self.split_bodies_action):
            action.setEnabled(False)  # until a raw mesh is open
        self.screenshot_action = a("Save &screenshot…", lambda: self.screenshot_dialog(), "F12",
                                   tip="Save the 3D view as a PNG image", icon_name="screenshot")
        self.quit_action = a("&Quit", self.close, "Ctrl+Q")
        self.reset_view_action = a("&Fit all", lambda: self.set_view(self.current_view), "F",
                                   tip="Reset the camera to show the whole model", icon_name="fit")
        self.view_actions = {}
        for view in VIEW_NAMES:
            self.view_actions[view] = a(view.capitalize() + " view", lambda _=False, v=view: self.set_view(v),
                                        VIEW_SHORTCUTS[view],
                                        icon_name=view if view in ("iso", "front", "top", "right") else None)
        self.parallel_action = a("&Parallel projection", self.set_parallel, "P", checkable=True,
                                 tip="Toggle perspective / parallel projection", icon_name="parallel")
        self.style_group = QActionGroup(self)
        self.style_actions = {}
        for style, label, key in (("surface", "Surface", "S"), ("edges", "Surface with edges", "E"),
                                  ("wireframe", "Wireframe", "W")):
            action = a(label, lambda on, s=style: on and self.set_style(s), key, checkable=True,
                       icon_name=style)
            self.style_group.addAction(action)
            self.style_actions[style] = action
        self.style_actions["surface"].setChecked(True)
        self.isolate_action = a("&Isolate selected part", self.toggle_isolate, "I", checkable=True,
                                tip="Show only the selected part", icon_name="isolate")
        self.hide_action = a("&Hide selected part", self.hide_selected, "H")
        self.show_all_action = a("Show &all parts", self.show_all, "Shift+H", icon_name="show_all")
        self.clip_action = a("Section &plane", self.toggle_clip, "C", checkable=True,
                             tip="Cut the model with a section plane", icon_name="section")
        self.measure_action = a("&Measure distance", self.set_measure_mode, "M", checkable=True,
                                tip="Click two points to measure the distance between them",
                                icon_name="measure")
        self.about_action = a("&About TwinViewer", self.about)
        self.overlay_group = QActionGroup(self)
        self.overlay_actions: dict[str, QAction] = {}
        overlay_texts = ("No overlay", "Status colours", "Sensor values")
        for (mode, label), key in zip(zip(SIMPLE_OVERLAY_MODES, overlay_texts, strict=True),
                                      ("Ctrl+0", "Ctrl+1", "Ctrl+2"), strict=True):
            action = a(label, lambda on, m=mode: on and self.set_overlay_mode(m), key, checkable=True)
            self.overlay_group.addAction(action)
            self.overlay_actions[mode] = action
        self.label_group = QActionGroup(self)
        self.label_actions: dict[str, QAction] = {}
        label_texts = ("No labels", "Labels for the selected part", "All labels")
        for mode, label in zip(LABEL_MODES, label_texts, strict=True):
            action = a(label, lambda on, m=mode: on and self.set_label_mode(m), checkable=True)
            self.label_group.addAction(action)
            self.label_actions[mode] = action
        self.label_actions["selected"].setChecked(True)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_starter_action)
        file_menu.addAction(self.split_bodies_action)
        file_menu.addAction(self.screenshot_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.reset_view_action)
        for view in VIEW_NAMES:
            view_menu.addAction(self.view_actions[view])
        view_menu.addAction(self.parallel_action)
        view_menu.addSeparator()
        for action in self.style_actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.isolate_action, self.hide_action, self.show_all_action, self.clip_action,
                       self.measure_action):
            view_menu.addAction(action)
        self.panels_menu = view_menu.addMenu("Panels")
        for dock in (self.parts_dock, self.properties_dock, self.sensors_dock):
            self.panels_menu.addAction(dock.toggleViewAction())
        self.overlay_menu = self.menuBar().addMenu("&Overlay")
        for action in self.overlay_actions.values():
            self.overlay_menu.addAction(action)
        self.field_menu = self.overlay_menu.addMenu("Surface &field")
        self.overlay_menu.addSeparator()
        for action in self.label_actions.values():
            self.overlay_menu.addAction(action)
        self.help_menu = self.menuBar().addMenu("&Help")
        self.help_menu.addAction(self.about_action)

    def _build_toolbars(self) -> None:
        bar = QToolBar("View", self)
        bar.setObjectName("toolbar_view")
        bar.setIconSize(QSize(22, 22))
        self.addToolBar(bar)
        bar.addAction(self.open_action)
        bar.addSeparator()
        bar.addAction(self.reset_view_action)
        for view in ("iso", "front", "top", "right"):
            bar.addAction(self.view_actions[view])
        bar.addAction(self.parallel_action)
        bar.addSeparator()
        for action in self.style_actions.values():
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.isolate_action)
        bar.addAction(self.show_all_action)
        bar.addAction(self.measure_action)
        bar.addAction(self.clip_action)
        self.clip_axis = QComboBox()
        self.clip_axis.addItems(["X", "Y", "Z", "−X", "−Y", "−Z"])
        self.clip_axis.setToolTip("Section plane normal: X keeps what lies below the plane along X, −X what "
                                  "lies above it")
        self.clip_axis.currentIndexChanged.connect(lambda _i: self._apply_clip())
        self.clip_slider = QSlider(Qt.Orientation.Horizontal)
        self.clip_slider.setRange(0, 100)
        self.clip_slider.setValue(50)
        self.clip_slider.setFixedWidth(140)
        self.clip_slider.setToolTip("Section plane position")
        self.clip_slider.valueChanged.connect(lambda _v: self._apply_clip())
        bar.addWidget(self.clip_axis)
        bar.addWidget(self.clip_slider)
        bar.addSeparator()
        bar.addAction(self.screenshot_action)
        self.view_toolbar = bar

    def _wire(self) -> None:
        self.part_tree.part_selected.connect(self.select_part)
        self.part_tree.visibility_changed.connect(self.set_part_visible)
        self.viewer.part_clicked.connect(self.select_part)
        self.viewer.hovered.connect(self._on_hover)
        self.viewer.measured.connect(self._show_measurement)
        self.viewer.measure_started.connect(
            lambda name: self.show_status("Measuring from "
                                          f"{self.twin.project.part_label(name) if name else 'a point'}"
                                          ": click the second point"))
        self.properties.opacity_changed.connect(self.set_part_opacity)
        self.properties.isolate_requested.connect(lambda name: (self.select_part(name),
                                                                self.isolate_action.setChecked(True)))
        self.properties.zoom_requested.connect(self.zoom_to_part)
        self.properties.sensor_activated.connect(self.activate_sensor)
        self.sensor_table.sensor_activated.connect(self.activate_sensor)

    # ----- opening ---------------------------------------------------------------------------------
    def open_demo(self) -> None:
        from twinviewer.paths import demo_project_path

        self.open_path(demo_project_path())

    def open_dialog(self) -> None:
        from twinviewer.io.meshes import MESH_FILE_FILTER

        start = self.settings.value("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open twin or model", start, f"Twin projects (*.twin.toml *.toml);;{MESH_FILE_FILTER};;All "
                                               "files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, split_bodies: bool = False, units: str | None = None) -> None:
        """Open a project or mesh off the GUI thread; keeps the current twin if it fails. ``split_bodies``:
        a raw mesh's connected bodies become its parts; ``units``: what a raw mesh's numbers are in
        (default: the units chosen for this file before, see ui/units.py, else metres)."""
        path = Path(path)
        if units is None:
            from twinviewer.ui.units import remembered_units

            units = remembered_units(self.settings, path)
        if self.task is not None and self.task.running:
            self.show_error("Busy", "Another file is still loading; wait for it or cancel it first.")
            return
        self.show_status(f"Opening {path.name}…")
        self.standins.cancel()
        early, self.early_open = self.early_open, None
        if early is not None and not early.matches(path, split_bodies, units):
            early.abandon()
            early = None

        def work(progress, cancelled):
            if early is not None:  # the launch started reading this file while the window was being built
                return early.result(progress, cancelled)
            return load_for_display(path, progress, cancelled, split_bodies, units)

        self.task = run_task(self, f"Opening {path.name}", work,
                             lambda result: self._show_twin(*result),
                             lambda exc, details: self._open_failed(path, exc, details))

    def _sync_split_action(self) -> None:
        """Split into bodies: on for a raw mesh opened split, available for raw meshes only."""
        twin = self.twin
        self.split_bodies_action.setEnabled(twin is not None and twin.is_raw_mesh)
        self.split_bodies_action.blockSignals(True)
        self.split_bodies_action.setChecked(twin is not None
                                            and any(m.split_bodies for m in twin.project.models))
        self.split_bodies_action.blockSignals(False)

    def _open_failed(self, path: Path, exc: BaseException, details: str) -> None:
        self._sync_split_action()
        if isinstance(exc, CancelledError):
            self.show_status(f"Opening {path.name} cancelled; nothing changed.")
            return
        message = str(exc) if isinstance(exc, TwinViewerError) else f"{type(exc).__name__}: {exc}"
        self.show_error(f"Cannot open {path.name}", message)
        self.show_status(f"Could not open {path.name}")

    def _show_twin(self, twin: Twin, meshes) -> None:
        if self.session is not None:
            self.session.close()
        if self.overlay is not None:
            self.overlay.remove()
        self.twin = twin
        colours = self._part_colours(twin)
        self.scene.set_model(twin.model, colours, meshes)
        self.session = Session(twin.project, twin.model.part_names)
        self.current.set(twin, self.session)  # its signals now reach the panels and the window
        self.overlay = OverlayLayer(self.scene, self.session.overlay)
        self.frame = None
        self._fill_field_menu()
        view = twin.project.view
        try:
            self.overlay.set_mode(mode_of_view(view))
        except ValueError:
            self.overlay.set_mode("status")
        self.overlay.set_labels(view.labels)
        self._check_overlay_action(self.overlay.mode)
        self.label_actions[view.labels].setChecked(True)
        self.part_tree.set_parts(twin.project, twin.model.part_names, colours,
                                 {p.name: p.group for p in twin.model.parts} if twin.is_raw_mesh else None)
        self.sensor_table.set_project(twin.project)
        self.properties.show_part(None, None, None)
        self.isolate_action.setChecked(False)
        self.clip_action.setChecked(False)
        self.current_view = twin.project.view.camera if twin.project.view.camera in VIEW_NAMES else "iso"
        self.scene.set_view(self.current_view)
        self.save_starter_action.setEnabled(twin.is_raw_mesh)
        self._sync_split_action()
        self.setWindowTitle(f"{twin.title} — TwinViewer")
        self.model_label.setText(f"{counted(len(twin.model.parts), 'part')} · "
                                 f"{counted(twin.model.n_triangles, 'triangle')} · "
                                 f"{counted(len(twin.project.sensors), 'sensor')}")
        self._remember_recent(twin.path)
        note = f" ({'; '.join(twin.model.warnings)})" if twin.model.warnings else ""
        self.show_status(f"Opened {twin.path.name}{note}" + (f" — {twin.hint}" if twin.hint else ""))
        # The model on screen first; the panels (recording auto-load, live sources, charts) follow.
        self.viewer.render_now()
        self.standins.start(twin)
        self.twin_opened.emit(twin)

    def _part_colours(self, twin: Twin) -> dict[str, tuple[float, float, float]]:
        from twinviewer.core.project import parse_colour

        colours = {}
        for part in twin.model.parts:
            spec = twin.project.part(part.name)
            if spec and spec.color:
                colours[part.name] = parse_colour(spec.color)
            elif part.color:
                colours[part.name] = part.color
        return colours

    # ----- recent files and drag and drop -----------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v]

    def _remember_recent(self, path: Path) -> None:
        entries = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        self.settings.setValue("recent_files", entries[:MAX_RECENT])
        self.settings.setValue("last_dir", str(path.parent))
        self.settings.sync()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.recent_files()
        if not entries:
            self.recent_menu.addAction("(no recent files)").setEnabled(False)
        for entry in entries:
            action = self.recent_menu.addAction(entry)
            action.triggered.connect(lambda _=False, p=entry: self.open_path(p))
        if entries:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recent_files", []))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not getattr(self, "_laid_out", False):
            self._laid_out = True
            QTimer.singleShot(0, self._give_the_view_room)

    def _give_the_view_room(self) -> None:
        """Panels as tabs beside the 3D view, which keeps at least half of the window (ui/layout.py)."""
        from twinviewer.ui import layout

        layout.arrange(self)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_dropped(paths)

    def open_dropped(self, paths: list[Path]) -> None:
        """Dropped files go through ``drop_handlers`` (order: ``ui/chains.py``)."""
        self.drop_handlers.dispatch(paths)

    def _open_dropped_twin(self, paths: list[Path]) -> bool:
        self.open_path(paths[0])
        return True

    # ----- selection and visibility -------------------------------------------------------------------
    def select_part(self, name: str | None) -> None:
        if self.twin is None:
            return
        if name is not None and name not in self.scene.parts:
            name = None
        self.scene.select(name)
        self.part_tree.select_part(name)
        mesh = self.twin.model.part(name) if name else None
        opacity = self.scene.parts[name].opacity if name else None
        self.properties.show_part(self.twin.project, mesh, opacity, self.sensor_value_texts())
        if self.isolate_action.isChecked() and name:
            self.scene.isolate(name)
        self.show_status(f"Selected {name}" if name else "Nothing selected")
        self.viewer.request_render()
        self.session.select(name)  # -> part_selected (through self.current)

    def sensor_value_texts(self) -> dict[str, str]:
        table = self.sensor_table
        return {sid: f"{table.value_text(sid)} {self.twin.project.sensor(sid).unit}".strip()
                for sid in table.sensor_ids} if self.twin else {}

    def activate_sensor(self, sensor_id: str) -> None:
        if self.twin is None:
            return
        sensor = self.twin.project.sensor(sensor_id)
        self.select_part(sensor.part)
        self.sensor_table.select_sensor(sensor_id)

    def set_part_visible(self, name: str, shown: bool) -> None:
        if name in self.scene.parts:
            self.scene.set_visible(name, shown)
            self.viewer.request_render()

    def set_part_opacity(self, name: str, opacity: float) -> None:
        self.scene.set_opacity(name, opacity)
        self.viewer.request_render()

    def hide_selected(self) -> None:
        name = self.scene.selected
        if name:
            self.part_tree.set_checked(name, False)

    def show_all(self) -> None:
        self.isolate_action.setChecked(False)
        for name in self.scene.parts:
            self.part_tree.set_checked(name, True)
            self.scene.set_visible(name, True)
        self.viewer.request_render()

    def toggle_isolate(self, on: bool) -> None:
        if on and not self.scene.selected:
            self.show_status("Select a part first, then isolate it.")
            self.isolate_action.setChecked(False)
            return
        self.scene.isolate(self.scene.selected if on else None)
        if not on:
            for name in self.scene.parts:
                self.scene.set_visible(name, self.part_tree.is_checked(name))
        self.viewer.request_render()

    def zoom_to_part(self, name: str) -> None:
        self.scene.set_view(self.current_view, [name])
        self.viewer.request_render()

    # ----- view tools ------------------------------------------------------------------------------
    current_view = "iso"

    def set_view(self, view: str) -> None:
        self.current_view = view
        self.scene.set_view(view)
        self.viewer.request_render()

    def set_parallel(self, on: bool) -> None:
        self.scene.set_parallel(on)
        self.viewer.request_render()

    def set_style(self, style: str) -> None:
        self.scene.set_style(style)
        self.viewer.request_render()

    def _show_measurement(self, distance: float) -> None:
        """Status bar: the distance and its components along the scene axes."""
        a, b = self.scene.measurement
        components = ", ".join(f"Δ{axis} {format_length(abs(float(d)))}" for axis,
                               d in zip("xyz", b - a, strict=True))
        self.show_status(f"Distance: {format_length(distance)} ({components})")

    def toggle_clip(self, on: bool) -> None:
        self._apply_clip() if on else self.scene.set_clip(None)
        self.viewer.request_render()

    def _apply_clip(self) -> None:
        if self.clip_action.isChecked():
            self.scene.set_clip(("x", "y", "z", "-x", "-y", "-z")[self.clip_axis.currentIndex()],
                                self.clip_slider.value() / 100)
            self.viewer.request_render()

    def set_measure_mode(self, on: bool) -> None:
        self.viewer.set_measure_mode(on)
        self.show_status("Measure: click two points on the model" if on else "Measure off")

    # ----- output ----------------------------------------------------------------------------------
    def save_screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        from twinviewer.render.offscreen import write_png

        # What the user sees in the 3D view: the legend and labels are part of the VTK scene.
        try:
            write_png(path, self.viewer.image())
        except OSError as exc:
            raise TwinViewerError(f"{path}: cannot write the screenshot there ({exc.strerror})") from None
        return path

    def screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", str(Path.home() / "twinviewer.png"),
                                              "PNG image (*.png)")
        if path:
            try:
                saved = self.save_screenshot(path)
            except TwinViewerError as exc:
                self.show_error("Cannot save the screenshot", str(exc))
                return
            self.show_status(f"Saved {saved}")

    def save_starter_project(self, out_path: str | Path) -> Path:
        from twinviewer.io.starter import write_starter_project

        if self.twin is None:
            raise TwinViewerError("nothing is open")
        model_entry = self.twin.project.models[0]
        return Path(write_starter_project(self.twin.model, self.twin.path, Path(out_path),
                                          units=model_entry.units, up_axis=model_entry.up_axis,
                                          split_bodies=model_entry.split_bodies))

    def set_split_bodies(self, split: bool) -> None:
        """Open the raw mesh again, with its connected bodies as parts (or as the file has them)."""
        if self.twin is None or not self.twin.is_raw_mesh:
            return
        self.open_path(self.twin.path, split_bodies=split)

    def save_starter_dialog(self) -> None:
        if self.twin is None or not self.twin.is_raw_mesh:
            return
        suggestion = self.twin.path.with_suffix(".twin.toml")
        path, _ = QFileDialog.getSaveFileName(self, "Save starter project", str(suggestion),
                                              "Twin project (*.twin.toml)")
        if not path:
            return
        try:
            saved = self.save_starter_project(path)
        except (TwinViewerError, OSError) as exc:
            self.show_error("Cannot save project", str(exc))
            return
        self.show_status(f"Saved {saved}; add sensors to it and open it")

    # ----- messages --------------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def show_error(self, title: str, text: str) -> None:
        """A non-blocking dialog (the app keeps running, tests can read ``last_error``)."""
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    def about(self) -> None:
        QMessageBox.about(self, "About TwinViewer",
                          f"<b>TwinViewer {__version__}</b><p>Offline digital-twin viewer: CAD models, live "
                          "and recorded sensor data, failure scenarios.</p>")

    # ----- overlay ---------------------------------------------------------------------------------
    def _fill_field_menu(self) -> None:
        self.field_menu.clear()
        for quantity in self.overlay.quantities() if self.overlay else []:
            action = QAction(quantity.replace("_", " ").capitalize(), self, checkable=True)
            action.setData(f"field:{quantity}")
            action.toggled.connect(lambda on, q=quantity: on and self.set_overlay_mode(f"field:{q}"))
            self.overlay_group.addAction(action)
            self.field_menu.addAction(action)
            self.overlay_actions[f"field:{quantity}"] = action
        self.field_menu.setEnabled(bool(self.field_menu.actions()))

    _checking_overlay_action = False

    def _check_overlay_action(self, mode: str) -> None:
        """Check the menu entry of ``mode`` without switching again. The action's signals stay connected:
        blocking them would keep the group from unchecking the previous entry (two checked, and the next
        click on the old one would uncheck it instead of switching to it)."""
        action = self.overlay_actions.get(mode)
        if action is not None and not action.isChecked():
            self._checking_overlay_action = True
            try:
                action.setChecked(True)
            finally:
                self._checking_overlay_action = False

    def set_overlay_mode(self, mode: str) -> None:
        """off, status, value or field:QUANTITY; remembered in the project's view settings."""
        if self.overlay is None or self.session is None or self._checking_overlay_action:
            return
        try:
            self.overlay.set_mode(mode)
        except ValueError as exc:
            self.show_error("Overlay", str(exc))
            return
        view = self.twin.project.view
        view.overlay = "field" if mode.startswith("field:") else mode
        view.field_quantity = mode.split(":", 1)[1] if mode.startswith("field:") else view.field_quantity
        self.session.set_overlay_mode(mode)  # -> the menu's check mark (through self.current)
        self.show_status(f"Overlay: {mode.replace('field:', 'surface field of ')}")

    def set_label_mode(self, mode: str) -> None:
        if self.overlay is not None:
            self.overlay.set_labels(mode)
            self.twin.project.view.labels = mode
            self.session.invalidate()

    def _on_hover(self, part: object, position) -> None:
        """Tooltip with the current values of the marker or part under the mouse."""
        if self.twin is None or self.overlay is None or self.frame is None:
            return
        x, y = position
        sensor_id = self.overlay.marker_at(x, y)
        widget = self.viewer.interactor
        if sensor_id is None:
            name, _ = self.scene.pick(x, y)
            if name is None:
                widget.setToolTip("")
                return
            tip = self.part_tooltip(name)
        else:
            tip = self.sensor_tooltip(sensor_id)
        widget.setToolTip(tip)

    def sensor_tooltip(self, sensor_id: str) -> str:
        sensor = self.twin.project.sensor(sensor_id)
        i = self.session.sensor_ids.index(sensor_id)
        value = format_number(float(self.frame.values[i]))
        status = status_name(int(self.frame.statuses[i]))
        return f"<b>{sensor.id}</b> {sensor.display_name}<br>{value} {sensor.unit} — {status}"

    def part_tooltip(self, name: str) -> str:
        lines = [f"<b>{self.twin.project.part_label(name)}</b>"]
        for sensor in self.twin.project.sensors_of_part(name):
            i = self.session.sensor_ids.index(sensor.id)
            lines.append(f"{sensor.id}: {format_number(float(self.frame.values[i]))} {sensor.unit} "
                         f"({status_name(int(self.frame.statuses[i]))})")
        return "<br>".join(lines)

    # ----- the frame ---------------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: advance time, refresh what shows it, render once if anything changed."""
        now = time.monotonic()
        wall_dt, self._last_tick = now - self._last_tick, now
        if self.session is not None and self.overlay is not None:
            frame = self.session.tick(min(wall_dt, 0.5))
            self.frame = frame
            animating = self.overlay.frame is not None and self.overlay.frame.animating
            clock = self.session.clock
            moving = clock.playing or clock.follow_live
            if frame.changed:
                self.show_frame(frame, now, panels=not moving)
            elif animating and self.overlay.pulse(now):
                # Only the alarm blink changed: one fast repaint (no panel or overlay work, and no FXAA pass
                # after each blink: while a part blinks the picture is never still).
                from twinviewer.render.quality import set_fxaa

                quality = self.viewer.quality
                if quality.still:
                    quality.still = False
                    set_fxaa(quality.renderer, False)
                self.viewer.interactor.update()
            elif self._panels_behind:
                self._show_panels(frame)
        self.viewer.render_if_needed()

    def show_frame(self, frame: Frame, wall_time: float | None = None, panels: bool = True) -> None:
        """Push one frame into every view that shows the current time.

        The 3D view takes every frame. While time moves (playing, following live) the panels — sensor list,
        charts, timeline, alarms — take at most PANEL_INTERVAL_S worth of frames: repainting the widgets
        around the view on every frame costs more than the view itself with software OpenGL. A paused or
        sought clock (``panels=True``) updates them at once, and the newest frame always reaches them.
        """
        self.frame = frame
        pulse_time = wall_time if wall_time is not None else time.monotonic()
        self.overlay.apply(self.session.overlay.pulse(frame.overlay, pulse_time))
        self.viewer.request_render()
        if panels or time.monotonic() - self._panels_shown >= PANEL_INTERVAL_S:
            self._show_panels(frame)
        else:
            self._panels_behind = True

    def _show_panels(self, frame: Frame) -> None:
        self._panels_behind = False
        self._panels_shown = time.monotonic()
        overlay = frame.overlay
        self.sensor_table.update_values(frame.values, overlay.sensor_status)
        if self.session.has_data:
            self.time_label.setText(format_time(frame.t))
        if self.scene.selected and self.twin is not None:
            now = time.monotonic()
            if now - self._properties_refreshed > 0.5:  # rich text is slow to lay out; 2 Hz is plenty
                self._properties_refreshed = now
                self.properties.show_part(self.twin.project, self.twin.model.part(self.scene.selected),
                                          self.scene.parts[self.scene.selected].opacity,
                                          self.sensor_value_texts())
        self.frame_shown.emit(frame)

    def refresh_now(self) -> Frame | None:
        """Compute and show the frame at the clock's time immediately (tests, seeks)."""
        if self.session is None:
            return None
        self.session.invalidate()
        frame = self.session.tick(0.0)
        self.show_frame(frame)
        self.viewer.render_now()
        return frame

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.frame_timer.stop()
        if self.session is not None:
            self.session.close()
        stop_all_tasks()
        for dialog in self.findChildren(QDialog):  # message boxes and dialogs the window opened go with it
            if dialog.isWindow() and dialog.isVisible():
                dialog.close()
        self.viewer.close_view()
        super().closeEvent(event)
