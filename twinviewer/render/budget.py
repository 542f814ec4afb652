"""The display triangle budget from this machine's measured frame time.

:class:`FrameTimer` times the renders of a render window (start to end, on the GUI thread) against the
triangles they drew. :meth:`FrameTimer.budget` turns that into how many triangles fit in a frame of
``FRAME_TARGET_S``: software OpenGL (llvmpipe) lands near the 80k-class default, a real GPU at millions, so
big parts are decimated only as much as the machine needs. Picking and measuring always use the full mesh.
``TWINVIEWER_TRIANGLE_BUDGET`` fixes the budget instead.
"""

from __future__ import annotations

import os
import statistics
import time

FRAME_TARGET_S = 0.020  # 20 ms of render leaves 13 ms of a 30 fps frame for the overlay, alarms and panels
MIN_BUDGET = 40_000
MAX_BUDGET = 4_000_000
MIN_SAMPLE_TRIANGLES = 5_000  # smaller scenes time the fixed costs, not the triangles
SAMPLES = 5


def fixed_budget() -> int | None:
    value = os.environ.get("TWINVIEWER_TRIANGLE_BUDGET")
    return int(value) if value else None


def budget_for(seconds: float, triangles: int, target_s: float = FRAME_TARGET_S) -> int:
    """Triangles that fit in ``target_s`` if ``triangles`` took ``seconds`` (the fixed cost of a frame —
    clearing, FXAA, overlays — is part of ``seconds``, so this errs on the safe side)."""
    per_second = triangles / max(seconds, 1e-4)
    return int(min(MAX_BUDGET, max(MIN_BUDGET, per_second * target_s)))


class FrameTimer:
    """Times each render of ``render_window``; ``triangles()`` says how many the scene draws."""

    def __init__(self, render_window, triangles):
        self.triangles = triangles
        self.samples: list[tuple[float, int]] = []
        self._started = 0.0
        render_window.AddObserver("StartEvent", self._start)
        render_window.AddObserver("EndEvent", self._end)

    def _start(self, *_args) -> None:
        self._started = time.perf_counter()

    def _end(self, *_args) -> None:
        if len(self.samples) >= 4 * SAMPLES or not self._started:
            return
        drawn = int(self.triangles())
        if drawn >= MIN_SAMPLE_TRIANGLES:
            self.samples.append((time.perf_counter() - self._started, drawn))

    @property
    def fixed(self) -> int | None:
        return fixed_budget()

    @property
    def measured(self) -> bool:
        return len(self.samples) >= 2

    def budget(self, default: int) -> int:
        """The budget for this machine: fixed by the environment, else measured (the first render, which
        uploads the meshes, is left out), else ``default``."""
        fixed = fixed_budget()
        if fixed is not None:
            return fixed
        if not self.measured:
            return default
        return statistics.median(budget_for(s, n) for s, n in self.samples[1:SAMPLES + 1])
