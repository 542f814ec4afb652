"""The timeline bar driven as a user would: project recording auto-load, play, seek, speed, step, loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.blocks import build_blocks_project
from tests.gui import new_window
from twinviewer.core.events import Event
from twinviewer.core.formatting import format_number
from twinviewer.io.recording import write_recording
from twinviewer.ui.timeline import SPEEDS

pytestmark = pytest.mark.gui

T0 = 1_700_000_000.0
DURATION = 600
SOURCE = """
[[sources]]
kind = "recording"
name = "ramp test"
file = "rec.parquet"
"""


def left_value(t: float) -> float:
    """T-L ramps 20 → 100 °C over the recording: warning (> 60) from +300 s, alarm (> 80) from +450 s."""
    return 20.0 + 80.0 * (t - T0) / (DURATION - 1)


def write_ramp_recording(folder: Path) -> Path:
    times = T0 + np.arange(float(DURATION))
    values = np.column_stack((left_value(times), np.full(DURATION, 40.0)))
    events = [Event(T0 + 100, T0 + 200, "anomaly", "valve closed"),
              Event(T0 + 50, None, "changepoint", "start")]
    return write_recording(folder / "rec.parquet", times, ["T-L", "T-R"], values, metadata={"events": events})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_ramp_recording(tmp_path)
    return build_blocks_project(tmp_path, SOURCE)


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path)
    yield win
    win.close()


def open_with_recording(qtbot, window, project: Path):
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not None and window.session.has_data, timeout=30000)
    panel = window.panels["recording_panel"]
    qtbot.waitUntil(lambda: panel.task is None or panel.task.done, timeout=10000)
    return panel


def activate(qtbot, window) -> None:
    """Keyboard shortcuts reach an active window only."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def test_project_recording_loads_with_markers(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    clock = window.session.clock
    assert (clock.start, clock.end) == (T0, T0 + DURATION - 1)
    assert window.session.recording_name == "ramp test"
    crossings = panel.timeline.track.crossings
    colours = [crossings.colours[i].name() for i in crossings.colour_index]
    assert len(crossings) == 2 and colours == ["#f2a900", "#d62828"], "warning then alarm"
    assert crossings.starts[0] == pytest.approx(T0 + 300,
                                                abs=1) and crossings.starts[1] == pytest.approx(T0 + 450,
                                                                                                          abs=1)
    events = panel.timeline.track.events
    assert len(events) == 2 and "valve closed" in "".join(events.texts)
    track = panel.timeline.track
    x = float(track.x_of(T0 + 150))
    assert "valve closed" in track.tooltip_at(x, 8)  # the events lane
    assert "alarm" in track.tooltip_at(float(track.x_of(T0 + 500)), 20)  # the threshold lane


def test_space_plays_and_the_sensor_list_follows(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    clock = window.session.clock
    activate(qtbot, window)
    panel.timeline.speed_combo.setCurrentIndex(SPEEDS.index(100.0))
    assert clock.speed == 100.0
    before = window.sensor_table.value_text("T-L")
    qtbot.keyClick(window.sensor_table, Qt.Key.Key_Space)
    assert clock.playing
    qtbot.waitUntil(lambda: clock.t > T0 + 60, timeout=5000)
    qtbot.waitUntil(lambda: window.sensor_table.value_text("T-L") != before, timeout=2000)
    qtbot.keyClick(window.sensor_table, Qt.Key.Key_Space)
    assert not clock.playing
    window.refresh_now()
    t = clock.t
    sample_time = np.floor(t - T0) + T0
    assert window.sensor_table.value_text("T-L") == format_number(left_value(sample_time))
    assert panel.timeline.time_label.text().startswith("2023-11-1")


def test_click_on_track_seeks_and_sensor_list_shows_recorded_value(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    track = panel.timeline.track
    target = T0 + 500
    x = int(round(float(track.x_of(target))))
    qtbot.mouseClick(track, Qt.MouseButton.LeftButton, pos=QPoint(x, 32))
    clock = window.session.clock
    seconds_per_pixel = DURATION / track.width()
    assert clock.t == pytest.approx(target, abs=seconds_per_pixel)
    window.refresh_now()
    sample_time = np.floor(clock.t - T0) + T0
    assert window.sensor_table.value_text("T-L") == format_number(left_value(sample_time))
    assert window.sensor_table.status_text("T-L") == "alarm"
    assert window.sensor_table.status_text("T-R") == "normal"


def test_arrow_keys_step_one_and_ten_samples(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    clock = window.session.clock
    activate(qtbot, window)
    panel.timeline.seek(T0 + 100)
    qtbot.keyClick(window.sensor_table, Qt.Key.Key_Right)
    assert clock.t == T0 + 101 and not clock.playing
    qtbot.keyClick(window.sensor_table, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert clock.t == T0 + 111
    qtbot.keyClick(window.sensor_table, Qt.Key.Key_Left)
    assert clock.t == T0 + 110
    panel.timeline.back_button.click()
    assert clock.t == T0 + 109


def test_shift_drag_sets_a_loop_that_playback_stays_in(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    track = panel.timeline.track
    clock = window.session.clock
    xa, xb = int(track.x_of(T0 + 200)), int(track.x_of(T0 + 260))
    qtbot.mousePress(track, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(xa, 32))
    qtbot.mouseMove(track, QPoint((xa + xb) // 2, 32))
    qtbot.mouseMove(track, QPoint(xb, 32))
    qtbot.mouseRelease(track, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(xb, 32))
    assert clock.loop is not None
    tolerance = 2 * DURATION / track.width()
    assert clock.loop[0] == pytest.approx(T0 + 200, abs=tolerance)
    assert clock.loop[1] == pytest.approx(T0 + 260, abs=tolerance)
    assert panel.timeline.loop_button.isChecked()
    panel.timeline.set_speed(100.0)
    panel.timeline.toggle_play()
    seen = []
    for _ in range(15):
        qtbot.wait(60)
        seen.append(clock.t)
    assert all(clock.loop[0] <= t <= clock.loop[1] for t in seen)
    assert len(set(seen)) > 3, "it plays"
    panel.timeline.loop_button.click()
    assert clock.loop is None


def test_loop_in_out_buttons_and_wheel_zoom(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    bar = panel.timeline
    bar.seek(T0 + 100)
    bar.loop_in_button.click()
    bar.seek(T0 + 300)
    bar.loop_out_button.click()
    assert window.session.clock.loop == (T0 + 100, T0 + 300)
    bar.track.zoom(0.25, T0 + 300)
    v0, v1 = bar.track.visible_range()
    assert v1 - v0 == pytest.approx((DURATION - 1) * 0.25) and v0 <= T0 + 300 <= v1
    bar.fit_button.click()
    assert bar.track.visible_range() == (T0, T0 + DURATION - 1)


def test_live_samples_crossing_a_limit_appear_on_the_track(qtbot, window, project, monkeypatch):
    """A source appending to the open store (as MQTT and OPC UA do) adds its alarm episodes to the track."""
    from twinviewer.ui import timeline

    panel = open_with_recording(qtbot, window, project)
    track = panel.timeline.track
    assert len(track.crossings) == 2
    store = window.session.store
    end = T0 + DURATION
    monkeypatch.setattr(timeline, "LIVE_MARKER_REFRESH_S", 3600.0)
    for i in range(30):  # T-R, normal all recording long, goes into alarm (> 80 °C) after the end
        store.append("T-R", end + i, 40.0 if i < 10 else 90.0)
    panel.timeline.refresh()
    assert len(track.crossings) == 2, "no recount on every frame while samples arrive"
    monkeypatch.setattr(timeline, "LIVE_MARKER_REFRESH_S", 0.0)
    panel.timeline.refresh()
    assert len(track.crossings) == 3
    newest = int(np.argmax(track.crossings.starts))
    assert track.crossings.starts[newest] == pytest.approx(end + 10)
    assert "T-R" in track.crossings.texts[newest] and "alarm" in track.crossings.texts[newest]
