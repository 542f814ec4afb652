"""A scenario step in 3D: its camera, its highlighted parts, and a headless render of the step.

``apply_step_camera`` and ``StepHighlight`` are shared by the window's scenario panel and by
``twinviewer render PROJECT --scenario S --step N`` (N from 1, ``cli/_render_scenario.py``);
``render_scenario_step`` simulates the scenario (at the playback sample period), takes the state at the
step's shown moment (see ``core.step_moments``) with the status overlay, frames the step's part
(``render.step_camera``) and writes a PNG.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.overlay import LOOK_AT_OUTLINE_RGB
from twinviewer.render.primitives import silhouette_actor
from twinviewer.render.scene import SceneRenderer
from twinviewer.render.step_camera import apply_step_camera, frame_step

STEP_OUTLINE_COLOUR = tuple(c / 255.0 for c in LOOK_AT_OUTLINE_RGB)
STEP_OUTLINE_WIDTH = 4.0
__all__ = ["STEP_OUTLINE_COLOUR", "STEP_OUTLINE_WIDTH", "StepHighlight", "apply_step_camera"]


class StepHighlight:
    """Thick magenta outlines around a step's parts, drawn over whatever colours the status overlay gives
    them (tinting would fight the overlay, which recolours parts every frame)."""

    def __init__(self, scene: SceneRenderer):
        self.scene = scene
        self.parts: list[str] = []
        self._actors: list = []

    def set(self, names: Iterable[str]) -> None:
        self.clear()
        self.scene.on_meshes_replaced["step_highlight"] = lambda: self.set(list(self.parts))
        for name in names:
            display = self.scene.parts.get(name)
            if display is None or display.n_triangles == 0 or display.n_triangles > 500_000:
                continue
            actor = silhouette_actor(display.mesh, self.scene.camera, STEP_OUTLINE_COLOUR, STEP_OUTLINE_WIDTH)
            actor.SetVisibility(display.visible)
            self.scene.renderer.AddActor(actor)
            self._actors.append(actor)
            self.parts.append(name)

    def clear(self) -> None:
        for actor in self._actors:
            self.scene.renderer.RemoveActor(actor)
        self._actors.clear()
        self.parts.clear()


def render_scenario_step(twin, scenario_path: Path | str, step: int, out: Path | str,
                         size: tuple[int, int] = (1280, 800), *, highlight: bool = True,
                         max_samples: int | None = None, hide: Iterable[str] = (), style: str = "surface",
                         parallel: bool = False) -> Path:
    """Render step ``step`` (from 0) of a scenario on ``twin``: simulated state at the step's shown moment
    with the status overlay, the step's camera (corrected to show its part) and its highlighted parts
    outlined."""
    from twinviewer.core.scenario import load_scenario
    from twinviewer.core.scenario_playback import MAX_PLAYBACK_SAMPLES, simulate_for_playback
    from twinviewer.core.session import Session
    from twinviewer.render.offscreen import OffscreenView
    from twinviewer.render.overlay_layer import OverlayLayer

    scenario = load_scenario(scenario_path, twin.project)
    if not 0 <= step < len(scenario.steps):
        raise TwinViewerError(f"--step {step + 1}: {Path(scenario_path).name} has steps "
                              f"1..{len(scenario.steps)}")
    run = simulate_for_playback(scenario, twin.project, max_samples=max_samples or MAX_PLAYBACK_SAMPLES)
    session = Session(twin.project, twin.model.part_names)
    session.set_recording(run.recording(twin.project))
    view = OffscreenView(twin, size)
    try:
        for name in hide:
            if name not in view.scene.parts:
                raise TwinViewerError(f"--hide {name}: no such part (parts: {', '.join(view.scene.parts)})")
            view.scene.set_visible(name, False)
        view.scene.set_style(style)
        view.scene.set_parallel(parallel)
        overlay = OverlayLayer(view.scene, session.overlay, mode="status")
        view.scene.set_view("iso")
        frame_step(view.scene, scenario.steps[step])
        if highlight:
            StepHighlight(view.scene).set(scenario.steps[step].highlight)
        # wall_time 0 puts the alarm pulse at full strength: alarmed parts are fully red in a still image.
        overlay.apply(session.frame_at(run.moments(twin.project)[step].t, wall_time=0.0).overlay)
        return view.screenshot(out)
    finally:
        view.close()
