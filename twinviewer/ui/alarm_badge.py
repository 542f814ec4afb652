"""The status-bar badge that counts the active alarms and warnings at the clock's time (the alarm panel
feeds it; clicking it shows the list)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from twinviewer.core.overlay import Status


class AlarmBadge(QToolButton):
    """Status-bar count of active alarms and warnings: red with alarms, amber with only warnings."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Active alarms at the clock's time; click to show the alarm list")
        self.counts = {"alarm": 0, "warning": 0, "unacknowledged": 0}
        self.set_counts(self.counts)

    def set_counts(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        alarms, warnings = counts.get("alarm", 0), counts.get("warning", 0)
        parts = [f"{alarms} alarm{'s' if alarms != 1 else ''}"]
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        unacked = counts.get("unacknowledged", 0)
        if unacked:
            parts.append(f"{unacked} unacknowledged")
        if counts.get("shelved", 0):
            parts.append(f"{counts['shelved']} shelved")
        self.setText("  ·  ".join(parts))
        if alarms:
            background, foreground = Status.ALARM.rgb, (255, 255, 255)
        elif warnings:
            background, foreground = Status.WARNING.rgb, (30, 30, 30)
        else:
            background, foreground = None, (90, 90, 90)
        style = "QToolButton { border-radius: 3px; padding: 1px 8px; font-weight: 600; "
        style += f"color: rgb{foreground}; "
        style += f"background: rgb{background}; }}" if background else "background: transparent; }"
        self.setStyleSheet(style)

    @property
    def is_red(self) -> bool:
        return self.counts.get("alarm", 0) > 0
