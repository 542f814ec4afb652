"""``twinviewer detect``: one CSV row per timestamp after training, episodes printed, bad input exit 2."""

from __future__ import annotations

import csv
import shutil

from tests.conftest import DEMO_PROJECT
from twinviewer.cli import main
from twinviewer.io.anomaly_model import load_model, model_path
from twinviewer.io.recording import read_recording

INCIDENT = DEMO_PROJECT.parent / "recordings" / "incident.parquet"


def rows_of(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_train_rows_writes_one_row_per_later_timestamp(tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["detect", str(DEMO_PROJECT), "--recording", str(INCIDENT), "--train-rows", "1800",
                 "--out", str(out)]) == 0
    store, _ = read_recording(INCIDENT)
    total = len(store.samples(store.sensor_ids[0])[0])
    rows = rows_of(out)
    assert len(rows) == total - 1800
    assert list(rows[0]) == ["time", "score", "anomaly"]
    assert {r["anomaly"] for r in rows} == {"0", "1"}
    assert rows[0]["time"].endswith("Z")
    printed = capsys.readouterr().out
    assert "anomaly episode" in printed and "VT-102" in printed  # the bearing vibration explains the incident


def test_train_until_saves_a_model_that_a_later_run_reuses(tmp_path, capsys):
    project = shutil.copytree(DEMO_PROJECT.parent, tmp_path / "demo") / DEMO_PROJECT.name
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["detect", str(project), "--recording", str(INCIDENT), "--train-until", "+30m", "--out", str(first),
                 "--save-model"]) == 0
    model = load_model(model_path(project))
    assert len(model.sensors) == 12
    assert main(["detect", str(project), "--recording", str(INCIDENT), "--out", str(second)]) == 0
    assert rows_of(first) == rows_of(second)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    assert main(["detect", str(DEMO_PROJECT), "--recording", str(INCIDENT), "--train-rows", "99999999",
                 "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--train-rows" in err
    assert main(["detect", str(DEMO_PROJECT), "--recording", str(tmp_path / "none.parquet"), "--train-rows", "10",
                 "--out", out]) == 2


def test_adapt_trades_the_early_warning_of_a_slow_fault_for_fewer_alarms(tmp_path, capsys):
    project = shutil.copytree(DEMO_PROJECT.parent, tmp_path / "demo") / DEMO_PROJECT.name
    fixed, adaptive = tmp_path / "fixed.csv", tmp_path / "adaptive.csv"
    assert main(["detect", str(project), "--recording", str(INCIDENT), "--train-rows", "1800",
                 "--out", str(fixed)]) == 0
    assert main(["detect", str(project), "--recording", str(INCIDENT), "--train-rows", "1800", "--adapt",
                 "--out", str(adaptive), "--save-model"]) == 0
    assert load_model(model_path(project)).adapt > 0

    def first_alarm(path):
        return next(r["time"] for r in rows_of(path) if r["anomaly"] == "1")

    # the bearing's vibration grows slowly: the fixed baseline warns hours before the adaptive one
    assert first_alarm(fixed) < first_alarm(adaptive)
