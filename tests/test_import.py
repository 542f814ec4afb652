"""Recording import: real data sets, corrupted files, every format, the native Parquet round trip."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twinviewer.core.errors import CancelledError, RecordingError
from twinviewer.core.events import Event
from twinviewer.core.project import ColumnMap, RecordingSource, parse_project
from twinviewer.core.store import FRESH, NO_DATA, TimeSeriesStore
from twinviewer.io.adapters import HYDRAULIC_START
from twinviewer.io.importers import import_recording, import_source, resolve_recording_files
from twinviewer.io.recording import export_csv, read_metadata, read_recording, write_recording, write_store


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


# ------------------------------------------------------------------ real data
def test_skab_valve1_session_is_one_recording_in_time_order(shared_data: Path):
    files = resolve_recording_files(None, str(shared_data / "sensors/skab/valve1/*.csv"))
    assert [f.name for f in files][:3] == ["0.csv", "1.csv", "2.csv"] and len(files) == 16
    store, report = import_recording(files, timezone="Europe/Moscow")
    assert report.rows == 18_160 and len(store.sensor_ids) == 8
    assert "Voltage" in store.sensor_ids and "anomaly" not in store.sensor_ids
    t0, t1 = store.time_range()
    assert t0 == utc("2020-03-09 07:14:33")  # 10:14:33 Moscow time (UTC+3)
    assert 5.2 < (t1 - t0) / 3600 < 5.4
    anomalies = [e for e in report.events if e.kind == "anomaly"]
    assert len(anomalies) == 16 and all(e.t_end > e.t for e in anomalies)
    assert any(e.kind == "changepoint" for e in report.events)
    assert report.count("gap") >= 1 and report.label_columns == ["anomaly", "changepoint"]
    first = store.values_at(t0)
    assert first.value("Accelerometer1RMS") == pytest.approx(0.0265878)
    assert "Imported 16 files" in str(report)


def test_skab_anomaly_free_has_no_label_columns(shared_data: Path):
    store, report = import_recording(shared_data / "sensors/skab/anomaly-free/anomaly-free.csv")
    assert report.rows == 9_405 and report.events == [] and report.label_columns == []
    assert store.values_at(store.time_range()[0]).value("Volume Flow RateRMS") == pytest.approx(122.664)


def test_nab_labels_become_events_and_repeated_hour_is_reported(shared_data: Path):
    store, report = import_recording(shared_data / "sensors/nab/machine_temperature_system_failure.csv",
                                     mapping={"value": "TT-101"})
    assert store.sensor_ids == ["TT-101"]
    windows = [e for e in report.events if e.kind == "anomaly window"]
    points = [e for e in report.events if e.kind == "anomaly"]
    assert len(windows) == 4 and len(points) == 4
    assert windows[0].t == utc("2013-12-10 06:25:00") and windows[0].t_end == utc("2013-12-12 05:35:00")
    # the file repeats 02:00–02:55 on 2014-01-07: reported, sorted, last value kept
    assert report.count("duplicate timestamp") == 12 and report.first_lines("duplicate timestamp")[0] == 10151
    times, _ = store.samples("TT-101")
    assert np.all(np.diff(times) > 0)
    assert store.values_at(utc("2014-01-07 02:00:00")).value("TT-101") == pytest.approx(94.13972336)


def test_hydraulic_rig_cycles_back_to_back_with_condition_events(shared_data: Path):
    store, report = import_recording(shared_data / "sensors/hydraulic_zema",
                                     mapping={"TS1": "TT-101", "VS1": "VT-102"})
    assert store.sensor_ids == ["TT-101", "VT-102"]
    assert report.rows == 2205 * 60 and "CE" in report.unmapped_columns
    assert store.time_range() == (HYDRAULIC_START, HYDRAULIC_START + 2205 * 60 - 1)
    # cycle 2, second 0 is the first value of row 2 of TS1.txt
    row2 = (shared_data / "sensors/hydraulic_zema/TS1.txt").read_text().splitlines()[1].split("\t")
    assert store.values_at(HYDRAULIC_START + 60).value("TT-101") == pytest.approx(float(row2[0]))
    conditions = [e for e in report.events if e.kind == "condition"]
    assert any("cooler 3%" in e.label for e in conditions) and all(e.t_end > e.t for e in conditions)


# ------------------------------------------------------------------ corrupted files
BAD_CSV = """time;A;B
2024-01-01T00:00:00Z;1.0;10
2024-01-01T00:00:01Z;2.0;20
2024-01-01T00:00:02Z;3.0
2024-01-01T00:00:03Z;four;40
2024-01-01T00:00:05Z;5.0;50
2024-01-01T00:00:04Z;4.5;45
2024-01-01T00:00:05Z;5.5;55
not a time;6;60

2024-01-01T00:00:06Z;;66
2024-01-01T00:00:07Z;7.0;70
2024-01-01T00:00:08Z;8.0"""


def test_corrupted_csv_rows_are_counted_with_line_numbers(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    store, report = import_recording(path)
    assert report.count("truncated line") == 2 and report.first_lines("truncated line") == [4, 13]
    assert report.count("unparsable number") == 1 and report.first_lines("unparsable number") == [5]
    assert report.count("out of order") == 1 and report.first_lines("out of order") == [7]
    assert report.count("duplicate timestamp") == 1 and report.first_lines("duplicate timestamp") == [8]
    assert report.count("bad timestamp") == 1 and report.first_lines("bad timestamp") == [9]
    assert report.count("blank line") == 1 and report.first_lines("blank line") == [10]
    assert report.count("missing value") == 1 and report.first_lines("missing value") == [11]
    times, values = store.samples("A")
    assert times.tolist() == [utc("2024-01-01 00:00:0" + s) for s in "0134567"]
    assert values[2] != values[2]  # "four" is a gap
    assert values[3:5].tolist() == [4.5, 5.5]  # reversed row sorted in, the later duplicate wins
    text = str(report)
    assert "truncated line: 2" in text and "bad.csv lines 4, 13" in text


def test_long_csv_unknown_sensor_and_mapping(tmp_path: Path):
    path = tmp_path / "long.csv"
    path.write_text("time,sensor,value\n1700000000,tt1,20.5\n1700000000,pt1,3.0\n1700000001,tt1,21\n"
                    "1700000001,zz9,7\n1700000001,pt1,3.5\n")
    store, report = import_recording(path, mapping=[ColumnMap(column="tt1", sensor="TT-101"),
                                                    ColumnMap(column="pt1", sensor="PT-101", scale=10.0)])
    assert report.count("unknown sensor") == 1 and report.first_lines("unknown sensor") == [5]
    assert report.unmapped_columns == ["zz9"]
    assert store.values_at(1700000001.0).as_dict() == {"TT-101": (21.0, FRESH), "PT-101": (35.0, FRESH)}


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"time,A,B\n", "header but no data"),
    (bytes(range(256)) * 40, "binary"),
    (b"time,A\nyesterday,1\nlast week,2\n", "no timestamp"),
])
def test_unusable_files_raise_one_clear_error(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message):
        import_recording(path)


def test_missing_file_and_unmatched_mapping(tmp_path: Path):
    with pytest.raises(RecordingError, match="no such file"):
        import_recording(tmp_path / "nope.csv")
    path = tmp_path / "a.csv"
    path.write_text("time,A\n1700000000,1\n")
    with pytest.raises(RecordingError, match="none of the mapped columns"):
        import_recording(path, mapping={"X": "TT-101"})


def test_empty_file_in_a_session_is_reported_and_skipped(tmp_path: Path):
    (tmp_path / "1.csv").write_text("time,A\n1700000000,1\n1700000001,2\n")
    (tmp_path / "2.csv").write_text("")
    store, report = import_recording([tmp_path / "1.csv", tmp_path / "2.csv"])
    assert report.count("empty file") == 1 and store.sample_count == 2


# ------------------------------------------------------------------ time formats and delimiters
@pytest.mark.parametrize("cell, expected", [
    ("1700000000", 1700000000.0),
    ("1700000000500", 1700000000.5),  # milliseconds by magnitude
    ("2023-11-14T22:13:20Z", 1700000000.0),
    ("2023-11-14T23:13:20+01:00", 1700000000.0),
    ("2023-11-14 22:13:20.250", 1700000000.25),
])
def test_timestamp_forms(tmp_path: Path, cell: str, expected: float):
    path = tmp_path / "t.csv"
    path.write_text(f"time\tA\n{cell}\t1\n")
    store, report = import_recording(path, timezone="UTC")
    assert store.time_range()[0] == pytest.approx(expected)


def test_naive_times_use_the_source_timezone_and_time_format_overrides(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("stamp|A\n2024-07-01 12:00:00|1\n")
    store, _ = import_recording(path, timezone="Europe/Berlin")
    assert store.time_range()[0] == utc("2024-07-01 10:00:00")  # CEST = UTC+2
    path.write_text("t;A\n1700000000;1,5\n")
    store, _ = import_recording(path, time_format="epoch_ms")
    assert store.time_range()[0] == 1700000.0
    assert store.values_at(1700000.0).value("A") == 1.5  # decimal comma with ';'


def test_headerless_csv_names_columns_by_number(tmp_path: Path):
    path = tmp_path / "raw.csv"
    path.write_text("1700000000,1.5,2.5\n1700000001,1.6,2.6\n")
    store, _ = import_recording(path, mapping={"3": "PT-101"})
    assert store.values_at(1700000001).as_dict() == {"PT-101": (2.6, FRESH)}


def test_progress_and_cancel(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("time,A\n" + "".join(f"{1700000000 + i},{i}\n" for i in range(1000)))
    seen: list[float] = []
    import_recording(path, progress=lambda fraction, message: seen.append(fraction))
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    with pytest.raises(CancelledError):
        import_recording(path, cancel=lambda: True)


# ------------------------------------------------------------------ native Parquet format
def test_native_round_trip_read_by_pyarrow_and_duckdb(tmp_path: Path):
    times = 1.7e9 + np.arange(500) * 0.1
    values = np.column_stack([np.sin(times), np.cos(times), np.arange(500.0)])
    values[10, 1] = np.nan
    quality = np.zeros(values.shape, dtype=np.uint8)
    quality[20, 2] = 2
    events = [Event(times[5], times[50], "anomaly", "valve closed")]
    path = write_recording(tmp_path / "rec.parquet", times, ["TT-101", "PT-101", "FT-101"], values, quality,
                           {"asset": "Pump", "units": {"TT-101": "°C"}, "events": events})
    table = pq.read_table(path)
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_dictionary(table.schema.field("sensor").type)
    assert (
        table.schema.field("value").type == pa.float64() and table.schema.field("quality").type == pa.uint8()
    )
    assert table.num_rows == 1500
    assert read_metadata(path)["units"] == {"TT-101": "°C"}
    rows = duckdb.sql(f"SELECT sensor, count(*), max(value) FILTER (WHERE NOT isnan(value)) "
                      f"FROM read_parquet('{path}') GROUP BY sensor ORDER BY sensor").fetchall()
    assert rows == [("FT-101", 500, 499.0), ("PT-101", 500, pytest.approx(np.nanmax(values[:, 1]))),
                    ("TT-101", 500, pytest.approx(values[:, 0].max()))]
    store, report = read_recording(path)
    assert store.sensor_ids == ["TT-101", "PT-101", "FT-101"]
    got_t, got_v = store.samples("TT-101")
    assert np.allclose(got_t, times, atol=1e-6) and np.allclose(got_v, values[:, 0])
    assert store.values_at(times[10], ["PT-101"]).state[0] == NO_DATA
    assert math.isnan(store.samples("FT-101")[1][20]) and report.count("bad quality") == 1
    assert report.events == [Event(float(times[5]), float(times[50]), "anomaly", "valve closed")]
    assert report.metadata["asset"] == "Pump"


def test_write_store_with_live_sensors_and_export_csv(tmp_path: Path):
    store = TimeSeriesStore()
    store.append_many("A", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    store.append_many("B", [1.5, 2.5], [10.0, 20.0])
    path = write_store(tmp_path / "live.parquet", store)
    again, _ = read_recording(path)
    assert again.samples("A")[1].tolist() == [1.0, 2.0, 3.0] and again.samples("B")[0].tolist() == [1.5, 2.5]
    csv_path = export_csv(tmp_path / "out.csv", store, t0=1.5)
    lines = csv_path.read_text().splitlines()
    assert lines[0] == '"time","A","B"' and lines[1].startswith('"1970-01-01T00:00:01.500Z",,10')
    back, report = import_recording(csv_path)
    values = back.samples("A")[1]
    assert values[~np.isnan(values)].tolist() == [2.0, 3.0] and report.count("missing value") == 4


def test_generic_wide_parquet(tmp_path: Path):
    table = pa.table({"timestamp": pa.array([1_700_000_000_000, 1_700_000_001_000], pa.timestamp("ms")),
                      "speed": [1480.0, 1482.0], "note": ["a", "b"], "anomaly": [0, 1]})
    pq.write_table(table, tmp_path / "wide.parquet")
    store, report = import_recording(tmp_path / "wide.parquet")
    assert store.sensor_ids == ["speed"] and store.time_range() == (1_700_000_000.0, 1_700_000_001.0)
    assert [e.kind for e in report.events] == ["anomaly"] and "note" in report.notes[0]


def test_not_parquet_raises(tmp_path: Path):
    path = tmp_path / "x.parquet"
    path.write_text("hello")
    with pytest.raises(RecordingError, match="not a readable Parquet"):
        read_recording(path)


# ------------------------------------------------------------------ projects and paths
PROJECT = """
format_version = 1
[asset]
name = "Pump"
[[models]]
file = "pump.glb"
[[parts]]
name = "motor"
[[sensors]]
id = "IT-101"
quantity = "current"
unit = "A"
part = "motor"
position = [0, 0, 0]
expected_period_s = 2.0
[[sources]]
kind = "recording"
name = "bench"
file = "${BENCH_DIR}/run-*.csv"
[[sources.columns]]
column = "Current"
sensor = "IT-101"
scale = 10.0
offset = 1.0
"""


def test_project_source_with_variables_override_and_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    data.mkdir()
    for i in (10, 2):
        (data / f"run-{i}.csv").write_text(f"time,Current,Voltage\n{1700000000 + i},{i},230\n")
    project = parse_project(PROJECT, tmp_path / "p.twin.toml")
    with pytest.raises(RecordingError, match="BENCH_DIR"):
        resolve_recording_files(project, project.sources[0])
    assert [p.name for p in resolve_recording_files(project, project.sources[0], override_dir=data)] == \
        ["run-2.csv", "run-10.csv"]
    monkeypatch.setenv("BENCH_DIR", str(data))
    store, report = import_source(project, "bench")
    assert store.sensor_ids == ["IT-101"] and store.expected_period("IT-101") == 2.0
    assert store.samples("IT-101")[1].tolist() == [21.0, 101.0]
    assert report.unmapped_columns == ["Voltage"] and "Voltage" in str(report)
    with pytest.raises(RecordingError, match="no recording source named"):
        import_source(project, "other")


def test_source_settings_are_used(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_text("when;x\n5;1\n")
    source = RecordingSource(kind="recording", file=str(path), delimiter=";", time_column="when",
                             time_offset_s=100.0)
    store, _ = import_recording(path, source=source)
    assert store.time_range() == (105.0, 105.0)


def test_metadata_json_is_plain(tmp_path: Path):
    path = write_recording(tmp_path / "m.parquet", [0.0], ["A"], np.array([[1.0]]))
    meta = json.loads(pq.read_schema(path).metadata[b"twinviewer"])
    assert meta["format_version"] == 1 and meta["sensors"] == ["A"] and meta["layout"] == "grid"
