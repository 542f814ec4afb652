"""Picture quality: FXAA anti-aliasing, and an interaction mode that drops it while the camera moves.

FXAA smooths stair-stepped silhouettes as a cheap screen-space pass (multisampling is far dearer with
software OpenGL; its cost is measured in docs/performance.md). While the user drags the camera the view
renders without it and restores it, with one more render, when the drag ends.
"""

from __future__ import annotations

import os

FXAA_DEFAULT = os.environ.get("TWINVIEWER_FXAA", "1") != "0"
"""``TWINVIEWER_FXAA=0`` turns anti-aliasing off (for a machine where it costs too much)."""


def set_fxaa(renderer, on: bool) -> None:
    renderer.SetUseFXAA(bool(on))


class InteractionQuality:
    """Full quality at rest, fast while the interactor's style moves the camera."""

    def __init__(self, renderer, interactor, fxaa: bool = FXAA_DEFAULT):
        self.renderer = renderer
        self.interactor = interactor
        self.fxaa = fxaa
        self.moving = False
        set_fxaa(renderer, fxaa)
        interactor.AddObserver("StartInteractionEvent", self._start)
        interactor.AddObserver("EndInteractionEvent", self._end)

    def _start(self, *_args) -> None:
        self.moving = True
        set_fxaa(self.renderer, False)

    def _end(self, *_args) -> None:
        self.moving = False
        set_fxaa(self.renderer, self.fxaa)
        self.interactor.Render()
