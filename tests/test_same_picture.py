"""The window and a headless render draw the same picture from the same overlay frame, legend included."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_alarm_panel import T0, at, demo_copy, normal_background, open_and_wait, window  # noqa: F401

pytestmark = pytest.mark.gui


def headless_like(window, mode: str, labels: str) -> np.ndarray:  # noqa: F811
    """The window's state rendered by an OffscreenView of the window's 3D-view size and camera."""
    from twinviewer.core.session import Session
    from twinviewer.render.offscreen import OffscreenView
    from twinviewer.render.overlay_layer import OverlayLayer

    height, width = window.viewer.image().shape[:2]
    twin = window.twin
    view = OffscreenView(twin, (width, height))
    try:
        source, target = window.viewer.camera, view.scene.camera
        target.SetPosition(source.GetPosition())
        target.SetFocalPoint(source.GetFocalPoint())
        target.SetViewUp(source.GetViewUp())
        target.SetViewAngle(source.GetViewAngle())
        target.SetParallelProjection(source.GetParallelProjection())
        target.SetParallelScale(source.GetParallelScale())
        target.SetClippingRange(source.GetClippingRange())
        target.SetWindowCenter(*source.GetWindowCenter())  # the model framed clear of the legend
        view.scene.framed = None  # the copied camera stays as it is
        session = Session(twin.project, twin.model.part_names, window.session.store)
        layer = OverlayLayer(view.scene, session.overlay, mode=mode)
        layer.set_labels(labels)
        layer.apply(session.frame_at(window.frame.t).overlay)
        return view.image().astype(int)
    finally:
        view.close()


@pytest.mark.parametrize("mode", ["status", "field:temperature", "value"])
def test_window_3d_view_matches_the_headless_render(qtbot, window, demo_copy, mode):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    normal_background(window)
    window.set_overlay_mode(mode)
    window.set_label_mode("all")
    at(window, T0 + 5)
    shown = window.viewer.image().astype(int)
    assert window.overlay.legend.visible
    headless = headless_like(window, mode, "all")
    assert shown.shape == headless.shape
    difference = np.abs(shown - headless).max(axis=2)
    # Same software OpenGL, same frame, same camera: allowed are rounding differences only —
    # mean difference under 1.5 levels and 99.5 % of the pixels within 24 levels (of 255).
    assert difference.mean() < 1.5 and (difference <= 24).mean() > 0.995, (difference.mean(),
                                                                            (difference <= 24).mean())
    # The comparison means something: the legend region is drawn (not background) in both.
    width, height = window.overlay.legend.size
    corner = headless[-height:, :width]
    assert (corner > 235).all(axis=2).mean() > 0.3


def test_moving_frames_skip_fxaa_and_the_still_picture_gets_it(qtbot, window, demo_copy):  # noqa: F811
    open_and_wait(qtbot, window, demo_copy)
    renderer, iren = window.viewer.renderer, window.viewer.render_window.GetInteractor()
    qtbot.waitUntil(lambda: renderer.GetUseFXAA(), timeout=3000)  # the opened model, held still
    window.viewer.request_render()
    window.viewer.render_if_needed()
    assert not renderer.GetUseFXAA(), "a frame drawn because something changed is drawn fast"
    qtbot.waitUntil(lambda: renderer.GetUseFXAA(), timeout=3000)
    # A camera drag: fast frames from its start to its end, then the still picture again.
    iren.InvokeEvent("StartInteractionEvent")
    assert not renderer.GetUseFXAA()
    qtbot.wait(600)
    assert not renderer.GetUseFXAA(), "still dragging"
    iren.InvokeEvent("EndInteractionEvent")
    qtbot.waitUntil(lambda: renderer.GetUseFXAA(), timeout=3000)
