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
