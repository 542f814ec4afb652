"""Compare two moments (Review → Compare two moments…): pick A and B (bookmarks or times; B may come from
another recording of the same project), see the sortable table of changes in real units, and the model
coloured by B − A per sensor or as a surface field. Closing the panel gives the normal overlay back."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.compare import SensorChange, compare_moments, relative_changes
from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import CancelledError
from twinviewer.core.formatting import format_number, format_time

COLUMNS = ("Sensor", "Label", "Part", "A", "B", "B − A", "Unit", "% of scale")
_TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"


class _NumberItem(QTableWidgetItem):
    """Sorts by its number (NaN last), shows formatted text."""

    def __init__(self, value: float, text: str):
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other) -> bool:  # noqa: D105
        a = self.value if math.isfinite(self.value) else math.inf
        b = other.value if isinstance(other, _NumberItem) and math.isfinite(other.value) else math.inf
        return a < b


class _MomentPicker(QWidget):
    """A bookmark or a time."""

    def __init__(self, label: str):
        super().__init__()
        self.choice = QComboBox()
        self.time_edit = QDateTimeEdit()
        self.time_edit.setDisplayFormat(_TIME_FORMAT)
        self.time_edit.setCalendarPopup(True)
        self.choice.currentIndexChanged.connect(self._chosen)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(label))
        layout.addWidget(self.choice, 1)
        layout.addWidget(self.time_edit)
        self.bookmarks = []

    def fill(self, bookmarks, t: float) -> None:
        self.bookmarks = list(bookmarks)
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItem("Time on the timeline")
        for b in self.bookmarks:
            self.choice.addItem(f"{b.title} ({format_time(b.t)})")
        self.choice.blockSignals(False)
        self.set_time(t)

    def set_time(self, t: float) -> None:
        self.time_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(int(round(t * 1000))))

    def _chosen(self, index: int) -> None:
        if index > 0:
            self.set_time(self.bookmarks[index - 1].t)
        self.time_edit.setEnabled(index == 0)

    def time(self) -> float:
        if self.choice.currentIndex() > 0:
            return self.bookmarks[self.choice.currentIndex() - 1].t
        return self.time_edit.dateTime().toMSecsSinceEpoch() / 1000.0


class ComparePanel(QWidget):
    def __init__(self, window, current: CurrentSession):
        super().__init__(window)
        self.window = window
        self.current = current  # the open twin and session, and their signals
        self.layer = None
        self.rows: list[SensorChange] = []
        self.other_store = None
        self.other_name = ""
        self._previous_overlay: str | None = None
        self.task = None
        self.a = _MomentPicker("A")
        self.b = _MomentPicker("B")
        self.source_b = QComboBox()
        self.source_b.addItems(["B in this recording", "B in another recording…"])
        self.source_b.activated.connect(self._source_chosen)
        self.colour_box = QCheckBox("Colour the model by B − A")
        self.colour_box.setChecked(True)
        self.field_box = QCheckBox("as a surface field")
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare)
        self.clear_button = QPushButton("Normal overlay")
        self.clear_button.clicked.connect(self.clear_colours)
        for box in (self.colour_box, self.field_box):
            box.toggled.connect(lambda _on: self._apply_colours())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._row_activated)
        self.summary = QLabel("Pick A and B, then Compare.")
        self.summary.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.a, 0, 0, 1, 3)
        grid.addWidget(self.b, 1, 0, 1, 2)
        grid.addWidget(self.source_b, 1, 2)
        row = QHBoxLayout()
        for w in (self.colour_box, self.field_box):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        row.addWidget(self.compare_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)

    # ----- inputs ----------------------------------------------------------------------------------
    def refill(self) -> None:
        """Bookmarks and sensible default times: A = the loop start or the recording start, B = now."""
        session = self.current.session
        if session is None or not session.has_data:
            return
        panel = self.window.panels.get("bookmarks_panel")
        bookmarks = panel.bookmarks if panel is not None else []
        clock = session.clock
        start = clock.loop[0] if getattr(clock, "loop", None) else session.store.time_range()[0]
        self.a.fill(bookmarks, start)
        self.b.fill(bookmarks, clock.t)

    def _source_chosen(self, index: int) -> None:
        if index == 1:
            start = self.window.settings.value("last_recording_dir", str(Path.home()))
            path, _ = QFileDialog.getOpenFileName(self.window, "Recording of the same project for B", start,
                                                  "Recordings (*.parquet *.pq *.csv *.txt);;All files (*)")
            if path:
                self.load_other(Path(path))
            else:
                self.source_b.setCurrentIndex(0 if self.other_store is None else 1)
        else:
            self.other_store = None
            self.other_name = ""

    def load_other(self, path: Path):
        """Import another recording for B off the GUI thread."""
        from twinviewer.io.incident import import_recording_for
        from twinviewer.ui.tasks import run_task

        twin = self.current.twin

        def done(result) -> None:
            store, _report = result
            if store.time_range() is None:
                self.window.show_error("Cannot compare", f"{path.name} holds no samples")
                self.source_b.setCurrentIndex(0)
                return
            self.other_store, self.other_name = store, path.name
            self.source_b.setItemText(1, f"B in {path.name}")
            self.source_b.setCurrentIndex(1)
            self.b.fill([], store.time_range()[0])

        def failed(exc, _details) -> None:
            self.source_b.setCurrentIndex(0)
            if not isinstance(exc, CancelledError):
                self.window.show_error("Cannot load the recording for B", str(exc))

        self.task = run_task(self.window, f"Loading {path.name}", lambda p, c: import_recording_for(twin.project, path, p, c),
                             done, failed)
        return self.task

    # ----- result ----------------------------------------------------------------------------------
    def compare(self, t_a: float | None = None, t_b: float | None = None) -> list[SensorChange]:
        window = self.window
        session = self.current.session
        if session is None or not session.has_data:
            window.show_status("Open a recording first")
            return []
        t_a = self.a.time() if t_a is None else t_a
        t_b = self.b.time() if t_b is None else t_b
        store_b = self.other_store if self.other_store is not None else session.store
        self.rows = compare_moments(self.current.twin.project.sensors, session.store, t_a, store_b, t_b)
        self._fill_table()
        where = f" in {self.other_name}" if self.other_store is not None else ""
        top = next((r for r in self.rows if math.isfinite(r.delta)), None)
        lead = (f" Largest change: {top.sensor_id} {format_number(top.a)} → {format_number(top.b)} {top.unit} "
                f"({top.relative * 100:+.1f} % of scale).") if top else ""
        self.summary.setText(f"A = {format_time(t_a)}, B = {format_time(t_b)}{where}.{lead}")
        self._apply_colours()
        return self.rows

    def _fill_table(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            cells = [QTableWidgetItem(r.sensor_id), QTableWidgetItem(r.label), QTableWidgetItem(r.part),
                     _NumberItem(r.a, format_number(r.a)), _NumberItem(r.b, format_number(r.b)),
                     _NumberItem(r.delta, "—" if not math.isfinite(r.delta) else f"{r.delta:+.4g}"),
                     QTableWidgetItem(r.unit),
                     _NumberItem(abs(r.relative) if math.isfinite(r.relative) else math.nan,
                                 "—" if not math.isfinite(r.relative) else f"{r.relative * 100:+.1f} %")]
            for column, item in enumerate(cells):
                self.table.setItem(i, column, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(7, Qt.SortOrder.DescendingOrder)

    def table_order(self) -> list[str]:
        return [self.table.item(i, 0).text() for i in range(self.table.rowCount())]

    def _row_activated(self, row: int, _column: int) -> None:
        sensor_id = self.table.item(row, 0).text()
        self.window.activate_sensor(sensor_id)

    def _apply_colours(self) -> None:
        window = self.window
        if not self.rows or self.current.twin is None:
            return
        if not self.colour_box.isChecked():
            self.clear_colours()
            return
        from twinviewer.render.compare_layer import CompareLayer

        if self.layer is None:
            self._previous_overlay = window.overlay.mode if window.overlay is not None else None
            window.set_overlay_mode("off")
            self.layer = CompareLayer(window.scene, self.current.twin.project, draw_scalar_bar=True)
        limit = self.layer.show(relative_changes(self.current.twin.project.sensors, self.rows), self.field_box.isChecked())
        window.show_status(f"Coloured by B − A: blue fell, red rose, full colour at ±{limit * 100:.1f} % of scale")
        window.viewer.request_render()

    def clear_colours(self) -> None:
        if self.layer is None:
            return
        self.layer.clear()
        self.layer = None
        if self._previous_overlay:
            self.window.set_overlay_mode(self._previous_overlay)
        self.window.refresh_now()

    def on_twin_opened(self, _twin) -> None:
        self.layer = None  # the scene was rebuilt
        self.rows = []
        self.other_store = None
        self.table.setRowCount(0)
        self.source_b.setItemText(1, "B in another recording…")
        self.source_b.setCurrentIndex(0)


def install(window) -> ComparePanel:
    panel = ComparePanel(window, window.current)
    from PySide6.QtWidgets import QDockWidget

    dock = window.add_dock("Compare", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    alarms = [d for d in window.findChildren(QDockWidget) if d.windowTitle() == "Alarms"]
    if alarms:
        window.tabifyDockWidget(alarms[0], dock)  # the table gets the width of the alarm list
        alarms[0].raise_()
    dock.hide()
    dock.visibilityChanged.connect(lambda shown: panel.refill() if shown else panel.clear_colours())
    window.twin_opened.connect(panel.on_twin_opened)
    action = QAction("&Compare two moments…", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+B"))
    action.setStatusTip("Colour the model by the change between two bookmarks or times, with a table of changes")
    action.triggered.connect(lambda: (dock.show(), dock.raise_(), panel.refill()))
    window.addAction(action)
    window.menu("&Review").addAction(action)
    panel.dock = dock
    panel.action = action
    return panel
