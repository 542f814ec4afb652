"""Panels plug into the window through handler chains and session signals, never by replacing its methods."""

from __future__ import annotations

import pytest

from tests.gui import new_window, open_and_wait
from twinviewer.core.options import LABEL_MODES, SIMPLE_OVERLAY_MODES
from twinviewer.paths import demo_project_path

pytestmark = pytest.mark.gui


def test_panels_add_handlers_in_the_documented_order_and_patch_nothing(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path)
    try:
        assert window.viewer.click_handlers.describe() == ["10 sensor marker", "100 pick part or measure"]
        assert window.drop_handlers.describe() == ["5 incident bundle", "10 recordings", "100 open as a twin"]
        # The menus offer the names declared in core/options.py.
        assert tuple(window.label_actions) == LABEL_MODES
        assert tuple(window.overlay_actions) == SIMPLE_OVERLAY_MODES
        # No instance attribute shadows a method: what runs is what the class says.
        for obj, names in ((window, ("open_dropped", "select_part")), (window.viewer, ("click_at",))):
            assert not set(names) & set(vars(obj)), names
    finally:
        window.close()


def test_selection_and_overlay_mode_go_through_the_session(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path)
    try:
        open_and_wait(qtbot, window, demo_project_path())
        selected = []
        window.part_selected.connect(selected.append)
        window.select_part("motor")
        assert window.session.selected_part == "motor" and selected == ["motor"]
        window.session.set_overlay_mode("value")
        assert window.overlay_actions["value"].isChecked()
    finally:
        window.close()


def test_app_assembles_the_live_controller_and_the_live_panel_only_shows_it(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from twinviewer.sources.live import LiveController
    from twinviewer.ui.main_window import MainWindow

    window = new_window(qtbot, tmp_path)  # built by app.build_window, as `twinviewer` builds it
    try:
        panel = window.panels["live_panel"]
        assert isinstance(window.live, LiveController)
        assert panel.live is window.live and panel.recordings is window.recordings
        panel.recordings_dir = tmp_path / "journals"  # Live → Recording folder…
        assert window.live.recordings_dir() == tmp_path / "journals"  # the controller records there
        assert window.live.password_prompt == panel.ask_password  # it asks through the panel's dialog
    finally:
        window.close()
    bare = MainWindow(settings=QSettings(str(tmp_path / "bare.ini"), QSettings.Format.IniFormat))
    try:  # the window builds no controller itself: without one it has no Live menu
        assert bare.panels["live_panel"] is None
        assert "&Live" not in [a.text() for a in bare.menuBar().actions()]
    finally:
        bare.close()
        bare.deleteLater()


def test_panels_subscribe_to_the_sessions_signals(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path)
    try:
        open_and_wait(qtbot, window, demo_project_path())
        current = window.current
        assert current.session is window.session and current.twin is window.twin
        panel_types = {type(p) for p in window.panels.values() if p is not None}

        def panel_subscribers(signal) -> set[str]:
            owners = {getattr(c, "__self__", None) for c in signal._callbacks}
            closures = {cell.cell_contents for c in signal._callbacks
                        for cell in (getattr(c, "__closure__", None) or ()) if hasattr(cell, "cell_contents")}
            return {type(o).__name__ for o in owners | closures
                    if type(o) in panel_types or type(o).__module__.startswith("twinviewer.ui.")
                    and type(o).__name__ != "MainWindow"}

        for name in ("recording_changed", "time_changed", "selection_changed", "overlay_changed"):
            assert panel_subscribers(getattr(current, name)), name
        events = window.panels["events_panel"]
        session = window.session
        # The demo recording has events (filled once its recording is in, after the first frame).
        qtbot.waitUntil(lambda: bool(events.events), timeout=15000)
        session.clock.pause()
        session.clock.seek(events.events[-1].t)
        session.tick(0.0)  # -> time_changed, before any frame is shown
        assert events._current == len(events.events) - 1
    finally:
        window.close()
