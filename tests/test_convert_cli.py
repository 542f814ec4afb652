"""`twinviewer convert` and the SKAB example project that binds real recordings to the demo pump."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinviewer.cli import main
from twinviewer.io.importers import import_source
from twinviewer.io.project_files import load_project
from twinviewer.io.recording import read_metadata, read_recording

REPO = Path(__file__).resolve().parents[1]
SKAB_EXAMPLE = REPO / "assets" / "examples" / "skab-pump.twin.toml"


def test_convert_skab_session_with_the_example_project(shared_data: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]):
    files = sorted((shared_data / "sensors/skab/valve1").glob("*.csv"))
    out = tmp_path / "valve1.parquet"
    assert main(["convert", *map(str, files), "--project", str(SKAB_EXAMPLE), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Imported 16 files: 18,160 rows, 8 sensors" in err and "Wrote" in err
    store, report = read_recording(out)
    assert set(store.sensor_ids) == {"VT-102", "VT-103", "IT-101", "PT-102", "TT-101", "TT-104", "FT-101",
                                     "ET-101"}
    flow = store.samples("FT-101")[1]
    assert 1.3 < np.nanmedian(flow) < 2.0  # l/min × 0.06 = m³/h
    assert sum(e.kind == "anomaly" for e in report.events) == 16
    meta = read_metadata(out)
    assert meta["asset"].startswith("SKAB") and meta["units"]["FT-101"] == "m³/h"


def test_convert_reports_bad_rows_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = tmp_path / "bad.csv"
    source.write_text("time,A\n1700000000,1\n1700000001,x\n1700000002\n1700000003,4\n")
    out = tmp_path / "bad.parquet"
    assert main(["convert", str(source), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "truncated line: 1" in err and "bad.csv line 4" in err
    assert "unparsable number: 1" in err and "bad.csv line 3" in err
    assert read_recording(out)[0].sample_count == 3


def test_convert_failures_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["convert", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err
    binary = tmp_path / "model.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    assert main(["convert", str(binary), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "binary" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()
    good = tmp_path / "g.csv"
    good.write_text("time,A\n1,2\n")
    assert main(["convert", str(good), "--project", str(SKAB_EXAMPLE), "--source", "nope",
                 "--out", str(tmp_path / "o.parquet")]) == 2


def test_skab_example_shows_the_valve_closings_as_flow_warnings(shared_data: Path):
    project = load_project(SKAB_EXAMPLE)
    store, report = import_source(project, override_dir=shared_data / "sensors/skab")
    anomalies = [e for e in report.events if e.kind == "anomaly"]
    assert len(anomalies) == 16 and report.unmapped_columns == []
    flow = project.sensor("FT-101")
    crossings = store.threshold_crossings("FT-101", flow.thresholds)
    alarming = [t for t, _, to in crossings if to in ("warning", "alarm")]
    in_anomaly = [t for t in alarming if any(e.t <= t <= e.t_end for e in anomalies)]
    windows_hit = {i for i, e in enumerate(anomalies) for t in alarming if e.t <= t <= e.t_end}
    assert len(windows_hit) >= 12  # most valve closings drop the flow below the warning limit
    assert len(in_anomaly) >= 0.8 * len(alarming)  # and the warnings are mostly inside labelled anomalies
    first = store.values_at(store.time_range()[0], [s.id for s in project.sensors])
    assert first.state_of("FT-101") == 0 and first.state_of("ST-101") == 2
