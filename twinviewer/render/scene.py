"""The 3D scene: one actor per part, highlight, visibility, views, clipping, picking and measuring.

Written against pyvista's ``BasePlotter`` so the same code drives an offscreen ``pyvista.Plotter`` (tests,
CLI ``render``) and pyvistaqt's ``QtInteractor`` (the window). Render settings follow what was measured on
software OpenGL: no multisampling, one headlight, normals computed once per part (never per frame).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyvista as pv
from vtkmodules.vtkCommonCore import reference
from vtkmodules.vtkCommonDataModel import vtkPlane, vtkStaticCellLocator
from vtkmodules.vtkRenderingCore import vtkCellPicker

from twinviewer.core.formatting import format_length
from twinviewer.core.geometry import Model, PartMesh
from twinviewer.core.views import VIEW_NAMES

NEUTRAL_COLOUR = (0.70, 0.72, 0.75)
HIGHLIGHT_COLOUR = (1.0, 0.62, 0.0)
HIGHLIGHT_OUTLINE = (0.85, 0.35, 0.0)
BACKGROUND_TOP = (0.93, 0.94, 0.96)
BACKGROUND_BOTTOM = (0.62, 0.66, 0.72)
# Direction from the focal point to the camera, and the camera's up vector, for each standard view.
_VIEW_DIRECTIONS = {
    "iso": ((1.0, -1.0, 0.8), (0, 0, 1)),
    "front": ((0.0, -1.0, 0.0), (0, 0, 1)),
    "back": ((0.0, 1.0, 0.0), (0, 0, 1)),
    "left": ((-1.0, 0.0, 0.0), (0, 0, 1)),
    "right": ((1.0, 0.0, 0.0), (0, 0, 1)),
    "top": ((0.0, 0.0, 1.0), (0, 1, 0)),
    "bottom": ((0.0, 0.0, -1.0), (0, -1, 0)),
}


def configure_plotter(plotter: pv.BasePlotter) -> None:
    """Fast, readable defaults for software OpenGL: MSAA off, one headlight, gradient background."""
    plotter.render_window.SetMultiSamples(0)
    plotter.remove_all_lights()
    plotter.add_light(pv.Light(light_type="headlight", intensity=1.0))
    plotter.set_background(BACKGROUND_BOTTOM, top=BACKGROUND_TOP)


def part_polydata_plain(part: PartMesh) -> pv.PolyData:
    return pv.PolyData.from_regular_faces(np.asarray(part.points, dtype=np.float64),
                                          np.asarray(part.faces, dtype=np.int64))


def part_polydata(part: PartMesh) -> pv.PolyData:
    """A PartMesh as PolyData with point normals computed once (smooth shading, sharp CAD edges kept)."""
    mesh = pv.PolyData.from_regular_faces(np.asarray(part.points, dtype=np.float64),
                                          np.asarray(part.faces, dtype=np.int64))
    # Dense meshes look smooth with flat shading and their normals cost more than their first frame.
    if mesh.n_cells and mesh.n_cells <= SMOOTH_SHADING_MAX_TRIANGLES:
        mesh = mesh.compute_normals(cell_normals=False, split_vertices=True, feature_angle=35.0,
                                    auto_orient_normals=False, consistent_normals=False)
    return mesh


SMOOTH_SHADING_MAX_TRIANGLES = 250_000
DISPLAY_TRIANGLE_BUDGET = int(os.environ.get("TWINVIEWER_TRIANGLE_BUDGET", "80000"))
"""Triangles shown at most; bigger parts get decimated stand-ins. With software OpenGL a 1280×800 frame costs
about 16 ms at 60k triangles and 23 ms at 100k (docs/performance.md), so 80k keeps 25 fps in a 1280×800
window. ``TWINVIEWER_TRIANGLE_BUDGET`` trades detail for speed on a given machine."""


def prepare_display_meshes(model: Model, budget: int = DISPLAY_TRIANGLE_BUDGET, progress=None,
                           cancel=None) -> dict[str, pv.PolyData]:
    """Display meshes for every part: level-of-detail stand-ins for the biggest, normals computed once.

    Runs off the GUI thread. The full-resolution parts stay in the Model for picking and measuring.
    """
    from twinviewer.core.errors import CancelledError
    from twinviewer.core.lod import build_display_lods

    lods = build_display_lods(model, budget, progress=progress, cancel=cancel)
    meshes = {}
    for part in model.parts:
        if cancel is not None and cancel():
            raise CancelledError("cancelled")
        lod = lods.get(part.name)
        shown = PartMesh(part.name, lod.points, lod.faces) if lod else part
        mesh = part_polydata(shown)
        mesh.field_data["full_triangles"] = np.array([part.n_triangles])
        meshes[part.name] = mesh
    return meshes


@dataclass
class PartDisplay:
    name: str
    mesh: pv.PolyData
    actor: pv.Actor
    base_colour: tuple[float, float, float]
    opacity: float = 1.0
    visible: bool = True


class SceneRenderer:
    """Keeps the part ↔ actor maps and every display state of the model; never renders by itself."""

    def __init__(self, plotter: pv.BasePlotter):
        self.plotter = plotter
        self.parts: dict[str, PartDisplay] = {}
        self._actor_to_part: dict[int, str] = {}
        self.selected: str | None = None
        self.isolated: str | None = None
        self.style = "surface"
        self.parallel = False
        self.clip: tuple[str, float] | None = None
        self._clip_plane: vtkPlane | None = None
        self._measure_actors: list = []
        self._outline = None
        self.model: Model | None = None
        self._locators: dict[str, vtkStaticCellLocator] = {}
        self.tint: dict[str, tuple[float, float, float]] = {}
        self.alerts: set[str] = set()
        configure_plotter(plotter)

    # ----- model -----------------------------------------------------------------------------------
    def set_model(self, model: Model, colours: dict[str, tuple[float, float, float]] | None = None,
                  meshes: dict[str, pv.PolyData] | None = None) -> None:
        """Replace the scene's parts. ``meshes`` may hold prepared display meshes (built off the GUI thread)."""
        self.clear()
        self.model = model
        self._locators.clear()
        colours = colours or {}
        for part in model.parts:
            mesh = meshes[part.name] if meshes and part.name in meshes else part_polydata(part)
            colour = colours.get(part.name) or part.color or NEUTRAL_COLOUR
            actor = self.plotter.add_mesh(mesh, color=colour, smooth_shading=False, name=f"part:{part.name}",
                                          pickable=True, reset_camera=False, render=False,
                                          specular=0.25, specular_power=20.0, diffuse=0.85, ambient=0.18)
            self.parts[part.name] = PartDisplay(part.name, mesh, actor, tuple(colour))
            self._actor_to_part[id(actor)] = part.name
            self._actor_to_part[id(actor.GetMapper())] = part.name
        self.set_view("iso")

    def clear(self) -> None:
        for display in self.parts.values():
            self.plotter.remove_actor(display.actor, render=False)
        self.parts.clear()
        self._actor_to_part.clear()
        self.clear_measurement()
        self.select(None)
        self.selected = self.isolated = None
        self.tint.clear()

    def bounds(self, names: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        chosen = [self.parts[n] for n in (names or self.parts) if n in self.parts]
        chosen = [d for d in chosen if d.visible and d.mesh.n_points] or [d for d in chosen if d.mesh.n_points]
        if not chosen:
            return np.zeros(3), np.ones(3)
        b = np.array([d.mesh.bounds for d in chosen])
        return np.array([b[:, 0].min(), b[:, 2].min(), b[:, 4].min()]), np.array(
            [b[:, 1].max(), b[:, 3].max(), b[:, 5].max()])

    # ----- appearance ------------------------------------------------------------------------------
    def _apply_colour(self, name: str) -> None:
        display = self.parts[name]
        colour = np.array(self.tint.get(name, display.base_colour), dtype=float)
        prop = display.actor.prop
        prop.SetEdgeVisibility(self.style == "edges")
        prop.SetEdgeColor(0.15, 0.15, 0.15)
        if name == self.selected and name in self.alerts:
            # A part in warning or alarm keeps its status colour when selected (the outline marks the
            # selection), so an alarm is never hidden behind the selection colour.
            prop.SetAmbient(0.35)
        elif name == self.selected:
            colour = 0.35 * colour + 0.65 * np.array(HIGHLIGHT_COLOUR)
            prop.SetAmbient(0.45)
        else:
            prop.SetAmbient(0.18)
        prop.SetColor(*colour)

    def set_tint(self, tints: dict[str, tuple[float, float, float] | None], alerts: set[str] | None = None) -> None:
        """Colour parts by status (None restores the part's own colour); ``alerts`` are parts in warning or
        alarm, whose colour the selection highlight must not cover."""
        if alerts is not None:
            changed = alerts ^ self.alerts
            self.alerts = set(alerts)
            if self.selected in changed:
                self._apply_colour(self.selected)
        for name, colour in tints.items():
            if name not in self.parts:
                continue
            if colour is None:
                self.tint.pop(name, None)
            else:
                self.tint[name] = tuple(colour)
            self._apply_colour(name)

    def select(self, name: str | None) -> None:
        previous, self.selected = self.selected, (name if name in self.parts else None)
        for part in {previous, self.selected} - {None}:
            if part in self.parts:
                self._apply_colour(part)
        if self._outline is not None:
            self.plotter.remove_actor(self._outline, render=False)
            self._outline = None
        if self.selected is not None and self.parts[self.selected].mesh.n_cells <= 500_000:
            # An outline makes the selection readable even when status tints colour the part.
            self._outline = self.plotter.add_silhouette(self.parts[self.selected].mesh, color=HIGHLIGHT_OUTLINE,
                                                        line_width=3.0, feature_angle=None)
            self._outline.SetPickable(False)

    def set_visible(self, name: str, visible: bool) -> None:
        display = self.parts[name]
        display.visible = visible
        display.actor.SetVisibility(visible)
        self._sync_outline()

    def _sync_outline(self) -> None:
        if self._outline is not None and self.selected in self.parts:
            self._outline.SetVisibility(self.parts[self.selected].visible)

    def set_opacity(self, name: str, opacity: float) -> None:
        display = self.parts[name]
        display.opacity = float(np.clip(opacity, 0.05, 1.0))
        display.actor.prop.SetOpacity(display.opacity)

    def isolate(self, name: str | None) -> None:
        """Show only ``name`` (None shows every part again)."""
        self.isolated = name if name in self.parts else None
        for part, display in self.parts.items():
            display.visible = self.isolated is None or part == self.isolated
            display.actor.SetVisibility(display.visible)
        self._sync_outline()

    def set_style(self, style: str) -> None:
        if style not in ("surface", "wireframe", "edges"):
            raise ValueError(f"unknown style {style!r}")
        self.style = style
        for name, display in self.parts.items():
            if style == "wireframe":
                display.actor.prop.SetRepresentationToWireframe()
            else:
                display.actor.prop.SetRepresentationToSurface()
            self._apply_colour(name)

    # ----- camera ----------------------------------------------------------------------------------
    def set_view(self, view: str, names: Iterable[str] | None = None) -> None:
        """Look from a standard direction, framing the (visible) parts tightly in the window."""
        if view not in _VIEW_DIRECTIONS:
            raise ValueError(f"unknown view {view!r}; use one of {', '.join(VIEW_NAMES)}")
        low, high = self.bounds(names)
        centre = (low + high) / 2
        direction, up = _VIEW_DIRECTIONS[view]
        direction = np.array(direction, float) / np.linalg.norm(direction)
        up = np.array(up, float)
        right = np.cross(up, direction)
        right /= np.linalg.norm(right)
        up = np.cross(direction, right)
        corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1])
                            for z in (low[2], high[2])]) - centre
        lateral_x = np.abs(corners @ right)
        lateral_y = np.abs(corners @ up)
        depth = corners @ direction
        width, height = self.plotter.window_size
        aspect = max(width, 1) / max(height, 1)
        camera = self.plotter.camera
        tan_v = np.tan(np.radians(camera.view_angle / 2))
        tan_h = tan_v * aspect
        margin = 1.03
        distance = float(np.max(np.maximum(lateral_x / tan_h, lateral_y / tan_v) + depth)) * margin
        distance = max(distance, float(np.linalg.norm(high - low)) * 0.05, 1e-3)
        camera.focal_point = tuple(centre)
        camera.position = tuple(centre + direction * distance)
        camera.up = tuple(up)
        camera.parallel_scale = max(float(lateral_y.max()), float(lateral_x.max()) / aspect, 1e-6) * margin
        self.plotter.renderer.ResetCameraClippingRange()

    def fly_to(self, point, radius: float) -> None:
        """Centre the camera on a point (alarms, sensors) keeping the viewing direction."""
        camera = self.plotter.camera
        direction = np.array(camera.position) - np.array(camera.focal_point)
        direction /= max(np.linalg.norm(direction), 1e-9)
        distance = max(radius, 1e-3) / np.sin(np.radians(camera.view_angle / 2))
        camera.focal_point = tuple(point)
        camera.position = tuple(np.array(point) + direction * distance)
        camera.parallel_scale = radius
        self.plotter.renderer.ResetCameraClippingRange()

    def set_parallel(self, parallel: bool) -> None:
        self.parallel = parallel
        self.plotter.camera.SetParallelProjection(parallel)

    # ----- section plane ---------------------------------------------------------------------------
    def set_clip(self, axis: str | None, fraction: float = 0.5) -> None:
        """Cut the model with a plane normal to ``axis`` at ``fraction`` of its extent (None removes it)."""
        for display in self.parts.values():
            display.actor.GetMapper().RemoveAllClippingPlanes()
        if axis is None:
            self.clip = None
            self._clip_plane = None
            return
        index = "xyz".index(axis)
        low, high = self.bounds()
        origin = (low + high) / 2
        origin[index] = low[index] + (high[index] - low[index]) * float(np.clip(fraction, 0, 1))
        normal = [0.0, 0.0, 0.0]
        normal[index] = -1.0
        plane = vtkPlane()
        plane.SetOrigin(*origin)
        plane.SetNormal(*normal)
        for display in self.parts.values():
            display.actor.GetMapper().AddClippingPlane(plane)
        self.clip = (axis, float(fraction))
        self._clip_plane = plane

    # ----- picking and measuring --------------------------------------------------------------------
    def pick(self, x: int, y: int) -> tuple[str | None, np.ndarray | None]:
        """The part and world point under display pixel (x, y), origin bottom-left as VTK counts."""
        picker = vtkCellPicker()
        picker.SetTolerance(0.0005)
        if not picker.Pick(x, y, 0, self.plotter.renderer):
            return None, None
        actor = picker.GetActor()
        name = self._actor_to_part.get(id(actor)) if actor is not None else None
        if name is None and actor is not None:
            name = self._actor_to_part.get(id(actor.GetMapper()))
        if name is None and actor is not None:
            for part, display in self.parts.items():
                if display.actor.GetAddressAsString("vtkObject") == actor.GetAddressAsString("vtkObject"):
                    name = part
                    break
        return name, np.array(picker.GetPickPosition())

    def snap_to_full_mesh(self, name: str, point) -> np.ndarray:
        """The closest point on the full-resolution part (display stand-ins may be decimated)."""
        if self.model is None or name not in self.parts:
            return np.asarray(point, float)
        locator = self._locators.get(name)
        if locator is None:
            full = part_polydata_plain(self.model.part(name))
            locator = vtkStaticCellLocator()
            locator.SetDataSet(full)
            locator.BuildLocator()
            locator._mesh = full  # keep the dataset alive with the locator
            self._locators[name] = locator
        closest = [0.0, 0.0, 0.0]
        cell_id, sub_id, dist2 = reference(0), reference(0), reference(0.0)
        locator.FindClosestPoint(list(map(float, point)), closest, cell_id, sub_id, dist2)
        return np.array(closest)

    def world_to_display(self, point) -> tuple[float, float]:
        renderer = self.plotter.renderer
        renderer.SetWorldPoint(*point, 1.0)
        renderer.WorldToDisplay()
        x, y, _ = renderer.GetDisplayPoint()
        return x, y

    def show_measurement(self, a, b) -> float:
        """Draw a line between two picked points with its length; returns the distance in metres."""
        self.clear_measurement()
        a, b = np.asarray(a, float), np.asarray(b, float)
        distance = float(np.linalg.norm(b - a))
        line = pv.Line(a, b)
        self._measure_actors.append(self.plotter.add_mesh(line, color=(0.9, 0.1, 0.1), line_width=3,
                                                          pickable=False, render=False, reset_camera=False,
                                                          name="measure:line"))
        points = pv.PolyData(np.array([a, b]))
        self._measure_actors.append(self.plotter.add_mesh(points, color=(0.9, 0.1, 0.1), point_size=10,
                                                          render_points_as_spheres=True, pickable=False,
                                                          render=False, reset_camera=False, name="measure:ends"))
        self._measure_actors.append(self.plotter.add_point_labels(
            [(a + b) / 2], [format_length(distance)], font_size=14, point_size=1, shape_opacity=0.8,
            always_visible=True, render=False, reset_camera=False, name="measure:label"))
        return distance

    def clear_measurement(self) -> None:
        for actor in self._measure_actors:
            self.plotter.remove_actor(actor, render=False)
        self._measure_actors.clear()

