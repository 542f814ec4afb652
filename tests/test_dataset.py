"""Parquet datasets: written by convert, read lazily with the same answers as the in-memory store, readable
by DuckDB as they are, queried with `twinviewer query`, summaries rebuilt on first open."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twinviewer.cli import main
from twinviewer.core.errors import RecordingError
from twinviewer.core.store import NO_DATA, TimeSeriesStore
from twinviewer.io.dataset import RAW_ROW_BUDGET, ParquetDataset, write_dataset
from twinviewer.io.importers import import_recording

T0 = 1_704_067_200.0 + 80_000.0  # crosses midnight after 6,400 s
STEP = 5.0
N = 60_000  # 3.5 days


def make_store() -> TimeSeriesStore:
    times = T0 + STEP * np.arange(N)
    store = TimeSeriesStore()
    values = np.column_stack((np.sin(times / 7200.0) * 10, np.arange(N, dtype=float)))
    values[30_000, 0] = 500.0  # one spike
    values[40_000:40_010, 1] = np.nan  # a gap
    store.append_block(times, ["A", "B"], values)
    return store


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, TimeSeriesStore]:
    folder = tmp_path_factory.mktemp("ds") / "plant"
    store = make_store()
    write_dataset(folder, store, metadata={"asset": "pump", "units": {"A": "bar"},
                                           "events": [{"t": T0 + 100, "kind": "label", "label": "start"}]})
    return folder, store


def test_layout_is_day_partitions_readable_by_duckdb(written):
    folder, store = written
    days = sorted(p.name for p in folder.glob("date=*"))
    assert days == ["date=2024-01-01", "date=2024-01-02", "date=2024-01-03", "date=2024-01-04", "date=2024-01-05"]
    meta = json.loads((folder / "_twinviewer.json").read_text())
    assert meta["sensors"] == ["A", "B"] and meta["rows"] == 2 * N and meta["asset"] == "pump"
    table = pq.read_table(next(folder.glob("date=*/*.parquet")))
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    rows = duckdb.connect().execute(f"SELECT count(*), count(DISTINCT sensor), max(date) FROM "
                      f"read_parquet('{folder}/*/*.parquet', hive_partitioning = true)").fetchone()
    assert rows[0] == 2 * N and rows[1] == 2 and str(rows[2]) == "2024-01-05"


def test_lazy_answers_match_the_store(written):
    folder, store = written
    dataset = ParquetDataset(folder)
    assert dataset.time_range() == store.time_range()
    rng = np.random.default_rng(4)
    for t in [T0 - 1, T0, T0 + 6_399.0, T0 + 6_400.0, T0 + 200_002.5, T0 + STEP * (N - 1) + 50,
              *rng.uniform(T0, T0 + STEP * N, 20)]:
        lazy, memory = dataset.values_at(t, ["A", "B", "nope"]), store.values_at(t, ["A", "B", "nope"])
        np.testing.assert_array_equal(lazy.values, memory.values)
        np.testing.assert_array_equal(lazy.times, memory.times)
        np.testing.assert_array_equal(lazy.state == NO_DATA, memory.state == NO_DATA)
    short = (T0 + 1000, T0 + 4000)  # few rows: raw samples
    for lazy, memory in zip(dataset.window("B", *short, 2000), store.window("B", *short, 2000), strict=True):
        np.testing.assert_array_equal(lazy, memory)


def test_row_group_bounds_come_from_the_index_beside_the_summary(written):
    folder, _ = written
    dataset = ParquetDataset(folder)
    assert sorted(dataset._group_stats) == [int(d) for d in dataset.days]
    from twinviewer.io.dataset import _DayFile

    for i, day in enumerate(dataset.days):
        walked = _DayFile(dataset.paths[i], dataset._index, int(day))  # from the footer's statistics
        for cached, fresh in zip(dataset._group_stats[int(day)], (walked.t_min, walked.t_max, walked.rows,
                                                                  walked.quality_set), strict=True):
            np.testing.assert_array_equal(cached, fresh)


def test_long_ranges_come_from_the_summary(written, monkeypatch):
    folder, store = written
    dataset = ParquetDataset(folder)
    monkeypatch.setattr("twinviewer.io.dataset.RAW_ROW_BUDGET", 1000)  # as if the dataset were huge
    start, end = dataset.time_range()
    times, vmin, vmax = dataset.window("A", start, end, 500)
    assert 0 < times.size <= 500 and np.nanmax(vmax) == 500.0  # the spike survives
    assert np.nanmin(vmin) == pytest.approx(-10.0, abs=0.01)
    summary = dataset.summary("B", start, end, 3600.0)
    expected = store.summary("B", start, end, 3600.0)
    full = summary.count > 0
    np.testing.assert_array_equal(summary.times[full], expected.times)
    np.testing.assert_array_equal(summary.count[full], expected.count)
    np.testing.assert_allclose(summary.mean[full], expected.mean, rtol=1e-6)
    assert dataset.threshold_crossings("A", {"alarm_high": 100.0})[0][2] == "alarm"
    limits = {"A": {"warning_low": -5.0, "warning_high": 5.0, "alarm_high": 100.0}, "B": {"warning_high": 50_000.0},
              "nope": {"alarm_high": 1.0}}
    many = dataset.threshold_crossings_many(limits)
    assert many == {s: dataset.threshold_crossings(s, t) for s, t in limits.items()}
    assert len(many["A"]) > 10 and [c[2] for c in many["B"]] == ["warning"] and many["nope"] == []
    # sensors that never leave their band are skipped after a look at the coarsest level: same answers
    quiet = {"A": {"alarm_low": -1e9, "alarm_high": 1e9}, "B": {"warning_low": -5.0}}
    part = (start + 0.3 * (end - start), start + 0.8 * (end - start))
    for t0, t1 in ((None, None), part):
        assert dataset.threshold_crossings_many(quiet, t0, t1) == {
            s: dataset.threshold_crossings(s, t, t0, t1) for s, t in quiet.items()}
        assert dataset.threshold_crossings_many(limits, t0, t1) == {
            s: dataset.threshold_crossings(s, t, t0, t1) for s, t in limits.items()}
    assert RAW_ROW_BUDGET > 1000


def test_alarms_over_a_long_range_see_the_spike(written, monkeypatch):
    from twinviewer.core.alarms import AlarmTracker
    from twinviewer.core.project import Sensor

    folder, _ = written
    dataset = ParquetDataset(folder)
    monkeypatch.setattr("twinviewer.io.dataset.RAW_ROW_BUDGET", 1000)  # read as if huge: buckets of min/max
    sensors = [Sensor(id="A", quantity="pressure", part="p", position=(0, 0, 0),
                      thresholds={"alarm_low": -50.0, "alarm_high": 100.0})]
    tracker = AlarmTracker(sensors)
    tracker.rescan(dataset)
    onsets = [a.onset_t for a in tracker.history()]
    assert onsets == [T0 + STEP * 30_000], "the one-sample spike to 500, at its own sample time"
    assert tracker.levels_at(T0 + STEP * 30_000)[0] == 2, "in alarm at the very sample the list shows"

    # Sensors that stay within their limits are skipped after one look at the coarsest level; the alarms
    # are the same as from reading every sensor (a view of the dataset without that shortcut).
    class EverySensor:
        def __getattr__(self, name):
            if name == "value_ranges":
                raise AttributeError(name)
            return getattr(dataset, name)

    sensors += [Sensor(id="B", quantity="pressure", part="p", position=(0, 0, 0),
                       thresholds={"alarm_high": 1e9, "warning_low": -1e9}),
                Sensor(id="B2", quantity="pressure", part="p", position=(0, 0, 0), thresholds={})]
    quick, slow = AlarmTracker(sensors), AlarmTracker(sensors)
    quick.rescan(dataset)
    slow.rescan(EverySensor())
    assert [(a.sensor_id, a.onset_t, a.cleared_t) for a in quick.history()] == \
        [(a.sensor_id, a.onset_t, a.cleared_t) for a in slow.history()] and len(quick.history()) == 1
    assert quick._tracks["B"].horizon == dataset.time_range()[1]  # seen up to its last sample
    assert AlarmTracker(sensors)._quiet_sensors(dataset, math.inf) == {"B", "B2"}


def test_a_dataset_written_elsewhere_gets_its_summary_on_first_open(written, tmp_path):
    folder, store = written
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "_summary")
    (copy / "_twinviewer.json").unlink()
    dataset = ParquetDataset(copy)
    assert dataset.sensor_ids == ["A", "B"] and (copy / "_summary" / "levels.json").is_file()
    a = dataset.summary("A", T0, T0 + 200_000, 3600.0)
    assert a.vmax.max() == 500.0
    (copy / "_summary" / "levels.json").write_text('{"levels": "many", "origin": 1e999}')  # damaged: rebuilt
    assert ParquetDataset(copy).summary("A", T0, T0 + 200_000, 3600.0).vmax.max() == 500.0
    (copy / "date=2024-01-03" / "extra.parquet").write_bytes(b"not parquet")
    with pytest.raises(RecordingError, match="more than one Parquet file"):
        ParquetDataset(copy)


def test_whole_reads_are_bounded(written, monkeypatch, tmp_path):
    folder, store = written
    dataset = ParquetDataset(folder)
    times, matrix = dataset.aligned_samples(["B", "A"])
    expected = store.aligned_samples(["B", "A"])
    np.testing.assert_array_equal(times, expected[0])
    np.testing.assert_array_equal(matrix, expected[1])
    np.testing.assert_array_equal(dataset.samples("A")[1], store.samples("A")[1])
    copy = write_dataset(tmp_path / "again", dataset)  # a dataset written from a dataset
    assert ParquetDataset(copy).sample_count == 2 * N
    monkeypatch.setenv("TWINVIEWER_MAX_DATASET_LOAD_ROWS", "1000")
    with pytest.raises(RecordingError, match="TWINVIEWER_MAX_DATASET_LOAD_ROWS"):
        dataset.samples("A")


def test_sensors_with_their_own_timestamps_are_written_long(tmp_path):
    store = TimeSeriesStore()
    store.append_many("fast", T0 + np.arange(0, 100_000, 2.0), np.arange(50_000.0))
    store.append_many("slow", T0 + np.arange(1, 100_000, 60.0), np.arange(1667.0) * -1)
    folder = write_dataset(tmp_path / "live", store)
    meta = pq.read_schema(next(folder.glob("date=*/*.parquet"))).metadata[b"twinviewer"]
    assert json.loads(meta)["layout"] == "long"
    dataset = ParquetDataset(folder)
    assert dataset.sample_count == 50_000 + 1667
    for t in (T0 + 3.0, T0 + 61.5, T0 + 90_000.0, T0 + 99_999.0):  # between the slow sensor's samples
        np.testing.assert_array_equal(dataset.values_at(t).values, store.values_at(t, ["fast", "slow"]).values)
    summary = dataset.summary("slow", T0, T0 + 100_000, 3600.0)
    np.testing.assert_array_equal(summary.count[summary.count > 0],
                                  store.summary("slow", T0, T0 + 100_000, 3600.0).count)


def test_a_folder_that_cannot_hold_the_summary_gets_it_in_the_cache(written, tmp_path, monkeypatch):
    folder, _ = written
    copy = tmp_path / "readonly"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "_summary")
    (copy / "_summary").write_text("a file where the summary folder would go")
    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    dataset = ParquetDataset(copy)
    assert dataset.levels and list((tmp_path / "cache" / "dataset-summaries").iterdir())
    assert ParquetDataset(copy).summary("A", T0, T0 + 200_000, 3600.0).vmax.max() == 500.0  # found again


def test_import_recording_opens_a_folder_lazily(written):
    folder, _ = written
    dataset, report = import_recording([folder], mapping={"A": "PT-1"}, periods={"PT-1": 5.0})
    assert not dataset.in_memory and dataset.sensor_ids == ["PT-1", "B"]
    assert report.rows == 2 * N and [e.label for e in report.events] == ["start"]
    assert dataset.values_at(T0 + STEP * 30_000).value("PT-1") == 500.0


def test_convert_writes_a_dataset_and_query_reads_it(tmp_path, capsys):
    csv = tmp_path / "log.csv"
    lines = ["time,TT-1,PT-1"] + [f"2024-03-01T23:59:{s:02d}Z,{s},{2 * s}" for s in range(50)] \
        + [f"2024-03-02T00:00:{s:02d}Z,{100 + s},{-s}" for s in range(10)]
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "log-data"
    assert main(["convert", str(csv), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("date=*")) == ["date=2024-03-01", "date=2024-03-02"]
    project = tmp_path / "p.twin.toml"
    project.write_text('[asset]\nname = "x"\n[[models]]\nfile = "m.glb"\n[[sensors]]\nid = "TT-1"\npart = "a"\nquantity = "temperature"\nposition = [0, 0, 0]\n'
                       'unit = "°C"\n[sensors.thresholds]\nwarning_high = 100.0\n')
    capsys.readouterr()
    code = main(["query", str(project), "--recording", str(out),
                 "SELECT s.id, s.unit, count(*) AS n, max(value) AS top FROM samples JOIN sensors s "
                 "ON s.id = samples.sensor WHERE value > s.warning_high GROUP BY ALL"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["id,unit,n,top", "TT-1,°C,9,109.0"]
    assert main(["query", str(project), "--recording", str(out), "SELECT nope FROM samples"]) == 2
    assert "query failed" in capsys.readouterr().err
    assert main(["query", str(project), "--recording", str(tmp_path / "missing"), "SELECT 1"]) == 2


def test_alarms_from_a_lazy_dataset_are_the_alarms_from_its_samples(tmp_path, monkeypatch):
    """Whatever the buckets a long range is read in, alarms start and clear at the samples' own times: the
    same list, to the second, as from the samples in memory (deadband, delays, chatter, both directions)."""
    from twinviewer.core.alarms import AlarmSettings, AlarmTracker
    from twinviewer.core.project import Sensor

    rng = np.random.default_rng(3)
    times = T0 + STEP * np.arange(N)
    level = 50 + 5 * np.sin(times / 20_000.0) + rng.normal(0, 1.0, N)
    for start, length, height in ((8_000, 1, 40), (21_000, 400, 35), (33_000, 60, 22), (47_000, 3, -80)):
        level[start:start + length] += height  # a spike, a long episode, a warning, a dip below the low alarm
    level[21_100:21_160] -= 37  # back inside for a while in the middle of the long one (chatter)
    store = TimeSeriesStore()
    store.append_block(times, ["L"], level[:, None])
    folder = write_dataset(tmp_path / "plant", store)
    monkeypatch.setattr("twinviewer.io.dataset.RAW_ROW_BUDGET", 1000)  # a long range: buckets only
    sensors = [Sensor(id="L", quantity="level", part="p", position=(0, 0, 0), expected_period_s=STEP,
                      thresholds={"warning_high": 70.0, "alarm_high": 80.0, "alarm_low": 0.0})]
    settings = {"L": AlarmSettings(deadband=1.5, on_delay=10.0, off_delay=60.0)}
    lazy, memory = AlarmTracker(sensors, settings=settings), AlarmTracker(sensors, settings=settings)
    dataset = ParquetDataset(folder)
    assert dataset.window("L", -math.inf, math.inf, max_points=2**62)[0].size < N, "bucketed"
    lazy.rescan(dataset)
    memory.rescan(store)

    def listed(tracker):
        return [(a.limit, a.onset_t, a.cleared_t, a.count, a.extreme_value) for a in tracker.history()]

    assert listed(lazy) == listed(memory) and len(listed(memory)) >= 4
    assert not lazy.approximate
    # More rows than a pass may decode: bucket times, and the sensor is named as approximate.
    monkeypatch.setattr("twinviewer.core.alarms.RAW_REFINE_ROWS", 100)
    rough = AlarmTracker(sensors, settings=settings)
    rough.rescan(dataset)
    assert rough.approximate == {"L"} and any(a.limit == "alarm_high" for a in rough.history())
    # The clock at the long episode: that span is read raw and its alarms are the samples' own, the others
    # stay at bucket times until the clock comes to them.
    long_episode = min((a for a in memory.alarms if a.limit == "alarm_high" and a.onset_t > times[20_000]),
                       key=lambda a: a.onset_t)
    assert rough.refine_near(dataset, long_episode.onset_t, max_rows=math.inf)
    exact = [a for a in listed(memory) if abs(a[1] - long_episode.onset_t) < 2_000 * STEP]
    assert exact and set(exact) <= set(listed(rough)) and rough.approximate == {"L"}
    assert rough.levels_at(long_episode.onset_t).tolist() == memory.levels_at(long_episode.onset_t).tolist()
    rough.refine_between(dataset, -math.inf, math.inf)
    assert listed(rough) == listed(memory) and not rough.approximate

    # Acknowledged while still at bucket times: the acknowledgement follows the alarm to its exact times.
    acked = AlarmTracker(sensors, settings=settings)
    acked.rescan(dataset)
    bucketed = next(a for a in acked.history() if a.limit == "alarm_high")
    assert bucketed.onset_t != long_episode.onset_t, "placed at a bucket time before its samples are read"
    acked.acknowledge(bucketed.alarm_id, "Ana", bucketed.onset_t + 30.0, "seen")
    exact = acked.exact(bucketed.alarm_id, dataset)  # Go to onset: its span is read first
    assert exact.alarm_id in {a.alarm_id for a in memory.alarms} and exact.limit == "alarm_high"
    assert bucketed.alarm_id not in {a.alarm_id for a in acked.alarms}
    assert acked.get(bucketed.alarm_id) is exact, "a list row or menu made before still finds its alarm"
    assert exact.acknowledgement is not None and exact.acknowledgement.user == "Ana"
    assert exact.acknowledged_at(max(bucketed.onset_t + 30.0, exact.onset_t))
