"""Anomaly track on a store (replay and live), sensor hint for part colours, and the merged event list."""

from __future__ import annotations

import numpy as np

from tests.test_anomaly import SENSORS, normal_data
from twinviewer.core.anomaly_track import EVENT_KIND, AnomalyTrack
from twinviewer.core.event_list import collect_events, next_event, previous_event
from twinviewer.core.events import Event
from twinviewer.core.overlay import Status
from twinviewer.core.overlay_engine import OverlayEngine
from twinviewer.core.project import Sensor
from twinviewer.core.store import TimeSeriesStore


def store_with_step() -> TimeSeriesStore:
    values = np.vstack([normal_data(600, 1), normal_data(800, 2)])
    values[1000:, 3] += 3.0  # temperature steps up 400 s into the scored part
    store = TimeSeriesStore()
    store.append_block(np.arange(1400.0), SENSORS, values)
    return store


def test_track_scores_the_store_and_names_the_sensor():
    store = store_with_step()
    track = AnomalyTrack.train(store, SENSORS, 0.0, 599.0)
    assert len(track.result.times) == 1400
    assert not track.result.anomaly[:600].any(), "the training span is normal by definition"
    assert len(track.episodes) >= 1
    main = max(track.episodes, key=lambda e: e.end - e.start)
    assert 1000 <= main.start <= 1060 and main.top_sensors[0] == "temperature"
    assert track.sensor_mask(1300.0, SENSORS).tolist() == [s == "temperature" for s in SENSORS]
    assert not track.sensor_mask(500.0, SENSORS).any()
    events = track.events()
    assert events[-1].kind == EVENT_KIND and "temperature" in events[-1].label


def test_live_update_matches_the_replay_scores():
    store = store_with_step()
    whole = AnomalyTrack.train(store, SENSORS, 0.0, 599.0)
    partial = TimeSeriesStore()
    values = np.vstack([normal_data(600, 1), normal_data(800, 2)])
    values[1000:, 3] += 3.0
    partial.append_block(np.arange(900.0), SENSORS, values[:900])
    live = AnomalyTrack.score_store(whole.model, partial)
    partial.append_block(np.arange(900.0, 1400.0), SENSORS, values[900:])
    assert live.update(partial) == 500
    np.testing.assert_allclose(live.result.score, whole.result.score)


def test_anomalous_status_colours_normal_sensors_only():
    sensors = [Sensor(id=s, quantity="temperature", part="p1" if i < 3 else "p2", position=(0, 0, 0),
                      thresholds={"warning_high": 1000.0}) for i, s in enumerate(SENSORS)]
    engine = OverlayEngine(sensors, ["p1", "p2"])
    values = np.array([1.0, 1.0, 2000.0, 1.0, 1.0, 1.0])
    mask = np.array([False, False, True, True, False, False])
    frame = engine.compute(values, None, anomalous=mask)
    assert frame.sensor_status.tolist() == [Status.NORMAL, Status.NORMAL, Status.WARNING, Status.ANOMALOUS,
                                            Status.NORMAL, Status.NORMAL]
    assert frame.part_status.tolist() == [Status.WARNING, Status.ANOMALOUS]


def test_event_list_merges_sorts_and_navigates():
    labels = [Event(50.0, 80.0, "anomaly", "SKAB anomaly"), Event(10.0, None, "scenario step", "valve closes")]
    detected = [Event(55.0, 90.0, EVENT_KIND, "anomaly: flow 80 %")]
    events = collect_events(labels, detected, labels)
    assert [e.t for e in events] == [10.0, 50.0, 55.0]
    assert next_event(events, 10.0) == 1 and next_event(events, 55.0) is None
    assert previous_event(events, 55.0) == 1 and previous_event(events, 10.0) is None
