"""The CSV import dialog: preview the first rows, check how time is read, map each column to a sensor.

``preview_csv(path)`` reads the head of a file (no Qt) and guesses delimiter, header, layout and time
column the way :mod:`twinviewer.io.csv_import` will read it. ``ImportDialog`` shows that guess, lets the
user change delimiter, time column, time format and time zone, and map every file column (wide files) or
every sensor name (long files) to a project sensor, pre-filled from the project's ``[[sources]]`` recording
mapping or by exact / normalised name match. ``settings()`` returns the choices as keyword arguments for
:func:`twinviewer.io.importers.import_recording`; the import itself runs off the GUI thread elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.errors import RecordingError
from twinviewer.core.project import Project, RecordingSource
from twinviewer.io.csv_import import read_csv_head, split_fields
from twinviewer.io.tables import LABEL_COLUMNS
from twinviewer.io.timestamps import TimeParser

PREVIEW_ROWS = 12
DELIMITER_NAMES = {",": "comma  ,", ";": "semicolon  ;", "\t": "tab", "|": "bar  |"}
TIME_FORMATS = (("auto", "Automatic"), ("iso", "Date-time text (ISO 8601)"), ("epoch_s", "Epoch seconds"),
                ("epoch_ms", "Epoch milliseconds"))
IGNORE = ""


def normalise_name(text: str) -> str:
    """Lower case letters and digits only: "TT-101" → "tt101", "Volume Flow RateRMS" → "volumeflowraterms"."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


@dataclass
class CsvPreview:
    """The head of a CSV file as the importer will see it."""

    path: Path
    delimiter: str
    has_header: bool
    columns: list[str]
    rows: list[list[str]]
    layout: str
    time_column: str
    sensor_column: str | None = None
    value_column: str | None = None
    names: list[str] = field(default_factory=list)  # long layout: sensor names seen in the head

    @property
    def data_columns(self) -> list[str]:
        """What a mapping maps: the value columns (wide) or the sensor names (long)."""
        if self.layout == "long":
            return self.names
        return [c for c in self.columns if c != self.time_column and c.lower() not in LABEL_COLUMNS]

    @property
    def label_columns(self) -> list[str]:
        return [c for c in self.columns if c.lower() in LABEL_COLUMNS] if self.layout == "wide" else []

    def sample(self, column: str) -> str:
        """First non-empty cell of a column (wide) or first value of a sensor name (long)."""
        if self.layout == "long":
            si, vi = self.columns.index(self.sensor_column), self.columns.index(self.value_column)
            return next((r[vi] for r in self.rows if len(r) > max(si, vi) and r[si] == column), "")
        index = self.columns.index(column)
        return next((r[index] for r in self.rows if len(r) > index and r[index]), "")

    def time_cells(self) -> list[str]:
        index = self.columns.index(self.time_column)
        return [r[index] for r in self.rows if len(r) > index and r[index]]


def preview_csv(path: Path | str, delimiter: str | None = None, time_column: str | None = None) -> CsvPreview:
    """Guess how a CSV will be read, from its first lines (same rules as the importer)."""
    path = Path(path)
    head = read_csv_head(path, delimiter)
    delimiter, has_header, columns = head.delimiter, head.has_header, head.names
    body = head.lines[1:] if has_header else head.lines
    rows = [split_fields(line, delimiter) for line in body[:200]]
    if time_column is None or time_column not in columns:
        time_column = head.time_name
    preview = CsvPreview(path, delimiter, has_header, columns, rows[:PREVIEW_ROWS],
                         "long" if head.long_like else "wide", time_column)
    if head.long_like:
        others = [c for c in columns if c != time_column]
        if has_header:
            preview.sensor_column = head.sensor_column() or others[0]
            preview.value_column = head.value_column() or others[-1]
        else:
            preview.sensor_column, preview.value_column = others[0], others[1]
        si = columns.index(preview.sensor_column)
        preview.names = list(dict.fromkeys(r[si] for r in rows if len(r) > si and r[si]))
        preview.rows = rows[:PREVIEW_ROWS]
    return preview


def guess_mapping(columns: list[str], project: Project,
                  source: RecordingSource | None = None) -> dict[str, str]:
    """Column → sensor id: the source's own mapping first, then exact, then normalised id or label match."""
    sensors = project.sensors
    by_normalised: dict[str, str] = {}
    for sensor in sensors:
        for name in (sensor.id, sensor.label):
            if name:
                by_normalised.setdefault(normalise_name(name), sensor.id)
    source_map = {m.column: m.sensor for m in (source.columns if source else [])}
    known = {s.id for s in sensors}
    mapping: dict[str, str] = {}
    for column in columns:
        target = source_map.get(column)
        if target is None and column in known:
            target = column
        if target is None:
            target = by_normalised.get(normalise_name(column))
        if target in known and target not in mapping.values():
            mapping[column] = target
    return mapping


def describe_time(preview: CsvPreview, time_format: str, zone: str | None) -> str:
    """How the first time cell reads with these settings, e.g. "2020-03-09 10:14:33 → 07:14:33 UTC"."""
    cells = preview.time_cells()
    if not cells:
        return "no time value in the first rows"
    try:
        parser = TimeParser(time_format, zone or None, where=preview.path.name)
        raw, bad, naive = parser.parse(pa.array(cells[:20], type=pa.string()))
        seconds = parser.finish(raw, naive)
    except RecordingError as exc:
        return str(exc)
    if bad[0]:
        return f"“{cells[0]}” is not a time this format reads"
    kind = ("epoch number" if parser.numeric else
            "date-time without zone: read as " + (zone or "this computer's local time") if naive[0] else
            "date-time with zone")
    utc = datetime.fromtimestamp(float(seconds[0]), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    local = datetime.fromtimestamp(float(seconds[0])).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"“{cells[0]}” ({kind}) = {utc} UTC = {local} here"


class ImportDialog(QDialog):
    """Preview and column mapping for one or several CSV files read as one recording."""

    def __init__(self, paths: list[Path], project: Project, source: RecordingSource | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = [Path(p) for p in paths]
        self.project = project
        self.source = source
        self.setWindowTitle("Import recording")
        self.resize(900, 640)
        self.preview = preview_csv(self.paths[0], source.delimiter if source else None,
                                   source.time_column if source else None)
        self.detected_delimiter = self.preview.delimiter
        layout = QVBoxLayout(self)
        names = ", ".join(p.name
                          for p in self.paths[:4]) + (f" … ({len(self.paths)} files)" if len(self.paths) > 4
                                                              else "")
        heading = QLabel(f"<b>{names}</b><br><span style='color:#666'>{self.paths[0].parent}</span>")
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(heading)
        form = QFormLayout()
        self.delimiter_combo = QComboBox()
        for delimiter, name in DELIMITER_NAMES.items():
            suffix = "  (detected)" if delimiter == self.detected_delimiter else ""
            self.delimiter_combo.addItem(name + suffix, delimiter)
        self.delimiter_combo.setCurrentIndex(list(DELIMITER_NAMES).index(self.preview.delimiter))
        self.delimiter_combo.currentIndexChanged.connect(self._delimiter_changed)
        self.time_combo = QComboBox()
        self.time_combo.currentIndexChanged.connect(self._time_settings_changed)
        self.format_combo = QComboBox()
        for key, label in TIME_FORMATS:
            self.format_combo.addItem(label, key)
        if source is not None:
            self.format_combo.setCurrentIndex([k for k, _ in TIME_FORMATS].index(source.time_format))
        self.format_combo.currentIndexChanged.connect(self._time_settings_changed)
        self.zone_edit = QLineEdit(source.timezone or "" if source else "")
        self.zone_edit.setPlaceholderText("this computer's time zone (or e.g. Europe/Moscow, UTC)")
        self.zone_edit.textChanged.connect(self._time_settings_changed)
        self.time_check = QLabel("")
        self.time_check.setWordWrap(True)
        self.layout_label = QLabel("")
        form.addRow("Delimiter:", self.delimiter_combo)
        form.addRow("Layout:", self.layout_label)
        form.addRow("Time column:", self.time_combo)
        form.addRow("Time format:", self.format_combo)
        form.addRow("Time zone of naive times:", self.zone_edit)
        form.addRow("First time:", self.time_check)
        layout.addLayout(form)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.preview_table = QTableWidget()
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table.verticalHeader().setDefaultSectionSize(20)
        self.mapping_table = QTableWidget(0, 3)
        self.mapping_table.setHorizontalHeaderLabels(("Column in the file", "First value",
                                                      "Sensor in the project"))
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mapping_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        splitter.addWidget(self.preview_table)
        splitter.addWidget(self.mapping_table)
        splitter.setSizes([220, 280])
        layout.addWidget(splitter, 1)
        self.problem_label = QLabel("")
        self.problem_label.setStyleSheet("color: #9b1c12")
        self.problem_label.setWordWrap(True)
        layout.addWidget(self.problem_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.sensor_combos: dict[str, QComboBox] = {}
        self._fill()

    # ----- filling --------------------------------------------------------------------------------------
    def _fill(self) -> None:
        preview = self.preview
        self.time_combo.blockSignals(True)
        self.time_combo.clear()
        self.time_combo.addItems(preview.columns)
        self.time_combo.setCurrentIndex(preview.columns.index(preview.time_column))
        self.time_combo.blockSignals(False)
        self.layout_label.setText(
            f"long: one row per sample (time, {preview.sensor_column}, {preview.value_column})"
            if preview.layout == "long" else "wide: a time column and one column per signal"
            + ("" if preview.has_header else " (no header line: columns are numbered)"))
        table = self.preview_table
        table.clear()
        table.setColumnCount(len(preview.columns))
        table.setRowCount(len(preview.rows))
        table.setHorizontalHeaderLabels(preview.columns)
        for r, row in enumerate(preview.rows):
            for c, cell in enumerate(row[:len(preview.columns)]):
                table.setItem(r, c, QTableWidgetItem(cell))
        table.resizeColumnsToContents()
        self._fill_mapping()
        self._time_settings_changed()

    def _fill_mapping(self) -> None:
        preview = self.preview
        columns = preview.data_columns
        guess = guess_mapping(columns, self.project, self.source)
        labels = preview.label_columns
        table = self.mapping_table
        table.setRowCount(len(columns) + len(labels))
        self.sensor_combos = {}
        for row, column in enumerate(columns):
            table.setItem(row, 0, QTableWidgetItem(column))
            table.setItem(row, 1, QTableWidgetItem(preview.sample(column)))
            combo = QComboBox()
            combo.addItem("— ignore this column —", IGNORE)
            for sensor in self.project.sensors:
                unit = f" [{sensor.unit}]" if sensor.unit else ""
                combo.addItem(f"{sensor.id} — {sensor.display_name}{unit}", sensor.id)
            target = guess.get(column, IGNORE)
            combo.setCurrentIndex(max(combo.findData(target), 0))
            combo.currentIndexChanged.connect(self._validate)
            table.setCellWidget(row, 2, combo)
            self.sensor_combos[column] = combo
        for k, column in enumerate(labels):
            row = len(columns) + k
            table.setItem(row, 0, QTableWidgetItem(column))
            table.setItem(row, 1, QTableWidgetItem(preview.sample(column)))
            item = QTableWidgetItem("timeline events (label column)")
            item.setForeground(QBrush(QColor("#666")))
            table.setItem(row, 2, item)
        table.resizeColumnToContents(0)
        self._validate()

    # ----- reactions ------------------------------------------------------------------------------------
    def _delimiter_changed(self) -> None:
        delimiter = self.delimiter_combo.currentData()
        try:
            self.preview = preview_csv(self.paths[0], delimiter, self.preview.time_column)
        except RecordingError as exc:
            self.problem_label.setText(str(exc))
            return
        self._fill()

    def _time_settings_changed(self) -> None:
        column = self.time_combo.currentText()
        if column and column != self.preview.time_column:
            self.preview = preview_csv(self.paths[0], self.preview.delimiter, column)
            self._fill()
            return
        self.time_check.setText(describe_time(self.preview, self.format_combo.currentData(),
                                              self.zone_edit.text().strip() or None))
        self._validate()

    def _validate(self) -> None:
        mapping = self.mapping()
        problems = []
        targets: dict[str, str] = {}
        for column, sensor_id in mapping.items():
            if sensor_id in targets:
                problems.append(f"Columns “{targets[sensor_id]}” and “{column}” both go to {sensor_id}; "
                                "map each sensor once.")
            targets[sensor_id] = column
        if not mapping:
            problems.append("Map at least one column to a sensor.")
        zone = self.zone_edit.text().strip()
        if zone:
            try:
                TimeParser("auto", zone)
            except RecordingError:
                problems.append(f"Unknown time zone “{zone}” (use a name such as Europe/Berlin or UTC).")
        self.problem_label.setText(" ".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)

    # ----- the result -----------------------------------------------------------------------------------
    def set_sensor(self, column: str, sensor_id: str | None) -> None:
        """Map ``column`` to ``sensor_id`` (None ignores it) — what choosing in the combo does."""
        combo = self.sensor_combos[column]
        combo.setCurrentIndex(max(combo.findData(sensor_id or IGNORE), 0))

    def mapping(self) -> dict[str, str]:
        return {column: combo.currentData() for column, combo in self.sensor_combos.items()
                if combo.currentData() != IGNORE}

    def settings(self) -> dict:
        """Keyword arguments for ``import_recording`` (without paths, progress and cancel)."""
        zone = self.zone_edit.text().strip()
        return {
            "format": "csv",
            "layout": self.preview.layout,
            "delimiter": self.preview.delimiter,
            "time_column": self.preview.time_column,
            "time_format": self.format_combo.currentData(),
            "timezone": zone or None,
            "mapping": self.mapping(),
        }
