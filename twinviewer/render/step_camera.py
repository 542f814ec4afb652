"""A scenario step's camera that shows the part the step names, measured in pixels.

``part_shares(scene, names)`` renders the visible parts offscreen with one flat colour per part (an id
buffer, no lighting, no anti-aliasing) from the scene's own camera and counts each named part's pixels as
a share of the view, so a part hidden behind another counts only where it shows.

``frame_step(scene, step)`` points the camera as the step asks (``apply_step_camera``) and checks the
step's focus parts: its first highlighted part must cover at least ``MIN_PART_SHARE`` of the view, and
the answers of its "click the part" questions at least ``MIN_ANSWER_SHARE`` (enough to click). When one
does not (too small, occluded, off screen), the camera is corrected: the focus parts are framed from the
step's own direction first, then from the other standard views, with room around them (less room on each
later pass), and the first view where every focus part shows enough is kept (else the best one found).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkWindowToImageFilter,
)

from twinviewer.render.gl_window import offscreen_window
from twinviewer.render.scene import SceneRenderer

MIN_PART_SHARE = 0.02
"""A step's main part (its first highlighted part) must cover at least this share of the view (2 %: about
150 × 150 pixels of a 1366 × 768 view)."""
MIN_ANSWER_SHARE = 0.005
"""Every other focus part (a click-the-part answer) must show on at least 0.5 % of the view (about 70 × 70
pixels), to be clicked."""
ID_BUFFER_WIDTH = 320
CONTEXT_ZOOMS = (3.5, 2.2, 1.5, 1.1)  # room left around the framed focus parts, so their surroundings show
_VIEW_ORDER = ("iso", "front", "right", "left", "back", "top")


def focus_parts(step) -> list[str]:
    """The parts a step names: its first highlighted part (what it is about) and its click-the-part answers
    (so the question can be answered from the step's own view)."""
    answers = [p for q in step.questions if getattr(q, "kind", "") == "click_part" for p in q.answer]
    return list(dict.fromkeys([*step.highlight[:1], *answers]))


def _encode(index: int) -> tuple[float, float, float]:
    n = index + 1
    return ((n & 0xFF) / 255.0, ((n >> 8) & 0xFF) / 255.0, ((n >> 16) & 0xFF) / 255.0)


class IdBuffer:
    """An offscreen render of the scene's visible parts, one flat colour each, sharing the scene's camera."""

    def __init__(self, scene: SceneRenderer):
        self.scene = scene
        self.window = offscreen_window()
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0, 0, 0)
        self.window.AddRenderer(self.renderer)
        self.names: list[str] = []
        self.actors: dict[str, vtkActor] = {}
        for i, (name, display) in enumerate(scene.parts.items()):
            mapper = vtkPolyDataMapper()
            mapper.SetInputData(display.mesh)
            mapper.ScalarVisibilityOff()
            actor = vtkActor()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetColor(*_encode(i))
            prop.SetLighting(False)
            prop.SetInterpolationToFlat()
            self.renderer.AddActor(actor)
            self.names.append(name)
            self.actors[name] = actor

    def id_image(self, width: int | None = None, only: Iterable[str] | None = None) -> np.ndarray:
        """(h, w) int array, top row first: index into ``names`` of the part seen at each pixel, -1 for
        none. ``width`` defaults to ``ID_BUFFER_WIDTH``; the scene window's aspect is kept."""
        sw, sh = self.scene.window_size
        w = int(width or ID_BUFFER_WIDTH)
        h = max(int(round(w * max(sh, 1) / max(sw, 1))), 1)
        self.window.SetSize(w, h)
        only_set = set(only) if only is not None else None
        for name, actor in self.actors.items():
            display = self.scene.parts[name]
            actor.SetVisibility(display.visible and (only_set is None or name in only_set))
        self.renderer.SetActiveCamera(self.scene.camera)
        self.renderer.ResetCameraClippingRange()
        self.window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self.window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.ShouldRerenderOff()
        grab.Update()
        image = grab.GetOutput()
        gw, gh, _ = image.GetDimensions()
        pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(gh, gw, 3).astype(np.int64)
        self.scene.renderer.ResetCameraClippingRange()
        ids = pixels[..., 0] + (pixels[..., 1] << 8) + (pixels[..., 2] << 16) - 1
        ids[ids >= len(self.names)] = -1
        return np.ascontiguousarray(ids[::-1])

    def mask(self, names: Iterable[str], width: int | None = None) -> np.ndarray:
        """Boolean (h, w) image, top row first: where one of ``names`` is the front-most part."""
        wanted = [self.names.index(n) for n in names if n in self.names]
        return np.isin(self.id_image(width), wanted)

    def counts(self, only: Iterable[str] | None = None) -> tuple[dict[str, int], int]:
        """Pixels of each part seen from the scene's camera (``only``: render just these parts), and the
        view's pixel count."""
        ids = self.id_image(only=only)
        found = np.bincount(ids.ravel() + 1, minlength=len(self.names) + 1)
        return {name: int(found[i + 1]) for i, name in enumerate(self.names)}, ids.size

    def shares(self, names: Sequence[str]) -> dict[str, float]:
        counts, total = self.counts()
        return {n: counts.get(n, 0) / max(total, 1) for n in names}

    def close(self) -> None:
        self.renderer.RemoveAllViewProps()
        self.window.Finalize()


def part_shares(scene: SceneRenderer, names: Sequence[str]) -> dict[str, float]:
    """Share of the view (0..1) each of ``names`` covers where it is not hidden, from the scene's camera."""
    ids = IdBuffer(scene)
    try:
        return ids.shares(names)
    finally:
        ids.close()



def apply_step_camera(scene: SceneRenderer, camera) -> str | None:
    """Point the camera as a step asks: a named view (returned, so a window can remember it) or an
    explicit pose ``{position, focal_point, view_up}`` in scene metres (returns None). No camera: no
    change."""
    if camera is None:
        return None
    if isinstance(camera, str):
        scene.set_view(camera)
        return camera
    distance = float(np.linalg.norm(np.subtract(camera.position, camera.focal_point)))
    scale = max(distance * np.tan(np.radians(scene.camera.GetViewAngle() / 2)), 1e-3)
    scene.set_camera(camera.focal_point, camera.position, camera.view_up, scale)
    return None


@dataclass
class StepView:
    """The camera a step ended up with and what it shows of the step's focus parts."""

    parts: list[str]
    shares: dict[str, float]
    corrected: bool
    view: str | None  # the named view used, if any

    @property
    def ok(self) -> bool:
        return _score(self.parts, self.shares) >= 1.0

    def problems(self, label=lambda name: name) -> list[str]:
        needs = _needs(self.parts)
        return [f"the step's view shows {label(p)} on {100 * s:.1f} % of the picture "
                f"(needs {100 * needs[p]:.0f} %)" for p, s in self.shares.items() if s < needs[p]]


def _needs(parts: Sequence[str]) -> dict[str, float]:
    return {p: MIN_PART_SHARE if i == 0 else MIN_ANSWER_SHARE for i, p in enumerate(parts)}


def _score(parts: Sequence[str], shares: dict[str, float]) -> float:
    """How well a view shows the focus parts: the smallest share over what each needs (>= 1: enough)."""
    needs = _needs(parts)
    return min((shares.get(p, 0.0) / needs[p] for p in parts), default=1.0)


def _frame(scene: SceneRenderer, view: str, parts: Sequence[str], zoom: float) -> None:
    scene.set_view(view, parts, zoom=zoom)  # the scene keeps the zoom when the view is resized
    scene.renderer.ResetCameraClippingRange()


def frame_step(scene: SceneRenderer, step, *, correct: bool = True) -> StepView:
    """Point the camera for ``step`` (its own camera, corrected when its focus parts do not show)."""

    named = apply_step_camera(scene, step.camera) if step.camera is not None else None
    parts = [p for p in focus_parts(step) if p in scene.parts and scene.parts[p].visible]
    if not parts:
        return StepView([], {}, False, named)
    ids = IdBuffer(scene)
    try:
        shares = ids.shares(parts)
        if _score(parts, shares) >= 1.0 or not correct:
            return StepView(parts, shares, False, named)
        original = (scene.camera.GetFocalPoint(), scene.camera.GetPosition(), scene.camera.GetViewUp(),
                    scene.camera.GetParallelScale())
        best: tuple[float, str, float, dict[str, float]] | None = None
        order = [named] if named else []
        order += [v for v in _VIEW_ORDER if v not in order]
        for zoom in CONTEXT_ZOOMS:
            for view in order:
                _frame(scene, view, parts, zoom)
                found = ids.shares(parts)
                score = _score(parts, found)
                if score >= 1.0:
                    return StepView(parts, found, True, view)
                if best is None or score > best[0]:
                    best = (score, view, zoom, found)
        if best is not None and best[0] > _score(parts, shares):
            _frame(scene, best[1], parts, best[2])
            return StepView(parts, best[3], True, best[1])
        scene.set_camera(original[0], original[1], original[2], original[3])
        return StepView(parts, shares, False, named)
    finally:
        ids.close()
