"""The legend card over the 3D view: the right entries for each overlay mode, drawn in the right colours."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_alarm_panel import T0, at, demo_copy, normal_background, open_and_wait, window  # noqa: F401
from twinviewer.core.colormaps import colormap_table
from twinviewer.core.overlay import Status

pytestmark = pytest.mark.gui


def pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(widget.grab().toImage().Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, :width * 3].reshape(height, width, 3).astype(int)


def has_colour(image: np.ndarray, rgb, tolerance=12) -> int:
    return int((np.abs(image - np.array(rgb)).sum(axis=2) <= tolerance).sum())


def test_status_legend_lists_every_status_in_its_colour(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    legend = window.panels["overlay_panel"].legend
    assert window.overlay.mode == "status" and legend.isVisible()
    assert [e.name for e in legend.entries] == ["Alarm (pulsing)", "Warning", "Anomalous", "Normal", "Stale",
                                                "No data", "No sensor (own colour)"]
    image = pixels(legend)
    for status in (Status.ALARM, Status.WARNING, Status.ANOMALOUS, Status.NORMAL, Status.STALE):
        assert has_colour(image, status.rgb) > 40, status
    # It sits in the bottom-left corner of the 3D view, inside it.
    viewer = window.viewer
    assert legend.parent() is viewer
    assert legend.x() < 30 and viewer.height() - legend.geometry().bottom() < 30
    # Following the window size.
    window.resize(window.width() - 150, window.height() - 120)
    qtbot.waitUntil(lambda: viewer.height() - legend.geometry().bottom() < 30)


def test_field_legend_has_the_colour_bar_ticks_and_thresholds(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    panels = window.panels["overlay_panel"]
    panels.settings.set_mode("field:temperature")
    legend = panels.legend
    assert legend.isVisible() and legend.entries == []
    [bar] = legend.bars
    # The demo's temperature sensors declare ranges from -10 to 180 °C: the same range the model is coloured
    # with.
    assert (bar.vmin, bar.vmax) == window.overlay.value_range("temperature")
    mapper = next(iter(window.scene.parts.values())).actor.GetMapper()
    assert mapper.GetScalarRange() == (bar.vmin, bar.vmax)
    assert bar.title == "Temperature (°C)" and bar.cmap == "inferno"
    assert bar.labels[0].endswith("°C") and len(bar.ticks) >= 3
    # Every temperature limit of the demo's sensors is marked (bearings 80/95, winding 130/155, fluid 60/70).
    assert {v for v, _name in bar.markers} == {60.0, 70.0, 80.0, 95.0, 130.0, 155.0}
    assert ("alarm high" in {n for _v, n in bar.markers})
    image = pixels(legend)
    table = colormap_table("inferno").astype(int)
    assert has_colour(image, table[10],
                      20) > 5 and has_colour(image, table[245], 20) > 5, "both ends of inferno"
    assert has_colour(image, Status.ALARM.rgb, 30) > 10, "red alarm marks"
    # The VTK scalar bar the render layer draws in headless images is not drawn in the window: this card is.
    props = window.scene.renderer.GetViewProps()
    assert not any(props.GetItemAsObject(i).IsA("vtkScalarBarActor") for i in range(props.GetNumberOfItems()))

    # A fixed range and another colour map show up on the card at once.
    panels.settings.set_colormap("temperature", "viridis")
    panels.settings.set_range("temperature", (20.0, 100.0))
    [bar] = legend.bars
    assert (bar.vmin, bar.vmax, bar.cmap) == (20.0, 100.0, "viridis")
    assert {v for v, _name in bar.markers} == {60.0, 70.0, 80.0, 95.0}
    viridis = colormap_table("viridis").astype(int)
    assert has_colour(pixels(legend), viridis[250], 20) > 5


def test_value_legend_has_a_bar_per_quantity_and_off_hides_it(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    panels = window.panels["overlay_panel"]
    legend = panels.legend
    window.overlay_actions["value"].trigger()  # from the Overlay menu, as a user would
    window.refresh_now()
    assert [b.title
            for b in legend.bars] == ["Current (A)", "Flow (m³/h)", "Pressure (bar(g))", "Speed (rpm)",
                                              "Temperature (°C)", "Vibration (mm/s)"]
    assert panels.settings.mode_combo.currentData() == "value"
    flow = legend.bars[1]
    assert flow.cmap == "cividis" and (flow.vmin, flow.vmax) == (0.0, 160.0)
    assert {v for v, _n in flow.markers} == {20.0, 40.0}
    window.overlay_actions["off"].trigger()
    window.refresh_now()
    assert not legend.isVisible()
    window.overlay_actions["status"].trigger()
    window.refresh_now()
    assert legend.isVisible() and len(legend.entries) == 7
