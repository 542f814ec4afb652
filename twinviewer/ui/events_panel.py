"""The Events dock: everything that happened in the recording, sorted by time, with previous/next.

Rows come from :func:`twinviewer.core.event_list.collect_events`: the session's events (labels from the
file, scenario steps, bookmarks…), each sensor's threshold crossings, and the anomaly detector's episodes
(``session.anomaly``). Double-click (or Enter) a row, or press Previous / Next event (Ctrl+[ / Ctrl+]),
to move the clock there; the row of the latest event at or before the cursor is highlighted.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.current_session import CurrentSession
from twinviewer.core.event_list import collect_events, crossing_events, next_event, previous_event
from twinviewer.core.formatting import format_time
from twinviewer.core.time_to_threshold import format_duration
from twinviewer.ui.timeline import event_colour

LIVE_REFRESH_S = 2.0
COLUMNS = ("Time", "Kind", "Event", "Sensor")


class EventsPanel(QObject):
    """Shows the events of ``current``'s session; ``window`` gives the dock, the menu and the status bar."""

    def __init__(self, window, current: CurrentSession):
        super().__init__(window)
        self.window = window
        self.current = current
        self.events: list = []
        self._key: tuple | None = None
        self._built_at = 0.0
        self._current = -1
        self.widget = QWidget()
        self.list = QTreeWidget()
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(lambda item, _col: self.go_to(self.list.indexOfTopLevelItem(item)))
        self.previous_button = QPushButton("◀ Previous event")
        self.next_button = QPushButton("Next event ▶")
        self.previous_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.count_label = QLabel("")
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        self.dock = window.add_dock("Events", self.widget, Qt.DockWidgetArea.BottomDockWidgetArea)
        menu = window.menu("&Analysis")
        menu.addSeparator()
        self.previous_action = menu.addAction("&Previous event", self.previous)
        self.previous_action.setShortcut(QKeySequence("Ctrl+["))
        self.next_action = menu.addAction("&Next event", self.next)
        self.next_action.setShortcut(QKeySequence("Ctrl+]"))
        current.session_changed.connect(lambda _s: self.rebuild(force=True))
        current.recording_changed.connect(lambda _s: self.rebuild(force=True))
        current.time_changed.connect(self._time_changed)
        window.frame_shown.connect(self._frame_shown)  # at most 10 Hz: new events of live data
        self.rebuild(force=True)

    # ----- contents --------------------------------------------------------------------------------------
    def rebuild(self, force: bool = False) -> None:
        session = self.current.session
        if session is None:
            key = None
        else:
            key = (id(session.store), id(session.events), len(session.events), id(session.anomaly),
                   len(session.anomaly.episodes) if session.anomaly is not None else 0, session.store.version)
        now = time.monotonic()
        if not force and key == self._key:
            return
        if not force and self._key is not None and key[:5] == self._key[:5] and now - self._built_at < LIVE_REFRESH_S:
            return  # only live samples arrived: crossings are refreshed every few seconds
        self._key, self._built_at = key, now
        if session is None:
            self.events = []
        else:
            detected = session.anomaly.events() if session.anomaly is not None else []
            self.events = collect_events(session.events, crossing_events(session.store, session.project.sensors),
                                         detected)
        self.list.clear()
        items = []
        brushes: dict[str, QBrush] = {}
        for event in self.events:
            label = event.label + (f" (for {format_duration(event.t_end - event.t)})" if event.is_span else "")
            when = format_time(event.t)
            item = QTreeWidgetItem([when, event.kind, label, event.sensor or ""])
            brush = brushes.get(event.kind)
            if brush is None:
                brush = brushes[event.kind] = QBrush(event_colour(event.kind))
            item.setForeground(1, brush)
            item.setToolTip(2, label + (f"\n{when} → {format_time(event.t_end)}" if event.is_span else ""))
            items.append(item)
        self.list.addTopLevelItems(items)
        self.list.header().setResizeContentsPrecision(200)  # fit columns to the first rows, not thousands
        for column in range(len(COLUMNS) - 1):
            self.list.resizeColumnToContents(column)
        self.count_label.setText(f"{len(self.events)} events")
        self._current = -1
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        session = self.current.session
        t = session.clock.t if session is not None else 0.0
        has_previous = previous_event(self.events, t) is not None
        has_next = next_event(self.events, t) is not None
        for widget, on in ((self.previous_button, has_previous), (self.previous_action, has_previous),
                           (self.next_button, has_next), (self.next_action, has_next)):
            widget.setEnabled(on)

    def _frame_shown(self, frame) -> None:
        self.rebuild()
        self._time_changed(frame.t)

    def _time_changed(self, t: float) -> None:
        self._highlight(t)
        self._sync_buttons()

    def _highlight(self, t: float) -> None:
        index = -1
        for i, event in enumerate(self.events):
            if event.t <= t + 1e-6:
                index = i
            else:
                break
        if index == self._current:
            return
        self._current = index
        self.list.blockSignals(True)
        self.list.clearSelection()
        if index >= 0:
            item = self.list.topLevelItem(index)
            item.setSelected(True)
            self.list.scrollToItem(item)
        self.list.blockSignals(False)

    # ----- navigation -------------------------------------------------------------------------------------
    def go_to(self, index: int) -> None:
        session = self.current.session
        if session is None or not 0 <= index < len(self.events):
            return
        session.clock.pause()
        session.clock.seek(self.events[index].t)
        self.window.refresh_now()
        event = self.events[index]
        self.window.show_status(f"{format_time(event.t)}: {event.kind}: {event.label}")

    def next(self) -> None:
        session = self.current.session
        if session is not None:
            index = next_event(self.events, session.clock.t)
            if index is not None:
                self.go_to(index)

    def previous(self) -> None:
        session = self.current.session
        if session is not None:
            index = previous_event(self.events, session.clock.t)
            if index is not None:
                self.go_to(index)


def install(window) -> EventsPanel:
    return EventsPanel(window, window.current)
