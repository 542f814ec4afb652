"""Stacked history charts of the selected sensors, linked to the playback clock.

One row per sensor, all rows sharing one time axis (local date-time). Each row draws the store's
``window(sensor, t0, t1, max_points≈plot width)`` as a min/max envelope (so a one-sample spike never
vanishes when zoomed out) plus a line, the sensor's warning/alarm bands, the session's event spans and a
vertical cursor at the clock's time. Left-click or drag on a chart seeks the clock; the mouse wheel zooms
the time axis, shift-drag or middle-drag pans; while "Follow" is on the visible window moves with the
cursor. The store is queried again only when the visible range, the plot width or the data changed, and
at most ~10 times a second while playing, so a frame stays cheap.

Which sensors: the selected part's sensors (3D view or part tree), plus sensors pinned by double-clicking
them in the sensor list, clicking them in the properties panel, or the "Add chart" menu.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

QUERY_INTERVAL_S = 0.1
SPANS = (("1 min", 60.0), ("5 min", 300.0), ("15 min", 900.0), ("1 h", 3600.0), ("6 h", 6 * 3600.0),
         ("1 day", 86400.0), ("All", 0.0))

if TYPE_CHECKING:
    from twinviewer.ui.chart_row import ChartRow


class ChartsPanel(QWidget):
    """The charts dock. ``seek_requested`` is not needed: seeks go straight to the session's clock."""

    seeked = Signal(float)

    def __init__(self, session=None, project=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.project = project
        self.part_sensors: list[str] = []
        self.pinned: list[str] = []
        self.rows: dict[str, ChartRow] = {}
        self.follow = True
        self.span_s = 0.0
        self._store_key: tuple | None = None
        self._applying_range = False
        self._events_key: tuple | None = None
        self._last_frame = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        self.add_button = QToolButton()
        self.add_button.setText("Add chart")
        self.add_button.setToolTip("Chart another sensor")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        self.span_combo = QComboBox()
        self.span_combo.setToolTip("How much time the charts show around the cursor while following")
        for label, seconds in SPANS:
            self.span_combo.addItem(label, seconds)
        self.span_combo.setCurrentIndex(len(SPANS) - 1)
        self.span_combo.currentIndexChanged.connect(lambda i: self.set_span(SPANS[i][1]))
        self.follow_button = QToolButton()
        self.follow_button.setText("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip("Keep the cursor in view; zooming or panning a chart turns this off")
        self.follow_button.toggled.connect(self.set_follow)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Remove the pinned charts")
        self.clear_button.clicked.connect(self.clear_pinned)
        self.hint = QLabel("")
        self.hint.setStyleSheet("color: #666")
        bar.addWidget(self.add_button)
        bar.addWidget(QLabel("Window:"))
        bar.addWidget(self.span_combo)
        bar.addWidget(self.follow_button)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.hint, 1)
        layout.addLayout(bar)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.rows_widget = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_widget)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(0)
        self.placeholder = QLabel("Select a part, or double-click a sensor in the sensor list, to chart its "
                                  "history.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #777; padding: 16px")
        self.rows_layout.addWidget(self.placeholder)
        self.rows_layout.addStretch(1)
        self.scroll.setWidget(self.rows_widget)
        layout.addWidget(self.scroll, 1)
        self.set_session(session, project)

    # ----- what is charted -------------------------------------------------------------------------------
    @property
    def sensor_ids(self) -> list[str]:
        """Charted sensors, top to bottom: pinned first, then the selected part's."""
        return self.pinned + [s for s in self.part_sensors if s not in self.pinned]

    def set_session(self, session, project=None) -> None:
        """A new twin (or recording): rebuild the rows for it and fit the time axis."""
        if project is not None and project is not self.project:
            self.pinned, self.part_sensors = [], []
        self.session = session
        self.project = project if project is not None else (session.project if session is not None else None)
        self._store_key = None
        self._events_key = None
        self._last_frame = None
        self.follow = True
        self._set_follow_button(True)
        self._rebuild()

    def show_part(self, part_name: str | None) -> None:
        if self.project is None:
            return
        self.part_sensors = [s.id for s in self.project.sensors_of_part(part_name)] if part_name else []
        self._rebuild()

    def pin(self, sensor_id: str) -> None:
        if self.project is None or sensor_id not in {s.id for s in self.project.sensors}:
            return
        if sensor_id not in self.pinned:
            self.pinned.append(sensor_id)
            self._rebuild()
        row = self.rows.get(sensor_id)
        if row is not None:
            self.scroll.ensureWidgetVisible(row)

    def unpin(self, sensor_id: str) -> None:
        if sensor_id in self.pinned:
            self.pinned.remove(sensor_id)
        if sensor_id in self.part_sensors:
            self.part_sensors.remove(sensor_id)
        self._rebuild()

    def clear_pinned(self) -> None:
        self.pinned = []
        self._rebuild()

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        if self.project is None:
            self.add_menu.addAction("(open a twin first)").setEnabled(False)
            return
        shown = set(self.sensor_ids)
        for sensor in self.project.sensors:
            action = self.add_menu.addAction(f"{sensor.id} — {sensor.display_name}")
            action.setEnabled(sensor.id not in shown)
            action.triggered.connect(lambda _=False, s=sensor.id: self.pin(s))

    def _rebuild(self) -> None:
        wanted = self.sensor_ids if self.project is not None else []
        for sensor_id in list(self.rows):
            if sensor_id not in wanted:
                row = self.rows.pop(sensor_id)
                self.rows_layout.removeWidget(row)
                row.hide()
                row.setParent(None)
                row.deleteLater()
        first = None
        for position, sensor_id in enumerate(wanted):
            row = self.rows.get(sensor_id)
            if row is None:
                from twinviewer.ui.chart_row import ChartRow  # pyqtgraph loads with the first chart

                row = ChartRow(self.project.sensor(sensor_id), self.seek)
                row.close_requested.connect(self.unpin)
                row.view_box.sigRangeChangedManually.connect(self._user_moved_view)
                row.view_box.sigXRangeChanged.connect(self._x_range_changed)
                self.rows[sensor_id] = row
                if self.session is not None:
                    row.set_events(self.session.events)
            self.rows_layout.insertWidget(position, row)
            first = first or row
        for row in self.rows.values():
            row.view_box.setXLink(None if row is first else first.view_box)
        self.placeholder.setVisible(not wanted)
        self.clear_button.setEnabled(bool(self.pinned))
        self.hint.setText("" if self.session is None or self.session.has_data else "No data loaded")
        for row in self.rows.values():
            row.query_key = None
        self.update_charts(force=True)

    # ----- time ----------------------------------------------------------------------------------------
    def seek(self, t: float) -> None:
        """Move the clock to ``t`` (a click or drag on a chart)."""
        if self.session is None or not self.session.has_data:
            return
        self.session.clock.seek(t)
        self.update_charts(force=True)
        self.seeked.emit(self.session.clock.t)

    def set_span(self, seconds: float) -> None:
        self.span_s = float(seconds)
        self.set_follow(True)

    def set_follow(self, on: bool) -> None:
        self.follow = bool(on)
        self._set_follow_button(self.follow)
        self.update_charts(force=True)

    def _set_follow_button(self, on: bool) -> None:
        if self.follow_button.isChecked() != on:
            self.follow_button.blockSignals(True)
            self.follow_button.setChecked(on)
            self.follow_button.blockSignals(False)

    def _user_moved_view(self, *_args) -> None:
        if self.follow:
            self.follow = False
            self._set_follow_button(False)

    def _x_range_changed(self, *_args) -> None:
        if not self._applying_range:
            self.update_charts()

    def visible_range(self) -> tuple[float, float] | None:
        first = next(iter(self.rows.values()), None)
        if first is None:
            return None
        x0, x1 = first.view_box.viewRange()[0]
        return float(x0), float(x1)

    def follow_range(self, t: float) -> tuple[float, float]:
        clock = self.session.clock
        duration = clock.duration
        if self.span_s <= 0 or self.span_s >= duration:
            pad = max(duration, 1.0) * 0.01
            return clock.start - pad, clock.end + pad
        x0 = t - 0.8 * self.span_s
        x0 = min(max(x0, clock.start), clock.end - self.span_s)
        return x0, x0 + self.span_s

    def update_charts(self, _frame=None, force: bool = False) -> None:
        """Move cursors, keep the view on the cursor when following, and re-query where needed."""
        if _frame is not None:
            self._last_frame = _frame
        has_data = self.session is not None and self.session.has_data
        hint = "" if self.session is None or has_data else "No data loaded"
        if self.hint.text() != hint:  # live data may arrive after the rows were built
            self.hint.setText(hint)
        if self.session is None or not self.rows or not has_data:
            for row in self.rows.values():
                row.clear()
            return
        session = self.session
        clock = session.clock
        store = session.store
        t = clock.t
        events_key = (id(session.events), len(session.events))
        if events_key != self._events_key:
            self._events_key = events_key
            for row in self.rows.values():
                row.set_events(session.events)
        if self.follow:
            x0, x1 = self.follow_range(t)
            current = self.visible_range()
            if current is None or abs(current[0] - x0) > 1e-6 or abs(current[1] - x1) > 1e-6:
                first = next(iter(self.rows.values()))
                self._applying_range = True
                try:
                    first.view_box.setXRange(x0, x1, padding=0)
                finally:
                    self._applying_range = False
        visible = self.visible_range()
        store_key = (id(store), store.version)
        now = time.monotonic()
        frame = self._last_frame if self._last_frame is not None and self._last_frame.t == t else None
        for sensor_id, row in self.rows.items():
            row.cursor.setValue(t)
            if frame is not None:
                index = session.sensor_ids.index(sensor_id)
                row.show_value(float(frame.values[index]), int(frame.statuses[index]))
            if visible is None:
                continue
            x0, x1 = visible
            width = max(int(row.view_box.width()), 50)
            q0, q1 = row.queried
            inside = q0 <= x0 and x1 <= q1 and (q1 - q0) <= 3.5 * (x1 - x0)
            key = (store_key, width)
            if not force and inside and key == row.query_key:
                continue
            moving = clock.playing or clock.follow_live
            if not force and moving and now - row.last_query < QUERY_INTERVAL_S:
                continue
            pad = 0.5 * (x1 - x0)
            row.query_key = key
            row.load(store, x0 - pad, x1 + pad, 2 * width)
            row.fit_values()
        self._store_key = store_key
