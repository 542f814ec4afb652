"""Pictures of moments of a recording for reports, video clips and bundle checks, with no window.

:class:`MomentRenderer` is the headless render path (:class:`~twinviewer.render.offscreen.OffscreenView` and
:func:`~twinviewer.render.state_render.show_state`) kept open over many instants of one recording: the
overlay is set up once, then each :meth:`MomentRenderer.image` moves it to a time and burns in the time
stamp; the legend is the overlay's own, drawn in the scene as in the window. :func:`camera_state` / :func:`apply_camera` turn a VTK camera
into the :class:`~twinviewer.core.bookmarks.Camera` saved in bookmarks and bundles and back.
"""

from __future__ import annotations

import numpy as np

from twinviewer.core.bookmarks import Camera
from twinviewer.core.formatting import format_time


def camera_state(scene) -> Camera:
    camera = scene.camera
    return Camera(position=tuple(map(float, camera.GetPosition())),
                  focal_point=tuple(map(float, camera.GetFocalPoint())),
                  view_up=tuple(map(float, camera.GetViewUp())),
                  parallel_scale=max(float(camera.GetParallelScale()), 1e-9),
                  parallel=bool(camera.GetParallelProjection()))


def apply_camera(scene, camera: Camera) -> None:
    scene.set_camera(camera.focal_point, camera.position, camera.view_up, camera.parallel_scale)
    scene.set_parallel(camera.parallel)
    scene.renderer.ResetCameraClippingRange()


def _text_actor(size: int, position: tuple[float, float], bold: bool = False, colour=(0.05, 0.05, 0.05)):
    from vtkmodules.vtkRenderingCore import vtkTextActor

    actor = vtkTextActor()
    prop = actor.GetTextProperty()
    prop.SetFontSize(size)
    prop.SetColor(*colour)
    prop.SetBold(bold)
    prop.SetBackgroundColor(1.0, 1.0, 1.0)
    prop.SetBackgroundOpacity(0.8)
    actor.SetPosition(*position)
    actor.SetPickable(False)
    return actor


class MomentRenderer:
    """One twin and one recording rendered offscreen at any instant, with the overlay, selection and camera
    of a bookmark or bundle, a time stamp and a title burned in."""

    def __init__(self, twin, store, size: tuple[int, int] = (1280, 800), overlay: str = "status",
                 labels: str | None = None, title: str = "", view: str = "iso"):
        from twinviewer.render.offscreen import OffscreenView

        self.twin = twin
        self.store = store
        self.overlay = overlay
        self.labels = labels
        self.title = title
        self.view = OffscreenView(twin, size)
        self.view.scene.set_view(view)
        self.session = None
        self.layer = None
        self._stamp = _text_actor(max(14, size[1] // 32), (10, size[1] - 10 - max(14, size[1] // 32) * 1.6))
        self._stamp.GetTextProperty().SetVerticalJustificationToTop()
        self._stamp.SetPosition(10, size[1] - 10)
        self.view.renderer.AddViewProp(self._stamp)
        self._cached: np.ndarray | None = None
        self._key_shown: tuple | None = None

    @property
    def scene(self):
        return self.view.scene

    def set_camera(self, camera: Camera | None, view: str = "iso") -> None:
        self._cached = None
        if camera is None:
            self.scene.set_view(view)
        else:
            apply_camera(self.scene, camera)

    def select(self, part: str | None) -> None:
        self._cached = None
        self.scene.select(part if part in self.scene.parts else None)

    def show(self, t: float) -> bool:
        """Put the overlay at ``t`` (the first call builds it through the headless render path); returns
        whether the picture changed since the last call (values, statuses and time stamp all the same: no)."""
        from twinviewer.render.state_render import show_state

        stamp = format_time(t)
        if self.layer is None:
            frame = show_state(self.view, self.store, t, self.overlay, self.labels)
            self.layer = self.view.state_layer
            self.session = self.view.state_session  # later instants go through the same overlay engine
        else:
            frame = self.session.frame_at(t)
        key = (stamp, frame.values.tobytes(), frame.overlay.sensor_status.tobytes(),
               frame.overlay.part_status.tobytes())
        if key == self._key_shown and self._cached is not None:
            return False
        if self._key_shown is not None:
            self.layer.apply(frame.overlay)
        self._key_shown = key
        self._stamp.SetInput(f"{self.title}\n{stamp}" if self.title else stamp)
        self._cached = None
        return True

    def image(self, t: float) -> np.ndarray:
        """The picture at ``t``. A replay slower than the data (several frames per sample) renders each
        distinct moment once: frames that would show the same values and time stamp reuse the last picture."""
        if self.show(t) or self._cached is None:
            self._cached = self.view.image()
        return self._cached

    def close(self) -> None:
        self.view.close()
