"""Picture quality: FXAA anti-aliasing on the still picture only.

FXAA smooths stair-stepped silhouettes as a screen-space pass over the finished frame (multisampling is far
dearer with software OpenGL). On llvmpipe the pass is not free (docs/performance.md), so the window draws
every moving frame — camera drag, playback, live data, alarm pulse, timeline scrubbing — without it, and
once the picture has held still for ``STILL_DELAY_S`` draws it once more with FXAA (:class:`StillQuality`;
the window's timer calls :meth:`StillQuality.render_still`). Screenshots, headless renders, report pictures
and video frames are always anti-aliased, so they match the still window.
"""

from __future__ import annotations

import os

FXAA_DEFAULT = os.environ.get("TWINVIEWER_FXAA", "1") != "0"
"""``TWINVIEWER_FXAA=0`` turns anti-aliasing off entirely."""
STILL_DELAY_S = 0.3


def set_fxaa(renderer, on: bool) -> None:
    renderer.SetUseFXAA(bool(on))


class StillQuality:
    """Fast frames while things move, one anti-aliased frame when they stop.

    ``schedule(seconds, callback)`` (re)starts the still timer; the interactor's camera interaction
    counts as moving until it ends."""

    def __init__(self, renderer, interactor, schedule, fxaa: bool = FXAA_DEFAULT):
        self.renderer = renderer
        self.interactor = interactor
        self.schedule = schedule
        self.fxaa = fxaa
        self.camera_moving = False
        self.still = True
        set_fxaa(renderer, fxaa)
        interactor.AddObserver("StartInteractionEvent", self._camera_start)
        interactor.AddObserver("EndInteractionEvent", self._camera_end)

    def moving_frame(self) -> None:
        """A frame is about to be drawn because something changed: draw it fast, polish it later."""
        if self.still:
            self.still = False
            set_fxaa(self.renderer, False)
        self.schedule(STILL_DELAY_S, self.render_still)

    def render_still(self) -> None:
        if self.camera_moving:
            self.schedule(STILL_DELAY_S, self.render_still)
            return
        if not self.still:
            self.still = True
            set_fxaa(self.renderer, self.fxaa)
            if self.fxaa:
                self.interactor.Render()

    def full_quality(self) -> None:
        """For a screenshot: the still picture's settings now."""
        self.still = True
        set_fxaa(self.renderer, self.fxaa)

    def _camera_start(self, *_args) -> None:
        self.camera_moving = True
        self.moving_frame()

    def _camera_end(self, *_args) -> None:
        self.camera_moving = False
        self.schedule(STILL_DELAY_S, self.render_still)
