"""The Live menu's dialogs: a source's password, and the journals of live sessions (view, export, recover)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.formatting import format_duration, format_time
from twinviewer.io.journal_files import JOURNAL_SUFFIX, journal_in_use
from twinviewer.io.keyring_store import keyring_available


class PasswordDialog(QDialog):
    """A source's password: typed hidden, optionally remembered in the system keyring."""

    def __init__(self, text: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Password")
        layout = QVBoxLayout(self)
        self.label = QLabel(text)
        layout.addWidget(self.label)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.password)
        self.remember = QCheckBox("Remember in the system keyring")
        available = keyring_available()
        self.remember.setEnabled(available)
        self.remember.setToolTip("Next time the password is taken from the keyring without asking."
                                 if available
                                 else "No system keyring is available (install the optional 'keyring' "
                                      "package, "
                                 "or set the source's password variable).")
        layout.addWidget(self.remember)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


RECOVER_INTRO = ("These live recordings were not closed cleanly (TwinViewer or the computer stopped while "
                  "recording). Their samples were checked and kept: view one on the timeline or export it to "
                  "a Parquet recording.")


class JournalsDialog(QDialog):
    """Journals with their sample count and time range; view one, or export it to Parquet / CSV."""

    COLUMNS = ("File", "State", "Samples", "Sensors", "From", "To", "Length")

    def __init__(self, panel: Any, paths: list[Path], title: str, intro: str, recovering: bool,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.paths = list(paths)
        self.recovering = recovering
        self.reports: dict[Path, Any] = {}
        self.setWindowTitle(title)
        self.resize(900, 360)
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(text)
        self.table = QTableWidget(len(self.paths), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        layout.addWidget(self.details)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("View on the timeline")
        self.parquet_button = QPushButton("Export to Parquet…")
        self.csv_button = QPushButton("Export to CSV…")
        self.folder_button = QPushButton("Open folder")
        for button in (self.load_button, self.parquet_button, self.csv_button, self.folder_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        if recovering:
            self.dismiss_button = QPushButton("Don't offer again")
            self.dismiss_button.setToolTip("Keep the file but stop offering it at start-up")
            self.dismiss_button.clicked.connect(self.dismiss_selected)
            buttons.addWidget(self.dismiss_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.load_button.clicked.connect(self.load_selected)
        self.parquet_button.clicked.connect(lambda: self.export_selected("parquet"))
        self.csv_button.clicked.connect(lambda: self.export_selected("csv"))
        self.folder_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(panel.recordings_dir))))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._fill()
        if self.paths:
            self.table.selectRow(0)
        self._selection_changed()

    def _state(self, path: Path) -> str:
        journal = self.panel.journal
        if journal is not None and path == journal.path:
            return "recording now"
        if Path(str(path) + "-wal").exists():
            return "in use" if journal_in_use(path) else "not closed (crash)"
        if str(path) in self.panel._pending():
            return "recovered"
        return "closed"

    def _fill(self) -> None:
        for row, path in enumerate(self.paths):
            state = self._state(path)
            for col, text in enumerate([path.name, state, "", "", "", "", ""]):
                self.table.setItem(row, col, QTableWidgetItem(text))
            if state == "recording now":
                self.table.setItem(row, 2, QTableWidgetItem(f"{self.panel.journal.written:,}"))
            elif self.recovering or state in ("not closed (crash)", "recovered"):
                self._report_row(row, path)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def selected_path(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        return self.paths[rows[0].row()] if rows else None

    def _report_row(self, row: int, path: Path) -> None:
        """Check one journal and show its samples and time range in its row."""
        from twinviewer.io.journal import JournalError, recover

        try:
            report = recover(path)  # replays a crash's WAL into the file and checks its integrity
        except JournalError as exc:
            self.table.setItem(row, 1, QTableWidgetItem(f"unreadable: {exc}"))
            return
        self.reports[path] = report
        cells = {2: f"{report.samples:,}", 3: str(len(report.sensors))}
        if self.recovering or self._state(path) == "recovered":
            cells[1] = "recovered" if report.ok else f"damaged ({report.integrity})"
        if report.time_range:
            t0, t1 = report.time_range
            cells.update({4: format_time(t0), 5: format_time(t1), 6: format_duration(t1 - t0)})
        for col, text in cells.items():
            self.table.setItem(row, col, QTableWidgetItem(text))

    def _selection_changed(self) -> None:
        path = self.selected_path()
        for button in (self.load_button, self.parquet_button, self.csv_button):
            button.setEnabled(path is not None)
        if path is not None and path not in self.reports and self._state(path) == "closed":
            self._report_row(self.paths.index(path), path)
        report = self.reports.get(path) if path else None
        if report is not None:
            span = (f", {format_time(report.time_range[0])} – {format_time(report.time_range[1])}"
                    if report.time_range else "")
            sensors = f"{len(report.sensors)} sensor{'' if len(report.sensors) == 1 else 's'}"
            self.details.setText(f"{path}\n{report.samples:,} samples of {sensors}{span}; "
                                 f"integrity {report.integrity}")
        else:
            self.details.setText(str(path) if path else "No journal here yet.")

    def load_selected(self) -> None:
        path = self.selected_path()
        if path is None:
            return
        try:
            self.panel.load_journal(path)
        except TwinViewerError as exc:
            self.panel.window.show_error("Cannot view the recording", str(exc))
            return
        self.accept()

    def export_selected(self, kind: str) -> None:
        path = self.selected_path()
        if path is None:
            return
        suffix = ".csv" if kind == "csv" else ".parquet"
        start = str(Path(self.panel.window.settings.value("last_recording_dir", str(Path.home())))
                    / (path.name.removesuffix(JOURNAL_SUFFIX) + suffix))
        file_filter = (
            "CSV, one row per sample (*.csv)" if kind == "csv" else "TwinViewer recording (*.parquet)"
        )
        out, _ = QFileDialog.getSaveFileName(self, "Export recording", start, file_filter)
        if out:
            self.panel.window.settings.setValue("last_recording_dir", str(Path(out).parent))
            self.panel.export_journal(path, Path(out), kind)

    def dismiss_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.panel.resolve_pending(path)
            self.table.item(self.paths.index(path), 1).setText("not offered again")
