"""The main window, driven as a user would: open the demo, select, pick, hide, measure, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window
from tests.gui import open_and_wait as gui_open_and_wait

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path)
    yield win
    win.close()


def open_and_wait(qtbot, window, path, timeout=30000):
    gui_open_and_wait(qtbot, window, path, timeout, expect_ok=False)


def grab(window) -> np.ndarray:
    window.viewer.render_now()
    return np.asarray(window.viewer.image()).astype(int)


def test_demo_opens_with_parts_and_sensors(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    assert window.twin is not None and window.last_error is None
    names = set(window.twin.model.part_names)
    assert {"motor", "pump_volute", "bearing_housing_de", "base_frame"} <= names
    assert set(window.scene.parts) == names
    assert window.sensor_table.rowCount() == len(window.twin.project.sensors) >= 10
    assert window.part_tree.item_for("motor") is not None
    image = grab(window)
    assert image.std() > 10, "the 3D view is blank"


def test_tree_selection_highlights_part_in_3d(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    x, y = visible_pixel_of(window, "motor")
    before = grab(window)
    window.part_tree.setCurrentItem(window.part_tree.item_for("motor"))
    assert window.scene.selected == "motor"
    after = grab(window)
    from twinviewer.core.overlay import SELECTION_OUTLINE_RGB

    # The selection is a cyan outline (a colour no status uses), not an orange fill.
    def cyan(image):
        return (np.abs(image[..., :3].astype(int) - np.array(SELECTION_OUTLINE_RGB)).sum(axis=-1) < 60).sum()

    assert cyan(after) > cyan(before) + 30
    h = before.shape[0]
    patch_after = after[h - y - 3:h - y + 3, x - 3:x + 3].mean(axis=(0, 1))
    assert not (patch_after[0] > 200 and patch_after[2] < 80), "no orange fill"
    assert "motor" in window.properties.text.toPlainText().lower()


def test_pick_in_3d_selects_in_tree(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    x, y = visible_pixel_of(window, "pump_volute")
    window.viewer.click_at(x, y)
    assert window.scene.selected == "pump_volute"
    assert window.part_tree.selected_part() == "pump_volute"
    # Clicking the empty background clears the selection.
    window.viewer.click_at(2, 2)
    assert window.scene.selected is None


def test_real_mouse_click_picks(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    x, y = visible_pixel_of(window, "motor")
    widget = window.viewer.interactor
    ratio = widget.devicePixelRatioF()
    from PySide6.QtCore import QPoint

    pos = QPoint(int(x / ratio), int(widget.height() - y / ratio))
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    assert window.scene.selected == "motor"


def test_hidden_part_pixels_disappear(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    window.select_part(None)
    window.set_view("front")
    x, y = visible_pixel_of(window, "motor")
    before = grab(window)
    window.part_tree.set_checked("motor", False)
    assert not window.scene.parts["motor"].visible
    after = grab(window)
    h = before.shape[0]
    diff = np.abs(after - before).sum(axis=2)
    assert diff[h - y - 2:h - y + 2, x - 2:x + 2].mean() > 30
    changed = (diff > 30).mean()
    assert 0.01 < changed < 0.6
    window.part_tree.set_checked("motor", True)
    again = grab(window)
    assert np.abs(again - before).mean() < 1.0


def test_isolate_and_show_all(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    window.select_part("coupling")
    window.isolate_action.setChecked(True)
    visible = [n for n, d in window.scene.parts.items() if d.visible]
    assert visible == ["coupling"]
    window.show_all_action.trigger()
    assert all(d.visible for d in window.scene.parts.values())


def test_measure_two_points(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    window.set_view("front")
    window.viewer.render_now()
    distances = []
    window.viewer.measured.connect(distances.append)
    window.measure_action.setChecked(True)
    a = visible_pixel_of(window, "motor")
    b = visible_pixel_of(window, "pump_volute")
    window.viewer.click_at(*a)
    assert "Measuring from Drive motor M-101: click the second point" in window.status_label.text()
    window.viewer.click_at(*b)
    assert len(distances) == 1
    assert 0.3 < distances[0] < 3.0
    status = window.status_label.text()
    assert status.startswith("Distance: ") and "Δx" in status and "Δz" in status
    first, second = window.scene.measurement
    assert np.linalg.norm(second - first) == pytest.approx(distances[0])


def test_view_tools_change_the_image(qtbot, window):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    iso = grab(window)
    window.view_actions["top"].trigger()
    top = grab(window)
    assert np.abs(top - iso).mean() > 5
    window.style_actions["wireframe"].trigger()
    wire = grab(window)
    assert np.abs(wire - top).mean() > 2
    window.clip_action.setChecked(True)
    assert window.scene.clip == ("x", 0.5)
    window.clip_axis.setCurrentText("−X")  # the other half
    assert window.scene.clip == ("-x", 0.5)
    window.parallel_action.setChecked(True)
    assert window.scene.camera.GetParallelProjection()


def test_screenshot_and_recent_files(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    out = window.save_screenshot(tmp_path / "shot.png")
    assert out.is_file() and out.stat().st_size > 10_000
    assert window.recent_files()[0] == str(DEMO_PROJECT.resolve())
    # With a field overlay, the screenshot keeps the colour key drawn over the view.
    from PIL import Image

    from twinviewer.core.colormaps import colormap_table

    window.panels["overlay_panel"].settings.set_mode("field:temperature")
    window.tick()
    with Image.open(window.save_screenshot(tmp_path / "field.png")) as shot:
        image = np.asarray(shot.convert("RGB")).astype(int)
    ratio = window.viewer.devicePixelRatioF()
    assert image.shape[:2] == (round(window.viewer.height() * ratio), round(window.viewer.width() * ratio))
    alarm_band = colormap_table("thresholds")[240].astype(int)
    assert (np.abs(image - alarm_band).max(axis=2) < 12).sum() > 50, "the legend's colour bar is in it"


@pytest.mark.parametrize("content, name, expected", [
    (b"", "empty.stl", "empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "picture.stl", ""),
    (b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0", "truncated.stl", ""),
    (b"[asset\nname=1", "broken.twin.toml", "TOML"),
])
def test_bad_file_shows_message_and_keeps_current(qtbot, window, tmp_path, content, name, expected):
    open_and_wait(qtbot, window, DEMO_PROJECT)
    current = window.twin
    bad = tmp_path / name
    bad.write_bytes(content)
    window.open_path(bad)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=20000)
    assert window.twin is current
    assert name in window.last_error or expected in window.last_error
    assert "Traceback" not in window.last_error
    assert set(window.scene.parts) == set(current.model.part_names)


def test_missing_model_file_in_project(qtbot, window, tmp_path):
    project = tmp_path / "p.twin.toml"
    project.write_text('[asset]\nname = "x"\n[[models]]\nfile = "nowhere.glb"\n')
    window.open_path(project)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)
    assert "nowhere.glb" in window.last_error and window.twin is None


def test_raw_mesh_opens_and_saves_starter_project(qtbot, window, tmp_path, shared_data):
    open_and_wait(qtbot, window, shared_data / "meshes/stl/openfoam_flange_4solids_ascii.stl")
    assert window.twin.is_raw_mesh
    assert len(window.twin.model.parts) == 4
    assert window.save_starter_action.isEnabled()
    out = window.save_starter_project(tmp_path / "flange.twin.toml")
    from twinviewer.core.project import load_project

    project = load_project(out)
    assert [p.name for p in project.parts] == window.twin.model.part_names


def test_drop_file_opens_it(qtbot, window, shared_data):
    window.open_dropped([shared_data / "meshes/stl/planetary_gearbox/sun_gear.stl"])
    qtbot.waitUntil(lambda: window.twin is not None, timeout=20000)
    assert window.twin.path.name == "sun_gear.stl"


def visible_pixel_of(window, name: str) -> tuple[int, int]:
    """A display pixel (VTK coordinates) where ``name`` is the front-most part."""
    window.viewer.render_now()
    points = window.scene.parts[name].points
    b = np.array(window.scene.parts[name].mesh.GetBounds())
    centre = np.array([(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2])
    candidates = [centre] + list(points[np.random.default_rng(0).choice(len(points), min(300, len(points)),
                                                                           replace=False)])
    for point in candidates:
        x, y = window.viewer.display_point_of(point)
        for dx, dy in ((0, 0), (3, 3), (-3, -3)):
            if window.scene.pick(x + dx, y + dy)[0] == name:
                return x + dx, y + dy
    raise AssertionError(f"{name} is not visible")


def test_cancel_a_long_load_keeps_what_was_open(qtbot, window, shared_data):
    """The STEP file that makes the converter run for minutes: Cancel stops it and nothing changes."""
    open_and_wait(qtbot, window, DEMO_PROJECT)
    current = window.twin
    window.open_path(shared_data / "meshes/step/as1_motor.step")
    qtbot.waitUntil(lambda: window.task.dialog is not None and window.task.dialog.isVisible(), timeout=3000)
    assert window.task.running, "the conversion is still going"
    from PySide6.QtWidgets import QPushButton

    cancel_button = window.task.dialog.findChild(QPushButton)
    assert cancel_button.text() == "Cancel"
    qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    # The worker stops first; its "failed: cancelled" signal reaches the window on the next event loop turn.
    qtbot.waitUntil(lambda: "cancelled" in window.status_label.text() or window.last_error is not None,
                    timeout=15000)
    assert "cancelled" in window.status_label.text(), window.last_error
    assert window.twin is current
    assert window.last_error is None


def test_closing_the_window_while_the_demo_loads_stops_its_work(qtbot, window):
    """Qt aborts the whole process if a worker thread outlives the window; closing must stop them all."""
    import time

    from twinviewer.core.errors import CancelledError
    from twinviewer.ui import tasks

    def slow_import(progress, cancelled):
        while not cancelled():
            time.sleep(0.01)
        raise CancelledError("cancelled")

    window.open_path(DEMO_PROJECT)
    errors = []
    background = tasks.run_task(window, "Importing", slow_import, lambda _r: None,
                                lambda exc, _d: errors.append(exc), show_dialog=False)
    assert background.running and window.task.running
    window.close()
    assert not background.running and not window.task.running
    assert not any(task.running for task in tasks._RUNNING)


def test_the_window_stays_responsive_while_a_big_model_loads_and_cancel_stops_it(qtbot, window, tmp_path,
                                                                                    monkeypatch):
    """600k triangles: parsed on a worker thread, shown as a quick coarse stand-in, the real stand-in
    decimated in a child process in the background (the decimation library holds the GIL and would otherwise
    freeze the window for most of a second) and swapped in."""
    import time

    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", "")  # decimate both times, no stand-in from the cache
    from PySide6.QtCore import QTimer

    from tests.benchmarks.bench_load import torus_mesh, write_binary_stl
    from twinviewer.core.errors import CancelledError
    from twinviewer.render.budget import MIN_BUDGET

    path = tmp_path / "big.stl"
    write_binary_stl(path, *torus_mesh(1200, 250))
    beats: list[float] = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start(10)
    window.open_path(path)
    qtbot.waitUntil(lambda: window.task.done and window.twin is not None and not window.standins.pending,
                    timeout=60000)
    timer.stop()
    assert window.twin.model.n_triangles == 600_000 and window.last_error is None
    assert max(np.diff(beats)) < 0.5, f"the event loop stalled {max(np.diff(beats)):.2f} s"
    # The stand-in is sized to the budget measured from the first frames (at least the 40k floor).
    shown = sum(d.n_triangles for d in window.scene.parts.values())
    assert window.standins.budget >= MIN_BUDGET and shown <= window.standins.budget * 1.05 and shown < 600_000

    # Opening another file while the stand-in is being made cancels it.
    window.open_path(path)
    qtbot.waitUntil(lambda: window.task.done and window.standins.pending, timeout=20000)
    building = window.standins.task
    open_and_wait(qtbot, window, DEMO_PROJECT)
    qtbot.waitUntil(lambda: building.done, timeout=10000)
    assert isinstance(building.error, CancelledError) and window.twin.path.name == DEMO_PROJECT.name
