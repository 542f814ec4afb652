"""The sensor list: every sensor with its value, unit and status at the clock's current time."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from twinviewer.core.formatting import format_number
from twinviewer.core.project import Project

STATUS_TEXT = {0: "normal", 1: "warning", 2: "alarm", 3: "stale", 4: "no data", 5: "anomalous"}
STATUS_BACKGROUND = {0: "#dff3e3", 1: "#ffe9b3", 2: "#f8c4c0", 3: "#e2e2e2", 4: "#f4f4f4", 5: "#ead9f2"}
STATUS_FOREGROUND = {0: "#1d5e2c", 1: "#7a5200", 2: "#9b1c12", 3: "#555555", 4: "#888888", 5: "#6c2a8a"}
COLUMNS = ("Sensor", "Label", "Part", "Value", "Unit", "Status")


def cells_part(project: Project, sensor) -> str:
    return project.part_label(sensor.part)


class SensorTable(QTableWidget):
    """Emits ``sensor_activated(id)`` on double-click and ``sensor_selected(id)`` on selection."""

    sensor_activated = Signal(str)
    sensor_selected = Signal(str)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setAlternatingRowColors(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)  # else the last wrapped line is elided at its end
        self.setSortingEnabled(False)
        self.sensor_ids: list[str] = []
        self._last: tuple | None = None
        self._values = np.empty(0)
        self._statuses = np.empty(0, dtype=np.int8)
        self.verticalScrollBar().valueChanged.connect(self._fill_visible_rows)
        self.cellDoubleClicked.connect(lambda row, _c: self.sensor_activated.emit(self.sensor_ids[row]))
        self.itemSelectionChanged.connect(self._on_selection)

    def set_project(self, project: Project) -> None:
        self.sensor_ids = [s.id for s in project.sensors]
        self.setRowCount(len(project.sensors))
        for row, sensor in enumerate(project.sensors):
            cells = (sensor.id, sensor.display_name, cells_part(project, sensor), "—",
                     sensor.unit, STATUS_TEXT[4])
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, item)
        # Widths are fitted once here: ResizeToContents would re-measure every row on every value change,
        # which costs more than rendering the 3D view when 100 sensors change each frame.
        header = self.horizontalHeader()
        header.setResizeContentsPrecision(200)  # fit to the first rows: measuring a thousand costs 0.1 s
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self.resizeColumnsToContents()
        metrics = self.fontMetrics()
        self.setColumnWidth(3, max(self.columnWidth(3), metrics.horizontalAdvance("-00000.000") + 12))
        widest_status = max(metrics.horizontalAdvance(text) for text in STATUS_TEXT.values())
        self.setColumnWidth(5, max(self.columnWidth(5), widest_status + 16))  # "anomalous", never "an…us"
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setColumnHidden(2, True)  # the part shows in the tooltip; the panel is narrow
        for row, sensor in enumerate(project.sensors):
            self.item(row, 0).setToolTip(f"{sensor.display_name} on {cells_part(project, sensor)}")
            self.item(row, 1).setToolTip(f"{sensor.display_name} on {cells_part(project, sensor)}")
        self._last = None
        self._values, self._statuses = np.empty(0), np.empty(0, dtype=np.int8)

    def update_values(self, values: np.ndarray, statuses: np.ndarray) -> None:
        """Values and statuses in project sensor order.

        Only the rows on screen are written (a plant has 1,000 sensors; about 30 rows are visible): the
        newest arrays are kept, and rows scrolled into view are filled from them.
        """
        key = (values.tobytes(), statuses.tobytes())
        if key == self._last:
            return
        self._last = key
        self._values, self._statuses = values, statuses
        self._fill_visible_rows()

    def _visible_rows(self) -> range:
        count = min(len(self.sensor_ids), len(self._values))
        if count == 0:
            return range(0)
        first = self.rowAt(0)
        last = self.rowAt(max(self.viewport().height() - 1, 0))
        first = 0 if first < 0 else first
        last = count - 1 if last < 0 else min(last, count - 1)
        return range(first, last + 1)

    def _fill_visible_rows(self, *_args) -> None:
        values, statuses = self._values, self._statuses
        for row in self._visible_rows():
            status = int(statuses[row])
            value_item = self.item(row, 3)
            text = format_number(float(values[row]))
            if value_item.text() != text:
                value_item.setText(text)
            status_item = self.item(row, 5)
            text = STATUS_TEXT.get(status, "?")
            if status_item.text() != text:
                status_item.setText(text)
                status_item.setBackground(QBrush(QColor(STATUS_BACKGROUND.get(status, "#ffffff"))))
                status_item.setForeground(QBrush(QColor(STATUS_FOREGROUND.get(status, "#000000"))))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fill_visible_rows()

    def value_text(self, sensor_id: str) -> str:
        row = self.sensor_ids.index(sensor_id)
        return format_number(float(self._values[row])) if row < len(self._values) else self.item(row, 3).text()

    def status_text(self, sensor_id: str) -> str:
        row = self.sensor_ids.index(sensor_id)
        if row < len(self._statuses):
            return STATUS_TEXT.get(int(self._statuses[row]), "?")
        return self.item(row, 5).text()

    def select_sensor(self, sensor_id: str) -> None:
        if sensor_id in self.sensor_ids:
            self.selectRow(self.sensor_ids.index(sensor_id))

    def _on_selection(self) -> None:
        rows = self.selectionModel().selectedRows()
        if rows:
            self.sensor_selected.emit(self.sensor_ids[rows[0].row()])
