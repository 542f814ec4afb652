"""The overlay legend: a small translucent card over the 3D view saying what the colours mean.

- status mode: the status colours (normal, warning, alarm, stale, no data, no sensor);
- value mode: one horizontal colour bar per quantity, in real units, with the sensors' threshold marks;
- field mode: a vertical colour bar of the field's quantity with round ticks and threshold marks.

The legend reads the same colour maps and ranges the render layer uses (``OverlayLayer.value_range`` and
the project's ``[view.colormaps]``), so the card always matches the model. :meth:`OverlayLegend.sync`
is cheap when nothing changed; the window calls it for every frame shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from twinviewer.core.colormaps import NAN_RGB, Legend, colormap_for, legend_for
from twinviewer.core.overlay import NEUTRAL, STATUS_RGBA, Status, status_name
from twinviewer.render.overlay_layer import parse_mode

MARGIN = 12  # from the corner of the 3D view
PAD = 10  # inside the card
STATUS_ORDER = (Status.ALARM, Status.WARNING, Status.ANOMALOUS, Status.NORMAL, Status.STALE, Status.NO_DATA, NEUTRAL)
STATUS_NOTES = {Status.ALARM: "pulsing", NEUTRAL: "own colour"}
FIELD_BAR_HEIGHT = 170
VALUE_BAR_WIDTH = 150
LIMIT_COLOURS = {"alarm": QColor(*Status.ALARM.rgb), "warning": QColor(*Status.WARNING.rgb).darker(110)}


@dataclass(frozen=True)
class LegendEntry:
    """One row of the status legend."""

    status: int
    name: str
    rgba: tuple[int, int, int, int]


def status_entries() -> list[LegendEntry]:
    entries = []
    for status in STATUS_ORDER:
        rgba = tuple(int(c) for c in STATUS_RGBA[int(status) + 1])
        name = status_name(int(status))
        note = STATUS_NOTES.get(status)
        entries.append(LegendEntry(int(status), f"{name} ({note})" if note else name, rgba))  # type: ignore[arg-type]
    return entries


def quantity_legend(layer, quantity: str, values: np.ndarray | None = None) -> Legend:
    """The legend of one quantity as the render layer colours it, with every threshold of its sensors."""
    sensors = [s for s in layer.sensors if s.quantity == quantity]
    lo, hi = layer.value_range(quantity, values)
    cmap = colormap_for(quantity, layer.project.view.colormaps)
    limits = {(float(value), name.replace("_", " ")) for sensor in sensors
              for name, value in sensor.thresholds.model_dump().items() if value is not None}
    legend = legend_for(quantity, sensors[0].unit if sensors else "", lo, hi, cmap, None)
    markers = tuple(sorted((v, n) for v, n in limits if lo <= v <= hi))
    return Legend(legend.title, legend.unit, legend.vmin, legend.vmax, legend.cmap, legend.ticks,
                  legend.labels,
                  markers, legend.gradient)


def _gradient_image(legend: Legend, vertical: bool) -> QImage:
    table = np.ascontiguousarray(legend.gradient, dtype=np.uint8)
    if vertical:
        rgb = np.ascontiguousarray(np.repeat(table[::-1, None, :], 2, axis=1))  # top = vmax
        image = QImage(rgb.data, 2, len(table), 6, QImage.Format.Format_RGB888)
    else:
        rgb = np.ascontiguousarray(np.repeat(table[None, :, :], 2, axis=0))
        image = QImage(rgb.data, len(table), 2, len(table) * 3, QImage.Format.Format_RGB888)
    return image.copy()


class OverlayLegend(QWidget):
    """The legend card; child of the 3D view, kept in its bottom-left corner."""

    def __init__(self, window):
        super().__init__(window.viewer)
        self.window = window
        self.mode = "off"
        self.entries: list[LegendEntry] = []
        self.bars: list[Legend] = []
        self._key: tuple | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAutoFillBackground(False)
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(8.0, self._font.pointSizeF() * 0.92))
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        window.viewer.installEventFilter(self)
        self.hide()

    # ----- state -----------------------------------------------------------------------------------
    def _state_key(self, values) -> tuple:
        layer = self.window.overlay
        if layer is None or not layer.sensors:
            return ("none",)  # nothing to explain on a model without sensors
        kind, quantity = parse_mode(layer.mode)
        if kind in ("off", "status"):
            return (kind,)
        view = layer.project.view
        quantities = [quantity] if kind == "field" else layer.quantities()
        return (kind,
                tuple((q, colormap_for(q, view.colormaps), layer.value_range(q, values)) for q in quantities))

    def sync(self, values: np.ndarray | None = None) -> bool:
        """Follow the overlay's mode, colour maps and ranges; returns True if the legend changed."""
        key = self._state_key(values)
        if key == self._key:
            return False
        self._key = key
        layer = self.window.overlay
        kind = key[0]
        self.mode = "off" if kind == "none" else layer.mode
        self.entries = status_entries() if kind == "status" else []
        self.bars = [quantity_legend(layer, q, values) for q, _cmap,
                     _range in key[1]] if kind in ("value", "field") else []
        self.setVisible(kind not in ("off", "none"))
        self.resize(self.sizeHint())
        self._place()
        self.update()
        return True

    # ----- geometry --------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window.viewer and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        parent = self.window.viewer
        self.move(MARGIN, max(MARGIN, parent.height() - self.height() - MARGIN))
        self.raise_()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        metrics = QFontMetrics(self._font)
        line = metrics.height() + 4
        title_h = QFontMetrics(self._bold).height() + 6
        if self.entries:
            width = max(metrics.horizontalAdvance(e.name) for e in self.entries) + 2 * PAD + 24
            return QSize(max(width, 130), title_h + line * len(self.entries) + 2 * PAD)
        if self.bars and parse_mode(self.mode)[0] == "field":
            bar = self.bars[0]
            labels = max((metrics.horizontalAdvance(t) for t in bar.labels), default=30)
            marks = max((metrics.horizontalAdvance(self._mark_text(v, n, bar.unit)) for v, n in bar.markers),
                        default=0)
            width = max(2 * PAD + marks + 12 + 18 + 8 + labels,
                        QFontMetrics(self._bold).horizontalAdvance(bar.title)
                        + 2 * PAD)
            return QSize(width, title_h + FIELD_BAR_HEIGHT + metrics.height() + line + 2 * PAD)
        if self.bars:
            titles = max(QFontMetrics(self._bold).horizontalAdvance(b.title) for b in self.bars)
            width = max(VALUE_BAR_WIDTH + 2 * PAD + 16, titles + 2 * PAD)
            per_bar = QFontMetrics(self._bold).height() + 14 + metrics.height() + 8
            return QSize(width, title_h + per_bar * len(self.bars) + 2 * PAD)
        return QSize(120, 40)

    # ----- drawing ---------------------------------------------------------------------------------
    @staticmethod
    def _mark_text(value: float, name: str, unit: str) -> str:
        return f"{name.split()[0]} {value:g}"

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(0.5, 0.5, self.width() - 1, self.height() - 1)
        path = QPainterPath()
        path.addRoundedRect(card, 6, 6)
        painter.fillPath(path, QColor(255, 255, 255, 228))
        painter.setPen(QPen(QColor(0, 0, 0, 60), 1))
        painter.drawPath(path)
        painter.setPen(QColor(25, 25, 25))
        painter.setFont(self._bold)
        bold_metrics = QFontMetrics(self._bold)
        y = PAD + bold_metrics.ascent()
        if self.entries:
            painter.drawText(PAD, y, "Status")
            self._paint_status(painter, PAD + bold_metrics.height() + 6)
        elif self.bars and parse_mode(self.mode)[0] == "field":
            painter.drawText(PAD, y, self.bars[0].title)
            self._paint_field(painter, self.bars[0], PAD + bold_metrics.height() + 6)
        elif self.bars:
            painter.drawText(PAD, y, "Sensor values")
            self._paint_values(painter, PAD + bold_metrics.height() + 6)
        painter.end()

    def _paint_status(self, painter: QPainter, top: int) -> None:
        metrics = QFontMetrics(self._font)
        painter.setFont(self._font)
        line = metrics.height() + 4
        for n, entry in enumerate(self.entries):
            y = top + n * line
            swatch = QRectF(PAD, y + (line - 12) / 2 - 1, 14, 12)
            r, g, b, a = entry.rgba
            painter.setPen(QPen(QColor(60, 60, 60, 160), 1))
            painter.setBrush(QColor(r, g, b, max(a, 90)))
            painter.drawRoundedRect(swatch, 2, 2)
            painter.setPen(QColor(25, 25, 25))
            painter.drawText(PAD + 22, y + metrics.ascent() + 1, entry.name)

    def _paint_field(self, painter: QPainter, bar: Legend, top: int) -> None:
        metrics = QFontMetrics(self._font)
        painter.setFont(self._font)
        marks_width = max((metrics.horizontalAdvance(self._mark_text(v, n, bar.unit)) for v,
                           n in bar.markers),
                          default=0)
        x0 = PAD + marks_width + (12 if marks_width else 0)
        rect = QRectF(x0, top + metrics.height() / 2, 18, FIELD_BAR_HEIGHT)
        painter.drawImage(rect, _gradient_image(bar, vertical=True))
        painter.setPen(QPen(QColor(40, 40, 40), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)

        def y_of(value: float) -> float:
            return rect.bottom() - bar.position(value) * rect.height()

        for tick, label in zip(bar.ticks, bar.labels, strict=False):
            y = y_of(tick)
            painter.drawLine(QPointF(rect.right(), y), QPointF(rect.right() + 4, y))
            painter.drawText(QPointF(rect.right() + 8, y + metrics.ascent() / 2 - 1), label)
        last_label_y = None
        for value, name in sorted(bar.markers, key=lambda m: -m[0]):
            y = y_of(value)
            colour = LIMIT_COLOURS["alarm" if name.startswith("alarm") else "warning"]
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(rect.left() - 5, y), QPointF(rect.right(), y))
            painter.setBrush(colour)
            painter.drawPolygon(QPolygonF([QPointF(rect.left() - 9, y - 4), QPointF(rect.left() - 3, y),
                                           QPointF(rect.left() - 9, y + 4)]))
            if last_label_y is None or y - last_label_y >= metrics.height():
                painter.setPen(colour)
                text = self._mark_text(value, name, bar.unit)
                painter.drawText(QPointF(rect.left() - 12 - metrics.horizontalAdvance(text),
                                         y + metrics.ascent() / 2 - 1),
                                 text)
                last_label_y = y
        y = rect.bottom() + 10
        swatch = QRectF(x0, y, 18, 11)
        painter.setPen(QPen(QColor(40, 40, 40), 1))
        painter.setBrush(QColor(*NAN_RGB))
        painter.drawRect(swatch)
        painter.setPen(QColor(25, 25, 25))
        painter.drawText(QPointF(swatch.right() + 8, y + metrics.ascent() - 1), bar.nan_label)

    def _paint_values(self, painter: QPainter, top: int) -> None:
        metrics = QFontMetrics(self._font)
        bold_metrics = QFontMetrics(self._bold)
        y = top
        for bar in self.bars:
            painter.setFont(self._bold)
            painter.setPen(QColor(25, 25, 25))
            painter.drawText(QPointF(PAD, y + bold_metrics.ascent()), bar.title)
            y += bold_metrics.height() + 2
            rect = QRectF(PAD + 4, y, VALUE_BAR_WIDTH, 10)
            painter.drawImage(rect, _gradient_image(bar, vertical=False))
            painter.setPen(QPen(QColor(40, 40, 40), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
            for value, name in bar.markers:
                x = rect.left() + bar.position(value) * rect.width()
                colour = LIMIT_COLOURS["alarm" if name.startswith("alarm") else "warning"]
                painter.setPen(QPen(colour, 2))
                painter.drawLine(QPointF(x, rect.top() - 2), QPointF(x, rect.bottom() + 2))
            painter.setFont(self._font)
            painter.setPen(QColor(60, 60, 60))
            low_text = f"{bar.vmin:g}"
            high_text = f"{bar.vmax:g} {bar.unit}".strip()
            painter.drawText(QPointF(rect.left(), rect.bottom() + 2 + metrics.ascent()), low_text)
            painter.drawText(QPointF(rect.right() - metrics.horizontalAdvance(high_text),
                                     rect.bottom() + 2 + metrics.ascent()), high_text)
            y += 14 + metrics.height() + 8 - 2


def install(window) -> OverlayLegend:
    """Put the legend over the window's 3D view; it follows every frame shown."""
    legend = OverlayLegend(window)
    window.frame_shown.connect(lambda frame: legend.sync(frame.values))
    window.twin_opened.connect(lambda _twin: legend.sync(None))
    return legend
