"""The Bookmarks panel: mark a time or an interval with a title, notes, author, parts and the camera view.

Bookmarks come from the timeline (Review → Add bookmark, Ctrl+B, or the timeline's right-click menu), from
the alarm list (right-click → Add bookmark) or from an event (the timeline's right-click menu on an event,
or :meth:`BookmarksPanel.bookmark_event` for other panels). They show on the timeline's event lane and in
the panel; double-clicking a row, or clicking its marker on the timeline, restores its time, camera and
selection. They are saved at once in the sidecar file beside the recording (``docs/bookmarks-format.md``);
Merge… adds a colleague's file.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.bookmarks import Bookmark, merge_bookmarks
from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.events import Event
from twinviewer.core.formatting import counted, format_duration, format_time

BOOKMARK_KIND = "bookmark"
CLICK_TOLERANCE_PX = 5


def default_author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


class BookmarkDialog(QDialog):
    """Title, notes, author, tagged parts, optional interval length, and whether to keep the camera."""

    def __init__(self, parent, t: float, bookmark: Bookmark | None = None, t_end: float | None = None,
                 title: str = "", text: str = "", parts: list[str] | None = None, author: str = "",
                 known_parts: set[str] | None = None):
        super().__init__(parent)
        self.known_parts = known_parts
        self.setWindowTitle("Edit bookmark" if bookmark else "Add bookmark")
        self.t = t
        form = QFormLayout()
        form.addRow("Time", QLabel(format_time(t)))
        self.title_edit = QLineEdit(bookmark.title if bookmark else title)
        self.title_edit.setPlaceholderText("What is this moment?")
        form.addRow("Title", self.title_edit)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.0, 1e9)
        self.duration.setDecimals(1)
        self.duration.setSuffix(" s")
        end = bookmark.t_end if bookmark else t_end
        self.duration.setValue(max((end or t) - t, 0.0))
        self.duration.setToolTip("0 = a single instant; more = an interval starting at the time above")
        form.addRow("Interval length", self.duration)
        self.author_edit = QLineEdit(bookmark.author if bookmark else author)
        form.addRow("Author", self.author_edit)
        self.parts_edit = QLineEdit(", ".join(bookmark.parts if bookmark else parts or []))
        self.parts_edit.setToolTip("Part names, separated by commas; the first is selected when the bookmark is opened")
        form.addRow("Parts", self.parts_edit)
        self.text_edit = QPlainTextEdit(bookmark.text if bookmark else text)
        self.text_edit.setPlaceholderText("Notes: what you see, what you checked, what to do")
        form.addRow("Notes", self.text_edit)
        self.camera_box = QCheckBox("Save the current camera view with it")
        self.camera_box.setChecked(bookmark is None or bookmark.camera is not None)
        form.addRow("", self.camera_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b3261e")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(520, 420)

    def values(self) -> dict:
        duration = self.duration.value()
        return {"title": self.title_edit.text().strip(), "text": self.text_edit.toPlainText().strip(),
                "author": self.author_edit.text().strip(), "t_end": self.t + duration if duration > 0 else None,
                "parts": [p.strip() for p in self.parts_edit.text().split(",") if p.strip()],
                "keep_camera": self.camera_box.isChecked()}

    def _accept(self) -> None:
        if not self.title_edit.text().strip():
            self.error.setText("Give the bookmark a title.")
            return
        if self.known_parts is not None:
            unknown = [p for p in self.values()["parts"] if p not in self.known_parts]
            if unknown:
                self.error.setText(f"No part called {', '.join(unknown)} in this twin.")
                return
        self.accept()


class _TrackClicks(QObject):
    """A left click on a bookmark's marker on the timeline opens that bookmark (after the seek it also does)."""

    def __init__(self, panel: BookmarksPanel, track):
        super().__init__(track)
        self.panel = panel
        self.track = track

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton \
                and self.track.has_range:
            lane = self.track._lanes()[0]
            x, y = event.position().x(), event.position().y()
            if lane.top() - 2 <= y <= lane.bottom() + 2:
                bookmark = self.panel.bookmark_near(self.track.t_at(x), self._tolerance())
                if bookmark is not None:
                    QTimer.singleShot(0, lambda: self.panel.restore(bookmark))
        return False

    def _tolerance(self) -> float:
        v0, v1 = self.track.visible_range()
        return CLICK_TOLERANCE_PX * (v1 - v0) / max(self.track.width(), 1)


class BookmarksPanel(QWidget):
    COLUMNS = ("Time", "Length", "Title", "Author", "Parts")

    def __init__(self, window, current: CurrentSession):
        super().__init__(window)
        self.window = window
        self.current = current  # the open twin and session, and their signals
        self.bookmarks: list[Bookmark] = []
        self.sidecar: Path | None = None
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.cellDoubleClicked.connect(lambda row, _c: self.restore(self.bookmarks[row]))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.where = QLabel("")
        self.where.setWordWrap(True)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.add_button.clicked.connect(lambda: self.add_dialog())
        self.go_button = QPushButton("Go to")
        self.go_button.clicked.connect(lambda: self.restore(self.selected()))
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(lambda: self.edit_dialog(self.selected()))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(lambda: self.delete(self.selected()))
        self.merge_button = QPushButton("Merge file…")
        self.merge_button.setToolTip("Add the bookmarks of a colleague's bookmark file (same id: the newer edit wins)")
        self.merge_button.clicked.connect(self.merge_dialog)
        for button in (self.add_button, self.go_button, self.edit_button, self.delete_button, self.merge_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        layout.addWidget(self.where)
        self.dialog: BookmarkDialog | None = None
        self._update_buttons()

    # ----- state -----------------------------------------------------------------------------------
    def selected(self) -> Bookmark | None:
        rows = self.table.selectionModel().selectedRows()
        return self.bookmarks[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        has_data = self.current.session is not None and self.current.session.has_data
        chosen = self.selected() is not None
        self.add_button.setEnabled(has_data)
        self.merge_button.setEnabled(has_data)
        for button in (self.go_button, self.edit_button, self.delete_button):
            button.setEnabled(chosen)

    def on_recording_loaded(self, session) -> None:
        """A recording was loaded: show the bookmarks of its sidecar file."""
        from twinviewer.io.bookmarks_file import read_bookmarks_file, sidecar_path

        paths = getattr(session, "recording_paths", [])
        self.sidecar = sidecar_path(paths) if paths else None
        self.bookmarks = []
        if self.sidecar is not None:
            try:
                self.bookmarks = read_bookmarks_file(self.sidecar)
            except TwinViewerError as exc:
                self.window.show_error("Bookmarks not loaded", str(exc))
        self._changed(save=False)

    def on_twin_opened(self, _twin) -> None:
        self.sidecar = None
        self.bookmarks = []
        self._changed(save=False)

    def _changed(self, save: bool = True) -> None:
        self.bookmarks.sort(key=lambda b: (b.t, b.id))
        if save:
            self.save()
        self._fill_table()
        self._sync_timeline()
        self._update_buttons()

    def save(self) -> None:
        from twinviewer.io.bookmarks_file import write_bookmarks_file

        if self.sidecar is None:
            self.window.show_status("Bookmarks are kept for this session only: this data has no recording file "
                                    "(Data → Export recording…, then open it, to keep them)")
            return
        try:
            write_bookmarks_file(self.sidecar, self.bookmarks, self.current.session.recording_name)
        except TwinViewerError as exc:
            self.window.show_error("Bookmarks not saved", str(exc))

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.bookmarks))
        for row, b in enumerate(self.bookmarks):
            length = format_duration(b.t_end - b.t) if b.is_interval else ""
            for column, text in enumerate((format_time(b.t), length, b.title, b.author, ", ".join(b.parts))):
                item = QTableWidgetItem(text)
                item.setToolTip(b.text or b.title)
                self.table.setItem(row, column, item)
        where = f"Saved in {self.sidecar}" if self.sidecar else "Not saved: the data has no recording file"
        self.where.setText(f"{counted(len(self.bookmarks), 'bookmark')}. {where}")

    def _sync_timeline(self) -> None:
        """Bookmarks as events of kind "bookmark" on the timeline's event lane (a new list: it redraws)."""
        session = self.current.session
        if session is None:
            return
        others = [e for e in session.events if e.kind != BOOKMARK_KIND]
        marks = [Event(b.t, b.t_end, BOOKMARK_KIND, b.title, None) for b in self.bookmarks]
        session.events = sorted([*others, *marks], key=lambda e: e.t)
        panel = self.window.panels.get("recording_panel")
        if panel is not None:
            panel.timeline.refresh_markers()
            panel.timeline.track.update()

    def bookmark_near(self, t: float, tolerance: float) -> Bookmark | None:
        near = [b for b in self.bookmarks if b.t - tolerance <= t <= (b.t_end or b.t) + tolerance]
        return min(near, key=lambda b: abs(b.t - t)) if near else None

    # ----- creating --------------------------------------------------------------------------------
    def _now(self) -> float | None:
        session = self.current.session
        return session.clock.t if session is not None and session.has_data else None

    def _part_names(self) -> set[str] | None:
        return set(self.window.scene.parts) if self.current.twin is not None else None

    def create(self, t: float, title: str, *, t_end: float | None = None, text: str = "", author: str | None = None,
               parts: list[str] | None = None, sensors: list[str] | None = None, keep_camera: bool = True,
               origin: str = "timeline") -> Bookmark:
        """Add a bookmark (no dialog) and save the sidecar."""
        from twinviewer.render.incident_render import camera_state

        camera = camera_state(self.window.scene) if keep_camera and self.current.twin is not None else None
        bookmark = Bookmark(t=t, t_end=t_end, title=title, text=text,
                            author=default_author() if author is None else author, parts=list(parts or []),
                            sensors=list(sensors or []), camera=camera, origin=origin)
        self.bookmarks.append(bookmark)
        self._changed()
        dock = getattr(self.window, "bookmarks_dock", None)
        if dock is not None:
            dock.show()
            dock.raise_()
        self.window.show_status(f"Bookmark “{bookmark.title}” added at {format_time(t)}")
        return bookmark

    def add_dialog(self, t: float | None = None, *, t_end: float | None = None, title: str = "", text: str = "",
                   parts: list[str] | None = None, sensors: list[str] | None = None, origin: str = "timeline"):
        """Ask for the title and notes, then add (the dialog is kept in ``self.dialog`` while it is open)."""
        t = self._now() if t is None else t
        if t is None:
            self.window.show_status("Open a recording first: a bookmark marks a time in it")
            return None
        if parts is None:
            selected = self.window.scene.selected if self.current.twin is not None else None
            parts = [selected] if selected else []
        dialog = BookmarkDialog(self.window, t, t_end=t_end, title=title, text=text, parts=parts,
                                author=default_author(), known_parts=self._part_names())

        def accepted() -> None:
            v = dialog.values()
            self.create(t, v["title"], t_end=v["t_end"], text=v["text"], author=v["author"], parts=v["parts"],
                        sensors=sensors, keep_camera=v["keep_camera"], origin=origin)

        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def bookmark_alarm(self, alarm) -> None:
        """From the alarm list: the alarm's episode, its part and sensor."""
        self.add_dialog(alarm.onset_t, t_end=alarm.cleared_t, title=f"{alarm.sensor_id} {alarm.level} {alarm.direction}",
                        parts=[alarm.part] if alarm.part else [], sensors=[alarm.sensor_id],
                        origin=f"alarm:{alarm.alarm_id}")

    def bookmark_event(self, event: Event) -> None:
        """From an event (a labelled window, an anomaly episode): its time or span and its sensor."""
        parts = []
        sensors = [event.sensor] if event.sensor else []
        if event.sensor and self.current.twin is not None:
            try:
                parts = [self.current.twin.project.sensor(event.sensor).part]
            except (KeyError, ValueError, TwinViewerError):
                parts = []
        self.add_dialog(event.t, t_end=event.t_end, title=event.label or event.kind, parts=parts, sensors=sensors,
                        origin=f"event:{event.kind}")

    def edit_dialog(self, bookmark: Bookmark | None) -> None:
        if bookmark is None:
            return
        dialog = BookmarkDialog(self.window, bookmark.t, bookmark, known_parts=self._part_names())

        def accepted() -> None:
            from twinviewer.render.incident_render import camera_state

            v = dialog.values()
            camera = (bookmark.camera or camera_state(self.window.scene)) if v["keep_camera"] else None
            self.replace(bookmark, bookmark.edited(title=v["title"], text=v["text"], author=v["author"],
                                                   t_end=v["t_end"], parts=v["parts"], camera=camera))

        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def replace(self, old: Bookmark, new: Bookmark) -> None:
        self.bookmarks = [new if b.id == old.id else b for b in self.bookmarks]
        self._changed()

    def delete(self, bookmark: Bookmark | None) -> None:
        if bookmark is None:
            return
        self.bookmarks = [b for b in self.bookmarks if b.id != bookmark.id]
        self._changed()

    def merge_file(self, path: Path | str) -> int:
        from twinviewer.io.bookmarks_file import read_bookmarks_file

        theirs = read_bookmarks_file(path, missing_ok=False)
        before = {b.id for b in self.bookmarks}
        self.bookmarks = merge_bookmarks(self.bookmarks, theirs)
        self._changed()
        added = len({b.id for b in self.bookmarks} - before)
        self.window.show_status(f"Merged {Path(path).name}: {counted(added, 'new bookmark')}, "
                                f"{len(theirs) - added} updated or already here")
        return added

    def merge_dialog(self) -> None:
        start = str(self.sidecar.parent) if self.sidecar else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.window, "Merge a bookmark file", start,
                                              "Bookmarks (*.bookmarks.json *.json);;All files (*)")
        if path:
            try:
                self.merge_file(path)
            except TwinViewerError as exc:
                self.window.show_error("Cannot merge bookmarks", str(exc))

    # ----- opening ---------------------------------------------------------------------------------
    def restore(self, bookmark: Bookmark | None) -> None:
        """Time, camera and selection as the bookmark saved them."""
        window = self.window
        if bookmark is None or self.current.session is None:
            return
        self.current.session.clock.pause()
        self.current.session.clock.seek(bookmark.t)
        if bookmark.camera is not None:
            from twinviewer.render.incident_render import apply_camera

            apply_camera(window.scene, bookmark.camera)
            window.parallel_action.setChecked(bookmark.camera.parallel)
        part = bookmark.selected_part
        window.select_part(part if self.current.twin is not None and part in window.scene.parts else None)
        window.refresh_now()
        window.show_status(f"Bookmark “{bookmark.title}” at {format_time(bookmark.t)}")

    # ----- timeline menu ---------------------------------------------------------------------------
    def timeline_menu(self, menu, t: float) -> None:
        session = self.current.session
        if session is None or not session.has_data:
            return
        menu.addSeparator()
        menu.addAction("Add bookmark here…", lambda: self.add_dialog(t))
        track = self.window.panels["recording_panel"].timeline.track
        v0, v1 = track.visible_range()
        tolerance = CLICK_TOLERANCE_PX * (v1 - v0) / max(track.width(), 1)
        near = self.bookmark_near(t, tolerance)
        if near is not None:
            menu.addAction(f"Open bookmark “{near.title}”", lambda: self.restore(near))
        events = [e for e in session.events if e.kind != BOOKMARK_KIND
                  and e.t - tolerance <= t <= (e.t_end if e.t_end is not None else e.t) + tolerance]
        for event in events[:3]:
            menu.addAction(f"Bookmark event “{event.label or event.kind}”…", lambda e=event: self.bookmark_event(e))


def _add_event_list_menu(panel: BookmarksPanel, events_panel) -> None:
    """Right-click a row of the Events list → Add bookmark… (its time or span, its sensor and part)."""
    from PySide6.QtWidgets import QMenu

    tree = events_panel.list
    tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show(pos) -> None:
        item = tree.itemAt(pos)
        if item is None:
            return
        index = tree.indexOfTopLevelItem(item)
        if not 0 <= index < len(events_panel.events):
            return
        event = events_panel.events[index]
        menu = QMenu(tree)
        menu.addAction("Add bookmark…", lambda: panel.bookmark_event(event))
        menu.popup(tree.viewport().mapToGlobal(pos))
        panel.event_menu = menu

    tree.customContextMenuRequested.connect(show)


def install(window) -> BookmarksPanel:
    panel = BookmarksPanel(window, window.current)
    window.bookmarks_dock = window.add_dock("Bookmarks", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    window.tabifyDockWidget(window.sensors_dock, window.bookmarks_dock)  # a tab beside the sensor list
    window.sensors_dock.raise_()
    window.twin_opened.connect(panel.on_twin_opened)
    window.current.recording_changed.connect(panel.on_recording_loaded)
    menu = window.menu("&Review")
    add = QAction("Add &bookmark…", window)
    add.setShortcut(QKeySequence("Ctrl+B"))
    add.setStatusTip("Mark the current time (with the selected part and the camera view) with a title and notes")
    add.triggered.connect(lambda: panel.add_dialog())
    window.addAction(add)
    menu.addAction(add)
    menu.addAction(window.bookmarks_dock.toggleViewAction())
    panel.add_action = add
    events = window.panels.get("events_panel")
    if events is not None and hasattr(events, "list"):
        _add_event_list_menu(panel, events)
    recording = window.panels.get("recording_panel")
    if recording is not None:
        recording.timeline.track.menu_hooks.append(panel.timeline_menu)
        recording.timeline.track.installEventFilter(_TrackClicks(panel, recording.timeline.track))
        recording.timeline_toolbar.addAction(add)
    return panel
