"""The timeline bar docked under the 3D view: transport controls, speed, and a painted time track.

The track shows the whole recording (or a zoomed part of it) with the playback cursor, the loop range, the
threshold episodes of every sensor (amber warning, red alarm, from ``store.threshold_crossings``, computed
once per recording) and the session's events (labelled anomaly windows, change points, scenario steps,
bookmarks…; any ``Event`` kind, coloured by kind). It is painted in ``paintEvent``: lanes, markers and
ruler go to a cached pixmap redrawn only when the view or the markers change (markers merged per pixel
column with numpy), so each frame only draws that pixmap, the played part, the loop and the cursor.
Clicking or dragging seeks; shift-drag selects a loop range; the mouse wheel zooms around the pointer. The bar
only calls :class:`~twinviewer.core.clock.Clock` methods and
repaints when the window shows a frame (``frame_shown``) or after the user's own actions.

Over 600 lines: one custom-painted widget (track, lanes, ruler, loop, zoom) with its transport controls.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QWidget,
)

from twinviewer.core.events import Event
from twinviewer.core.formatting import format_time
from twinviewer.ui.icons import icon

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 100.0, 300.0, 1000.0)
BIG_STEP = 10
MIN_VIEW_SPAN_S = 2.0
LIVE_MARKER_REFRESH_S = 2.0
"""While samples keep arriving (live sources), threshold episodes are recomputed at most this often."""
WARNING_COLOUR = QColor(242, 169, 0)
ALARM_COLOUR = QColor(214, 40, 40)
EVENT_COLOURS = {
    "anomaly": "#8e44ad", "anomaly window": "#8e44ad", "changepoint": "#1f77b4", "label": "#16a085",
    "condition": "#7f6a4d", "scenario": "#2f5d9e", "scenario step": "#2f5d9e", "step": "#2f5d9e",
    "bookmark": "#2b7a0b", "alarm": "#d62828", "warning": "#f2a900", "note": "#555555",
    "detected anomaly": "#8e44ad", "normal": "#2e9e44",
}
_FALLBACK_COLOURS = ("#c0392b", "#2980b9", "#27ae60", "#d35400", "#8e44ad", "#16a085", "#7f8c8d")
_TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600,
                 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400)


def event_colour(kind: str) -> QColor:
    """The colour of an event kind (known kinds fixed, any other kind a stable colour of its own)."""
    known = EVENT_COLOURS.get(kind.lower())
    if known:
        return QColor(known)
    return QColor(_FALLBACK_COLOURS[sum(map(ord, kind)) % len(_FALLBACK_COLOURS)])


def format_speed(speed: float) -> str:
    return f"{speed:g}×"


@dataclass
class MarkerSet:
    """Markers of one lane as arrays: start, end (== start for an instant), colour index, tooltip text."""

    starts: np.ndarray = field(default_factory=lambda: np.empty(0))
    ends: np.ndarray = field(default_factory=lambda: np.empty(0))
    colour_index: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    colours: list[QColor] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.starts.size)

    def nearest(self, t: float, tolerance_s: float) -> int | None:
        """Index of the marker whose span contains ``t`` (within the tolerance), the shortest first."""
        if not len(self):
            return None
        inside = np.flatnonzero((self.starts - tolerance_s <= t) & (self.ends + tolerance_s >= t))
        if inside.size == 0:
            return None
        widths = self.ends[inside] - self.starts[inside]
        return int(inside[np.argmin(widths)])


def crossing_markers(store, project) -> MarkerSet:
    """Warning and alarm episodes of every sensor with thresholds, from the store's threshold crossings.

    Each crossing into warning or alarm starts an episode that lasts until the sensor's next crossing (or
    the end of its data).
    """
    starts, ends, kinds, texts = [], [], [], []
    limited = {s.id: s.thresholds for s in project.sensors if store.has(s.id) and any(
        getattr(s.thresholds, k) is not None for k in ("alarm_low", "warning_low", "warning_high", "alarm_high"))}
    all_crossings = store.threshold_crossings_many(limited)  # one pass for a lazy history
    for sensor in project.sensors:
        if sensor.id not in limited:
            continue
        crossings = all_crossings[sensor.id]
        if not crossings:
            continue
        span = store.sensor_time_range(sensor.id)
        data_end = span[1] if span else crossings[-1][0]
        for i, (t, before, after) in enumerate(crossings):
            if after not in ("warning", "alarm"):
                continue
            end = crossings[i + 1][0] if i + 1 < len(crossings) else data_end
            starts.append(t)
            ends.append(max(end, t))
            kinds.append(1 if after == "alarm" else 0)
            texts.append(f"<b>{sensor.id}</b> {before} → <b>{after}</b><br>{format_time(t)}"
                         f"<br>{sensor.display_name}")
    order = np.argsort(np.asarray(starts, dtype=np.float64), kind="stable")
    return MarkerSet(np.asarray(starts, dtype=np.float64)[order], np.asarray(ends, dtype=np.float64)[order],
                     np.asarray(kinds, dtype=np.int32)[order], [WARNING_COLOUR, ALARM_COLOUR],
                     [texts[i] for i in order])


def event_markers(events: list[Event]) -> MarkerSet:
    """The session's events as markers: spans and instants, coloured by kind."""
    kinds: list[str] = []
    colour_index = []
    for event in events:
        if event.kind not in kinds:
            kinds.append(event.kind)
        colour_index.append(kinds.index(event.kind))
    starts = np.array([e.t for e in events], dtype=np.float64)
    ends = np.array([e.t_end if e.is_span else e.t for e in events], dtype=np.float64)
    texts = []
    for e in events:
        when = format_time(e.t) + (f" → {format_time(e.t_end)}" if e.is_span else "")
        sensor = f" · {e.sensor}" if e.sensor else ""
        texts.append(f"<b>{e.label or e.kind}</b><br>{e.kind}{sensor}<br>{when}")
    return MarkerSet(starts, ends, np.asarray(colour_index, dtype=np.int32), [event_colour(k) for k in kinds],
                     texts)


class TimelineTrack(QWidget):
    """The painted track. Emits ``seek_requested(t)``, ``loop_requested((t0, t1) or None)``."""

    seek_requested = Signal(float)
    loop_requested = Signal(object)

    RULER_H = 15

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(58)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the cached layer covers every pixel
        self.start = 0.0
        self.end = 0.0
        self.t = 0.0
        self.loop: tuple[float, float] | None = None
        self.view: tuple[float, float] | None = None  # None: the whole range (fit)
        self.crossings = MarkerSet()
        self.events = MarkerSet()
        self.menu_hooks: list = []  # panels add entries to the right-click menu: hook(menu, t)
        self._drag: str | None = None
        self._loop_anchor = 0.0
        self._pending_loop: tuple[float, float] | None = None
        self._layer: QPixmap | None = None
        self._layer_key: tuple | None = None
        # Extra lanes under the ruler (e.g. the anomaly score, ui/anomaly_panel.py): objects with
        # ``paint(painter, rect, v0, v1)`` and a ``revision`` that changes when they must be repainted.
        self.lanes: list = []

    LANE_H = 14

    def add_lane(self, lane) -> None:
        self.lanes.append(lane)
        self.setMinimumHeight(58 + self.LANE_H * len(self.lanes))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(600, 58 + self.LANE_H * len(self.lanes))

    # ----- coordinates ------------------------------------------------------------------------------
    @property
    def has_range(self) -> bool:
        return self.end > self.start

    def visible_range(self) -> tuple[float, float]:
        if self.view is None:
            return self.start, self.end
        return self.view

    def _margin(self) -> float:
        return 8.0

    def x_of(self, t: float | np.ndarray):
        v0, v1 = self.visible_range()
        width = max(self.width() - 2 * self._margin(), 1.0)
        return self._margin() + (np.asarray(t, dtype=np.float64) - v0) / max(v1 - v0, 1e-9) * width

    def t_at(self, x: float) -> float:
        v0, v1 = self.visible_range()
        width = max(self.width() - 2 * self._margin(), 1.0)
        t = v0 + (x - self._margin()) / width * (v1 - v0)
        return min(max(t, self.start), self.end)

    # ----- zoom -------------------------------------------------------------------------------------
    def zoom(self, factor: float, around_t: float) -> None:
        """Scale the visible span by ``factor`` (< 1 zooms in) keeping ``around_t`` under the pointer."""
        if not self.has_range:
            return
        v0, v1 = self.visible_range()
        span = min(max((v1 - v0) * factor, MIN_VIEW_SPAN_S), self.end - self.start)
        share = (around_t - v0) / (v1 - v0) if v1 > v0 else 0.5
        new0 = around_t - share * span
        new0 = min(max(new0, self.start), self.end - span)
        self.view = None if span >= self.end - self.start else (new0, new0 + span)
        self.update()

    def fit(self) -> None:
        self.view = None
        self.update()

    def keep_visible(self, t: float) -> None:
        """When zoomed in, page the view so the cursor stays on the track."""
        if self.view is None:
            return
        v0, v1 = self.view
        if v0 <= t <= v1:
            return
        span = v1 - v0
        new0 = min(max(t - 0.1 * span, self.start), self.end - span)
        self.view = (new0, new0 + span)

    # ----- painting ---------------------------------------------------------------------------------
    def _lanes(self) -> tuple[QRectF, QRectF, QRectF]:
        w = float(self.width())
        m = self._margin()
        events = QRectF(m, 3, w - 2 * m, 12)
        crossings = QRectF(m, 17, w - 2 * m, 10)
        groove = QRectF(m, 30, w - 2 * m, 8)
        return events, crossings, groove

    def _static_layer(self) -> QPixmap:
        """Lanes, markers and ruler for the current view, cached until the view, size or markers change."""
        v0, v1 = self.visible_range()
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, v0, v1, id(self.crossings), id(self.events),
               tuple((id(lane), lane.revision) for lane in self.lanes))
        if self._layer is not None and self._layer_key == key:
            return self._layer
        layer = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
        layer.setDevicePixelRatio(ratio)
        layer.fill(self.palette().base().color())
        painter = QPainter(layer)
        events_lane, crossing_lane, groove = self._lanes()
        lane_bg = QColor(0, 0, 0, 14)
        painter.fillRect(events_lane, lane_bg)
        painter.fillRect(crossing_lane, lane_bg)
        painter.fillRect(groove, QColor(0, 0, 0, 30))
        if self.has_range:
            painter.setClipRect(QRectF(events_lane.left(), 0, events_lane.width(), self.height()))
            self._paint_markers(painter, self.crossings, crossing_lane, v0, v1)
            self._paint_markers(painter, self.events, events_lane, v0, v1)
            self._paint_ruler(painter, groove.bottom() + 2, v0, v1)
            for i, lane in enumerate(self.lanes):
                rect = QRectF(events_lane.left(), 58 + i * self.LANE_H, events_lane.width(), self.LANE_H - 2)
                painter.fillRect(rect, lane_bg)
                lane.paint(painter, rect, v0, v1)
        painter.end()
        self._layer, self._layer_key = layer, key
        return layer

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._static_layer())
        _, _, groove = self._lanes()
        if not self.has_range:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect().adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter,
                             "No recording: Data → Open recording… or drop a CSV/Parquet file here")
            painter.end()
            return
        painter.setClipRect(QRectF(groove.left(), 0, groove.width(), self.height()))
        cursor_x = float(self.x_of(self.t))
        data_left = float(self.x_of(self.start))
        painter.fillRect(QRectF(data_left, groove.top(), max(cursor_x - data_left, 0), groove.height()),
                         QColor(47, 93, 158, 150))
        if self.loop is not None or self._pending_loop is not None:
            a, b = self._pending_loop or self.loop
            xa, xb = float(self.x_of(a)), float(self.x_of(b))
            loop_colour = QColor(47, 93, 158, 40 if self._pending_loop is None else 70)
            painter.fillRect(QRectF(xa, 0, xb - xa, groove.bottom()), loop_colour)
            painter.setPen(QPen(QColor(47, 93, 158), 2))
            painter.drawLine(QPointF(xa, 0), QPointF(xa, groove.bottom()))
            painter.drawLine(QPointF(xb, 0), QPointF(xb, groove.bottom()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(20, 40, 80), 2))
        painter.drawLine(QPointF(cursor_x, 0), QPointF(cursor_x, groove.bottom() + 3))
        painter.setBrush(QColor(20, 40, 80))
        painter.drawPolygon(QPolygonF([QPointF(cursor_x - 5, groove.top() - 2),
                                       QPointF(cursor_x + 5, groove.top() - 2),
                                       QPointF(cursor_x, groove.top() + 5)]))
        painter.end()

    def _paint_markers(self, painter: QPainter, markers: MarkerSet, lane: QRectF, v0: float,
                       v1: float) -> None:
        if not len(markers):
            return
        visible = (markers.ends >= v0) & (markers.starts <= v1)
        if not visible.any():
            return
        x0 = self.x_of(markers.starts[visible])
        x1 = self.x_of(markers.ends[visible])
        colours = markers.colour_index[visible]
        # one pixel column per colour is enough: merge markers that land on the same pixels
        for index in np.unique(colours):
            mine = colours == index
            left = np.floor(x0[mine]).astype(np.int64)
            right = np.maximum(np.floor(x1[mine]).astype(np.int64), left + 1)
            colour = QColor(markers.colours[int(index)])
            spans = right - left > 2
            if spans.any():
                fill = QColor(colour)
                fill.setAlpha(150)
                for a, b in _merge_intervals(left[spans], right[spans]):
                    painter.fillRect(QRectF(a, lane.top() + 2, b - a, lane.height() - 4), fill)
            for x in np.unique(left):
                painter.fillRect(QRectF(float(x), lane.top(), 2, lane.height()), colour)

    def _paint_ruler(self, painter: QPainter, top: float, v0: float, v1: float) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = max(self.width() - 2 * self._margin(), 1.0)
        label_w = metrics.horizontalAdvance("2020-03-09 00:00") + 16
        step = next((s for s in _TICK_STEPS_S if s * width / max(v1 - v0, 1e-9) >= label_w),
                    _TICK_STEPS_S[-1])
        offset = datetime.fromtimestamp(v0).astimezone().utcoffset()
        shift = offset.total_seconds() if offset else 0.0
        first = math.ceil((v0 + shift) / step) * step - shift
        pen_colour = self.palette().text().color()
        pen_colour.setAlpha(170)
        painter.setPen(pen_colour)
        t = first
        count = 0
        while t <= v1 and count < 200:
            x = float(self.x_of(t))
            painter.drawLine(QPointF(x, top - 3), QPointF(x, top + 1))
            moment = datetime.fromtimestamp(t).astimezone()
            if step >= 86400:
                text = moment.strftime("%Y-%m-%d")
            elif moment.hour == 0 and moment.minute == 0 and moment.second == 0 or count == 0:
                text = moment.strftime("%m-%d %H:%M" if step >= 60 else "%H:%M:%S")
            else:
                text = moment.strftime("%H:%M" if step >= 60 else "%H:%M:%S")
            painter.drawText(QPointF(x + 3, top + metrics.ascent()), text)
            t += step
            count += 1

    # ----- mouse ------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self.has_range:
            return
        t = self.t_at(event.position().x())
        if event.button() == Qt.MouseButton.LeftButton:
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._drag = "loop"
                self._loop_anchor = t
                self._pending_loop = (t, t)
            else:
                self._drag = "seek"
                self.seek_requested.emit(t)
            self.update()
        elif event.button() == Qt.MouseButton.RightButton:
            self._context_menu(event.globalPosition().toPoint(), t)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self.has_range:
            return
        x = event.position().x()
        t = self.t_at(x)
        if self._drag == "seek":
            self.seek_requested.emit(t)
        elif self._drag == "loop":
            self._pending_loop = (min(self._loop_anchor, t), max(self._loop_anchor, t))
            self.update()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_at(x, event.position().y()),
                              self)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._drag == "loop" and self._pending_loop is not None:
            a, b = self._pending_loop
            pixels = abs(float(self.x_of(b)) - float(self.x_of(a)))
            self.loop_requested.emit((a, b) if pixels >= 3 and b > a else None)
        self._drag = None
        self._pending_loop = None
        self.update()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self.has_range:
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(0.8 ** steps, self.t_at(event.position().x()))
        event.accept()

    def tooltip_at(self, x: float, y: float) -> str:
        """The marker under the pointer (label, kind, time), else the time under the pointer."""
        events_lane, crossing_lane, _ = self._lanes()
        t = self.t_at(x)
        v0, v1 = self.visible_range()
        tolerance = 3.0 * (v1 - v0) / max(self.width(), 1)
        for lane, markers in ((events_lane, self.events), (crossing_lane, self.crossings)):
            if lane.top() - 1 <= y <= lane.bottom() + 1:
                index = markers.nearest(t, tolerance)
                if index is not None:
                    return markers.texts[index]
        for i, lane in enumerate(self.lanes):
            top = 58 + i * self.LANE_H
            if top <= y <= top + self.LANE_H and hasattr(lane, "tooltip"):
                text = lane.tooltip(t)
                if text:
                    return text
        return format_time(t)

    def _context_menu(self, where, t: float) -> None:
        menu = QMenu(self)
        menu.addAction(f"Go to {format_time(t)}", lambda: self.seek_requested.emit(t))
        menu.addSeparator()
        loop = self.loop
        menu.addAction("Loop from here", lambda: self.loop_requested.emit((t, loop[1] if loop and loop[1] > t
                                                                              else self.end)))
        menu.addAction("Loop to here", lambda: self.loop_requested.emit((loop[0] if loop and loop[0] < t
                                                                          else self.start, t)))
        clear = menu.addAction("Clear loop", lambda: self.loop_requested.emit(None))
        clear.setEnabled(loop is not None)
        for hook in self.menu_hooks:
            hook(menu, t)
        menu.addSeparator()
        menu.addAction("Zoom to fit", self.fit)
        menu.popup(where)


def _merge_intervals(left: np.ndarray, right: np.ndarray) -> list[tuple[int, int]]:
    order = np.argsort(left)
    merged: list[list[int]] = []
    for a, b in zip(left[order].tolist(), right[order].tolist(), strict=True):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


class TimelineBar(QWidget):
    """Play/pause, steps, speed, current time, the track, loop and live controls for one session's clock."""

    def __init__(self, session=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = None
        self._marker_key: tuple | None = None
        self._marker_version = -1
        self._markers_at = 0.0
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(3)

        def button(icon_name: str | None, text: str, tip: str, slot, checkable: bool = False) -> QToolButton:
            b = QToolButton(self)
            if icon_name:
                b.setIcon(icon(icon_name))
            else:
                b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setCheckable(checkable)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            (b.toggled if checkable else b.clicked).connect(slot)
            return b

        self.back_button = button("step_back", "", "Step back (Left; Shift+Left: 10 steps)",
                                  lambda: self.step(-1))
        self.play_button = button("play", "", "Play / pause (Space)", self.toggle_play)
        self.forward_button = button("step_forward", "", "Step forward (Right; Shift+Right: 10 steps)",
                                     lambda: self.step(1))
        self.speed_combo = QComboBox(self)
        self.speed_combo.setToolTip("Playback speed (data seconds per second)")
        self.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for speed in SPEEDS:
            self.speed_combo.addItem(format_speed(speed), speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.currentIndexChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        self.time_label = QLabel("—", self)
        self.time_label.setToolTip("Time shown (local time)")
        time_font = QFont(self.font())
        time_font.setBold(True)
        time_font.setStyleHint(QFont.StyleHint.Monospace)
        time_font.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
        self.time_label.setFont(time_font)
        self.time_label.setMinimumWidth(
            self.time_label.fontMetrics().horizontalAdvance("2020-03-09 10:14:33") + 8
        )
        self.position_label = QLabel("", self)
        self.position_label.setToolTip("Time since the start of the data / its length")
        self.position_label.setMinimumWidth(
            self.position_label.fontMetrics().horizontalAdvance("+00:00:00 / 00:00:00")
        )
        self.track = TimelineTrack(self)
        self.track.seek_requested.connect(self.seek)
        self.track.loop_requested.connect(self.set_loop)
        self.loop_in_button = button(None, "[", "Set the loop start at the current time", self.set_loop_in)
        self.loop_out_button = button(None, "]", "Set the loop end at the current time", self.set_loop_out)
        self.loop_button = button(None, "⟲",
                                  "Loop the selected range (shift-drag on the track to select one)",
                                  self._loop_toggled, checkable=True)
        self.fit_button = button("fit", "",
                                 "Show the whole recording on the track (zoom with the mouse wheel)",
                                 self.track.fit)
        self.live_button = button("live", "Live", "Follow the live data", self._live_toggled, checkable=True)
        self.live_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.live_button.setText("Live")
        for widget in (self.back_button, self.play_button, self.forward_button, self.speed_combo,
                       self.time_label,
                       self.position_label):
            layout.addWidget(widget)
        layout.addWidget(self.track, 1)
        for widget in (self.loop_in_button, self.loop_out_button, self.loop_button, self.fit_button,
                       self.live_button):
            layout.addWidget(widget)
        self.actions_by_name = self._build_actions()
        self.set_session(session)

    # ----- actions (keyboard shortcuts live on the window via these) ------------------------------------
    def _build_actions(self) -> dict[str, QAction]:
        specs = (
            ("play", "&Play / pause", "Space", self.toggle_play),
            ("back", "Step &back", "Left", lambda: self.step(-1)),
            ("forward", "Step &forward", "Right", lambda: self.step(1)),
            ("back10", "Step back 10", "Shift+Left", lambda: self.step(-BIG_STEP)),
            ("forward10", "Step forward 10", "Shift+Right", lambda: self.step(BIG_STEP)),
            ("loop_in", "Loop &in at current time", "[", self.set_loop_in),
            ("loop_out", "Loop &out at current time", "]", self.set_loop_out),
            ("clear_loop", "&Clear loop", None, lambda: self.set_loop(None)),
            ("live", "Follow &live data", None, self.go_live),
        )
        actions = {}
        for name, text, shortcut, slot in specs:
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            actions[name] = action
        return actions

    # ----- session ----------------------------------------------------------------------------------
    @property
    def clock(self):
        return self.session.clock if self.session is not None else None

    def set_session(self, session) -> None:
        """Show this session's clock; markers are recomputed for its store and events."""
        self.session = session
        self._marker_key = None
        self.track.view = None
        if session is not None:
            self._sync_step()
        self.refresh()

    def _sync_step(self) -> None:
        """One step = the usual sample period of the recording (1 s if unknown)."""
        store = self.session.store
        periods = [store.expected_period(s) for s in self.session.sensor_ids if store.has(s)
                   and store.sensor_time_range(s) is not None]
        if periods:
            self.session.clock.step_s = float(np.median(periods))

    def refresh_markers(self) -> None:
        """Recompute threshold episodes and event markers: at once when the recording or its events change,
        every :data:`LIVE_MARKER_REFRESH_S` while live samples keep arriving."""
        session = self.session
        if session is None:
            self.track.crossings = MarkerSet()
            self.track.events = MarkerSet()
            self._marker_key = None
            return
        key = (id(session.store), len(session.events), id(session.events))
        version = session.store.version
        now = time.monotonic()
        if key == self._marker_key and (version == self._marker_version
                                        or now - self._markers_at < LIVE_MARKER_REFRESH_S):
            return
        self._marker_key, self._marker_version, self._markers_at = key, version, now
        self.track.crossings = crossing_markers(session.store, session.project)
        self.track.events = event_markers(session.events)
        self._sync_step()

    def refresh(self, _frame=None) -> None:
        """Bring every control in line with the clock (called on each frame the window shows)."""
        clock = self.clock
        has_data = clock is not None and self.session.has_data
        for widget in (self.back_button, self.play_button, self.forward_button, self.speed_combo,
                       self.loop_in_button, self.loop_out_button, self.loop_button, self.fit_button):
            widget.setEnabled(has_data)
        live_capable = self.session is not None and bool(self.session.sources)
        self.live_button.setVisible(live_capable)
        if clock is None:
            self.track.start = self.track.end = self.track.t = 0.0
            self.time_label.setText("—")
            self.position_label.setText("")
            self.track.update()
            return
        self.refresh_markers()
        self.play_button.setIcon(icon("pause" if clock.playing else "play"))
        self.play_button.setToolTip("Pause (Space)" if clock.playing else "Play (Space)")
        index = _nearest_speed_index(clock.speed)
        if self.speed_combo.currentIndex() != index:
            self.speed_combo.blockSignals(True)
            self.speed_combo.setCurrentIndex(index)
            self.speed_combo.blockSignals(False)
        self._set_checked(self.loop_button, clock.loop is not None)
        self._set_checked(self.live_button, clock.follow_live)
        self.live_button.setStyleSheet("QToolButton { background: #d9534f; color: white; border-radius: 3px; "
                                       "}"
                                       if clock.follow_live else "")
        track = self.track
        if (track.start, track.end) != (clock.start, clock.end) and track.view is not None:
            v0, v1 = track.view
            track.view = (max(v0, clock.start), min(v1, clock.end)) if v1 - v0 < clock.duration else None
        track.start, track.end, track.t, track.loop = clock.start, clock.end, clock.t, clock.loop
        if clock.playing:
            track.keep_visible(clock.t)
        if has_data:
            self.time_label.setText(format_time(clock.t))
            self.position_label.setText(f"+{_hms(clock.t - clock.start)} / {_hms(clock.duration)}")
        else:
            self.time_label.setText("—")
            self.position_label.setText("")
        track.update()

    @staticmethod
    def _set_checked(button: QToolButton, on: bool) -> None:
        if button.isChecked() != on:
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)

    # ----- what the controls do (Clock calls only) ---------------------------------------------------------
    def toggle_play(self) -> None:
        if self.clock is not None and self.session.has_data:
            self.clock.toggle()
            self.refresh()

    def step(self, n: int) -> None:
        if self.clock is not None and self.session.has_data:
            self.clock.step(n)
            self.refresh()

    def seek(self, t: float) -> None:
        if self.clock is not None and self.session.has_data:
            self.clock.seek(t)
            self.refresh()

    def set_speed(self, speed: float) -> None:
        if self.clock is not None:
            self.clock.speed = speed
            self.refresh()

    def set_loop(self, span: tuple[float, float] | None) -> None:
        if self.clock is None:
            return
        try:
            self.clock.loop = span
        except ValueError:
            self.clock.loop = None
        self.refresh()

    def set_loop_in(self) -> None:
        clock = self.clock
        if clock is None or not self.session.has_data:
            return
        end = clock.loop[1] if clock.loop and clock.loop[1] > clock.t else clock.end
        self.set_loop((clock.t, end) if end > clock.t else None)

    def set_loop_out(self) -> None:
        clock = self.clock
        if clock is None or not self.session.has_data:
            return
        start = clock.loop[0] if clock.loop and clock.loop[0] < clock.t else clock.start
        self.set_loop((start, clock.t) if clock.t > start else None)

    def _loop_toggled(self, on: bool) -> None:
        clock = self.clock
        if clock is None:
            return
        if not on:
            self.set_loop(None)
        elif clock.loop is None:
            self.set_loop(self.track.view or (clock.start, clock.end))

    def go_live(self) -> None:
        if self.clock is not None and self.session.sources:
            self.clock.go_live()
        self.refresh()

    def _live_toggled(self, on: bool) -> None:
        if on:
            self.go_live()
        elif self.clock is not None:
            self.clock.pause()
            self.refresh()


def _nearest_speed_index(speed: float) -> int:
    return int(np.argmin([abs(math.log(s) - math.log(speed)) for s in SPEEDS]))


def _hms(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {text}" if days else text
