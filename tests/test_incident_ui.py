"""Review and share an incident in the window: bookmarks (dialog, sidecar, timeline, restore), compare two
moments, save and reopen a bundle at the same state, and a video export with progress through a child."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.blocks import build_blocks_project
from tests.gui import new_window, open_and_wait
from twinviewer.io.bookmarks_file import read_bookmarks_file
from twinviewer.io.recording import write_recording

pytestmark = pytest.mark.gui

T0 = 1_700_000_000.0
SOURCE = '\n[[sources]]\nkind = "recording"\nname = "rec"\nfile = "rec.parquet"\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "twin"
    folder.mkdir()
    path = build_blocks_project(folder, SOURCE)
    right = np.where(np.arange(30) < 12, 40.0, 95.0)  # the right block goes into alarm at +12 s
    write_recording(folder / "rec.parquet", T0 + np.arange(30.0), ["T-L", "T-R"],
                    np.column_stack((np.full(30, 40.0), right)))
    return path


def open_with_recording(qtbot, window, path: Path) -> None:
    open_and_wait(qtbot, window, path)
    qtbot.waitUntil(lambda: window.session is not None and window.session.has_data, timeout=20000)
    qtbot.wait(50)


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path, size=(1200, 800))
    yield win
    win.close()


def test_bookmark_from_the_shortcut_is_saved_beside_the_recording_and_restores_the_view(qtbot, window, project):
    open_with_recording(qtbot, window, project)
    panel = window.panels["bookmarks_panel"]
    assert panel.add_action.shortcut().toString() == "Ctrl+B"
    window.select_part("right")
    window.session.clock.seek(T0 + 14)
    window.set_view("front")
    panel.add_action.trigger()
    dialog = panel.dialog
    assert dialog is not None and dialog.parts_edit.text() == "right"
    dialog.title_edit.setText("Right block trips")
    dialog.parts_edit.setText("right, wheel")
    dialog._accept()
    assert dialog.isVisible() and "No part called wheel" in dialog.error.text()
    dialog.parts_edit.setText("right")
    dialog.text_edit.setPlainText("T-R at 95 °C")
    dialog.duration.setValue(6)
    dialog.accept()
    saved = read_bookmarks_file(project.parent / "rec.bookmarks.json")
    assert [(b.title, b.t, b.t_end, b.parts) for b in saved] == [("Right block trips", T0 + 14, T0 + 20, ["right"])]
    assert saved[0].camera is not None
    assert panel.table.rowCount() == 1 and panel.table.item(0, 2).text() == "Right block trips"
    assert any(e.kind == "bookmark" and e.label == "Right block trips" for e in window.session.events)
    assert len(window.panels["recording_panel"].timeline.track.events) >= 1  # drawn on the timeline

    window.set_view("top")
    window.select_part("left")
    window.session.clock.seek(T0 + 2)
    panel.table.selectRow(0)
    panel.go_button.click()
    assert window.session.clock.t == T0 + 14
    assert window.scene.selected == "right"
    camera = window.scene.camera
    assert np.allclose(camera.GetPosition(), saved[0].camera.position)

    # a click on the bookmark's mark on the timeline opens it too
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    window.select_part(None)
    window.session.clock.seek(T0 + 2)
    window.refresh_now()
    track = window.panels["recording_panel"].timeline.track
    lane = track._lanes()[0]
    QTest.mouseClick(track, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(track.x_of(T0 + 14)) + 1, int(lane.center().y())))
    qtbot.waitUntil(lambda: window.scene.selected == "right", timeout=3000)
    assert abs(window.session.clock.t - (T0 + 14)) < 1e-6


def test_bookmark_from_an_alarm_and_compare_puts_the_known_change_first(qtbot, window, project):
    open_with_recording(qtbot, window, project)
    alarms = window.panels["overlay_panel"].alarms
    alarms.refresh(T0 + 29)
    alarm = next(a for a in alarms.tracker.alarms if a.sensor_id == "T-R" and a.level == "alarm")
    panel = window.panels["bookmarks_panel"]
    panel.bookmark_alarm(alarm)
    assert panel.dialog.title_edit.text() == "T-R alarm high" and panel.dialog.parts_edit.text() == "right"
    panel.dialog.accept()
    assert panel.bookmarks[0].origin.startswith("alarm:") and panel.bookmarks[0].t == alarm.onset_t

    compare = window.panels["incident_actions"].compare
    compare.action.trigger()
    rows = compare.compare(T0 + 2, T0 + 20)
    assert rows[0].sensor_id == "T-R" and rows[0].delta == 55.0
    assert compare.table_order()[0] == "T-R"
    assert window.overlay.mode == "off" and compare.layer is not None  # the model shows the change instead
    compare.table.sortItems(0)
    assert compare.table_order() == ["T-L", "T-R"]
    compare.clear_colours()
    assert window.overlay.mode == "status"


def test_bundle_saved_and_reopened_shows_the_same_state(qtbot, window, project, tmp_path):
    open_with_recording(qtbot, window, project)
    window.select_part("right")
    window.set_view("right")
    window.session.clock.seek(T0 + 17)
    window.refresh_now()
    actions = window.panels["incident_actions"]
    out = tmp_path / "out" / "case.twinbundle"
    task = actions.save_bundle(out)
    qtbot.waitUntil(lambda: task.done, timeout=20000)
    assert actions.last_output == out and out.is_file()
    camera = window.scene.camera.GetPosition()

    (tmp_path / "second").mkdir()
    other = new_window(qtbot, tmp_path / "second", size=(1200, 800))
    try:
        other.open_dropped([out])  # dropping the file on the window opens it as a bundle
        task = other.panels["incident_actions"].task
        qtbot.waitUntil(lambda: task is not None and task.done, timeout=20000)
        qtbot.waitUntil(lambda: other.session is not None and other.session.has_data
                        and other.session.clock.t == T0 + 17, timeout=20000)
        qtbot.wait(100)
        assert other.twin.path != window.twin.path
        assert other.scene.selected == "right"
        assert np.allclose(other.scene.camera.GetPosition(), camera)
        assert other.overlay.mode == "status"
    finally:
        other.close()


@pytest.mark.slow
def test_video_export_runs_in_a_child_with_progress(qtbot, window, project, tmp_path):
    import imageio.v2 as imageio

    open_with_recording(qtbot, window, project)
    actions = window.panels["incident_actions"]
    dialog = actions.export_dialog("video")
    assert dialog.length.text()  # the dialog says how long the clip will be
    dialog.reject()
    out = tmp_path / "clip.mp4"
    process = actions.export_video(out, (T0 + 5, T0 + 15), speed=5.0, fps=5, size=(320, 240))
    assert actions.progress is not None
    qtbot.waitUntil(lambda: actions.process is None, timeout=60000)
    assert actions.last_error is None and actions.last_output == out
    assert process is not None
    assert sum(1 for _ in imageio.get_reader(out)) == 10


@pytest.mark.slow
def test_cancel_stops_the_export_and_leaves_no_file(qtbot, window, project, tmp_path):
    open_with_recording(qtbot, window, project)
    actions = window.panels["incident_actions"]
    out = tmp_path / "long.mp4"
    actions.export_video(out, (T0, T0 + 29), speed=0.01, fps=30, size=(640, 480))  # 87,000 frames
    qtbot.waitUntil(lambda: actions.process is None or "Frame" in actions.progress.labelText(), timeout=60000)
    assert actions.process is not None, actions.last_error
    from PySide6.QtWidgets import QPushButton

    cancel = next(b for b in actions.progress.findChildren(QPushButton) if b.text() == "Cancel")
    cancel.click()
    qtbot.waitUntil(lambda: actions.process is None, timeout=20000)
    assert actions.last_error == "cancelled"
    assert not out.exists() and not list(tmp_path.glob(".long.partial*"))


def test_bookmark_from_the_events_list(qtbot, window, project):
    from twinviewer.core.events import Event

    open_with_recording(qtbot, window, project)
    window.session.add_events([Event(T0 + 13, T0 + 16, "label", "Overheat", "T-R")])
    events = window.panels["events_panel"]
    events.rebuild(force=True)
    row = next(i for i, e in enumerate(events.events) if e.label == "Overheat")
    item = events.list.topLevelItem(row)
    events.list.customContextMenuRequested.emit(events.list.visualItemRect(item).center())
    panel = window.panels["bookmarks_panel"]
    action = next(a for a in panel.event_menu.actions() if a.text() == "Add bookmark…")
    action.trigger()
    assert panel.dialog.title_edit.text() == "Overheat" and panel.dialog.parts_edit.text() == "right"
    assert panel.dialog.duration.value() == 3.0
    panel.dialog.accept()
    assert panel.bookmarks[0].origin == "event:label" and panel.bookmarks[0].sensors == ["T-R"]


def test_compare_across_two_recordings_of_the_same_project(qtbot, window, project):
    open_with_recording(qtbot, window, project)
    after = project.parent / "after_repair.parquet"  # the right block back to normal, the left one warmer
    write_recording(after, T0 + 1000 + np.arange(10.0), ["T-L", "T-R"],
                    np.column_stack((np.full(10, 50.0), np.full(10, 41.0))))
    compare = window.panels["incident_actions"].compare
    compare.action.trigger()
    task = compare.load_other(after)
    qtbot.waitUntil(lambda: task.done, timeout=20000)
    assert compare.other_name == "after_repair.parquet" and compare.source_b.currentIndex() == 1
    rows = compare.compare(T0 + 25, T0 + 1005)
    assert [(r.sensor_id, r.delta) for r in rows] == [("T-R", -54.0), ("T-L", 10.0)]
    assert "after_repair.parquet" in compare.summary.text()
