"""Colours carry one meaning: red only where a sensor is in alarm, a selection no status colour can be
mistaken for, a field that is red at a sensor in alarm, and all of it apart for deuteranopes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.conftest import DEMO_PROJECT
from twinviewer.core.colormaps import THRESHOLD_MAP, THRESHOLD_SPAN, colormap_for, map_values, threshold_units
from twinviewer.core.colour_vision import colour_distance, simulate_deuteranopia
from twinviewer.core.overlay import (
    LOOK_AT_OUTLINE_RGB,
    NEUTRAL_PART_RGB,
    SELECTION_OUTLINE_RGB,
    STATUS_RGBA,
    Status,
)

INCIDENT = DEMO_PROJECT.parent / "recordings" / "incident.parquet"
SIZE = (640, 400)


def is_alarm_red(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., i].astype(int) for i in range(3))
    return (r > 90) & (r > g + 60) & (r > b + 60)


@pytest.fixture
def demo():
    from twinviewer.cli._render_state import load_recording
    from twinviewer.core.session import LoadedRecording, Session
    from twinviewer.io.twins import open_twin
    from twinviewer.render.offscreen import OffscreenView
    from twinviewer.render.overlay_layer import OverlayLayer

    twin = open_twin(DEMO_PROJECT)
    session = Session(twin.project, twin.model.part_names)
    session.set_recording(LoadedRecording(store=load_recording(twin, INCIDENT)[0]))
    view = OffscreenView(twin, SIZE)
    overlay = OverlayLayer(view.scene, session.overlay)
    yield twin, session, view, overlay
    view.close()


def frame_at(session, offset_s: float):
    start, _ = session.store.time_range()
    return session.frame_at(start + offset_s)


@pytest.mark.parametrize("offset_s", [600.0, 10500.0])  # healthy baseline, and the bearing alarm (+2h55m)
def test_status_mode_shows_red_only_on_parts_whose_sensors_are_in_alarm(demo, offset_s):
    from twinviewer.render.step_camera import IdBuffer

    twin, session, view, overlay = demo
    overlay.set_mode("status")
    frame = frame_at(session, offset_s)
    overlay.apply(frame.overlay)
    view.scene.set_view("iso")
    image = view.image()
    names = list(view.scene.parts)
    alarmed = [names[i] for i, s in enumerate(frame.overlay.part_status) if s == Status.ALARM]
    ids = IdBuffer(view.scene)
    try:
        inside = ids.mask(alarmed, width=SIZE[0]) if alarmed else np.zeros(image.shape[:2], bool)
        parts = ids.id_image(width=SIZE[0]) >= 0
    finally:
        ids.close()
    red = is_alarm_red(image) & parts
    # Sensor markers of alarmed sensors sit on their part; allow a rim of edge pixels.
    grown = inside.copy()
    for dy, dx in itertools.product((-3, 0, 3), repeat=2):
        grown |= np.roll(np.roll(inside, dy, 0), dx, 1)
    stray = red & ~grown
    assert stray.sum() < 0.002 * red.size, f"{stray.sum()} red pixels outside {alarmed}"
    if alarmed:
        assert red.sum() > 100


def test_selection_outline_and_look_at_differ_from_every_status_colour():
    statuses = [STATUS_RGBA[int(s) + 1, :3] for s in Status] + [np.array(NEUTRAL_PART_RGB)]
    for outline in (SELECTION_OUTLINE_RGB, LOOK_AT_OUTLINE_RGB):
        for colour in statuses:
            assert colour_distance(outline, colour) > 25
            assert colour_distance(simulate_deuteranopia(np.array(outline)), simulate_deuteranopia(colour)) > 20


def test_status_colours_stay_apart_for_deuteranopes():
    rows = {s: STATUS_RGBA[int(s) + 1, :3] for s in Status}
    for a, b in itertools.combinations(Status, 2):
        seen = colour_distance(simulate_deuteranopia(rows[a]), simulate_deuteranopia(rows[b]))
        assert seen > 30, f"{a.display_name} and {b.display_name} look alike to a deuteranope ({seen:.0f})"


def test_threshold_map_is_the_default_and_never_paints_an_alarm_calm():
    assert colormap_for("temperature") == THRESHOLD_MAP and colormap_for("vibration") == THRESHOLD_MAP
    assert colormap_for("temperature", {"temperature": "viridis"}) == "viridis"
    limits = {"warning_high": 80.0, "alarm_high": 95.0}
    values = np.array([40.0, 79.9, 80.01, 94.9, 95.01, 300.0])
    colours = map_values(threshold_units(values, limits, (0.0, 120.0)), *THRESHOLD_SPAN, THRESHOLD_MAP)
    calm, warning, alarm = colours[:2], colours[2:4], colours[4:]
    assert (calm[:, 2] > calm[:, 0]).all(), "normal band: calm blues"
    assert (warning[:, 0] > 200).all() and (warning[:, 1] > 120).all() and (warning[:, 2] < 60).all()
    assert is_alarm_red(alarm[None]).all()


def test_field_render_is_red_at_a_sensor_in_alarm(demo):
    from twinviewer.render.step_camera import IdBuffer

    twin, session, view, overlay = demo
    frame = frame_at(session, 10500.0)
    sensors = twin.project.sensors
    in_alarm = [i for i, s in enumerate(frame.statuses) if s == Status.ALARM]
    assert in_alarm, "the incident is in alarm at +2h55m"
    sensor = sensors[in_alarm[0]]
    overlay.set_mode(f"field:{sensor.quantity}")
    try:
        frame = frame_at(session, 10500.0)
        overlay.apply(frame.overlay)
        overlay._markers.SetVisibility(False)  # the surface itself must be red, not just the sensor's marker
        view.scene.set_view("iso")
        image = view.image()
        x, y = view.scene.world_to_display(sensor.position)
        row, col = int(round(SIZE[1] - 1 - y)), int(round(x))
        ids = IdBuffer(view.scene)
        try:
            on_part = ids.mask([sensor.part], width=SIZE[0])
        finally:
            ids.close()
        window = (slice(max(row - 8, 0), row + 8), slice(max(col - 8, 0), col + 8))
        near = image[window][on_part[window]]
        assert len(near) > 20, f"{sensor.part} is visible around {sensor.id}"
        assert is_alarm_red(near[None]).mean() > 0.8, f"{sensor.id} at {frame.values[in_alarm[0]]} is red around it"
    finally:
        overlay.set_mode("status")
