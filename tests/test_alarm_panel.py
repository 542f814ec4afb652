"""The alarm panel in the window: alarms appear and clear with the data, replay after a backward seek,
acknowledgements persist next to the project, double-click flies to the sensor, the log exports."""

from __future__ import annotations

import csv
import json
import re
import shutil
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window, open_and_wait
from twinviewer.core.alarms import sidecar_path

pytestmark = pytest.mark.gui

T0 = 1_717_000_000.0


@pytest.fixture
def demo_copy(tmp_path):
    """The demo twin in a scratch folder (acknowledgements and view settings are written next to it)."""
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_PROJECT.parent, folder, ignore=shutil.ignore_patterns("*.acks.json"))
    # Without its [[sources]] the twin opens with no recording: each test feeds the data it needs.
    text = DEMO_PROJECT.read_text(encoding="utf-8")
    text = re.sub(r"^\[\[sources\]\]\n(?:(?!\[|\n).*\n)*", "", text, flags=re.MULTILINE)
    (folder / DEMO_PROJECT.name).write_text(text, encoding="utf-8")
    return folder / DEMO_PROJECT.name


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path, size=(1200, 800))
    yield win
    win.close()


def panel(window):
    return window.panels["overlay_panel"].alarms


def at(window, t):
    """Move the clock to t and bring every view (and the alarm list) there."""
    window.session.sync_range()
    window.session.clock.seek(t)
    window.session.overlay.reset()
    window.refresh_now()
    panel(window).refresh()


def normal_background(window, until=T0 + 10):
    """Every demo sensor at its normal operating point, once a second."""
    normal = {"TT-101": 90, "IT-101": 60, "VT-101": 2, "TT-102": 55, "TT-103": 55, "VT-102": 2, "VT-103": 2,
              "PT-101": 1.2, "PT-102": 5.5, "FT-101": 100, "TT-104": 25, "ST-101": 1480}
    times = np.arange(T0, until)
    for sid, value in normal.items():
        if sid != "TT-102":
            window.session.store.append_many(sid, times, np.full(times.size, float(value)))


def push_bearing_alarm(window):
    """TT-102 (pump DE bearing, warning 80, alarm 95): normal, then 97-98 °C at T0+2..3, back to 60 at
    T0+5."""
    store = window.session.store
    store.append_many("TT-102", np.array([T0, T0 + 1]), np.array([55.0, 56.0]))
    at(window, T0 + 1)
    assert panel(window).table.rowCount() == 0
    store.append_many("TT-102", np.array([T0 + 2, T0 + 3]), np.array([97.0, 98.0]))
    at(window, T0 + 3)


def cell(table, row, column):
    return table.item(row, column).text()


def test_alarm_appears_clears_and_replays_after_seek(qtbot, window, demo_copy):
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    p = panel(window)
    push_bearing_alarm(window)
    table = p.table
    # TT-102 is beyond both its warning (80) and alarm (95) limits: both are active, alarm first.
    assert table.rowCount() == 2
    assert cell(table, 0, 3) == "Alarm" and cell(table, 1, 3) == "Warning"
    assert cell(table, 0, 1).startswith("TT-102") and "bearing" in cell(table, 0, 1).lower()
    assert cell(table, 0, 2) == "Pump bearing housing, drive end"
    assert cell(table, 0, 5) == "97.00 °C" and cell(table, 0, 6) == "> 95 °C"
    assert cell(table, 0, 4) == "▲ high"
    assert cell(table, 0, 7).startswith("active") and cell(table, 0, 8) == "not acknowledged"
    assert p.badge.is_red and "1 alarm" in p.badge.text() and "1 warning" in p.badge.text()
    level = table.item(0, 3).background().color()
    assert level.red() > 180 and level.green() < 80, "alarm level cell is red"
    # The part pulses: the overlay reports it as an alarm part and the window keeps rendering.
    assert window.overlay.alarm_parts == {"bearing_housing_de"}

    # Recovery: back to 60 °C clears both, each after its off-delay (60 s back inside its limit).
    recovery = np.arange(T0 + 6, T0 + 71)
    window.session.store.append_many("TT-102", np.concatenate([[T0 + 4, T0 + 5], recovery]),
                                     np.concatenate([[90.0, 60.0], np.full(recovery.size, 58.0)]))
    at(window, T0 + 10)
    assert all(cell(table, r, 7).startswith("active") for r in range(2)), "still within the off-delay"
    at(window, T0 + 70)
    assert table.rowCount() == 2
    assert all(not cell(table, r, 7).startswith("active") for r in range(2))
    assert not p.badge.is_red and "0 alarms" in p.badge.text()
    # grey
    assert table.item(0, 0).foreground().color().red() == table.item(0, 0).foreground().color().green()
    assert window.overlay.alarm_parts == set()

    # Seeking back into the episode shows it active again, with no history yet.
    at(window, T0 + 2.5)
    assert [cell(table, r, 3) for r in range(table.rowCount())] == ["Alarm", "Warning"]
    assert all(cell(table, r, 7).startswith("active") for r in range(2))
    # Between the alarm clearing (T0+64: 60 s after 90 °C) and the warning clearing (T0+65): warning active,
    # alarm history.
    at(window, T0 + 64.5)
    assert [cell(table, r, 3) for r in range(table.rowCount())] == ["Warning", "Alarm"]
    assert cell(table, 0, 7).startswith("active") and not cell(table, 1, 7).startswith("active")
    assert p.badge.counts == {"alarm": 0, "warning": 1, "unacknowledged": 1, "shelved": 0}
    # Before the onset there is nothing.
    at(window, T0 + 1)
    assert table.rowCount() == 0


def test_recording_loaded_rescans_the_new_store(qtbot, window, demo_copy):
    from twinviewer.core.session import LoadedRecording
    from twinviewer.core.store import TimeSeriesStore

    open_and_wait(qtbot, window, demo_copy)
    store = TimeSeriesStore()
    times = T0 + np.arange(0.0, 600.0)
    values = np.where((times > T0 + 100) & (times < T0 + 300), 160.0, 90.0)  # winding above alarm 155
    store.add_sensor("TT-101", 1.0)
    store.append_many("TT-101", times, values)
    window.session.set_recording(LoadedRecording(store, name="incident"))
    at(window, T0 + 200)
    table = panel(window).table
    assert table.rowCount() == 2 and cell(table, 0, 1).startswith("TT-101")
    at(window, T0 + 500)
    assert table.rowCount() == 2 and not cell(table, 0, 7).startswith("active")


def test_acknowledge_records_user_time_comment_and_persists(qtbot, window, demo_copy):
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    p = panel(window)
    alarm_id = p.tracker.active_at(T0 + 3)[0].alarm_id
    ack = p.acknowledge(alarm_id, "alice", "grease topped up, watching it")
    assert (ack.user, ack.t, ack.comment) == ("alice", T0 + 3, "grease topped up, watching it")
    row = p.row_of(alarm_id)
    assert cell(p.table, row, 8).startswith("alice, ") and "grease topped up" in cell(p.table, row, 8)
    assert "1 unacknowledged" in p.badge.text()  # the warning is still unacknowledged
    saved = json.loads(sidecar_path(demo_copy).read_text(encoding="utf-8"))
    assert [(a["alarm_id"], a["user"], a["comment"]) for a in saved["acknowledgements"]] == [
        (alarm_id, "alice", "grease topped up, watching it")]
    with pytest.raises(ValueError, match="already acknowledged"):
        p.acknowledge(alarm_id, "bob")

    # Reopen the project and replay the same data: the acknowledgement is back on the same alarm.
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    p = panel(window)
    row = p.row_of(alarm_id)
    assert cell(p.table, row, 8).startswith("alice, ")
    assert p.tracker.get(alarm_id).acknowledgement.comment == "grease topped up, watching it"


def test_default_user_is_the_login_name_and_editable(qtbot, window, demo_copy):
    import getpass

    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    p = panel(window)
    assert p.user == getpass.getuser()
    p.user_edit.setText("Technician 7")
    alarm_id = p.tracker.active_at(T0 + 3)[1].alarm_id
    assert p.acknowledge(alarm_id).user == "Technician 7"


def test_double_click_flies_to_sensor_and_selects_part(qtbot, window, demo_copy):
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    p = panel(window)
    sensor = window.twin.project.sensor("TT-102")
    camera = window.viewer.camera
    before = np.array(camera.focal_point)
    assert np.linalg.norm(before - sensor.position) > 0.05
    table = p.table
    rect = table.visualItemRect(table.item(0, 1))
    # Qt 6 item views need the press of the first click before the double-click event.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert np.allclose(camera.focal_point, sensor.position, atol=1e-6)
    assert window.scene.selected == "bearing_housing_de"
    assert window.part_tree.selected_part() == "bearing_housing_de"
    # The sensor's marker is now in the middle of the part of the view the legend leaves free (the scene
    # shifts the picture's centre there: camera window centre, in -1..1 view units, negated by VTK).
    x, y = window.scene.world_to_display(sensor.position)
    width, height = window.viewer.render_window.GetSize()
    shift_x, shift_y = (-c for c in window.scene.camera.GetWindowCenter())
    assert shift_x > 0 or shift_y > 0, "the legend takes a corner, so the free area's middle is off-centre"
    assert abs(x - width / 2 * (1 + shift_x)) < 3 and abs(y - height / 2 * (1 + shift_y)) < 3


def test_go_to_onset_seeks_the_clock(qtbot, window, demo_copy):
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    window.session.store.append_many("TT-102", np.arange(T0 + 4, T0 + 71), np.full(67, 58.0))
    at(window, T0 + 70)
    p = panel(window)
    alarm = p.tracker.history(T0 + 70)[0]
    p.go_to_onset(alarm.alarm_id)
    assert window.session.clock.t == alarm.onset_t == T0 + 2
    assert window.frame.t == T0 + 2
    assert p.selected_alarm_id() == alarm.alarm_id and cell(p.table, p.row_of(alarm.alarm_id), 7).startswith(
        "active"
    )


def test_export_alarm_log_csv_and_json(qtbot, window, demo_copy, tmp_path):
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    p = panel(window)
    alarm_id = p.tracker.active_at(T0 + 3)[0].alarm_id
    p.acknowledge(alarm_id, "alice", "seen")
    rows = list(csv.DictReader(p.export_log(tmp_path / "log.csv").open(encoding="utf-8")))
    assert len(rows) == 2
    alarm_row = next(r for r in rows if r["alarm_id"] == alarm_id)
    assert (
        alarm_row["level"] == "alarm"
        and alarm_row["unit"] == "°C"
        and alarm_row["acknowledged_by"] == "alice"
    )
    assert float(alarm_row["onset_value"]) == 97.0 and alarm_row["cleared_utc"] == ""
    document = json.loads(p.export_log(tmp_path / "log.json").read_text(encoding="utf-8"))
    assert document["format"] == "twinviewer-alarm-log" and len(document["alarms"]) == 2


def test_incident_recording_replay_lists_alarms_and_pulses_the_part(qtbot, window, demo_copy):
    from twinviewer.core.session import LoadedRecording
    from twinviewer.io.recording import read_recording

    open_and_wait(qtbot, window, demo_copy)
    store, _report = read_recording(demo_copy.parent / "recordings" / "incident.parquet")
    window.session.set_recording(LoadedRecording(store, name="incident"))
    start, end = store.time_range()
    p = panel(window)
    at(window, start + 10500)  # bearing DE in alarm: temperature and vibration
    table = p.table
    active = [(cell(table, r, 1).split()[0], cell(table, r, 3)) for r in range(table.rowCount())
              if cell(table, r, 7).startswith("active")]
    levels = {(sensor, level.split(" ×")[0]) for sensor, level in active}
    assert ("TT-102", "Alarm") in levels and ("VT-102", "Alarm") in levels
    # VT-102 chatters around its alarm limit: one row with a count, not one row per crossing.
    assert len([1 for sensor, level in active if sensor == "VT-102" and level.startswith("Alarm")]) == 1
    assert active[0][1] == "Alarm" and p.badge.is_red
    # Debounced by the deadband and the off-delay: a handful of episodes, not one per noisy sample.
    assert 3 <= len(p.tracker.alarms) < 20
    assert "bearing_housing_de" in window.overlay.alarm_parts
    # The window keeps drawing while a part is in alarm, so the part pulses.
    # Sample for a little more than one pulse period of wall time (not a fixed tick count: on a fast machine
    # six short waits can all fall inside one half period).
    from twinviewer.core.overlay_engine import PULSE_PERIOD_S

    colours = set()
    began = time.monotonic()
    while time.monotonic() - began < PULSE_PERIOD_S * 1.25:
        window.tick()
        colours.add(tuple(np.round(window.scene.parts["bearing_housing_de"].actor.GetProperty().GetColor(),
                                   3)))
        qtbot.wait(110)
    assert len(colours) == 2, "a two-step blink (two renders per period, cheap while nothing else changes)"
    # The recording starts with a healthy baseline: nothing in the list for the first half hour ...
    at(window, start + 60)
    assert table.rowCount() == 0 and not p.badge.is_red
    # ... then the vibration warning is the first onset, so "go to onset" lands on a real change.
    at(window, start + 45 * 60)
    assert [(cell(table, r, 1).split()[0], cell(table, r, 3)) for r in range(table.rowCount())] == [
        ("VT-102", "Warning")]
    assert p.tracker.alarms[0].onset_t > start + 30 * 60


def test_shelve_hides_an_alarm_from_the_badge_with_a_logged_reason(qtbot, window, demo_copy):
    from twinviewer.core.errors import TwinViewerError

    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    push_bearing_alarm(window)
    p = panel(window)
    alarm = next(a for a in p.tracker.active_at(T0 + 3) if a.is_alarm)
    p.table.selectRow(p.row_of(alarm.alarm_id))
    assert p.shelve_button.isEnabled()
    with pytest.raises(TwinViewerError, match="reason"):
        p.shelve(alarm.alarm_id, "", 900)
    p.shelve(alarm.alarm_id, "thermocouple being replaced", 900, user="ana")
    assert not p.badge.is_red and "1 shelved" in p.badge.text()
    row = p.row_of(alarm.alarm_id)
    assert "shelved until" in cell(p.table, row, 8) and "thermocouple being replaced" in cell(p.table, row, 8)
    # The part keeps its alarm colour: shelving hides the annunciation, not the state.
    assert "bearing_housing_de" in window.overlay.alarm_parts
    saved = json.loads(sidecar_path(window.twin.path).read_text(encoding="utf-8"))
    assert saved["shelves"][0]["reason"] == "thermocouple being replaced" and saved["shelves"][0]["user"] == "ana"
