"""``twinviewer simulate``: headless scenario runs into recordings, one-line summary, clean errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twinviewer.cli import main
from twinviewer.io.recording import read_metadata, read_recording

SCENARIOS = Path(__file__).resolve().parents[1] / "assets" / "demo" / "scenarios"
RECORDINGS = Path(__file__).resolve().parents[1] / "assets" / "demo" / "recordings"


def test_simulate_writes_a_recording_and_summarises_the_alarms(tmp_path, capsys):
    out = tmp_path / "run.parquet"
    code = main(["simulate", str(SCENARIOS / "motor_overheating.toml"), "--out", str(out), "--seed", "7"])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    assert "'Motor overheating: blocked cooling'" in line and "03:00:00 simulated" in line
    assert "10801 samples × 12 sensors" in line and "seed 7" in line
    assert "TT-101 warning at +00:3" in line and "(step 3)" in line and "TT-101 alarm at +01:0" in line
    store, _report = read_recording(out)
    assert store.time_range()[1] - store.time_range()[0] == 3 * 3600
    meta = read_metadata(out)
    assert [e["label"] for e in meta["events"]][0] == "Normal running" and meta["seed"] == 7


def test_same_seed_same_file_contents(tmp_path, capsys):
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    for path in paths:
        assert main(["simulate", str(SCENARIOS / "sensor_drift_false_alarm.toml"), "--out", str(path),
                     "--sample-period", "30s"]) == 0
    assert "alarms: TT-102 warning" in capsys.readouterr().out
    stores = [read_recording(p)[0] for p in paths]
    t = stores[0].time_range()[0] + 8 * 3600
    ids = ["TT-102", "VT-102", "FT-101"]
    np.testing.assert_array_equal(stores[0].values_at(t, ids).values, stores[1].values_at(t, ids).values)


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "x"\nduration = "1h"\nstart = "2024-01-01T00:00:00Z"\n[[steps]]\nat = 0\n'
                      'title = "s"\nhighlight = ["no_such_part"]\n')
    assert main(["simulate", str(broken), "--out", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:7: steps[0].highlight[0]: part 'no_such_part' is not in the project" in err
    assert main(["simulate", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "x.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["simulate", str(SCENARIOS / "motor_overheating.toml"), "--out",
                 str(tmp_path / "x.csv")]) == 2
    assert "*.parquet" in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()


def test_bundled_recordings_are_small_and_readable():
    for name in ("normal_operation.parquet", "incident.parquet"):
        path = RECORDINGS / name
        assert path.stat().st_size < 1_000_000, name
        store, report = read_recording(path)
        t0, t1 = store.time_range()
        assert t1 - t0 >= 2 * 3600
        assert read_metadata(path)["events"], name
    incident, _ = read_recording(RECORDINGS / "incident.parquet")
    t0, _t1 = incident.time_range()
    late = incident.values_at(t0 + 4.0 * 3600, ["VT-102", "TT-102"]).values
    assert late[0] > 7.1 and late[1] > 95       # the bearing failure is in the data
