"""The 3D scene: the parts' actors, highlight, visibility, views, clipping, picking and measuring.

Every part has an actor; in an assembly of many small parts most of them are drawn instead by a few batch
actors (:mod:`twinviewer.render.part_batches`) while they look like any other part.

Written against a plain ``vtkRenderer`` and its render window, so the same code drives the window
(a native VTK render window in Qt) and headless renders (``OffscreenView``, with no
pyvista plotting import at all). Render settings follow what was measured on software OpenGL: no
multisampling, one headlight, normals computed once per part (never per frame).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from vtkmodules.vtkCommonCore import reference
from vtkmodules.vtkCommonDataModel import vtkPlane, vtkPolyData, vtkStaticCellLocator
from vtkmodules.vtkRenderingCore import vtkActor, vtkCellPicker, vtkLight, vtkProperty, vtkRenderer

from twinviewer.core.formatting import format_length
from twinviewer.core.geometry import Model, PartMesh
from twinviewer.core.options import RENDER_STYLES, VIEW_NAMES
from twinviewer.core.overlay import SELECTION_OUTLINE_RGB
from twinviewer.render import primitives
from twinviewer.render.part_batches import PartBatch, plan_batches
from twinviewer.render.shading import ShapeCache

NEUTRAL_COLOUR = (0.70, 0.72, 0.75)
HIGHLIGHT_OUTLINE = tuple(c / 255.0 for c in SELECTION_OUTLINE_RGB)
MEASURE_COLOUR = (0.9, 0.1, 0.1)
VERTEX_COLOURS = "vertex_colours"
CAP_SHADE = 0.6  # the section plane shows a cut part's inside, flat, in its colour darkened by this much
# One flat, light blue-grey: a gradient costs a full-screen pass on every frame (4-5 ms of a 30 ms frame with
# software OpenGL at 1280x800) and tells the user nothing.
BACKGROUND = (0.86, 0.88, 0.91)
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


def configure_renderer(renderer: vtkRenderer, render_window) -> None:
    """Fast, readable defaults for software OpenGL: MSAA off, FXAA on, one headlight, a flat background."""
    render_window.SetMultiSamples(0)
    renderer.RemoveAllLights()
    light = vtkLight()
    light.SetLightTypeToHeadlight()
    light.SetIntensity(1.0)
    renderer.AddLight(light)
    from twinviewer.render.quality import FXAA_DEFAULT, set_fxaa

    set_fxaa(renderer, FXAA_DEFAULT)
    renderer.SetBackground(*BACKGROUND)
    renderer.GradientBackgroundOff()


def part_polydata(part: PartMesh, shapes: ShapeCache | None = None) -> vtkPolyData:
    """A PartMesh as PolyData with point normals computed once (smooth shading, sharp CAD edges kept) and
    its vertex colours, if the file gave it any, as the uint8 point array ``VERTEX_COLOURS``. ``shapes``:
    the model's shapes seen so far, so that copies of one shape reuse its normals."""
    smooth = 0 < part.n_triangles <= SMOOTH_SHADING_MAX_TRIANGLES

    def shade() -> vtkPolyData:
        mesh = primitives.surface(part.points, part.faces)
        if part.vertex_colors is not None and len(part.vertex_colors) == part.n_vertices:
            primitives.attach_point_array(mesh, VERTEX_COLOURS, np.asarray(part.vertex_colors, dtype=np.uint8))
        # Dense meshes look smooth with flat shading and their normals cost more than their first frame.
        if smooth:
            mesh = primitives.with_point_normals(mesh, feature_angle=35.0)
        return mesh

    if shapes is not None and smooth and part.vertex_colors is None:
        return shapes.shaded(part.points, part.faces, shade)
    return shade()


SMOOTH_SHADING_MAX_TRIANGLES = 250_000
DISPLAY_TRIANGLE_BUDGET = int(os.environ.get("TWINVIEWER_TRIANGLE_BUDGET", "80000"))
"""Triangles shown at most before the machine was measured; bigger parts get decimated stand-ins. With
software OpenGL a 1280×800 frame costs about 16 ms at 60k triangles and 23 ms at 100k (docs/performance.md).
The window then sizes the stand-ins from its measured frame time (:mod:`twinviewer.render.budget`);
``TWINVIEWER_TRIANGLE_BUDGET`` fixes the budget on a given machine."""


def prepare_display_meshes(model: Model, budget: int | None = None, progress=None,
                           cancel=None, backend=None, only_cached: bool = False) -> dict[str, vtkPolyData]:
    """Display meshes for every part: level-of-detail stand-ins for the biggest, normals computed once.

    Runs off the GUI thread. The full-resolution parts stay in the Model for picking and measuring.
    ``only_cached``: use the stand-ins already in the cache and show the other planned parts as quick coarse
    stand-ins (:func:`coarse_polydata`): the window shows that first and swaps the real stand-ins in with
    :meth:`SceneRenderer.replace_meshes`. ``backend``: the stand-in cache and child processes
    (``core.lod.LodBackend``; the window passes ``io.lod_cache.DiskLodBackend``).
    """
    from twinviewer.core.errors import CancelledError
    from twinviewer.core.lod import build_display_lods, plan_display_lods

    budget = DISPLAY_TRIANGLE_BUDGET if budget is None else budget
    lods = build_display_lods(model, budget, progress=progress, cancel=cancel, backend=backend,
                              only_cached=only_cached)
    coarse = {name: target for name, target in plan_display_lods(model, budget).items()
              if name not in lods} if only_cached else {}
    meshes = {}
    shapes = ShapeCache()
    for part in model.parts:
        if cancel is not None and cancel():
            raise CancelledError("cancelled")
        lod = lods.get(part.name)
        shown = part
        if part.name in coarse:
            meshes[part.name] = coarse_polydata(part, coarse[part.name])
            continue
        if lod is not None:
            colours = lod.values_from_full(part.vertex_colors) if part.vertex_colors is not None else None
            shown = PartMesh(part.name, lod.points, lod.faces, vertex_colors=colours)
        meshes[part.name] = part_polydata(shown, shapes)
    return meshes


def coarse_polydata(part: PartMesh, target: int) -> vtkPolyData:
    """A fast, rough stand-in of a big part (vertex clustering: about 0.1 s per million triangles) to show
    while the real one is decimated; at most about ``target`` triangles, no vertex colours."""
    from vtkmodules.vtkFiltersCore import vtkQuadricClustering

    divisions = int(max(16, min(64, np.sqrt(max(target, 1) / 4.0))))
    clustering = vtkQuadricClustering()
    clustering.SetInputData(primitives.surface(part.points, part.faces))
    clustering.SetNumberOfDivisions(divisions, divisions, divisions)
    clustering.AutoAdjustNumberOfDivisionsOn()
    clustering.Update()
    return primitives.with_point_normals(clustering.GetOutput(), feature_angle=35.0)


@dataclass
class PartDisplay:
    name: str
    mesh: vtkPolyData
    actor: vtkActor
    base_colour: tuple[float, float, float]
    opacity: float = 1.0
    visible: bool = True

    @property
    def n_triangles(self) -> int:
        return self.mesh.GetNumberOfCells()

    @property
    def has_vertex_colours(self) -> bool:
        return self.mesh.GetPointData().GetArray(VERTEX_COLOURS) is not None

    _bounds: tuple = field(default=(), init=False, repr=False, compare=False)  # (key, low, high), see bounds()

    @property
    def points(self) -> np.ndarray:
        return primitives.points_of(self.mesh)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest corner of the display mesh, kept until the mesh changes. numpy, not
        ``GetBounds``: VTK's threaded bounds cost 0.1 ms a part even for a small one."""
        key = (id(self.mesh), self.mesh.GetMTime())
        if not self._bounds or self._bounds[0] != key:
            points = self.points
            self._bounds = (key, points.min(axis=0), points.max(axis=0))
        return self._bounds[1], self._bounds[2]


def _mean_colour(vertex_colours: np.ndarray | None) -> tuple[float, float, float] | None:
    """The average of a part's vertex colours (0..1), the colour its tints and highlight start from."""
    if vertex_colours is None or len(vertex_colours) == 0:
        return None
    return tuple(float(c) for c in np.asarray(vertex_colours, dtype=np.float64).mean(axis=0) / 255.0)


class SceneRenderer:
    """Keeps the part ↔ actor maps and every display state of the model; never renders by itself."""

    def __init__(self, renderer: vtkRenderer, render_window):
        self.renderer = renderer
        self.render_window = render_window
        self.parts: dict[str, PartDisplay] = {}
        self._actor_to_part: dict[str, str] = {}  # actor address → part name
        self.selected: str | None = None
        self.isolated: str | None = None
        self.style = "surface"
        self.parallel = False
        self.clip: tuple[str, float] | None = None
        self._measure_actors: list = []
        self.measurement: tuple[np.ndarray, np.ndarray] | None = None  # the two measured points, if shown
        self._outline = None
        self.model: Model | None = None
        self._locators: dict[str, vtkStaticCellLocator] = {}
        self.batches: list[PartBatch] = []
        self._batch_of: dict[str, PartBatch] = {}  # part → its batch (whether it is drawn by it right now)
        self._batch_by_actor: dict[str, PartBatch] = {}
        self.tint: dict[str, tuple[float, float, float]] = {}
        self.alerts: set[str] = set()
        self.field_active = False
        self.on_meshes_replaced: dict[str, object] = {}  # owner → callback after replace_meshes
        self.framed: tuple | None = None  # the standard view shown, until the camera is moved
        self.reserved_corner = (0, 0)  # pixels (width, height) at the bottom-left covered by the legend
        configure_renderer(renderer, render_window)

    @property
    def camera(self):
        return self.renderer.GetActiveCamera()

    def triangles_shown(self) -> int:
        return sum(d.n_triangles for d in self.parts.values() if d.visible)

    @property
    def window_size(self) -> tuple[int, int]:
        width, height = self.render_window.GetSize()
        return int(width), int(height)

    # ----- model -----------------------------------------------------------------------------------
    def set_model(self, model: Model, colours: dict[str, tuple[float, float, float]] | None = None,
                  meshes: dict[str, vtkPolyData] | None = None) -> None:
        """Replace the scene's parts. ``meshes`` may hold prepared display meshes (built off the GUI
        thread)."""
        self.clear()
        self.model = model
        self._locators.clear()
        colours = colours or {}
        shapes = ShapeCache()
        for part in model.parts:
            mesh = meshes[part.name] if meshes and part.name in meshes else part_polydata(part, shapes)
            colour = (
                colours.get(part.name) or part.color or _mean_colour(part.vertex_colors) or NEUTRAL_COLOUR
            )
            actor = primitives.surface_actor(mesh, colour)
            self.renderer.AddActor(actor)
            self.parts[part.name] = PartDisplay(part.name, mesh, actor, tuple(colour))
            self._actor_to_part[actor.GetAddressAsString("vtkObject")] = part.name
            self._apply_colour(part.name)
        self._plan_batches()
        self.set_view("iso")

    def replace_meshes(self, meshes: dict[str, vtkPolyData]) -> None:
        """Swap in new display meshes (decimated stand-ins ready after the first frame). Everything drawn
        from the display meshes follows: colours, the selection outline, and whoever registered in
        ``on_meshes_replaced`` (the overlay's field arrays, a scenario step's outlines)."""
        for name, mesh in meshes.items():
            display = self.parts.get(name)
            if display is None or mesh is display.mesh:
                continue
            display.mesh = mesh
            display.actor.GetMapper().SetInputData(mesh)
            self._apply_colour(name)
        self._plan_batches()
        self.select(self.selected)
        for callback in list(self.on_meshes_replaced.values()):
            callback()

    def clear(self) -> None:
        self.on_meshes_replaced.clear()
        self._remove_batches()
        for display in self.parts.values():
            self.renderer.RemoveActor(display.actor)
        self.parts.clear()
        self._actor_to_part.clear()
        self.clear_measurement()
        self.select(None)
        self.selected = self.isolated = None
        self.tint.clear()

    def bounds(self, names: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        chosen = [self.parts[n] for n in (names or self.parts) if n in self.parts]
        chosen = [d for d in chosen if d.visible and d.mesh.GetNumberOfPoints()] or [
            d for d in chosen if d.mesh.GetNumberOfPoints()]
        if not chosen:
            return np.zeros(3), np.ones(3)
        lows, highs = zip(*(d.bounds() for d in chosen), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)

    # ----- appearance ------------------------------------------------------------------------------
    def _apply_colour(self, name: str) -> None:
        display = self.parts[name]
        colour = np.array(self.tint.get(name, display.base_colour), dtype=float)
        prop = display.actor.GetProperty()
        prop.SetEdgeVisibility(self.style == "edges")
        prop.SetEdgeColor(0.15, 0.15, 0.15)
        if name == self.selected:
            # The selection keeps the part's colour (a status colour must never be covered) and shows as
            # a cyan outline, a colour no status uses; the part is only lit a little brighter.
            prop.SetAmbient(0.35)
        else:
            prop.SetAmbient(0.18)
        prop.SetColor(*colour)
        batch = self._batch_of.get(name)
        if batch is not None:
            batch.set_colour(name, colour)
        cap = display.actor.GetBackfaceProperty()
        if cap is not None:
            cap.SetColor(*(colour * CAP_SHADE))
        if not self.field_active:  # while the overlay's surface field is shown, it owns the mapper's colours
            # A part in its own vertex colours shows them; tinted, it takes one colour like any part (selected,
            # it keeps them: the selection is an outline).
            shows_vertex_colours = display.has_vertex_colours and name not in self.tint
            mapper = display.actor.GetMapper()
            mapper.SetScalarVisibility(shows_vertex_colours)
            if shows_vertex_colours:
                mapper.SetScalarModeToUsePointFieldData()
                mapper.SelectColorArray(VERTEX_COLOURS)
                mapper.SetColorModeToDirectScalars()

    def set_field_active(self, active: bool) -> None:
        """The overlay's surface field takes over (True) or gives back (False) the parts' mapper colours."""
        self.field_active = active
        if not active:
            for name in self.parts:
                self._apply_colour(name)
        self._sync_batches()

    def set_tint(self, tints: dict[str, tuple[float, float, float] | None],
                 alerts: set[str] | None = None) -> None:
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
            tint = None if colour is None else tuple(colour)
            if self.tint.get(name) == tint:
                continue  # the overlay sends every part's tint each frame; most do not change
            if tint is None:
                self.tint.pop(name, None)
            else:
                self.tint[name] = tint
            self._apply_colour(name)

    def select(self, name: str | None) -> None:
        previous, self.selected = self.selected, (name if name in self.parts else None)
        for part in {previous, self.selected} - {None}:
            if part in self.parts:
                self._apply_colour(part)
        self._sync_batches()
        if self._outline is not None:
            self.renderer.RemoveActor(self._outline)
            self._outline = None
        if self.selected is not None and self.parts[self.selected].n_triangles <= 500_000:
            # An outline makes the selection readable even when status tints colour the part.
            self._outline = primitives.silhouette_actor(self.parts[self.selected].mesh, self.camera,
                                                        HIGHLIGHT_OUTLINE, 3.0)
            self._outline.SetVisibility(self.parts[self.selected].visible)
            self.renderer.AddActor(self._outline)

    def set_visible(self, name: str, visible: bool) -> None:
        display = self.parts[name]
        display.visible = visible
        self._sync_batches()
        self._sync_outline()

    def _sync_outline(self) -> None:
        if self._outline is not None and self.selected in self.parts:
            self._outline.SetVisibility(self.parts[self.selected].visible)

    def set_opacity(self, name: str, opacity: float) -> None:
        display = self.parts[name]
        display.opacity = float(np.clip(opacity, 0.05, 1.0))
        display.actor.GetProperty().SetOpacity(display.opacity)
        if display.actor.GetBackfaceProperty() is not None:
            display.actor.GetBackfaceProperty().SetOpacity(display.opacity)
        self._sync_batches()

    def isolate(self, name: str | None) -> None:
        """Show only ``name`` (None shows every part again)."""
        self.isolated = name if name in self.parts else None
        for part, display in self.parts.items():
            display.visible = self.isolated is None or part == self.isolated
        self._sync_batches()
        self._sync_outline()

    def set_style(self, style: str) -> None:
        if style not in RENDER_STYLES:
            raise ValueError(f"unknown style {style!r}")
        self.style = style
        for name, display in self.parts.items():
            if style == "wireframe":
                display.actor.GetProperty().SetRepresentationToWireframe()
            else:
                display.actor.GetProperty().SetRepresentationToSurface()
            self._apply_colour(name)
        for batch in self.batches:
            self._style_batch(batch)

    # ----- camera ----------------------------------------------------------------------------------
    def set_view(self, view: str, names: Iterable[str] | None = None, zoom: float = 1.0) -> None:
        """Look from a standard direction, framing the (visible) parts tightly in the window; ``zoom`` > 1
        leaves that much more room around them (a scenario step shows its part in its surroundings). The
        same framing is kept when the view changes size."""
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
        width, height = self.window_size
        aspect = max(width, 1) / max(height, 1)
        tan_v = np.tan(np.radians(self.camera.GetViewAngle() / 2))
        tan_h = tan_v * aspect
        margin = 1.03
        best = None
        for (fx, fy), window_centre in self._free_areas():
            # the free area spans fx, fy of the view: fit the model into it, centred on it
            distance = float(np.max(np.maximum(lateral_x / (tan_h * fx), lateral_y / (tan_v * fy)) + depth))
            scale = max(float(lateral_y.max()) / fy, float(lateral_x.max()) / (aspect * fx), 1e-6)
            size = scale if self.parallel else distance
            if best is None or size < best[0]:
                best = (size, distance * margin, scale * margin, window_centre)
        assert best is not None
        _size, distance, scale, window_centre = best
        distance = max(distance, float(np.linalg.norm(high - low)) * 0.05, 1e-3) * zoom
        self.set_camera(centre, centre + direction * distance, up, scale * zoom)
        self.camera.SetWindowCenter(-window_centre[0], -window_centre[1])  # VTK shifts the view the other way
        self.framed = (view, None if names is None else list(names), float(zoom))

    def _free_areas(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """The parts of the view clear of the legend's corner: (share of width, share of height) and the
        area's centre in normalised view coordinates (-1..1), right of the legend and above it."""
        width, height = (max(v, 1) for v in self.window_size)
        box_w, box_h = self.reserved_corner
        areas = []
        if box_w > 0 and box_h > 0:
            if box_w < width * 0.7:  # right of the legend, the full height
                areas.append(((1 - box_w / width, 1.0), (box_w / width, 0.0)))
            if box_h < height * 0.7:  # above the legend, the full width
                areas.append(((1.0, 1 - box_h / height), (0.0, box_h / height)))
        return areas or [((1.0, 1.0), (0.0, 0.0))]

    def set_reserved_corner(self, box: tuple[int, int]) -> None:
        """Tell the scene the bottom-left pixels (width, height) the legend covers; a standard view is
        framed again to keep the model clear of them."""
        box = (int(box[0]), int(box[1]))
        if box == self.reserved_corner:
            return
        self.reserved_corner = box
        if self.parts:
            self.reframe()

    def reframe(self) -> None:
        """After the view changed size: frame the standard view again, unless the camera was moved since."""
        if self.framed is not None:
            self.set_view(*self.framed)

    def set_camera(self, focal_point, position, view_up, parallel_scale: float) -> None:
        self.framed = None  # set_view sets it again after calling this
        camera = self.camera
        camera.SetFocalPoint(*map(float, focal_point))
        camera.SetPosition(*map(float, position))
        camera.SetViewUp(*map(float, view_up))
        camera.SetParallelScale(float(parallel_scale))
        self.renderer.ResetCameraClippingRange()

    def fly_to(self, point, radius: float) -> None:
        """Centre the camera on a point (alarms, sensors) keeping the viewing direction."""
        camera = self.camera
        direction = np.array(camera.GetPosition()) - np.array(camera.GetFocalPoint())
        direction /= max(np.linalg.norm(direction), 1e-9)
        distance = max(radius, 1e-3) / np.sin(np.radians(camera.GetViewAngle() / 2))
        self.set_camera(point, np.asarray(point, float) + direction * distance, camera.GetViewUp(), radius)

    def set_parallel(self, parallel: bool) -> None:
        self.parallel = parallel
        self.camera.SetParallelProjection(parallel)

    # ----- section plane ---------------------------------------------------------------------------
    def set_clip(self, axis: str | None, fraction: float = 0.5) -> None:
        """Cut the model with a plane normal to ``axis`` at ``fraction`` of its extent (None removes it).
        ``"x"`` keeps what lies below the plane along X (look at the cut from +X); ``"-x"`` keeps what lies
        above it; the same for y and z.

        Where the plane cuts a closed part, its inside faces show in one flat, darker colour: the cut reads
        as a solid section rather than an empty shell.
        """
        for display in self.parts.values():
            display.actor.GetMapper().RemoveAllClippingPlanes()
            display.actor.SetBackfaceProperty(None)
        if axis is None:
            self.clip = None
            self._sync_batches()
            return
        if axis.lstrip("-") not in ("x", "y", "z") or axis.count("-") > 1:
            raise ValueError(f"unknown section axis {axis!r}; use x, y, z, -x, -y or -z")
        index = "xyz".index(axis.lstrip("-"))
        low, high = self.bounds()
        origin = (low + high) / 2
        origin[index] = low[index] + (high[index] - low[index]) * float(np.clip(fraction, 0, 1))
        normal = [0.0, 0.0, 0.0]
        normal[index] = 1.0 if axis.startswith("-") else -1.0  # the plane keeps the side its normal faces
        plane = vtkPlane()
        plane.SetOrigin(*origin)
        plane.SetNormal(*normal)
        for name, display in self.parts.items():
            display.actor.GetMapper().AddClippingPlane(plane)
            cap = vtkProperty()
            cap.SetAmbient(1.0)
            cap.SetDiffuse(0.0)
            cap.SetSpecular(0.0)
            cap.SetOpacity(display.opacity)
            display.actor.SetBackfaceProperty(cap)
            self._apply_colour(name)
        self.clip = (axis, float(fraction))
        self._sync_batches()  # a cut part shows its inside in its own darker colour: parts draw themselves

    # ----- picking and measuring --------------------------------------------------------------------
    def pick(self, x: int, y: int) -> tuple[str | None, np.ndarray | None]:
        """The part and world point under display pixel (x, y), origin bottom-left as VTK counts."""
        picker = vtkCellPicker()
        picker.SetTolerance(0.0005)
        if not picker.Pick(x, y, 0, self.renderer):
            return None, None
        actor = picker.GetActor()
        address = actor.GetAddressAsString("vtkObject") if actor is not None else ""
        batch = self._batch_by_actor.get(address)
        name = batch.part_at_cell(picker.GetCellId()) if batch is not None else self._actor_to_part.get(address)
        return name, np.array(picker.GetPickPosition())

    # ----- batches of small parts ------------------------------------------------------------------
    def _plan_batches(self) -> None:
        """Group the small parts into batches (again: after the model or its display meshes changed)."""
        self._remove_batches()
        groups = plan_batches({name: display.mesh for name, display in self.parts.items()})
        for members in groups:
            batch = PartBatch(members, {name: self.parts[name].mesh for name in members},
                              self.parts[members[0]].actor)
            self._style_batch(batch)
            self.renderer.AddActor(batch.actor)
            self.batches.append(batch)
            self._batch_by_actor[batch.address] = batch
            for name in members:
                self._batch_of[name] = batch
                batch.set_colour(name, self.parts[name].actor.GetProperty().GetColor())
        self._sync_batches(force=True)

    def _remove_batches(self) -> None:
        for batch in self.batches:
            self.renderer.RemoveActor(batch.actor)
        self.batches.clear()
        self._batch_of.clear()
        self._batch_by_actor.clear()

    def _drawn_by_batch(self, name: str) -> bool:
        display = self.parts[name]
        return (name in self._batch_of and display.visible and display.opacity >= 1.0 and name != self.selected
                and not self.field_active and self.clip is None)

    def _sync_batches(self, force: bool = False) -> None:
        """Each batch draws the members that look like any other part; every other part draws itself."""
        for batch in self.batches:
            drawn = [name for name in batch.members if self._drawn_by_batch(name)]
            if force or drawn != batch.drawn:
                batch.draw(drawn)
        for name, display in self.parts.items():
            batch = self._batch_of.get(name)
            display.actor.SetVisibility(display.visible and not (batch is not None and name in batch.drawn_set))

    def _style_batch(self, batch: PartBatch) -> None:
        prop = batch.actor.GetProperty()
        if self.style == "wireframe":
            prop.SetRepresentationToWireframe()
        else:
            prop.SetRepresentationToSurface()
        prop.SetEdgeVisibility(self.style == "edges")
        prop.SetEdgeColor(0.15, 0.15, 0.15)

    def snap_to_full_mesh(self, name: str, point) -> np.ndarray:
        """The closest point on the full-resolution part (display stand-ins may be decimated)."""
        if self.model is None or name not in self.parts:
            return np.asarray(point, float)
        locator = self._locators.get(name)
        if locator is None:
            part = self.model.part(name)
            full = primitives.surface(part.points, part.faces)
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
        renderer = self.renderer
        renderer.SetWorldPoint(*point, 1.0)
        renderer.WorldToDisplay()
        x, y, _ = renderer.GetDisplayPoint()
        return x, y

    def show_measurement(self, a, b) -> float:
        """Draw a line between two picked points with its length; returns the distance in metres."""
        self.clear_measurement()
        a, b = np.asarray(a, float), np.asarray(b, float)
        self.measurement = (a, b)
        distance = float(np.linalg.norm(b - a))
        line = primitives.line_actor(primitives.polyline([a, b]), MEASURE_COLOUR, 3.0)
        ends = primitives.sphere_points_actor(primitives.point_cloud([a, b]), MEASURE_COLOUR, 10.0)
        label = primitives.boxed_label(14, MEASURE_COLOUR, 0.8)
        label.SetInput(format_length(distance))
        label.GetPositionCoordinate().SetCoordinateSystemToWorld()
        label.GetPositionCoordinate().SetValue(*((a + b) / 2))
        self._measure_actors = [line, ends, label]
        for prop in self._measure_actors:
            self.renderer.AddViewProp(prop)
        return distance

    def clear_measurement(self) -> None:
        self.measurement = None
        for actor in self._measure_actors:
            self.renderer.RemoveViewProp(actor)
        self._measure_actors.clear()
