"""Remaining useful life: features use only the past, a synthetic wear-out is learned, the CLI round trip."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from twinviewer.cli import main
from twinviewer.core.rul import RUL_CAP, fit_rul, nasa_score, unit_features
from twinviewer.io.recording import write_recording
from twinviewer.io.rul_files import CMAPSS_SENSORS, load_rul_model, read_cmapss


def wear_unit(rng, life: int) -> np.ndarray:
    """A vibration that grows exponentially towards failure, a temperature that follows it, a constant."""
    age = np.arange(life) / life
    vibration = 1.0 + 0.02 * np.exp(5 * age) + rng.normal(0, 0.05, life)
    temperature = 60 + 8 * age ** 3 + rng.normal(0, 0.3, life)
    return np.column_stack([vibration, temperature, np.full(life, 5.0)])


def test_features_use_only_the_past():
    rng = np.random.default_rng(0)
    unit = wear_unit(rng, 120)
    whole = unit_features(unit)
    np.testing.assert_allclose(unit_features(unit[:70]), whole[:70])
    assert whole.shape == (120, 7) and whole[-1, -1] == 120


def test_learns_a_synthetic_wear_out():
    rng = np.random.default_rng(1)
    units = [wear_unit(rng, int(rng.integers(150, 260))) for _ in range(24)]
    model = fit_rul(units, ["vib", "temp", "const"])
    assert model.sensors == ["vib", "temp"]  # the constant carries nothing
    errors = []
    for _ in range(6):
        unit = wear_unit(rng, 200)[:, :2]
        predicted = model.predict_unit(unit)
        truth = np.minimum(np.arange(199, -1, -1), RUL_CAP)
        errors.append(predicted - truth)
    rmse = float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
    assert rmse < 20, rmse
    assert nasa_score(np.array([10.0]), np.array([0.0])) > nasa_score(np.array([-10.0]), np.array([0.0]))


@pytest.fixture(scope="module")
def fd001_subset(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmapss")
    lines = (shared_data / "sensors" / "cmapss" / "train_FD001.txt").read_text().splitlines()
    train = [line for line in lines if int(line.split()[0]) <= 30]
    test = [line for line in lines if 91 <= int(line.split()[0]) <= 100]
    (folder / "train.txt").write_text("\n".join(train) + "\n")
    # the test units cut 40 cycles before failure, like the C-MAPSS test files
    units = {}
    for line in test:
        units.setdefault(line.split()[0], []).append(line)
    (folder / "test.txt").write_text("\n".join(row for rows in units.values() for row in rows[:-40]) + "\n")
    return folder


def test_cli_fits_then_estimates_each_unit(fd001_subset, tmp_path, capsys):
    model_file = tmp_path / "rul.json"
    assert main(["rul", "--fit", str(fd001_subset / "train.txt"), "--out", str(model_file)]) == 0
    assert model_file.stat().st_size < 100_000
    out = tmp_path / "rul.csv"
    assert main(["rul", str(fd001_subset / "test.txt"), "--model", str(model_file), "--out", str(out)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["unit"] for r in rows] == [str(u) for u in range(91, 101)]
    estimates = np.array([float(r["rul"]) for r in rows])
    assert np.sqrt(np.mean((estimates - 40) ** 2)) < 25  # each unit truly has 40 cycles left
    # A recording of one unit (sensors named as in the model) gives one row for it.
    units = read_cmapss(fd001_subset / "test.txt")
    values = units[91]
    recording = write_recording(tmp_path / "engine91.parquet", 1_700_000_000.0 + np.arange(len(values)),
                                CMAPSS_SENSORS, values)
    out2 = tmp_path / "one.csv"
    assert main(["rul", str(recording), "--model", str(model_file), "--out", str(out2)]) == 0
    one = list(csv.DictReader(out2.open()))
    assert one[0]["unit"] == "engine91" and float(one[0]["rul"]) == pytest.approx(float(rows[0]["rul"]), abs=0.05)


def test_model_file_is_validated(fd001_subset, tmp_path, capsys):
    model_file = tmp_path / "rul.json"
    assert main(["rul", "--fit", str(fd001_subset / "train.txt"), "--out", str(model_file)]) == 0
    load_rul_model(model_file)
    data = json.loads(model_file.read_text())
    data["networks"][0]["w2"] = data["networks"][0]["w2"][:-1]
    model_file.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["rul", str(fd001_subset / "test.txt"), "--model", str(model_file), "--out",
                 str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "networks.0" in err
    bad = tmp_path / "bad.txt"
    bad.write_text("1 1 0.1\n")
    assert main(["rul", "--fit", str(bad), "--out", str(tmp_path / "m.json")]) == 2
    assert "bad.txt:1: expected 26 numbers" in capsys.readouterr().err
