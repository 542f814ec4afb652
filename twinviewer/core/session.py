"""One open twin's life in time: store, clock, live sources, events, and the overlay at the current time.

The window's frame timer calls :meth:`Session.tick`; the CLI calls :meth:`Session.frame_at`. Both go the
same way: store → values at t → statuses → overlay. Sources only append to the store from their threads.

A session tells what changed through Qt-free signals (:mod:`twinviewer.core.signals`), emitted on the
thread that made the change (the GUI thread in the app):

- ``recording_changed(session)``: :meth:`set_recording` swapped data in (or :meth:`attach_history` put a
  history behind it);
- ``time_changed(t)``: :meth:`tick` moved to another time;
- ``selection_changed(part or None)``: :meth:`select` picked a part;
- ``overlay_changed(mode)``: :meth:`set_overlay_mode` changed what the overlay shows.

The window forwards them to its Qt signals (``recording_loaded``, ``part_selected``) for the panels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.alarms import AlarmTracker, alarm_settings
from twinviewer.core.clock import Clock
from twinviewer.core.events import Event
from twinviewer.core.history import CombinedHistory, HistorySource
from twinviewer.core.overlay_engine import OverlayEngine, OverlayFrame, mode_of_view
from twinviewer.core.project import Project
from twinviewer.core.signals import Signal
from twinviewer.core.store import Snapshot, TimeSeriesStore

LIVE_STEP_S = 0.25


@dataclass
class Frame:
    """What the views show at one instant."""

    t: float
    snapshot: Snapshot
    overlay: OverlayFrame
    changed: bool = True

    @property
    def values(self) -> np.ndarray:
        return self.snapshot.values

    @property
    def statuses(self) -> np.ndarray:
        return self.overlay.sensor_status


@dataclass
class LoadedRecording:
    """A recording ready to swap into a session: built off the GUI thread, swapped in on it."""

    store: HistorySource  # a TimeSeriesStore, or a lazy dataset / database history
    events: list[Event] = field(default_factory=list)
    name: str = ""
    report: str = ""
    paths: list = field(default_factory=list)  # the files it came from (bookmarks live beside the first)


class Session:
    def __init__(self, project: Project, part_names: list[str], store: TimeSeriesStore | None = None):
        self.project = project
        self.part_names = list(part_names)
        self.sensor_ids = [s.id for s in project.sensors]
        self.clock = Clock()
        self.events: list[Event] = []
        self.recording_name = ""
        self.recording_paths: list = []
        self.sources: list = []
        self.anomaly = None  # an AnomalyTrack (core/anomaly_track.py) scoring this store, when a detector is on
        self.selected_part: str | None = None
        self.recording_changed = Signal("recording_changed")
        self.time_changed = Signal("time_changed")
        self.selection_changed = Signal("selection_changed")
        self.overlay_changed = Signal("overlay_changed")
        self._last_key: tuple | None = None
        self._last_frame: Frame | None = None
        self._last_t: float | None = None
        self._live_anchor: tuple[float, float] | None = None  # (newest data time, wall time it was seen)
        self.wall_clock = time.monotonic
        self.overlay = OverlayEngine(project.sensors, self.part_names, view=project.view)
        try:
            self.overlay.set_mode(mode_of_view(project.view))
        except ValueError:  # a field needs the displayed geometry: the render layer sets the mode again
            self.overlay.set_mode("status")
        # One rule for a sensor's state: the alarm tracker (limits, deadband, on/off delays) decides warning
        # and alarm for the part colours, the sensor list, the alarm list and the status bar alike.
        self.alarms = AlarmTracker(project.sensors, settings=alarm_settings(project.sensors))
        self._alarm_source: tuple[int, float | None] | None = None
        self.store = self._prepare(store or TimeSeriesStore())
        self.sync_range(initial=True)

    # ----- data ------------------------------------------------------------------------------------
    def _prepare(self, store: HistorySource) -> HistorySource:
        for sensor in self.project.sensors:
            store.add_sensor(sensor.id, sensor.expected_period_s)
        return store

    def set_recording(self, recording: LoadedRecording) -> None:
        """Replace the data with a recording. Live sources append to the store they were given, so they
        are stopped; reconnecting them (Live → Connect all) starts a fresh live store."""
        self.stop_sources()
        if self.store is not recording.store:
            self.store.close()  # a lazy history releases its files, connections and threads
        self.store = self._prepare(recording.store)
        self.events = list(recording.events)
        self.anomaly = None  # scored another store; the anomaly panel scores the new one
        self.recording_name = recording.name
        self.recording_paths = list(recording.paths)
        self.clock.pause()
        self.clock.follow_live = False
        self._live_anchor = None
        self.sync_range(initial=True)
        self.overlay.reset()
        self._last_key = None
        self.recording_changed.emit(self)

    def attach_history(self, history: HistorySource, name: str = "") -> None:
        """Older values from ``history`` behind the live data: running live sources keep appending to their
        store, which answers wherever it has samples (``CombinedHistory``); without running sources the
        data shown so far is replaced."""
        current = self.store
        live = current.live if isinstance(current, CombinedHistory) else current
        if not self.sources or not live.in_memory:
            live = TimeSeriesStore()
        if current is not live:
            current.close()
        self.store = self._prepare(CombinedHistory(live, history))
        self.recording_name = name
        if not self.sources:
            self.events = []
            self.clock.pause()
            self.clock.follow_live = False
            self.clock.set_range(0.0, 0.0)
        self.sync_range(initial=not self.sources)
        self.overlay.reset()
        self._last_key = None
        self.recording_changed.emit(self)

    def add_events(self, events: list[Event]) -> None:
        self.events = sorted([*self.events, *events], key=lambda e: e.t)

    def sync_range(self, initial: bool = False) -> None:
        span = self.store.time_range()
        if span is None:
            return
        at_start = initial or self.clock.duration == 0
        end = self._live_end(span[1]) if self.sources else span[1]
        self.clock.set_range(span[0], max(end, self.clock.end if not at_start else span[0]))
        if at_start:
            self.clock.seek(span[0])
            if self.sources:
                self.clock.go_live()

    def _live_end(self, data_end: float) -> float:
        """While sources run, "now" keeps moving with the wall clock even when nothing arrives.

        Following live, the clock shows the end of the range; if that stayed on the newest sample, a
        silent broker would freeze the view and nothing would ever turn stale. The end advances from the
        newest sample's time by the wall time elapsed since it arrived (so a publisher whose clock is off
        does not matter), in steps of LIVE_STEP_S, and never goes back.
        """
        now = self.wall_clock()
        if self._live_anchor is None or data_end > self._live_anchor[0]:
            self._live_anchor = (data_end, now)
        anchor_data, anchor_wall = self._live_anchor
        steps = int((now - anchor_wall) / LIVE_STEP_S)
        return anchor_data + steps * LIVE_STEP_S

    @property
    def has_data(self) -> bool:
        return self.store.time_range() is not None

    # ----- live sources ----------------------------------------------------------------------------
    def add_source(self, source) -> None:
        self.sources.append(source)
        source.start()
        self.clock.go_live()

    def stop_sources(self) -> None:
        for source in self.sources:
            try:
                source.stop()
            except Exception:  # a source that fails to stop must not keep the others running
                pass
        self.sources.clear()

    # ----- frames ----------------------------------------------------------------------------------
    def alarm_levels_at(self, t: float) -> np.ndarray:
        """Warning/alarm level of every sensor at ``t`` (0, 1, 2), from the alarm tracker kept up to date
        with the store (rebuilt when the store is replaced or gets older data)."""
        span = self.store.time_range()
        start = span[0] if span else None
        source = (id(self.store), start)
        if self._alarm_source is None or source[0] != self._alarm_source[0] or (
                start is not None and self._alarm_source[1] is not None and start < self._alarm_source[1]):
            self.alarms.rescan(self.store, focus=t)
        else:
            self.alarms.catch_up(self.store, focus=t)
        self.alarms.refine_near(self.store, t)  # a lazy history's spans at t, at sample times
        self._alarm_source = source
        return self.alarms.levels_at(t)

    def frame_at(self, t: float, wall_time: float = 0.0) -> Frame:
        """The frame at ``t``; ``wall_time`` is the alarm pulse's phase (0 = full strength, for still images)."""
        snapshot = self.store.values_at(t, self.sensor_ids)
        levels = self.alarm_levels_at(t)
        anomalous = self.anomaly.sensor_mask(t, self.sensor_ids) if self.anomaly is not None else None
        return Frame(t, snapshot, self.overlay.compute(snapshot.values, snapshot.state, wall_time, anomalous,
                                                       levels=levels))

    def tick(self, wall_dt: float) -> Frame:
        """Advance the clock by ``wall_dt`` seconds of wall time and compute the frame at the new time."""
        self.sync_range()
        before = self.clock.t
        t = self.clock.tick(wall_dt)
        if t < before:
            self.overlay.reset()
        key = (t, self.store.version, self.overlay.revision, id(self.anomaly))
        if key == self._last_key and self._last_frame is not None:
            self._last_frame.changed = False  # nothing moved: no need to compute the same frame again
            return self._last_frame
        frame = self.frame_at(t)
        frame.changed = True
        self._last_key = key
        self._last_frame = frame
        if t != self._last_t:
            self._last_t = t
            self.time_changed.emit(t)
        return frame

    def invalidate(self) -> None:
        """Force the next tick to report a change (after the overlay settings changed)."""
        self._last_key = None

    def select(self, part: str | None) -> None:
        """The part the user picked (None: nothing); tells ``selection_changed``."""
        self.selected_part = part
        self.selection_changed.emit(part)

    @property
    def overlay_mode(self) -> str:
        return self.overlay.mode

    def set_overlay_mode(self, mode: str) -> None:
        """What the overlay shows (off, status, value, field:QUANTITY; the overlay engine owns it): the next
        tick shows it anew and ``overlay_changed`` tells the views."""
        if mode != self.overlay.mode:
            self.overlay.set_mode(mode)
        self.invalidate()
        self.overlay_changed.emit(mode)

    def close(self) -> None:
        self.stop_sources()
        self.store.close()
