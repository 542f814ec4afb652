"""The default layout fits a laptop: the 3D view keeps at least half of a 1366×768 window, panels are tabs,
names are elided in the middle, and a bare mesh shows no empty data panels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window, open_and_wait

pytestmark = pytest.mark.gui


@pytest.fixture
def laptop(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path, size=(1366, 768))
    yield window
    window.close()


def docks(window) -> dict:
    from PySide6.QtWidgets import QDockWidget

    return {d.windowTitle(): d for d in window.findChildren(QDockWidget)}


def test_the_view_keeps_half_of_a_1366x768_window(qtbot, laptop):
    from twinviewer.ui.layout import view_share

    open_and_wait(qtbot, laptop, DEMO_PROJECT)
    qtbot.wait(50)
    assert laptop.width() == 1366 and laptop.height() == 768
    assert view_share(laptop) >= 0.5, (laptop.viewer.width(), laptop.viewer.height())
    found = docks(laptop)
    # Panels are tabs: the data panels share one place, the sensor list in front.
    assert set(laptop.tabifiedDockWidgets(found["Sensors"])) >= {found["Alarms"], found["Charts"]}
    assert found["Sensors"].isVisible() and not found["Sensors"].visibleRegion().isEmpty()
    # The sensor list's key columns fit: id, value and status are inside the visible width.
    table = laptop.sensor_table
    visible = table.viewport().width()
    for column in (0, 3, 5):
        assert table.columnViewportPosition(column) + table.columnWidth(column) <= visible + 1
    # Long names are elided in the middle, so the two bearing housings stay apart.
    assert laptop.part_tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    item = laptop.part_tree.item_for("bearing_housing_nde")
    assert "non-drive end" in item.toolTip(0)


def test_a_mesh_without_sensors_shows_no_data_panels(qtbot, laptop, shared_data):
    mesh = shared_data / "meshes" / "stl" / "fan_blade_catia_ascii_crlf.stl"
    open_and_wait(qtbot, laptop, mesh)
    found = docks(laptop)
    assert not any(found[name].isVisible() for name in ("Sensors", "Alarms", "Charts"))
    assert found["Parts"].isVisible()
    open_and_wait(qtbot, laptop, DEMO_PROJECT)
    assert found["Sensors"].isVisible()


def test_a_mesh_in_millimetres_offers_units_and_remembers_the_choice(qtbot, laptop, shared_data):
    mesh = shared_data / "meshes" / "stl" / "counter.unitsmm.STL"
    open_and_wait(qtbot, laptop, mesh)
    box = laptop.panels["units"]
    assert box.isVisible() and box.units == "m" and box.suggestion == "mm"
    assert "choose mm" in laptop.status_label.text()
    low, high = laptop.twin.model.bounds()
    assert max(high - low) > 20
    box.choose("mm")
    qtbot.waitUntil(lambda: laptop.twin.project.models[0].units == "mm" and laptop.task.done, timeout=30000)
    low, high = laptop.twin.model.bounds()
    assert 0.2 < max(high - low) < 0.4, "sizes follow: about 305 mm"
    assert box.units == "mm" and box.suggestion is None
    # Remembered for this file: opening it again reads it in millimetres.
    open_and_wait(qtbot, laptop, DEMO_PROJECT)
    assert not box.isVisible(), "a project says its units itself"
    open_and_wait(qtbot, laptop, mesh)
    assert laptop.twin.project.models[0].units == "mm"


def test_an_assembly_keeps_its_hierarchy_as_folders_with_short_names(qtbot, laptop, shared_data):
    step = shared_data / "meshes" / "step" / "as1-oc-214.stp"
    open_and_wait(qtbot, laptop, step, timeout=120000)
    tree = laptop.part_tree
    name = "l-bracket-assembly_1/nut-bolt-assembly_1/bolt_1"
    leaf = tree.item_for(name)
    assert leaf.text(0) == "bolt_1" and name in leaf.toolTip(0)
    sub = leaf.parent()
    assert sub.text(0) == "nut-bolt-assembly_1" and sub.parent().text(0) == "l-bracket-assembly_1"
    # Unchecking a sub-assembly hides its parts in 3D.
    sub.setCheckState(0, Qt.CheckState.Unchecked)
    assert not laptop.scene.parts[name].visible
    assert laptop.scene.parts["rod_1"].visible
