"""The legend in the window's 3D view: drawn by VTK in the scene, the right entries for each overlay mode, in
the right colours, in the bottom-left corner whatever the window size."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_alarm_panel import T0, at, demo_copy, normal_background, open_and_wait, window  # noqa: F401
from twinviewer.core.colormaps import THRESHOLD_SPAN, colormap_table
from twinviewer.core.overlay import Status
from twinviewer.render.legend_layer import MARGIN

pytestmark = pytest.mark.gui


def legend_pixels(window) -> np.ndarray:  # noqa: F811
    """The legend card's pixels, cut from what the 3D view shows."""
    image = window.viewer.image().astype(int)
    width, height = window.overlay.legend.size
    assert width > 0 and height > 0, "the legend is shown"
    rows = image.shape[0]
    return image[rows - MARGIN - height:rows - MARGIN, MARGIN:MARGIN + width]


def has_colour(image: np.ndarray, rgb, tolerance=12) -> int:
    return int((np.abs(image - np.array(rgb)).sum(axis=2) <= tolerance).sum())


def test_status_legend_lists_every_status_in_its_colour(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    legend = window.overlay.legend
    assert window.overlay.mode == "status" and legend.visible
    assert [r.name for r in legend.legend.rows] == ["Alarm (blinking)", "Warning", "Anomalous", "Normal", "Stale",
                                                    "No data", "No sensor"]
    card = legend_pixels(window)
    assert (card > 235).all(axis=2).mean() > 0.4, "a white card"
    for status in (Status.ALARM, Status.WARNING, Status.ANOMALOUS, Status.NORMAL, Status.STALE):
        assert has_colour(card, status.rgb) > 40, status
    # It stays in the bottom-left corner when the window (so the view) changes size.
    window.resize(window.width() - 150, window.height() - 120)
    qtbot.wait(50)
    card = legend_pixels(window)
    assert has_colour(card, Status.ALARM.rgb) > 40


def test_field_legend_has_the_colour_bar_ticks_and_thresholds(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    panels = window.panels["overlay_panel"]
    panels.settings.set_mode("field:temperature")
    legend = window.overlay.legend
    assert legend.visible and legend.legend.kind == "field" and legend.legend.rows == ()
    [bar] = legend.legend.bars
    # The demo's temperature sensors declare ranges from -10 to 180 °C: the same range the model is coloured with.
    assert (bar.vmin, bar.vmax) == window.overlay.value_range("temperature")
    mapper = next(iter(window.scene.parts.values())).actor.GetMapper()
    assert mapper.GetScalarRange() == THRESHOLD_SPAN  # the threshold map colours in each sensor's bands
    assert bar.title == "Temperature (°C)" and bar.cmap == "thresholds"
    assert bar.labels[0].endswith("°C") and len(bar.ticks) >= 3
    # Every temperature limit of the sensors in the field is marked, named by its sensors
    # (winding 130/155, bearings 80/95, fluid 60/70).
    assert {v for v, _name in bar.markers} == {60.0, 70.0, 80.0, 95.0, 130.0, 155.0}
    assert (155.0, "TT-101 alarm high") in bar.markers
    assert all(name.split()[0].startswith("TT-") for _v, name in bar.markers)
    card = legend_pixels(window)
    table = colormap_table("thresholds").astype(int)
    assert has_colour(card, table[150], 20) > 5 and has_colour(card, table[245], 20) > 5, "calm and alarm bands"
    assert has_colour(card, Status.ALARM.rgb, 30) > 10, "red alarm marks"

    # A fixed range and another colour map show up on the legend at once.
    panels.settings.set_colormap("temperature", "viridis")
    panels.settings.set_range("temperature", (20.0, 100.0))
    [bar] = legend.legend.bars
    assert (bar.vmin, bar.vmax, bar.cmap) == (20.0, 100.0, "viridis")
    assert {v for v, _name in bar.markers} == {60.0, 70.0, 80.0, 95.0}
    viridis = colormap_table("viridis").astype(int)
    assert has_colour(legend_pixels(window), viridis[250], 20) > 5


def test_value_legend_has_a_bar_per_quantity_and_off_hides_it(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    at(window, T0 + 5)
    panels = window.panels["overlay_panel"]
    legend = window.overlay.legend
    window.overlay_actions["value"].trigger()  # from the Overlay menu, as a user would
    window.refresh_now()
    assert [b.title for b in legend.legend.bars] == ["Current (A)", "Flow (m³/h)", "Pressure (bar(g))",
                                                     "Speed (rpm)", "Temperature (°C)", "Vibration (mm/s)"]
    assert panels.settings.mode_combo.currentData() == "value"
    flow = legend.legend.bars[1]
    assert flow.cmap == "thresholds" and (flow.vmin, flow.vmax) == (0.0, 160.0)
    assert {v for v, _n in flow.markers} == {20.0, 40.0}
    window.overlay_actions["off"].trigger()
    window.refresh_now()
    assert not legend.visible
    window.overlay_actions["status"].trigger()
    window.refresh_now()
    assert legend.visible and len(legend.legend.rows) == 7
