"""Opening recordings in the window: the mapping dialog on real SKAB files, reports, failures, drops,
export."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from tests.blocks import build_blocks_project
from tests.test_timeline_ui import T0, new_window, write_ramp_recording
from twinviewer.io.recording import read_recording

pytestmark = pytest.mark.gui

SKAB_SOURCE = """
[[sensors]]
id = "I-1"
label = "Current"
quantity = "current"
unit = "A"
part = "left"
position = [-0.6, -0.5, 0.2]

[[sources]]
kind = "recording"
name = "SKAB valve1"
file = "${TV_TEST_SKAB_DIR}/valve1/*.csv"
delimiter = ";"
timezone = "Europe/Moscow"
columns = [{ column = "Temperature", sensor = "T-L" }]
"""


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path)
    yield win
    win.close()


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def wait_task(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: panel.task is not None and panel.task.done, timeout=30000)
    qtbot.wait(20)


def open_twin(qtbot, window, project: Path):
    window.open_path(project)
    qtbot.waitUntil(lambda: window.twin is not None and window.session is not None, timeout=30000)
    panel = window.panels["recording_panel"]
    if panel.task is not None:
        wait_task(qtbot, panel)
    return panel


@pytest.fixture
def skab_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TV_TEST_SKAB_DIR", raising=False)
    return build_blocks_project(tmp_path, SKAB_SOURCE)


def test_missing_project_recording_says_so_and_a_folder_fixes_it(qtbot, window, skab_project, shared_data):
    panel = open_twin(qtbot, window, skab_project)
    assert not window.session.has_data
    assert "TV_TEST_SKAB_DIR" in window.status_label.text() and "Open recording" in window.status_label.text()
    assert panel.missing_box is not None and "could not be loaded" in panel.missing_box.text()
    panel.missing_box.close()
    panel.use_data_folder(shared_data / "sensors" / "skab")
    wait_task(qtbot, panel)
    assert window.session.has_data
    report = panel.last_report
    assert report.rows == 18_160 and len(report.files) == 16
    assert window.session.store.sensor_time_range("T-L")[0] == utc("2020-03-09 07:14:33")
    assert sum(e.kind == "anomaly" for e in window.session.events) == 16
    assert "18,160 rows" in window.status_label.text()
    assert window.settings.value(panel._folder_key()) == str(shared_data / "sensors" / "skab")


def test_mapping_dialog_imports_a_real_skab_file_and_shows_the_report(
    qtbot, window, skab_project, shared_data
):
    panel = open_twin(qtbot, window, skab_project)
    if panel.missing_box is not None:
        panel.missing_box.close()
    csv = shared_data / "sensors" / "skab" / "valve1" / "0.csv"
    panel.open_recording([csv])
    dialog = panel.import_dialog
    assert dialog is not None
    assert dialog.preview.delimiter == ";" and "(detected)" in dialog.delimiter_combo.currentText()
    assert dialog.time_combo.currentText() == "datetime"
    assert dialog.zone_edit.text() == "Europe/Moscow"
    assert "07:14:33 UTC" in dialog.time_check.text()
    assert dialog.preview_table.item(0, 0).text() == "2020-03-09 10:14:33"
    assert dialog.mapping() == {"Temperature": "T-L", "Current": "I-1"}, "from the source, then by label"
    assert dialog.preview.label_columns == ["anomaly", "changepoint"]
    dialog.set_sensor("Thermocouple", "T-R")
    dialog.set_sensor("Temperature", "T-R")
    assert "both go to T-R" in dialog.problem_label.text()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.set_sensor("Temperature", "T-L")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    wait_task(qtbot, panel)
    session = window.session
    t0 = utc("2020-03-09 07:14:33")
    assert session.store.time_range()[0] == t0
    snapshot = session.store.values_at(t0, ["T-L", "T-R", "I-1"])
    assert snapshot.values.tolist() == pytest.approx([79.3366, 26.0199, 1.3302])
    window.refresh_now()
    assert window.sensor_table.value_text("T-L") == "79.34"
    report_text = panel.report_box.text() + "\n" + panel.report_box.informativeText()
    assert "Imported 0.csv" in report_text
    assert "Columns not mapped to a sensor (not imported): Accelerometer1RMS" in report_text
    assert any(e.kind == "anomaly" for e in session.events)
    assert len(panel.timeline.track.events) == len(session.events) > 0


def test_corrupted_csv_counts_are_shown(qtbot, window, tmp_path):
    panel = open_twin(qtbot, window, build_blocks_project(tmp_path))
    lines = ["time,TL,TR"]
    for i in range(20):
        stamp = datetime.fromtimestamp(T0 + i, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{stamp},{40 + i},{30}")
    lines[6] = lines[6].rsplit(",", 1)[0] + ",abc"  # text in a number column, line 7
    lines[12] = lines[12].rsplit(",", 1)[0]  # a truncated line, line 13
    lines[15] = "not a time,55,30"  # line 16
    lines.append(lines[-1][:12])  # the file ends in the middle of a line (line 22)
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    panel.open_recording([path])
    dialog = panel.import_dialog
    dialog.set_sensor("TL", "T-L")
    dialog.set_sensor("TR", "T-R")
    dialog.accept()
    wait_task(qtbot, panel)
    report = panel.last_report
    assert report.count("unparsable number") == 1 and report.first_lines("unparsable number") == [7]
    assert report.count("truncated line") == 2 and report.first_lines("truncated line") == [13, 22]
    assert report.count("bad timestamp") == 1 and report.first_lines("bad timestamp") == [16]
    shown = panel.report_box.informativeText()
    assert "unparsable number: 1" in shown and "broken.csv line 7" in shown
    assert "truncated line: 2" in shown and "broken.csv lines 13, 22" in shown
    assert "bad timestamp: 1" in shown
    assert "problems" in window.status_label.text()
    assert np.isnan(window.session.store.values_at(T0 + 5, ["T-R"]).values[0])


def test_failed_imports_leave_the_previous_data(qtbot, window, tmp_path):
    write_ramp_recording(tmp_path)
    panel = open_twin(qtbot, window, build_blocks_project(tmp_path))
    panel.open_recording([tmp_path / "rec.parquet"])
    wait_task(qtbot, panel)
    store = window.session.store
    assert store.time_range() == (T0, T0 + 599)
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    panel.open_recording([binary])
    assert "binary data" in window.last_error
    assert window.session.store is store
    no_times = tmp_path / "no_times.csv"
    no_times.write_text("time,TL\n" + "".join(f"soon,{i}\n" for i in range(10)), encoding="utf-8")
    window.last_error = None
    panel.open_recording([no_times])
    panel.import_dialog.set_sensor("TL", "T-L")
    panel.import_dialog.accept()
    wait_task(qtbot, panel)
    assert "no timestamp" in window.last_error
    assert window.session.store is store and store.time_range() == (T0, T0 + 599)
    assert "unchanged" in window.status_label.text()


def test_cancelled_import_changes_nothing(qtbot, window, tmp_path, shared_data):
    write_ramp_recording(tmp_path)
    panel = open_twin(qtbot, window, build_blocks_project(tmp_path))
    panel.open_recording([tmp_path / "rec.parquet"])
    wait_task(qtbot, panel)
    store = window.session.store
    files = sorted((shared_data / "sensors" / "skab" / "valve1").glob("*.csv"))
    task = panel.import_files(files, {"delimiter": ";", "mapping": {"Temperature": "T-L"}})
    task.cancel()
    wait_task(qtbot, panel)
    assert window.session.store is store
    assert "cancelled" in window.status_label.text()


def test_drops_open_recordings_and_export_round_trips(qtbot, window, tmp_path):
    write_ramp_recording(tmp_path)
    panel = open_twin(qtbot, window, build_blocks_project(tmp_path))
    window.open_dropped([tmp_path / "rec.parquet"])
    wait_task(qtbot, panel)
    assert window.session.recording_name == "rec.parquet"
    assert window.twin.path.name == "blocks.twin.toml", "a recording drop does not reopen the twin"
    assert window.session.store.time_range() == (T0, T0 + 599)
    out = tmp_path / "out" / "copy.parquet"
    panel.export(out)
    wait_task(qtbot, panel)
    store, _ = read_recording(out)
    times, values = store.samples("T-L")
    assert times.size == 600 and values[0] == pytest.approx(20.0) and values[-1] == pytest.approx(100.0)
    csv_out = panel.export(tmp_path / "out" / "copy.csv", "csv")
    wait_task(qtbot, panel)
    assert csv_out.result.read_text(encoding="utf-8").splitlines()[0].replace('"', "") == "time,T-L,T-R"
    window.open_dropped([tmp_path / "out" / "copy.csv"])
    assert panel.import_dialog is not None and panel.import_dialog.mapping() == {"T-L": "T-L", "T-R": "T-R"}
    panel.import_dialog.reject()


def test_a_clean_import_says_so_in_the_status_bar_without_a_report_box(qtbot, window, tmp_path):
    panel = open_twin(qtbot, window, build_blocks_project(tmp_path))
    lines = ["time,TL,TR"]
    for i in range(20):
        stamp = datetime.fromtimestamp(T0 + i, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{stamp},{40 + i},{30}")
    path = tmp_path / "clean.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    panel.open_recording([path])
    dialog = panel.import_dialog
    dialog.set_sensor("TL", "T-L")
    dialog.set_sensor("TR", "T-R")
    dialog.accept()
    wait_task(qtbot, panel)
    assert panel.last_report.clean
    assert getattr(panel, "report_box", None) is None, "nothing was skipped: no dialog to click away"
    assert "Loaded clean.csv: 20 rows" in window.status_label.text()
