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
    # The alarm list shows its key columns first: level, sensor, onset, cleared, acknowledged.
    alarms = laptop.panels["overlay_panel"].alarms.table
    header = alarms.horizontalHeader()
    assert [alarms.horizontalHeaderItem(header.logicalIndex(v)).text() for v in range(3)] == [
        "Level", "Sensor", "Onset"]
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


def write_nested_gltf(path):
    """A glTF whose node tree is frame → axle → wheel_left / wheel_right (one triangle each)."""
    import base64
    import json
    import struct

    points = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    indices = struct.pack("<3H", 0, 1, 2) + b"\0\0"
    data = points + indices
    gltf = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(data),
                     "uri": "data:application/octet-stream;base64," + base64.b64encode(data).decode()}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 36},
                        {"buffer": 0, "byteOffset": 36, "byteLength": 6}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                       "min": [0, 0, 0], "max": [1, 1, 0]},
                      {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "nodes": [{"name": "frame", "children": [1, 4], "mesh": 0},
                  {"name": "axle", "children": [2, 3]},
                  {"name": "wheel_left", "mesh": 0, "translation": [2, 0, 0]},
                  {"name": "wheel_right", "mesh": 0, "translation": [4, 0, 0]},
                  {"name": "seat", "mesh": 0, "translation": [0, 2, 0]}],
        "scenes": [{"nodes": [0]}], "scene": 0,
    }
    path.write_text(json.dumps(gltf), encoding="utf-8")
    return path


def test_a_gltf_node_tree_shows_as_folders(qtbot, laptop, tmp_path):
    path = write_nested_gltf(tmp_path / "cart.gltf")
    open_and_wait(qtbot, laptop, path)
    tree = laptop.part_tree
    wheel = tree.item_for("wheel_left")
    assert wheel.text(0) == "wheel_left"
    assert wheel.parent().text(0) == "axle" and wheel.parent().parent().text(0) == "frame"
    assert tree.item_for("seat").parent().text(0) == "frame"
