"""One time-ordered list of everything that happened in a recording, and next/previous navigation.

``collect_events`` merges the session's events (labels from the file, scenario steps, bookmarks…), the
threshold crossings of every sensor (a "warning"/"alarm" event at each rise beyond a limit) and the anomaly
detector's episodes into one list sorted by time. ``next_event`` / ``previous_event`` find the neighbour
of a time, so a reviewer can step through the incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from twinviewer.core.events import Event

NAVIGATION_TOLERANCE_S = 1e-6
MAX_CROSSINGS_PER_SENSOR = 500


def crossing_events(store, sensors) -> list[Event]:
    """An event per rise into warning or alarm (and back to normal) of every sensor with limits."""
    found: list[Event] = []
    limited = {s.id: s.thresholds for s in sensors if store.has(s.id) and any(
        getattr(s.thresholds, k) is not None for k in ("alarm_low", "warning_low", "warning_high", "alarm_high"))}
    everyone = store.threshold_crossings_many(limited)  # one pass over a lazy history's summary
    for sensor in sensors:
        if sensor.id not in limited:
            continue
        crossings = everyone[sensor.id][:MAX_CROSSINGS_PER_SENSOR]
        for t, before, after in crossings:
            if after == "normal":
                label = f"{sensor.display_name} back to normal (from {before})"
                kind = "normal"
            else:
                label = f"{sensor.display_name} {after}"
                kind = after
            found.append(Event(float(t), None, kind, label, sensor.id))
    return found


def collect_events(*groups: Iterable[Event]) -> list[Event]:
    """All events of the groups, sorted by time (then kind), duplicates (same t, kind, label) once."""
    seen = set()
    merged = []
    for group in groups:
        for event in group:
            key = (round(event.t, 6), event.kind, event.label, event.sensor)
            if key not in seen:
                seen.add(key)
                merged.append(event)
    return sorted(merged, key=lambda e: (e.t, e.kind, e.label))


def next_event(events: Sequence[Event], t: float) -> int | None:
    """Index of the first event strictly after ``t`` (None if there is none)."""
    for i, event in enumerate(events):
        if event.t > t + NAVIGATION_TOLERANCE_S:
            return i
    return None


def previous_event(events: Sequence[Event], t: float) -> int | None:
    """Index of the last event strictly before ``t`` (None if there is none)."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].t < t - NAVIGATION_TOLERANCE_S:
            return i
    return None
