"""Alarm tracker: onset/clear per limit, gaps, deadband, replay after seeks, acknowledgements and their
file."""

from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pytest

from twinviewer.core.alarms import AlarmLogError, AlarmTracker, sidecar_path
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.project import Sensor, Thresholds
from twinviewer.core.store import TimeSeriesStore

T0 = 1_700_000_000.0
BEARING = Sensor(id="TT-102", quantity="temperature", unit="°C", part="bearing_housing_de",
                 position=(0, 0, 0),
                 thresholds=Thresholds(warning_high=80, alarm_high=95))
FLOW = Sensor(id="FT-101", quantity="flow", unit="m³/h", part="flow_meter", position=(0, 0, 0),
              thresholds=Thresholds(alarm_low=20, warning_low=40))


def episode(tracker, limit):
    return [(a.onset_t - T0, None if a.cleared_t is None else a.cleared_t - T0, a.onset_value,
             a.extreme_value)
            for a in tracker.alarms if a.limit == limit]


def test_onset_and_clear_per_limit_with_extremes():
    tracker = AlarmTracker([BEARING, FLOW])
    values = [55, 82, 96, 97, 90, 85, 70, 81]
    assert tracker.ingest("TT-102", T0 + np.arange(8.0), np.array(values, float)) == 8
    assert episode(tracker, "warning_high") == [(1, 6, 82, 97), (7, None, 81, 81)]
    assert episode(tracker, "alarm_high") == [(2, 4, 96, 97)]
    alarm = tracker.get(f"TT-102/alarm_high@{T0 + 2:.6f}")
    assert (alarm.sensor_id, alarm.part, alarm.level, alarm.direction, alarm.threshold) == \
        ("TT-102", "bearing_housing_de", "alarm", "high", 95.0)
    assert alarm.describe("°C") == "TT-102 alarm high: 96 °C > 95 °C"
    # Active vs historical at a given time; alarms listed before warnings.
    assert [a.limit for a in tracker.active_at(T0 + 2.5)] == ["alarm_high", "warning_high"]
    assert [a.limit for a in tracker.active_at(T0 + 4.0)] == ["warning_high"]
    assert tracker.active_at(T0 + 6.5) == [] and len(tracker.history(T0 + 6.5)) == 2
    assert tracker.counts_at(T0 + 3) == {"alarm": 1, "warning": 1, "unacknowledged": 2, "shelved": 0}
    assert len(tracker.between(T0 + 4.5, T0 + 5)) == 1
    # Low limits work the same way, downwards.
    tracker.ingest("FT-101", T0 + np.arange(5.0), np.array([100, 35, 15, 50, 10.0]))
    assert episode(tracker, "warning_low") == [(1, 3, 35, 15), (4, None, 10, 10)]
    assert episode(tracker, "alarm_low") == [(2, 3, 15, 15), (4, None, 10, 10)]
    assert tracker.ingest("NOPE", np.array([T0]), np.array([1.0])) == 0


def test_gaps_do_not_clear_and_deadband_delays_the_clear():
    tracker = AlarmTracker([BEARING], deadband={"TT-102": 3.0})
    tracker.ingest("TT-102", T0 + np.arange(7.0), np.array([96, np.nan, np.nan, 93, 91, 79, 76.9]))
    assert episode(tracker, "alarm_high") == [(0, 4, 96, 96)]  # 93 is within 3 of 95: still alarm
    assert episode(tracker, "warning_high") == [(0, 6, 96, 96)]
    assert tracker.active_at(T0 + 2)[0].limit == "alarm_high"  # through the data gap


def test_samples_fed_in_pieces_give_the_same_records_as_one_scan():
    rng = np.random.default_rng(5)
    times = T0 + np.arange(2000.0)
    values = 85 + np.cumsum(rng.normal(0, 1.5, 2000))
    values[rng.random(2000) < 0.05] = np.nan
    whole = AlarmTracker([BEARING], deadband=0.5)
    whole.ingest("TT-102", times, values)
    pieces = AlarmTracker([BEARING], deadband=0.5)
    cuts = np.sort(rng.choice(np.arange(1, 2000), 60, replace=False))
    for chunk_t, chunk_v in zip(np.split(times, cuts), np.split(values, cuts), strict=True):
        pieces.ingest("TT-102", chunk_t, chunk_v)
        pieces.ingest("TT-102", chunk_t, chunk_v)  # fed twice (same frame again): nothing added
    assert [a.to_dict() for a in pieces.alarms] == [a.to_dict() for a in whole.alarms]
    assert len(whole.alarms) > 5 and pieces.late_samples > 0


def test_frame_feed_from_store_snapshots_counts_each_sample_once():
    store = TimeSeriesStore()
    store.add_sensor("TT-102", expected_period_s=1.0)
    tracker = AlarmTracker([BEARING])
    for n, value in enumerate([70, 85, 99, 99, 60]):
        store.append("TT-102", T0 + n, value)
        for frame in range(30):  # 30 frames per sample
            tracker.update(store.values_at(T0 + n + frame / 30, ["TT-102"]))
    assert episode(tracker, "warning_high") == [(1, 4, 85, 99)]
    assert episode(tracker, "alarm_high") == [(2, 4, 99, 99)]


def nab_store(shared_data):
    path = shared_data / "sensors/nab/machine_temperature_system_failure.csv"
    with path.open() as fh:
        rows = list(csv.reader(fh))[1:]
    times = np.array([dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.timezone.utc).timestamp()
                      for r in rows])
    values = np.array([float(r[1]) for r in rows])
    store = TimeSeriesStore()
    store.add_sensor("machine", expected_period_s=300)
    store.append_many("machine", times, values)
    windows = json.loads((path.parent / "combined_windows.json").read_text())[f"realKnownCause/{path.name}"]
    spans = [tuple(dt.datetime.fromisoformat(w).replace(tzinfo=dt.timezone.utc).timestamp() for w in pair)
             for pair in windows]
    return store, times, spans


MACHINE = Sensor(id="machine", quantity="temperature", unit="°C", part="machine", position=(0, 0, 0),
                 thresholds=Thresholds(alarm_low=40, warning_low=50))


def test_replay_after_backward_seek_shows_what_was_active_then(shared_data):
    """The NAB machine-temperature recording, played at 6 h per frame, then seeks back."""
    store, times, spans = nab_store(shared_data)
    tracker = AlarmTracker([MACHINE], deadband=5.0)
    seen = {}
    for t in np.arange(times[0], times[-1] + 21600, 21600):  # big forward steps skip many samples
        tracker.catch_up(store, t)
        seen[t] = [a.alarm_id for a in tracker.active_at(t)]
    assert any(seen.values())
    count = len(tracker.alarms)
    for t in sorted(seen, reverse=True)[::7]:  # seek backward: same answer as when first there
        tracker.catch_up(store, t)
        assert [a.alarm_id for a in tracker.active_at(t)] == seen[t]
    assert len(tracker.alarms) == count
    full = AlarmTracker([MACHINE], deadband=5.0)
    full.catch_up(store)
    assert [a.to_dict() for a in full.alarms] == [a.to_dict() for a in tracker.alarms]
    # The machine-temperature alarms (below 40 °C) all start inside the dataset's labelled failure windows.
    onsets = [a.onset_t for a in full.alarms if a.level == "alarm"]
    assert len(onsets) >= 2
    assert all(any(lo <= t <= hi for lo, hi in spans) for t in onsets)
    full.rescan(store, t=spans[1][0])
    assert all(a.onset_t <= spans[1][0] for a in full.alarms)


def test_acknowledge_records_who_when_and_why():
    tracker = AlarmTracker([BEARING])
    tracker.ingest("TT-102", T0 + np.arange(5.0), np.array([55, 96, 97, 60, 50.0]))
    alarm = next(a for a in tracker.alarms if a.level == "alarm")
    ack = tracker.acknowledge(alarm.alarm_id, "  maria ", T0 + 2, "bearing lubricated")
    assert (ack.user, ack.t, ack.comment) == ("maria", T0 + 2, "bearing lubricated") and ack.recorded_at > 0
    assert alarm.acknowledgement is ack
    assert not alarm.acknowledged_at(T0 + 1.5) and alarm.acknowledged_at(T0 + 2)
    assert tracker.counts_at(T0 + 2) == {"alarm": 1, "warning": 1, "unacknowledged": 1, "shelved": 0}
    assert tracker.unacknowledged_at(T0 + 2)[0].level == "warning"
    with pytest.raises(ValueError, match="already acknowledged by maria"):
        tracker.acknowledge(alarm.alarm_id, "joe", T0 + 3)
    warning = next(a for a in tracker.alarms if a.level == "warning")
    with pytest.raises(ValueError, match="starts at"):
        tracker.acknowledge(warning.alarm_id, "joe", T0)
    with pytest.raises(ValueError):
        tracker.acknowledge(warning.alarm_id, " ", T0 + 3)
    with pytest.raises(KeyError):
        tracker.acknowledge("TT-102/alarm_high@1.000000", "joe", T0)


def test_acknowledgements_persist_in_the_sidecar_and_export(tmp_path):
    store = TimeSeriesStore()
    store.append_many("TT-102", T0 + np.arange(6.0), np.array([55, 96, 97, 60, 99, 50.0]))
    tracker = AlarmTracker([BEARING])
    tracker.catch_up(store)
    first, second = [a for a in tracker.alarms if a.level == "alarm"]
    tracker.acknowledge(first.alarm_id, "maria", T0 + 2, "grease, ½ shot")
    tracker.acknowledge(second.alarm_id, "joe", T0 + 5)
    sidecar = sidecar_path(tmp_path / "pump.twin.toml")
    assert sidecar.name == "pump.twin.acks.json"
    tracker.save_acknowledgements(sidecar)

    # Reopened: acknowledgements loaded before the data is scanned attach when the alarms appear.
    reopened = AlarmTracker([BEARING])
    assert reopened.load_acknowledgements(sidecar) == 2
    reopened.catch_up(store)
    again = {a.alarm_id: a.acknowledgement for a in reopened.alarms if a.acknowledgement}
    assert again == {first.alarm_id: first.acknowledgement, second.alarm_id: second.acknowledgement}
    assert reopened.load_acknowledgements(sidecar) == 0  # merging again adds nothing
    # ...and loaded after scanning too.
    late = AlarmTracker([BEARING])
    late.catch_up(store)
    late.load_acknowledgements(sidecar)
    assert late.get(first.alarm_id).acknowledgement.comment == "grease, ½ shot"
    assert AlarmTracker([BEARING]).load_acknowledgements(tmp_path / "missing.acks.json") == 0

    tracker.export_csv(tmp_path / "log.csv")
    with (tmp_path / "log.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["sensor_id"], r["level"], r["user"]) for r in rows] == [("TT-102", "alarm", "maria"),
                                                                       ("TT-102", "alarm", "joe")]
    assert rows[0]["onset_utc"] == "2023-11-14T22:13:21.000Z" and rows[0]["part"] == "bearing_housing_de"
    tracker.export_json(tmp_path / "log.json")
    exported = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))
    assert exported["acknowledgements"][0]["comment"] == "grease, ½ shot"


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"format": "other"}', "not a TwinViewer acknowledgement file"),
    ('{"format": "twinviewer-acknowledgements", "version": 9, "acknowledgements": []}', "version 9"),
    ('{"format": "twinviewer-acknowledgements", "version": 1, "acknowledgements": [{"user": "x"}]}',
     r"acknowledgements\[0\]"),
])
def test_a_broken_sidecar_is_reported_with_its_name(tmp_path, content, message):
    path = tmp_path / "pump.twin.acks.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AlarmLogError, match=message) as info:
        AlarmTracker([BEARING]).load_acknowledgements(path)
    assert str(path) in str(info.value) and isinstance(info.value, TwinViewerError)


# ---- deadband, delays, chattering and shelving (ISA-18.2) ---------------------------------------------
def test_on_and_off_delays_and_a_chattering_value_is_one_alarm_with_a_count():
    from twinviewer.core.alarms import AlarmSettings

    tracker = AlarmTracker([BEARING], settings={"TT-102": AlarmSettings(deadband=1.0, on_delay=3.0, off_delay=20.0)})
    t = np.arange(0.0, 200.0)
    v = np.full(t.size, 70.0)
    v[10:12] = 97.0          # 2 s beyond 95: shorter than the on-delay, no alarm
    v[50:] = 97.0            # beyond for good from t=50 ...
    v[60:100:4] = 93.0       # ... but chattering back inside every 4 s
    v[150:] = 70.0           # back to normal at t=150
    tracker.ingest("TT-102", T0 + t, v)
    alarms = [a for a in tracker.alarms if a.limit == "alarm_high"]
    assert len(alarms) == 1, [(a.onset_t - T0, a.cleared_t) for a in alarms]
    alarm = alarms[0]
    assert alarm.onset_t == T0 + 53  # 3 s on-delay
    assert alarm.count == 11  # the first rise and ten returns beyond the limit during the episode
    assert alarm.cleared_t == T0 + 170  # 20 s back inside
    assert tracker.levels_at(T0 + 100).tolist() == [2] and tracker.levels_at(T0 + 171).tolist() == [0]


def test_alarm_settings_come_from_the_sensor_or_the_defaults():
    from twinviewer.core.alarms import DEFAULT_OFF_DELAY_S, alarm_settings
    from twinviewer.core.project import Sensor

    tuned = Sensor.model_validate({**BEARING.model_dump(), "alarm": {"deadband": 0.5, "on_delay": "5s"}})
    settings = alarm_settings([BEARING, tuned.model_copy(update={"id": "TT-9"})])
    assert settings["TT-9"].deadband == 0.5 and settings["TT-9"].on_delay == 5.0
    assert settings["TT-9"].off_delay == DEFAULT_OFF_DELAY_S
    assert settings["TT-102"].deadband > 0 and settings["TT-102"].on_delay == 0.0


def test_shelving_needs_a_reason_hides_from_counts_and_is_saved(tmp_path):
    tracker = AlarmTracker([BEARING])
    tracker.ingest("TT-102", T0 + np.arange(5.0), np.array([70.0, 97.0, 97.0, 97.0, 97.0]))
    alarm = next(a for a in tracker.alarms if a.is_alarm)
    with pytest.raises(ValueError, match="reason"):
        tracker.shelve(alarm.alarm_id, "ana", " ", T0 + 2, 600)
    tracker.shelve(alarm.alarm_id, "ana", "sensor being replaced", T0 + 2, 600)
    assert tracker.counts_at(T0 + 3) == {"alarm": 0, "warning": 1, "unacknowledged": 1, "shelved": 1}
    assert tracker.levels_at(T0 + 3).tolist() == [2], "shelving hides the annunciation, not the state"
    assert tracker.counts_at(T0 + 700)["alarm"] == 1, "the shelf ends"
    path = tmp_path / "p.twin.acks.json"
    tracker.save_acknowledgements(path)
    again = AlarmTracker([BEARING])
    again.load_acknowledgements(path)
    assert again.shelves == tracker.shelves and again.shelves[0].reason == "sensor being replaced"
