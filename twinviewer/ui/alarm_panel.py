"""The alarm panel: alarms at the clock's time (active first, then cleared), acknowledging, the alarm log.

The panel owns an :class:`~twinviewer.core.alarms.AlarmTracker` for the open twin and feeds it from the
session's store, so the list is derived from the data: replaying a recording, seeking backwards or watching
live data all show what was active at the clock's time. Acknowledgements are saved to the project's sidecar
file (``pump.twin.acks.json`` next to ``pump.twin.toml``) as soon as they are made.

A status-bar badge counts the active alarms and warnings; clicking it shows the panel.

Alarms follow each sensor's deadband and on/off delays (:func:`twinviewer.core.alarms.alarm_settings`:
the sensor's ``alarm`` keys, else 2 % of its span and a 60 s off-delay), the same rule the session uses
for the part colours and the sensor list, so the list, the colours and the badge always agree. A value
chattering at a limit is one row whose level says how often it went beyond ("Alarm ×19").
"""

from __future__ import annotations

import getpass
import math
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressDialog,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.alarms import (
    Acknowledgement,
    Alarm,
    AlarmTracker,
    alarm_settings,
    sidecar_path,
)
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.formatting import counted, format_duration, format_number, format_time
from twinviewer.core.overlay import Status
from twinviewer.io.alarm_log import load_acknowledgements, save_acknowledgements, write_alarm_log
from twinviewer.ui.alarm_badge import AlarmBadge

COLUMNS = ("Onset", "Sensor", "Part", "Level", "Direction", "Value at onset", "Threshold", "Cleared",
           "Acknowledged")
SYNC_INTERVAL_S = 0.2  # the list follows the clock at 5 Hz; a seek or new data shows at the next sync
FOLLOW_DELAY_S = 0.05  # after a frame, the list waits at least this long (the frame paints first)
KEY_COLUMN_ORDER = (3, 1, 0, 7, 8, 5, 6, 4, 2)
"""Visual order of COLUMNS: Level, Sensor, Onset, Cleared, Acknowledged, Value, Threshold, Direction, Part."""
LEVEL_COLOURS = {"alarm": QColor(*Status.ALARM.rgb), "warning": QColor(*Status.WARNING.rgb)}
CLEARED_TEXT = QColor(110, 110, 110)
def default_user() -> str:
    """The operating-system login name (what an acknowledgement records unless the user types another)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


MAX_CLEARED_ROWS = 200

class AlarmPanel(QWidget):
    """The alarm list of the open twin; ``refresh()`` brings it to the clock's current time."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.tracker: AlarmTracker | None = None
        self.shown_t: float | None = None
        self._store = None
        self._store_start: float | None = None
        self._store_version = -1
        self._rows_key: tuple | None = None
        self._row_ids: list[str] = []
        self._last_sync = 0.0
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(self.refresh)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics = self.table.fontMetrics()
        samples = ("2024-06-17 04:19:40", "TT-102  Pump DE bearing temperature", "Pump bearing housing, DE",
                   "Warning", "▲ high", "Value at onset", "> 4.5 mm/s", "active for 59 min 59 s")
        for column, sample in enumerate(samples):
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 18)
        self.table.setColumnWidth(1, metrics.horizontalAdvance("TT-102  Pump DE bearing") + 18)
        self.table.setColumnWidth(3, metrics.horizontalAdvance("Warning ×99") + 18)
        # Key columns first, so a narrow tab shows what matters: level, sensor, onset, cleared, acknowledged
        # (the model's column order, used by the code and the exports, stays as in COLUMNS).
        for visual, logical in enumerate(KEY_COLUMN_ORDER):
            header.moveSection(header.visualIndex(logical), visual)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._on_double_click(row))
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.summary = QLabel("No twin open")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.ack_button = QPushButton("Acknowledge…")
        self.ack_button.setToolTip("Acknowledge the selected alarm with an optional comment")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.fly_button = QPushButton("Show on model")
        self.fly_button.setToolTip("Select the alarm's part and fly the camera to its sensor (double-click)")
        self.fly_button.clicked.connect(lambda: self.selected_alarm_id()
                                        and self.fly_to_alarm(self.selected_alarm_id()))
        self.onset_button = QPushButton("Go to onset")
        self.onset_button.setToolTip("Move the clock to the moment the alarm started")
        self.onset_button.clicked.connect(lambda: self.selected_alarm_id()
                                          and self.go_to_onset(self.selected_alarm_id()))
        self.shelve_button = QPushButton("Shelve…")
        self.shelve_button.setToolTip("Hide the selected alarm's limit from the counts for a while, with a reason "
                                      "(logged in the project's acknowledgement file)")
        self.shelve_button.clicked.connect(lambda: self.selected_alarm_id()
                                           and self.shelve_dialog(self.selected_alarm_id()))
        self.export_button = QPushButton("Export alarm log…")
        self.export_button.setToolTip("Write every alarm of this session with its acknowledgement to CSV or "
                                      "JSON")
        self.export_button.clicked.connect(self.export_dialog)
        self.user_edit = QLineEdit(str(window.settings.value("alarm_user", default_user())))
        self.user_edit.setMinimumWidth(90)
        self.user_edit.setMaximumWidth(150)
        self.user_edit.setToolTip("The name recorded with acknowledgements")
        self.user_edit.editingFinished.connect(
            lambda: window.settings.setValue("alarm_user", self.user_edit.text().strip() or default_user()))

        # The summary gets a row of its own and may shrink, so the dock fits beside the charts.
        self.summary.setMinimumWidth(0)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setWordWrap(True)  # in a narrow dock it takes two lines rather than lose its end
        # Two short rows rather than one long one, so the panel fits a narrow tab beside the 3D view.
        bar = QVBoxLayout()
        bar.setContentsMargins(6, 0, 6, 0)
        bar.setSpacing(2)
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(QLabel("User:"))
        first.addWidget(self.user_edit)
        first.addWidget(self.export_button)
        first.addStretch(1)
        for button in (self.fly_button, self.onset_button, self.ack_button, self.shelve_button):
            second.addWidget(button)
        second.addStretch(1)
        bar.addLayout(first)
        bar.addLayout(second)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.summary.setContentsMargins(6, 4, 6, 0)
        layout.addWidget(self.summary)
        layout.addLayout(bar)
        layout.addWidget(self.table)

        self.badge = AlarmBadge()
        self._update_buttons()

    # ----- feeding ---------------------------------------------------------------------------------
    def set_twin(self, twin) -> None:
        """A twin was opened: a fresh tracker, with the acknowledgements saved next to its project."""
        sensors = twin.project.sensors
        self.tracker = AlarmTracker(sensors, settings=alarm_settings(sensors)) if sensors else None
        self._store = None
        self._rows_key = None
        if self.tracker is not None and not twin.is_raw_mesh:
            try:
                load_acknowledgements(self.tracker, sidecar_path(twin.path))
            except TwinViewerError as exc:
                self.window.show_error("Acknowledgements not loaded", str(exc))
        self.refresh()

    def on_recording_loaded(self, _session=None) -> None:
        self._store = None  # different data: rebuild the timeline from it, once the first frame is shown
        self._pending.start(int(FOLLOW_DELAY_S * 1000))

    def on_frame(self, frame) -> None:
        """Called for every frame the window shows; follows the clock at a few hertz.

        The list is refreshed from a timer, after the frame is on screen: a seek shows the 3D view and the
        sensor list first and the alarm list follows within SYNC_INTERVAL_S (rebuilding a list of a few
        hundred alarms costs more than the frame itself with a thousand sensors).
        """
        if not self._pending.isActive():
            wait = max(SYNC_INTERVAL_S - (time.monotonic() - self._last_sync), FOLLOW_DELAY_S)
            self._pending.start(int(wait * 1000))

    def _clock_t(self) -> float | None:
        session = self.window.session
        if session is None or not session.has_data:
            return None
        return float(session.clock.t)

    def _catch_up(self, focus: float | None = None) -> None:
        session = self.window.session
        if self.tracker is None or session is None:
            return
        store = session.store
        if store is not self._store or store.version != self._store_version:  # else nothing new
            self._store_version = store.version
            span = store.time_range()
            if store is not self._store or (span and self._store_start is not None
                                            and span[0] < self._store_start):
                self.tracker.rescan(store, focus=focus)  # new or older data under the tracker: derive it again
                self._store = store
            else:
                self.tracker.catch_up(store, focus=focus)
            self._store_start = span[0] if span else None
        if focus is not None:
            self.tracker.refine_near(store, focus)  # the alarms listed at the clock, at sample times

    def refresh(self, t: float | None = None) -> None:
        """Read new samples and show the alarms at ``t`` (the clock's time if None)."""
        self._pending.stop()
        self._last_sync = time.monotonic()
        t = self._clock_t() if t is None else t
        self._catch_up(focus=t)
        self.shown_t = t
        if self.tracker is None or t is None:
            self._show_rows([], [], None)
            self.badge.set_counts({"alarm": 0, "warning": 0, "unacknowledged": 0})
            return
        active, cleared = self.tracker.active_at(t), self.tracker.history(t)
        self._show_rows(active, cleared, t)
        self.badge.set_counts(self.tracker.counts_at(t))

    # ----- the table -------------------------------------------------------------------------------
    def _show_rows(self, active: list[Alarm], cleared: list[Alarm], t: float | None) -> None:
        # A chattering sensor can leave thousands of cleared alarms; the table shows the newest ones (all are
        # counted in the summary and exported), so refreshing it stays cheap during live data.
        shown_cleared = cleared[:MAX_CLEARED_ROWS]
        key = tuple((a.alarm_id, a.active_at(t), a.acknowledged_at(t), a.count, self.tracker.shelf_of(a, t))
                    for a in [*active, *shown_cleared]) if t else ()
        summary, details = self._summary(active, cleared, t)
        if self.summary.text() != summary:
            self.summary.setText(summary)
            self.summary.setToolTip(details)
        if key == self._rows_key:
            return
        self._rows_key = key
        selected = self.selected_alarm_id()
        if selected is not None and self.tracker is not None:
            selected = self.tracker.current_id(selected)  # the exact alarm, if its samples were read meanwhile
        table = self.table
        table.setUpdatesEnabled(False)
        table.setRowCount(len(active) + len(shown_cleared))
        self._row_ids = []
        for row, alarm in enumerate([*active, *shown_cleared]):
            self._fill_row(row, alarm, t, is_active=row < len(active))
            self._row_ids.append(alarm.alarm_id)
        table.setUpdatesEnabled(True)
        if selected in self._row_ids:
            table.selectRow(self._row_ids.index(selected))
        self._update_buttons()

    def _summary(self, active: list[Alarm], cleared: list[Alarm], t: float | None) -> tuple[str, str]:
        """The line above the table (short: it wraps in a narrow dock) and its tooltip (the details)."""
        if self.tracker is None:
            return ("No sensors in this twin" if self.window.twin is not None else "No twin open"), ""
        if t is None:
            return "No data yet", ""
        unacked = sum(not a.acknowledged_at(t) for a in active)
        text = f"{len(active)} active ({unacked} unacknowledged), {len(cleared)} cleared at {format_time(t)}"
        details = []
        if len(cleared) > MAX_CLEARED_ROWS:
            text += f"; the newest {MAX_CLEARED_ROWS} cleared listed"
            details.append(f"Only the newest {MAX_CLEARED_ROWS} cleared alarms are listed; Export alarm log… "
                           "writes them all.")
        rough = sorted(self.tracker.approximate)
        if rough:
            text += f"; {counted(len(rough), 'sensor')} at bucket times away from the clock"
            names = ", ".join(rough[:8]) + (f" and {len(rough) - 8} more" if len(rough) > 8 else "")
            details.append(f"Away from the clock, the alarm times of {names} are to the nearest summary bucket "
                           "of the history; their samples are read, and the times made exact, as the clock "
                           "comes to them.")
        return text, "\n".join(details)

    def _fill_row(self, row: int, alarm: Alarm, t: float, is_active: bool) -> None:
        project = self.window.twin.project
        try:
            sensor = project.sensor(alarm.sensor_id)
            sensor_text, unit = f"{sensor.id}  {sensor.label}".strip(), sensor.unit
        except KeyError:
            sensor_text, unit = alarm.sensor_id, ""
        sign = ">" if alarm.direction == "high" else "<"
        if is_active:
            cleared_text = f"active for {format_duration(t - alarm.onset_t)}"
        else:
            cleared_text = format_time(alarm.cleared_t)
        ack = alarm.acknowledgement if alarm.acknowledged_at(t) else None
        ack_text = (f"{ack.user}, {format_time(ack.t)}" + (f" — {ack.comment}" if ack.comment
                                                           else "")) if ack else (
            "not acknowledged" if is_active else "—")
        shelf = self.tracker.shelf_of(alarm, t) if is_active else None
        if shelf is not None:
            ack_text = f"shelved until {format_time(shelf.until)} by {shelf.user}: {shelf.reason}"
        level_text = alarm.level.capitalize() + (f" ×{alarm.count}" if alarm.count > 1 else "")
        texts = (format_time(alarm.onset_t), sensor_text, project.part_label(alarm.part),
                 level_text, "▲ high" if alarm.direction == "high" else "▼ low",
                 f"{format_number(alarm.onset_value)} {unit}".strip(),
                 f"{sign} {alarm.threshold:g} {unit}".strip(),
                 cleared_text, ack_text)
        bold = QFont(self.table.font())
        bold.setBold(True)
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, alarm.alarm_id)
            if column in (5, 6):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column == 3:
                colour = LEVEL_COLOURS[alarm.level]
                if is_active:
                    item.setBackground(QBrush(colour))
                    item.setForeground(QBrush(QColor("white") if alarm.is_alarm else QColor(30, 30, 30)))
                    item.setFont(bold)
                else:
                    item.setForeground(QBrush(colour.darker(115)))
            elif not is_active:
                item.setForeground(QBrush(CLEARED_TEXT))
            elif column == 8 and shelf is not None:
                item.setForeground(QBrush(CLEARED_TEXT))
                item.setToolTip(ack_text)
            elif column == 8 and ack is None:
                item.setForeground(QBrush(QColor(*Status.ALARM.rgb) if alarm.is_alarm
                                          else QColor(150, 95, 0)))
                item.setFont(bold)
            if column == 8 and ack is not None and ack.comment:
                item.setToolTip(ack.comment)
            if column == 1:
                item.setToolTip(alarm.describe(unit))
            self.table.setItem(row, column, item)

    def selected_alarm_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        row = rows[0].row()
        return self._row_ids[row] if row < len(self._row_ids) else None

    def row_of(self, alarm_id: str) -> int:
        return self._row_ids.index(alarm_id)

    def _update_buttons(self) -> None:
        alarm_id = self.selected_alarm_id()
        alarm = self.tracker.get(alarm_id) if (alarm_id and self.tracker) else None
        for button in (self.fly_button, self.onset_button):
            button.setEnabled(alarm is not None)
        self.ack_button.setEnabled(alarm is not None and alarm.acknowledgement is None)
        self.shelve_button.setEnabled(alarm is not None and self.shown_t is not None and alarm.active_at(self.shown_t)
                                      and self.tracker.shelf_of(alarm, self.shown_t) is None)
        self.export_button.setEnabled(bool(self.tracker and self.tracker.alarms))

    def _context_menu(self, pos) -> None:
        item = self.table.itemAt(pos)
        if item is None or self.tracker is None:
            return
        alarm_id = item.data(Qt.ItemDataRole.UserRole)
        alarm = self.tracker.get(alarm_id)
        menu = QMenu(self)
        menu.addAction("Show on model", lambda: self.fly_to_alarm(alarm_id))
        menu.addAction("Go to onset", lambda: self.go_to_onset(alarm_id))
        menu.addAction(f"Show chart of {alarm.sensor_id}",
                       lambda: self.window.activate_sensor(alarm.sensor_id))
        menu.addSeparator()
        ack = menu.addAction("Acknowledge…", lambda: self.acknowledge_dialog(alarm_id))
        ack.setEnabled(alarm.acknowledgement is None)
        shelve = menu.addAction("Shelve…", lambda: self.shelve_dialog(alarm_id))
        shelve.setEnabled(self.shown_t is not None and alarm.active_at(self.shown_t)
                          and self.tracker.shelf_of(alarm, self.shown_t) is None)
        bookmarks = self.window.panels.get("bookmarks_panel")
        if bookmarks is not None:
            menu.addAction("Add bookmark…", lambda: bookmarks.bookmark_alarm(  # (the store the list reads)
                self.tracker.exact(alarm_id, self._store) if self._store is not None else alarm))
        menu.addSeparator()
        menu.addAction("Export alarm log…", self.export_dialog)
        menu.popup(self.table.viewport().mapToGlobal(pos))
        self.context_menu = menu

    def _on_double_click(self, row: int) -> None:
        if row < len(self._row_ids):
            self.fly_to_alarm(self._row_ids[row])

    # ----- what the buttons do ------------------------------------------------------------------------
    def fly_to_alarm(self, alarm_id: str) -> None:
        """Select the alarm's part and centre the camera on its sensor, framing about the part's size."""
        window = self.window
        alarm = self.tracker.get(alarm_id)
        sensor = window.twin.project.sensor(alarm.sensor_id)
        window.select_part(alarm.part)
        if window.overlay is not None:
            window.overlay.selected_sensor = sensor.id
        low, high = (
            window.scene.bounds([alarm.part]) if alarm.part in window.scene.parts else window.scene.bounds()
        )
        radius = max(float(math.dist(low, high)) * 0.75, 0.05)
        window.scene.fly_to(sensor.position, radius)
        window.show_status(f"{alarm.describe(sensor.unit)} on {alarm.part}")
        window.refresh_now()

    def go_to_onset(self, alarm_id: str) -> None:
        """Seek the clock to the alarm's onset (the views show that instant), read from its samples."""
        session = self.window.session
        alarm = self.tracker.exact(alarm_id, session.store)
        alarm_id = alarm.alarm_id
        session.clock.seek(alarm.onset_t)
        session.overlay.reset()
        self.window.refresh_now()
        self.refresh()
        if alarm_id in self._row_ids:
            self.table.selectRow(self.row_of(alarm_id))

    @property
    def user(self) -> str:
        return self.user_edit.text().strip() or default_user()

    def acknowledge(self, alarm_id: str, user: str | None = None, comment: str = "") -> Acknowledgement:
        """Acknowledge at the clock's time and save the project's acknowledgement file right away."""
        if self.tracker is None:
            raise TwinViewerError("no alarms to acknowledge: nothing is open")
        t = self._clock_t()
        alarm = self.tracker.get(alarm_id)
        if t is None or t < alarm.onset_t:
            t = alarm.onset_t  # reviewing before the onset (seeked back): acknowledge at the onset itself
        ack = self.tracker.acknowledge(alarm_id, user or self.user, t, comment)
        twin = self.window.twin
        if twin is not None and not twin.is_raw_mesh:
            save_acknowledgements(self.tracker, sidecar_path(twin.path))
        self._rows_key = None
        self.refresh()
        self.window.show_status(f"{alarm.sensor_id} {alarm.level} acknowledged by {ack.user}")
        return ack

    SHELVE_DURATIONS = (("15 minutes", 900.0), ("1 hour", 3600.0), ("8 hours (a shift)", 28800.0))

    def shelve(self, alarm_id: str, reason: str, duration_s: float, user: str | None = None):
        """Shelve the alarm's limit from the clock's time and save it in the project's sidecar (the log)."""
        if self.tracker is None:
            raise TwinViewerError("no alarms to shelve: nothing is open")
        alarm = self.tracker.get(alarm_id)
        t = self._clock_t()
        t = alarm.onset_t if t is None or t < alarm.onset_t else t
        try:
            shelf = self.tracker.shelve(alarm_id, user or self.user, reason, t, duration_s)
        except ValueError as exc:
            raise TwinViewerError(str(exc)) from None
        twin = self.window.twin
        if twin is not None and not twin.is_raw_mesh:
            save_acknowledgements(self.tracker, sidecar_path(twin.path))
        self._rows_key = None
        self.refresh()
        self.window.show_status(f"{alarm.sensor_id} {alarm.limit.replace('_', ' ')} shelved by {shelf.user} until "
                                f"{format_time(shelf.until)}: {shelf.reason}")
        return shelf

    def shelve_dialog(self, alarm_id: str) -> None:
        alarm = self.tracker.get(alarm_id)
        names = [name for name, _ in self.SHELVE_DURATIONS]
        choice, ok = QInputDialog.getItem(self, "Shelve alarm", f"{alarm.sensor_id} {alarm.limit.replace('_', ' ')}"
                                          "\nHide it from the alarm counts for:", names, 1, False)
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, "Shelve alarm", "Reason (required, it is logged):")
        if not ok:
            return
        if not reason.strip():
            self.window.show_error("Not shelved", "Shelving needs a reason.")
            return
        self.shelve(alarm_id, reason, dict(self.SHELVE_DURATIONS)[choice])

    def acknowledge_dialog(self, alarm_id: str) -> None:
        alarm = self.tracker.get(alarm_id)
        unit = self.window.twin.project.sensor(alarm.sensor_id).unit
        comment, ok = QInputDialog.getText(
            self, "Acknowledge alarm",
            f"{alarm.describe(unit)}\nsince {format_time(alarm.onset_t)}\n\n"
            f"Acknowledging as {self.user}. Comment (optional):")
        if not ok:
            return
        try:
            self.acknowledge(alarm_id, comment=comment.strip())
        except (ValueError, TwinViewerError) as exc:
            self.window.show_error("Cannot acknowledge", str(exc))

    def acknowledge_selected(self) -> None:
        alarm_id = self.selected_alarm_id()
        if alarm_id:
            self.acknowledge_dialog(alarm_id)

    def export_log(self, path: Path | str) -> Path:
        """Write every alarm known so far (CSV, or JSON if the name ends in .json)."""
        if self.tracker is None:
            raise TwinViewerError("no alarm log: nothing with sensors is open")
        return write_alarm_log(path, self.tracker.alarms, self.window.twin.project)

    def export_dialog(self) -> None:
        if self.tracker is None:
            return
        start = self.window.twin.path.with_name(self.window.twin.path.name.split(".")[0] + "-alarms.csv")
        path, chosen = QFileDialog.getSaveFileName(self, "Export alarm log", str(start),
                                                   "CSV (*.csv);;JSON (*.json)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".json" if "json" in chosen.lower() else ".csv"
        message = "Alarm log not written: cancelled while reading the alarms' samples"
        if self.make_exact():
            try:
                message = f"Alarm log written to {self.export_log(path)}"
            except TwinViewerError as exc:
                self.window.show_error("Cannot export the alarm log", str(exc))
                return
        self.window.show_status(message)

    def make_exact(self) -> bool:
        """Read the samples of every alarm still at bucket times (a long history), a slice at a time with a
        progress bar and Cancel, so an exported log has the samples' own times. False if cancelled.

        On this thread, not ``run_task``: the tracker belongs to the GUI thread, and the list's refreshes
        between slices keep using it."""
        if self.tracker is None or self._store is None or not self.tracker.approximate:
            return True
        total = max(self.tracker.pending_spans, 1)
        progress = QProgressDialog("Reading the samples of the alarms at bucket times…", "Cancel", 0, total, self)
        progress.setWindowTitle("Export alarm log")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)
        try:
            while self.tracker.approximate:
                if progress.wasCanceled():
                    return False
                if not self.tracker.refine_between(self._store, -math.inf, math.inf, EXACT_ROWS_PER_STEP,
                                                   at_least_one=True):
                    break
                progress.setValue(total - self.tracker.pending_spans)
                QApplication.processEvents()
        finally:
            progress.close()
        self.refresh()
        return True


EXACT_ROWS_PER_STEP = 2_000_000
"""Rows a step of :meth:`AlarmPanel.make_exact` decodes (about 30 ms): the window stays responsive."""


def install(window) -> AlarmPanel:
    """Build the alarm dock and the status-bar badge, and feed them from the window's signals."""
    panel = AlarmPanel(window)
    panel.dock = window.add_dock("Alarms", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.resizeDocks([panel.dock], [210], Qt.Orientation.Vertical)
    window.statusBar().addPermanentWidget(panel.badge)
    panel.badge.clicked.connect(lambda: (panel.dock.show(), panel.dock.raise_()))
    window.twin_opened.connect(panel.set_twin)
    window.recording_loaded.connect(panel.on_recording_loaded)
    window.frame_shown.connect(panel.on_frame)
    show_action = QAction("&Alarms", window)
    show_action.setShortcut("Ctrl+Shift+A")
    show_action.triggered.connect(lambda: (panel.dock.show(), panel.dock.raise_()))
    window.addAction(show_action)
    panel.show_action = show_action
    return panel
