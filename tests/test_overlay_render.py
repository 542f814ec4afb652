"""Rendered pixels of the overlay: alarm turns a part red and back, stale turns markers grey, field
colours."""

from __future__ import annotations

import numpy as np

from twinviewer.core.overlay import STATUS_RGBA, Status
from twinviewer.core.session import Session
from twinviewer.render.overlay_layer import OverlayLayer

T0 = 1_700_000_000.0

def pixel(view, world_point) -> np.ndarray:
    image = np.asarray(view.image()).astype(int)
    x, y = view.scene.world_to_display(world_point)
    h = image.shape[0]
    return image[int(h - y) - 2:int(h - y) + 3, int(x) - 2:int(x) + 3, :3].reshape(-1, 3).mean(axis=0)


def show(view, session, layer, t):
    frame = session.frame_at(t)
    layer.apply(frame.overlay)
    return frame


def test_alarm_turns_part_red_and_back(blocks_twin, blocks_view):
    session = Session(blocks_twin.project, blocks_twin.model.part_names)
    layer = OverlayLayer(blocks_view.scene, session.overlay)
    layer.set_mode("status")
    for i in range(10):
        session.store.append("T-L", T0 + i, 40.0)
        session.store.append("T-R", T0 + i, 40.0 if i < 5 else 95.0)
    for i in range(10, 76):
        session.store.append("T-L", T0 + i, 40.0)
        session.store.append("T-R", T0 + i, 45.0)
    face_of_right = (0.6, -0.5, 0.25)
    show(blocks_view, session, layer, T0 + 2)
    normal = pixel(blocks_view, face_of_right)
    frame = show(blocks_view, session, layer, T0 + 7)
    assert frame.overlay.sensor_status[1] == Status.ALARM
    alarm = pixel(blocks_view, face_of_right)
    assert alarm[0] > 150 and alarm[0] > alarm[1] + 60 and alarm[0] > alarm[2] + 60, alarm
    assert layer.alarm_parts == {"right"}
    left_in_alarm = pixel(blocks_view, (-0.6, -0.5, 0.25))
    assert not (left_in_alarm[0] > left_in_alarm[1] + 60), "the other part stays normal"
    # The alarm clears after its off-delay (60 s back inside the limit), not at the first good sample.
    assert show(blocks_view, session, layer, T0 + 15).overlay.sensor_status[1] == Status.ALARM
    show(blocks_view, session, layer, T0 + 75)
    recovered = pixel(blocks_view, face_of_right)
    assert np.abs(recovered - normal).max() < 20
    assert not layer.alarm_parts


def test_stale_source_turns_markers_blue(blocks_twin, blocks_view):
    session = Session(blocks_twin.project, blocks_twin.model.part_names)
    layer = OverlayLayer(blocks_view.scene, session.overlay)
    layer.set_mode("status")
    session.store.append("T-L", T0, 40.0)
    session.store.append("T-R", T0, 40.0)
    frame = show(blocks_view, session, layer, T0 + 1)
    rgba = np.asarray(layer._marker_rgba)
    assert (rgba[:, :3] == STATUS_RGBA[Status.NORMAL + 1, :3]).all()
    frame = show(blocks_view, session, layer, T0 + 60)  # no sample for a minute: stale
    assert (frame.overlay.sensor_status == Status.STALE).all()
    rgba = np.asarray(layer._marker_rgba)
    assert (rgba[:, :3] == STATUS_RGBA[Status.STALE + 1, :3]).all()
    stale = STATUS_RGBA[Status.STALE + 1, :3].astype(int)
    assert stale[2] > stale[0] + 40, "blue marker: stale is told apart from grey No data"


def test_field_colours_the_surface_between_sensors(blocks_twin, blocks_view):
    session = Session(blocks_twin.project, blocks_twin.model.part_names)
    layer = OverlayLayer(blocks_view.scene, session.overlay)
    layer.set_mode("field:temperature")
    session.store.append("T-L", T0, 10.0)
    session.store.append("T-R", T0, 90.0)
    show(blocks_view, session, layer, T0)
    cold = pixel(blocks_view, (-0.9, -0.5, 0.3))
    hot = pixel(blocks_view, (0.9, -0.5, 0.3))
    assert np.abs(hot - cold).sum() > 100, (cold, hot)
    layer.set_mode("status")
    assert not any(d.actor.GetMapper().GetScalarVisibility() for d in blocks_view.scene.parts.values())


def test_labels_decluttered_and_show_values(blocks_twin, blocks_view):
    session = Session(blocks_twin.project, blocks_twin.model.part_names)
    layer = OverlayLayer(blocks_view.scene, session.overlay)
    layer.set_labels("all")
    session.store.append("T-L", T0, 42.5)
    session.store.append("T-R", T0, 43.0)
    show(blocks_view, session, layer, T0)
    texts = [a.GetInput() for a in layer._label_actors if a.GetVisibility()]
    assert any("42.50 °C" in t for t in texts)


def test_selection_does_not_hide_an_alarm(blocks_twin, blocks_view):
    session = Session(blocks_twin.project, blocks_twin.model.part_names)
    layer = OverlayLayer(blocks_view.scene, session.overlay)
    layer.set_mode("status")
    session.store.append("T-L", T0, 40.0)
    session.store.append("T-R", T0, 95.0)
    blocks_view.scene.select("right")
    show(blocks_view, session, layer, T0)
    alarm = pixel(blocks_view, (0.6, -0.5, 0.25))
    assert alarm[0] > alarm[1] + 60 and alarm[0] > alarm[2] + 60, "still red while selected"
    blocks_view.scene.select("left")
    normal_selected = pixel(blocks_view, (-0.6, -0.5, 0.25))
    assert not (normal_selected[0] > normal_selected[2] + 40), "no orange fill: the selection is an outline"
