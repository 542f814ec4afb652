"""One sensor's history chart (pyqtgraph): envelope, line, threshold bands, events and the clock's cursor.

Split from :mod:`twinviewer.ui.charts` so pyqtgraph (0.35 s to import) loads with the first chart, not
when the window starts.
"""

from __future__ import annotations  # noqa: I001 (pyqtgraph is imported after PySide6 so it binds to it)

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import pyqtgraph as pg

from twinviewer.core.formatting import format_number
from twinviewer.core.overlay import Status
from twinviewer.ui.chart_style import (
    AXIS_WIDTH,
    CURSOR_COLOUR,
    ENVELOPE_COLOUR,
    FAR,
    LINE_COLOUR,
    ROW_HEIGHT,
    STATUS_TEXT_COLOUR,
)
from twinviewer.ui.timeline import ALARM_COLOUR, WARNING_COLOUR, event_colour


class _ChartViewBox(pg.ViewBox):
    """Left click/drag seeks; shift+left or middle drag pans; the wheel zooms time only."""

    def __init__(self, on_seek):
        super().__init__(enableMenu=False)
        self._on_seek = on_seek
        self.setMouseEnabled(x=True, y=False)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._on_seek(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph override)
        if ev.button() == Qt.MouseButton.LeftButton and not (
            ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            ev.accept()
            self._on_seek(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseDragEvent(ev, axis)


class ChartRow(QFrame):
    """One sensor's chart with a header (id, label, value at the cursor, close button)."""

    close_requested = Signal(str)

    def __init__(self, sensor, on_seek, parent: QWidget | None = None):
        super().__init__(parent)
        self.sensor = sensor
        self.sensor_id = sensor.id
        self.setFixedHeight(ROW_HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(AXIS_WIDTH + 4, 2, 4, 0)
        self.title = QLabel(f"<b>{sensor.id}</b>&nbsp; {sensor.display_name}"
                            + (f" <span style='color:#777'>[{sensor.unit}]</span>" if sensor.unit else ""))
        self.value_label = QLabel("—")
        value_font = QFont(self.value_label.font())
        value_font.setBold(True)
        self.value_label.setFont(value_font)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(f"Remove the chart of {sensor.id}")
        self.close_button.clicked.connect(lambda: self.close_requested.emit(self.sensor_id))
        self.title.setMinimumWidth(0)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setToolTip(f"{sensor.id} — {sensor.display_name}")
        header.addWidget(self.title, 1)
        header.addWidget(self.value_label)
        header.addWidget(self.close_button)
        layout.addLayout(header)
        self.view_box = _ChartViewBox(on_seek)
        self.axis = pg.DateAxisItem(orientation="bottom")
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box, axisItems={"bottom": self.axis},
                                         background="w")
        self.plot_widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen("#9aa3ad"))
            axis.setTextPen(pg.mkPen("#3a4450"))
        self.plot.getAxis("left").setWidth(AXIS_WIDTH)
        layout.addWidget(self.plot_widget, 1)
        self.envelope = pg.PlotCurveItem(pen=pg.mkPen(ENVELOPE_COLOUR, width=1), connect="pairs")
        self.line = pg.PlotDataItem(pen=pg.mkPen(LINE_COLOUR, width=1.4), connect="finite")
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(CURSOR_COLOUR, width=1.5))
        self.cursor.setZValue(50)
        self.plot.addItem(self.envelope)
        self.plot.addItem(self.line)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.no_data = pg.TextItem("no data in this time range", color="#888888", anchor=(0.5, 0.5))
        self.no_data.setVisible(False)
        self.plot.addItem(self.no_data, ignoreBounds=True)
        self._bands: list[tuple[pg.LinearRegionItem, float, float]] = []
        self._event_items: list = []
        self._add_threshold_bands()
        self.query_key: tuple | None = None
        self.queried: tuple[float, float] = (0.0, 0.0)
        self.data_range: tuple[float, float] | None = None
        self.last_query = 0.0
        self._last_value_text = ""

    # ----- static decorations --------------------------------------------------------------------------
    def limits(self) -> list[float]:
        limits = self.sensor.thresholds
        return [v for v in (limits.alarm_low, limits.warning_low, limits.warning_high, limits.alarm_high)
                if v is not None]

    def _add_threshold_bands(self) -> None:
        limits = self.sensor.thresholds
        bands = []
        if limits.alarm_high is not None:
            bands.append((limits.alarm_high, FAR, ALARM_COLOUR))
        if limits.warning_high is not None:
            bands.append((limits.warning_high, limits.alarm_high if limits.alarm_high is not None else FAR,
                          WARNING_COLOUR))
        if limits.alarm_low is not None:
            bands.append((-FAR, limits.alarm_low, ALARM_COLOUR))
        if limits.warning_low is not None:
            bands.append((limits.alarm_low if limits.alarm_low is not None else -FAR, limits.warning_low,
                          WARNING_COLOUR))
        for low, high, colour in bands:
            fill = QColor(colour)
            fill.setAlpha(38)
            finite = (low if low > -FAR else high - 1.0, high if high < FAR else low + 1.0)
            region = pg.LinearRegionItem(finite, orientation="horizontal",
                                         movable=False, brush=fill, pen=pg.mkPen(None))
            region.setZValue(-20)
            self.plot.addItem(region, ignoreBounds=True)
            self._bands.append((region, low, high))
        for value, colour in ((limits.alarm_low, ALARM_COLOUR), (limits.warning_low, WARNING_COLOUR),
                              (limits.warning_high, WARNING_COLOUR), (limits.alarm_high, ALARM_COLOUR)):
            if value is None:
                continue
            line = pg.InfiniteLine(pos=value, angle=0, movable=False,
                                   pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            line.setZValue(-10)
            self.plot.addItem(line, ignoreBounds=True)

    def set_events(self, events) -> None:
        for item in self._event_items:
            self.plot.removeItem(item)
        self._event_items = []
        for event in events:
            if event.sensor is not None and event.sensor != self.sensor_id:
                continue
            colour = event_colour(event.kind)
            if event.is_span:
                fill = QColor(colour)
                fill.setAlpha(34)
                item = pg.LinearRegionItem((event.t, event.t_end), movable=False, brush=fill,
                                           pen=pg.mkPen(None))
            else:
                item = pg.InfiniteLine(pos=event.t, angle=90, movable=False,
                                       pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine))
            item.setZValue(-30)
            self.plot.addItem(item, ignoreBounds=True)
            self._event_items.append(item)

    # ----- data ----------------------------------------------------------------------------------------
    def load(self, store, t0: float, t1: float, max_points: int) -> None:
        """Query the store for ``[t0, t1]`` and redraw the envelope and line."""
        times, vmin, vmax = store.window(self.sensor_id, t0, t1, max_points=max_points)
        self.queried = (t0, t1)
        self.last_query = time.monotonic()
        if times.size == 0:
            self.envelope.setData([], [])
            self.line.setData([], [])
            self.data_range = None
            return
        with np.errstate(invalid="ignore"):
            middle = (vmin + vmax) * 0.5
            spread = np.isfinite(vmin) & np.isfinite(vmax) & (vmax > vmin)
        if spread.any():
            xs = np.repeat(times[spread], 2)
            ys = np.column_stack((vmin[spread], vmax[spread])).ravel()
            self.envelope.setData(xs, ys, connect="pairs")
        else:
            self.envelope.setData([], [])
        self.line.setData(times, middle, connect="finite")
        finite = np.isfinite(vmin)
        self.data_range = (float(np.min(vmin[finite])), float(np.max(vmax[finite]))) if finite.any() else None

    def clear(self) -> None:
        self.envelope.setData([], [])
        self.line.setData([], [])
        self.data_range = None
        self.query_key = None
        self.value_label.setText("—")
        self._last_value_text = ""

    def fit_values(self) -> None:
        """Y range: the data in view, widened to take in the limits that lie near it."""
        if self.data_range is None:
            limits = self.limits()
            low, high = (min(limits), max(limits)) if limits else (0.0, 1.0)
        else:
            low, high = self.data_range
        span = max(high - low, abs(high) * 0.05, 1e-6)
        reach_low, reach_high = low - 0.6 * span, high + 0.6 * span
        for limit in self.limits():
            if reach_low <= limit <= reach_high:
                low, high = min(low, limit), max(high, limit)
        pad = max(high - low, 1e-6) * 0.08
        y0, y1 = low - pad, high + pad
        self.view_box.setYRange(y0, y1, padding=0)
        self.no_data.setVisible(self.data_range is None)
        if self.data_range is None:
            x0, x1 = self.view_box.viewRange()[0]
            self.no_data.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        # bands reach "to infinity": clip them to just beyond the view so the painter never sees huge numbers
        beyond = y1 - y0
        for region, band_low, band_high in self._bands:
            region.setRegion((max(band_low, y0 - beyond), min(band_high, y1 + beyond)))

    def show_value(self, value: float, status: int) -> None:
        unit = f" {self.sensor.unit}" if self.sensor.unit else ""
        text = f"{format_number(value)}{unit}"
        key = f"{text}|{status}"
        if key == self._last_value_text:
            return
        self._last_value_text = key
        self.value_label.setText(text)
        try:
            colour = STATUS_TEXT_COLOUR[Status(status)]
        except ValueError:
            colour = STATUS_TEXT_COLOUR[Status.NO_DATA]
        self.value_label.setStyleSheet(f"color: {colour}")
