"""Show a model first, decimate later: the display stand-ins of big parts are built after the first frame.

Opening a big mesh shows it at full resolution as soon as it is read (stand-ins already in the cache are
used at once); the decimated stand-ins are built off the GUI thread, without a dialog, and swapped into the
scene when ready (:meth:`~twinviewer.render.scene.SceneRenderer.replace_meshes`: the overlay's field, the
selection outline and scenario highlights follow). Opening another file cancels a swap still running.
"""

from __future__ import annotations

from twinviewer.core.errors import CancelledError
from twinviewer.ui.tasks import Task, run_task


class StandInSwap:
    """The window's one background stand-in build (``window.standins``)."""

    def __init__(self, window):
        self.window = window
        self.task: Task | None = None
        self.pending = False
        self.budget: int | None = None  # the triangle budget of the last build
        self._generation = 0

    def cancel(self) -> None:
        self._generation += 1
        if self.task is not None and self.task.running:
            self.task.cancel()
        self.pending = False

    def start(self, twin) -> None:
        """Build the stand-ins ``twin``'s model still lacks and swap them in if it is still shown, sized to
        the budget the first frames measured (:mod:`twinviewer.render.budget`)."""
        from twinviewer.core.lod import plan_display_lods
        from twinviewer.render.scene import DISPLAY_TRIANGLE_BUDGET

        self.cancel()
        if not plan_display_lods(twin.model, DISPLAY_TRIANGLE_BUDGET):
            return  # fits the default budget: shown whole
        self.pending = True
        self._generation += 1
        self._when_measured(self._generation, twin, 0)

    def _when_measured(self, generation: int, twin, waits: int) -> None:
        """Wait (up to about a second) for two timed frames of the coarse model, then build."""
        from PySide6.QtCore import QTimer

        if not self.pending or generation != self._generation or self.window.twin is not twin:
            return
        timer = self.window.viewer.frame_timer
        if not timer.measured and waits < 20 and timer.fixed is None:
            QTimer.singleShot(50, lambda: self._when_measured(generation, twin, waits + 1))
            return
        self._build(twin)

    def _build(self, twin) -> None:
        from twinviewer.core.lod import plan_display_lods
        from twinviewer.render.scene import DISPLAY_TRIANGLE_BUDGET

        window = self.window
        budget = window.viewer.frame_timer.budget(DISPLAY_TRIANGLE_BUDGET)
        self.budget = budget
        if not plan_display_lods(twin.model, budget):
            # The machine draws the whole model in time: show it at full resolution.
            budget = twin.model.n_triangles

        def work(progress, cancelled):
            from twinviewer.render.scene import prepare_display_meshes

            return prepare_display_meshes(twin.model, budget, progress=progress, cancel=cancelled)

        def done(meshes) -> None:
            if window.twin is not twin:
                return
            self.pending = False
            window.scene.replace_meshes(meshes)
            if window.session is not None:
                window.session.invalidate()
            window.refresh_now()
            shown = sum(d.n_triangles for d in window.scene.parts.values())
            window.show_status(f"Showing {shown:,} of {twin.model.n_triangles:,} triangles "
                               "(picking and measuring use the full model)")

        def failed(exc, _details) -> None:
            self.pending = False
            if not isinstance(exc, CancelledError) and window.twin is twin:
                window.show_status(f"Kept the full-resolution model on screen: {exc}")

        self.task = run_task(window, "Preparing the display stand-ins", work, done, failed, show_dialog=False)
