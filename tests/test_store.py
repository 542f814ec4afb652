"""TimeSeriesStore: last-known values, staleness, ordering policy, decimated windows, thread safety."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from twinviewer.core.project import Thresholds
from twinviewer.core.store import FRESH, NO_DATA, STALE, TimeSeriesStore


def make_store() -> TimeSeriesStore:
    store = TimeSeriesStore()
    store.add_sensor("TT-101", expected_period_s=1.0)
    store.append_many("TT-101", [10.0, 11.0, 12.0], [90.0, 91.0, 92.0])
    return store


def test_add_sensor_is_idempotent_and_keeps_insertion_order():
    store = TimeSeriesStore()
    for sensor_id in ["B", "A", "B", "C"]:
        store.add_sensor(sensor_id)
    assert store.sensor_ids == ["B", "A", "C"]
    assert store.has("A") and not store.has("Z")
    store.add_sensor("A", 0.1)
    store.add_sensor("A")  # no period given: keeps 0.1
    assert store.expected_period("A") == 0.1
    with pytest.raises(ValueError):
        store.add_sensor("A", 0.0)


def test_values_at_before_at_between_and_after_samples():
    store = make_store()
    before = store.values_at(9.5)
    assert before.state[0] == NO_DATA and np.isnan(before.values[0]) and np.isnan(before.times[0])
    at = store.values_at(11.0)
    assert at.values[0] == 91.0 and at.times[0] == 11.0 and at.state[0] == FRESH
    between = store.values_at(11.7)
    assert between.values[0] == 91.0 and between.times[0] == 11.0
    after = store.values_at(14.9)  # 2.9 s old: within 3 × 1 s
    assert after.values[0] == 92.0 and after.state[0] == FRESH
    stale = store.values_at(15.5)  # 3.5 s old
    assert stale.values[0] == 92.0 and stale.state[0] == STALE


def test_stale_factor_is_settable_and_period_per_sensor():
    store = make_store()
    store.stale_factor = 10
    assert store.values_at(15.5).state[0] == FRESH
    store.add_sensor("TT-101", 0.1)
    assert store.values_at(15.5).state[0] == STALE


def test_unknown_and_empty_sensors_are_no_data_and_order_follows_request():
    store = make_store()
    store.add_sensor("EMPTY")
    snap = store.values_at(11.0, ["EMPTY", "NOPE", "TT-101"])
    assert list(snap.state) == [NO_DATA, NO_DATA, FRESH]
    assert snap.value("TT-101") == 91.0
    default = store.values_at(11.0)
    assert default.sensor_ids == ("TT-101", "EMPTY")


def test_nan_sample_is_an_explicit_gap():
    store = TimeSeriesStore()
    store.append_many("A", [1.0, 2.0, 3.0], [5.0, np.nan, 7.0])
    assert store.values_at(2.5).state[0] == NO_DATA
    assert store.values_at(3.0).values[0] == 7.0


def test_block_import_serves_all_sensors_at_t_and_extends():
    store = TimeSeriesStore()
    times = np.arange(100.0)
    values = np.column_stack([times, times * 2, times * 3]).astype(np.float32)
    store.append_block(times, ["A", "B", "C"], values)
    snap = store.values_at(41.5, ["C", "A"])
    assert list(snap.values) == [123.0, 41.0]
    store.append_block([100.0, 101.0], ["B", "A", "C"], np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert store.values_at(101.0).as_dict() == {"A": (5.0, FRESH), "B": (4.0, FRESH), "C": (6.0, FRESH)}
    assert store.sample_count == 3 * 102
    # a live append to one sensor of the block moves it out without disturbing the others
    store.append("B", 102.0, 9.0)
    assert store.values_at(102.0, ["A", "B"]).values.tolist() == [5.0, 9.0]
    assert store.samples("B")[0].size == 103 and store.samples("A")[0].size == 102


def test_out_of_order_and_duplicate_appends_stay_sorted_last_wins():
    store = TimeSeriesStore()
    for t, v in [(1, 1.0), (3, 3.0), (2, 2.0), (3, 30.0), (0.5, 0.5), (2, 20.0)]:
        store.append("A", t, v)
    times, values = store.samples("A")
    assert times.tolist() == [0.5, 1, 2, 3]
    assert values.tolist() == [0.5, 1.0, 20.0, 30.0]
    assert store.duplicate_count == 2 and store.out_of_order_count >= 2
    store.append_many("A", [5.0, 4.0, 4.0], [5.0, 4.0, 44.0])
    assert store.samples("A")[1].tolist()[-2:] == [44.0, 5.0]
    store.append("A", float("nan"), 1.0)
    assert store.rejected_count == 1


def test_version_time_range_and_clear():
    store = TimeSeriesStore()
    assert store.time_range() is None
    v0 = store.version
    store.append("A", 5.0, 1.0)
    store.append_many("B", [2.0, 9.0], [1.0, 2.0])
    assert store.version > v0 and store.time_range() == (2.0, 9.0)
    assert store.sensor_time_range("A") == (5.0, 5.0)
    version = store.version
    store.clear()
    assert store.version > version and store.time_range() is None and store.sensor_ids == ["A", "B"]
    assert store.values_at(9.0).state.tolist() == [NO_DATA, NO_DATA]


def test_window_raw_when_small_and_decimated_keeps_spikes():
    store = TimeSeriesStore()
    times = np.arange(0.0, 100_000.0) * 0.1
    values = np.sin(times / 50.0)
    values[12_345] = 25.0
    values[54_321] = -30.0
    store.append_many("VT", times, values)
    raw_t, raw_min, raw_max = store.window("VT", 10.0, 19.95)
    assert raw_t.size == 100 and np.array_equal(raw_min, raw_max)
    t, vmin, vmax = store.window("VT", 0.0, 10_000.0, max_points=500)
    assert t.size == 500 and np.all(vmin <= vmax)
    assert vmax.max() == 25.0 and vmin.min() == -30.0
    assert store.window("VT", 20_000.0, 30_000.0)[0].size == 0
    assert store.window("missing", 0.0, 1.0)[0].size == 0


def test_window_keeps_gaps_as_nan():
    store = TimeSeriesStore()
    times = np.concatenate([np.arange(0.0, 5000.0), np.arange(8000.0, 10000.0)])
    values = np.ones_like(times)
    values[100:200] = np.nan
    store.append_many("A", times, values)
    raw = store.window("A", 50.0, 250.0)
    assert np.isnan(raw[1][50:150]).all()
    t, vmin, vmax = store.window("A", 0.0, 10_000.0, max_points=1000)
    gap = (t > 5010) & (t < 7990)
    assert np.isnan(vmin[gap]).all() and np.isfinite(vmin[t < 90]).all()
    assert store.value_range("A") == (1.0, 1.0)


def test_threshold_crossings():
    store = TimeSeriesStore()
    store.append_many("PT", np.arange(8.0), [5.0, 9.5, 10.5, 5.0, np.nan, 1.5, 5.0, 5.0])
    limits = Thresholds(warning_low=2.0, warning_high=9.0, alarm_high=10.0)
    assert store.threshold_crossings("PT", limits) == [
        (1.0, "normal", "warning"), (2.0, "warning", "alarm"), (3.0, "alarm", "normal"),
        (5.0, "normal", "warning"), (6.0, "warning", "normal")]
    # the sample before t0 sets the starting status
    assert store.threshold_crossings("PT", limits, t0=2.0, t1=3.0) == [
        (2.0, "warning", "alarm"), (3.0, "alarm", "normal")]
    assert store.threshold_crossings("PT", {"warning_high": 100.0}) == []


def test_concurrent_appends_never_show_half_written_samples():
    store = TimeSeriesStore()
    total = 60_000
    done = threading.Event()

    def writer():
        for start in range(0, total, 1000):
            chunk = np.arange(start, start + 1000, dtype=np.float64)
            store.append_many("A", chunk, chunk * 2)  # value is always 2 × time
            store.append("B", float(start), float(start))
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    last_count = 0
    reads = 0
    while not done.is_set() or reads < 5:
        reads += 1
        r = store.time_range()
        if r is None:
            continue
        snap = store.values_at(r[1], ["A", "B"])
        if snap.state[0] != NO_DATA:
            assert snap.values[0] == 2 * snap.times[0]
        times, values = store.samples("A")
        assert times.size >= last_count
        last_count = times.size
        assert np.array_equal(values, 2 * times) and np.all(np.diff(times) > 0)
        t, vmin, vmax = store.window("A", 0.0, float(total), max_points=100)
        assert np.all(np.isnan(vmin) | (vmin <= vmax))
    thread.join()
    assert store.samples("A")[0].size == total and store.samples("B")[0].size == total // 1000


def test_values_at_is_fast_for_a_thousand_sensors():
    store = TimeSeriesStore()
    ids = [f"S{i}" for i in range(1000)]
    store.append_block(np.arange(2000.0), ids,
                       np.random.default_rng(1).random((2000, 1000), dtype=np.float32))
    import time

    store.values_at(5.0)
    started = time.perf_counter()
    for k in range(200):
        store.values_at(float(k))
    per_call = (time.perf_counter() - started) / 200
    assert per_call < 1e-3  # target 0.1 ms; generous here because the machine is shared
