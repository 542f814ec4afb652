"""Picture quality: FXAA anti-aliasing at rest, dropped while the picture moves.

FXAA smooths stair-stepped silhouettes as a screen-space pass over the finished frame (multisampling is far
dearer with software OpenGL). On llvmpipe the pass is not free (docs/performance.md), so the view renders
without it while the camera is dragged or the clock plays / follows live data, and renders once more with it
as soon as the picture holds still: moving frames stay fast, every still picture (and every screenshot,
headless render and video frame) is anti-aliased.
"""

from __future__ import annotations

import os

FXAA_DEFAULT = os.environ.get("TWINVIEWER_FXAA", "1") != "0"
"""``TWINVIEWER_FXAA=0`` turns anti-aliasing off entirely."""


def set_fxaa(renderer, on: bool) -> None:
    renderer.SetUseFXAA(bool(on))


class InteractionQuality:
    """Full quality at rest, fast while the camera or the clock moves; ``on_still`` asks for one more render."""

    def __init__(self, renderer, interactor, fxaa: bool = FXAA_DEFAULT, on_still=None):
        self.renderer = renderer
        self.interactor = interactor
        self.fxaa = fxaa
        self.on_still = on_still or interactor.Render
        self.camera_moving = False
        self.time_moving = False
        set_fxaa(renderer, fxaa)
        interactor.AddObserver("StartInteractionEvent", lambda *_: self._set(camera=True))
        interactor.AddObserver("EndInteractionEvent", lambda *_: self._set(camera=False))

    @property
    def moving(self) -> bool:
        return self.camera_moving or self.time_moving

    def set_time_moving(self, moving: bool) -> None:
        """The clock plays or follows live data (True), or holds still (False)."""
        if moving != self.time_moving:
            self._set(time=moving)

    def _set(self, camera: bool | None = None, time: bool | None = None) -> None:
        was_moving = self.moving
        if camera is not None:
            self.camera_moving = camera
        if time is not None:
            self.time_moving = time
        set_fxaa(self.renderer, self.fxaa and not self.moving)
        if was_moving and not self.moving:
            self.on_still()
