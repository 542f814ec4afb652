"""Sizes and colours shared by the charts dock (:mod:`twinviewer.ui.charts`) and its rows
(:mod:`twinviewer.ui.chart_row`), in a module of their own so neither imports the other both ways."""

from __future__ import annotations

from PySide6.QtGui import QColor

from twinviewer.core.overlay import Status

ROW_HEIGHT = 136
AXIS_WIDTH = 58
FAR = float("inf")  # an open-ended threshold band; clipped to the view in ChartRow.fit_values
LINE_COLOUR = QColor(31, 78, 140)
ENVELOPE_COLOUR = QColor(31, 78, 140, 90)
CURSOR_COLOUR = QColor(20, 40, 80)
STATUS_TEXT_COLOUR = {Status.NORMAL: "#1d5e2c", Status.WARNING: "#7a5200", Status.ALARM: "#9b1c12",
                      Status.STALE: "#555555", Status.NO_DATA: "#888888", Status.ANOMALOUS: "#6c2a8a"}
