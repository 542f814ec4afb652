"""Overlay settings: saved into ONLY the project's [view] table, re-applied when the project is reopened;
marker clicks activate sensors; hover tooltips show current values."""

from __future__ import annotations

import numpy as np
import pytest
import tomllib

from tests.test_alarm_panel import T0, at, demo_copy, normal_background, open_and_wait, window  # noqa: F401
from twinviewer.core.project import ViewSettings, parse_project
from twinviewer.core.view_settings import ViewSaveError, replace_view_table
from twinviewer.io.view_file import save_view

HEAD = """# My pump (hand-written)
format_version = 1   # keep this comment

[asset]
name = "Pump"
"""
TAIL = """
# Sources follow; this comment belongs to them.
[[sources]]
kind = "recording"
"""


def test_view_table_appended_when_missing_and_rest_untouched():
    view = ViewSettings(overlay="field", field_quantity="temperature", colormaps={"temperature": "magma"},
                        ranges={"temperature": (20.0, 120.0)}, labels="all", camera="front")
    text = HEAD + TAIL
    out = replace_view_table(text, view)
    assert out.startswith(text)
    document = tomllib.loads(out)
    assert document["view"] == {"overlay": "field", "field_quantity": "temperature", "labels": "all",
                                "camera": "front", "colormaps": {"temperature": "magma"},
                                "ranges": {"temperature": [20.0, 120.0]}}


def test_existing_view_and_subtables_replaced_in_place():
    old_view = """
[view]
# how the trainer likes it
overlay = "value"
labels = "off"

[view.colormaps]
temperature = "viridis"
"""
    text = HEAD + old_view + TAIL
    view = ViewSettings(overlay="status", labels="selected", ranges={"bearing temp": (0.0, 1.5)})
    out = replace_view_table(text, view)
    assert out.startswith(HEAD) and out.endswith(TAIL)
    middle = out[len(HEAD):-len(TAIL)]
    assert "# how the trainer likes it" in middle and "[view.colormaps]" not in middle
    document = tomllib.loads(out)
    assert document["view"]["overlay"] == "status" and "colormaps" not in document["view"]
    assert document["view"]["ranges"] == {"bearing temp": [0.0, 1.5]}
    # Saving the same settings again changes nothing.
    assert replace_view_table(out, view) == out


def test_headers_inside_multiline_strings_are_not_tables():
    tricky = HEAD.replace('name = "Pump"', 'name = "Pump"\nnotes = """\n[view]\nnot a table\n"""')
    out = replace_view_table(tricky, ViewSettings(labels="all"))
    assert out.startswith(tricky)
    assert tomllib.loads(out)["asset"]["notes"] == "[view]\nnot a table\n"


def test_save_refuses_bad_settings_and_leaves_file(tmp_path):
    path = tmp_path / "p.twin.toml"
    path.write_text('view.overlay = "off"\n' + HEAD + TAIL, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ViewSaveError, match="dotted keys"):
        save_view(path, ViewSettings())
    with pytest.raises(ViewSaveError, match="unknown colour map"):
        save_view(path, ViewSettings(colormaps={"temperature": "rainbow-ish"}))
    assert path.read_bytes() == before


@pytest.mark.gui
def test_settings_saved_to_project_and_reapplied_on_reopen(qtbot, window, demo_copy):  # noqa: F811
    original = demo_copy.read_text(encoding="utf-8")
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    panels = window.panels["overlay_panel"]
    settings = panels.settings
    settings.set_mode("field:temperature")
    settings.set_colormap("temperature", "magma")
    settings.set_range("temperature", (20.0, 120.0))
    settings.set_labels("all")
    window.set_view("front")
    assert window.overlay.field.cmap == "magma"
    assert window.viewer.renderer.GetActors().GetNumberOfItems() > 0
    with pytest.raises(ValueError, match="min < max"):
        settings.set_range("vibration", (5.0, 5.0))
    settings.save_to_project()

    saved = demo_copy.read_text(encoding="utf-8")
    assert outside_view(saved) == outside_view(original), "every line outside [view] is byte-identical"
    view = tomllib.loads(saved)["view"]
    assert view == {"overlay": "field", "field_quantity": "temperature", "labels": "all", "camera": "front",
                    "colormaps": {"temperature": "magma"}, "ranges": {"temperature": [20.0, 120.0]}}
    assert parse_project(saved, demo_copy).view.ranges == {"temperature": (20.0, 120.0)}

    # Reopen: the window starts in that mode with that map, range and labels.
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    assert window.overlay.mode == "field:temperature" and window.overlay.labels == "all"
    assert window.overlay.field.cmap == "magma"
    assert window.current_view == "front"
    mapper = next(iter(window.scene.parts.values())).actor.GetMapper()
    assert mapper.GetScalarRange() == (20.0, 120.0)
    [bar] = window.overlay.legend.legend.bars
    assert (bar.vmin, bar.vmax, bar.cmap) == (20.0, 120.0, "magma")
    settings = window.panels["overlay_panel"].settings
    assert settings.mode_combo.currentData() == "field:temperature"
    assert settings.colormap_combo.currentData() == "magma" and not settings.auto_range.isChecked()

    # A second save with other settings rewrites the table in place, still leaving the rest alone.
    settings.set_mode("status")
    settings.set_range("temperature", None)
    settings.save_to_project()
    again = demo_copy.read_text(encoding="utf-8")
    assert outside_view(again) == outside_view(original) and again.count("\n[view]\n") == 1
    assert (
        tomllib.loads(again)["view"]["overlay"] == "status" and "ranges" not in tomllib.loads(again)["view"]
    )


@pytest.mark.gui
def test_save_disabled_for_raw_meshes(qtbot, window, tmp_path):  # noqa: F811
    import trimesh

    mesh_path = tmp_path / "bracket.stl"
    trimesh.creation.box((0.1, 0.2, 0.05)).export(mesh_path)
    open_and_wait(qtbot, window, mesh_path)
    panels = window.panels["overlay_panel"]
    assert not panels.settings.save_button.isEnabled() and not panels.save_action.isEnabled()
    assert "no file to save" in panels.settings.save_note.text()


@pytest.mark.gui
def test_marker_click_activates_sensor_and_hover_shows_values(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    window.session.store.append_many("TT-102", np.arange(T0, T0 + 10), np.full(10, 97.0))
    at(window, T0 + 5)
    sensor = window.twin.project.sensor("TT-102")
    window.scene.fly_to(sensor.position, 0.4)
    window.refresh_now()
    x, y = window.viewer.display_point_of(sensor.position)
    window.viewer.click_at(x + 4, y - 3)  # a few pixels off the marker centre still hits it
    assert window.panels["overlay_panel"].marker_clicks.last_sensor == "TT-102"
    assert window.overlay.selected_sensor == "TT-102"
    assert window.scene.selected == "bearing_housing_de"
    rows = window.sensor_table.selectionModel().selectedRows()
    assert [window.sensor_table.sensor_ids[r.row()] for r in rows] == ["TT-102"]

    # Hovering the marker: its value, unit and status.
    window._on_hover(None, (x, y))
    tip = window.viewer.interactor.toolTip()
    assert "TT-102" in tip and "97.00 °C" in tip and "Alarm" in tip
    # Hovering the motor (away from its markers): every sensor of the part with its value.
    window.set_view("iso")
    window.refresh_now()
    hx, hy = motor_pixel_away_from_markers(window)
    window._on_hover(None, (hx, hy))
    tip = window.viewer.interactor.toolTip()
    assert "Drive motor M-101" in tip and "TT-101: 90.00 °C (Normal)" in tip and "VT-101: 2.00 mm/s" in tip
    # A click far from every marker still picks the part.
    window.viewer.click_at(hx, hy)
    assert window.scene.selected == "motor"


def outside_view(text: str) -> str:
    """The file without its [view] table(s), blank lines at the end dropped."""
    kept, in_view = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            in_view = line.startswith(("[view]", "[view."))
        if not in_view:
            kept.append(line)
    return "".join(kept).rstrip("\n")


def motor_pixel_away_from_markers(window):  # noqa: F811
    width, height = window.viewer.render_window.GetSize()
    for y in range(height // 4, 3 * height // 4, 6):
        for x in range(width // 6, 5 * width // 6, 6):
            if window.overlay.marker_at(x, y, 25) is None and window.scene.pick(x, y)[0] == "motor":
                return x, y
    raise AssertionError("motor not visible")
