"""`twinviewer convert` of large CSV files into a dataset folder piece by piece: the same dataset as a
whole-file import, in a fraction of the memory, with errors naming the original file."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from twinviewer.cli import main
from twinviewer.io.dataset import ParquetDataset, write_dataset
from twinviewer.io.importers import import_recording
from twinviewer.io.stream_convert import convert_csv_to_dataset

T0 = 1_704_067_200


def wide_csv(path: Path, rows: int, sensors: int = 3) -> Path:
    rng = np.random.default_rng(2)
    values = np.round(rng.normal(50, 10, (rows, sensors)), 2).astype(str)
    values[::13, -1] = ""  # gaps in the last sensor
    lines = ["time," + ",".join(f"S{j}" for j in range(sensors))]
    lines += [f"{T0 + i}," + ",".join(row) for i, row in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def same_dataset(a: Path, b: Path) -> None:
    left, right = ParquetDataset(a), ParquetDataset(b)
    assert left.sensor_ids == right.sensor_ids and left.time_range() == right.time_range()
    for sensor in right.sensor_ids:
        (ta, va), (tb, vb) = left.samples(sensor), right.samples(sensor)
        assert np.array_equal(ta, tb) and np.array_equal(va, vb, equal_nan=True)


def test_streamed_wide_csv_equals_the_whole_import(tmp_path, capsys: pytest.CaptureFixture[str]):
    source = wide_csv(tmp_path / "plant.csv", 20_000)
    assert main(["convert", str(source), "--out", str(tmp_path / "streamed"), "--chunk-mb", "0.05"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"in \d\d pieces: 20,000 rows, 3 sensors", err)
    assert "missing value: 1,539 (first at plant.csv:2, plant.csv:15" in err
    assert main(["convert", str(source), "--out", str(tmp_path / "whole")]) == 0  # below the chunk size
    assert "pieces" not in capsys.readouterr().err
    same_dataset(tmp_path / "streamed", tmp_path / "whole")


def test_streamed_long_csv_files_equal_the_whole_import(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, offset in ((first, 0), (second, 20_000)):
        lines = ["time,sensor,value"]
        for i in range(3000):
            lines.append(f"{T0 + offset + 2 * i},X,{i % 50}")
            if i % 3 == 0:
                lines.append(f"{T0 + offset + 2 * i + 1},Y,{i % 7}")
        path.write_text("\n".join(lines) + "\n")
    out, report = convert_csv_to_dataset([first, second], tmp_path / "streamed", options={},
                                         chunk_bytes=10_000)
    assert report.pieces > 4 and report.rows == 8000 and report.sensors == ["X", "Y"]
    store, _ = import_recording([first, second])
    same_dataset(out, write_dataset(tmp_path / "whole", store))


def test_streaming_holds_one_piece_in_memory(tmp_path):
    source = wide_csv(tmp_path / "big.csv", 40_000, sensors=20)  # ≈ 5 MB of text
    tracemalloc.start()
    try:
        convert_csv_to_dataset([source], tmp_path / "streamed", options={}, chunk_bytes=256 * 1024)
        streamed_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        store, _ = import_recording(source)
        write_dataset(tmp_path / "whole", store)
        whole_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert streamed_peak < whole_peak / 3, (streamed_peak, whole_peak)


def test_a_bad_row_is_reported_at_its_line_in_the_original_file(tmp_path, capsys: pytest.CaptureFixture[str]):
    source = wide_csv(tmp_path / "plant.csv", 5000)
    text = source.read_text().splitlines()
    text[4000] = "yesterday,1,2,3"
    source.write_text("\n".join(text) + "\n")
    assert main(["convert", str(source), "--out", str(tmp_path / "out"), "--chunk-mb", "0.02"]) == 0
    err = capsys.readouterr().err  # an unparsable time is skipped and counted, as in a whole-file import
    assert "bad timestamp: 1 (first at plant.csv:4001)" in err
    assert ParquetDataset(tmp_path / "out").sample_count == 3 * 4999
