"""Many small parts drawn by a few actors: an assembly of hundreds of bolts, brackets and covers costs one
actor per batch, not one per part.

Each actor costs the renderer a fixed amount per frame (state changes, a draw call, culling), which with
software OpenGL adds up long before the triangles do. A batch merges the display meshes of small parts
(their points, normals and triangles, as numpy arrays) into one mesh with a per-point colour array, so each
part keeps its own colour (a status tint, its design colour) by writing its slice of that array.

A part is drawn by its batch only while it looks like any other batched part: visible, opaque, not
selected, no vertex colours, no surface field, no section plane. Otherwise it is drawn by its own actor and
its batch is rebuilt without it (a few milliseconds: batches are kept small). The scene decides which parts
those are (:meth:`SceneRenderer._sync_batches`); picking maps a batch's cell back to its part.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor

from twinviewer.render import primitives

BATCH_MIN_PARTS = 24
"""Below this many batchable parts every part keeps its own actor (there is nothing to gain)."""
BATCH_PART_MAX_TRIANGLES = 20_000
"""Bigger parts keep their own actor: their triangles, not their actor, are what costs."""
BATCH_MAX_TRIANGLES = 120_000
"""Triangles per batch at most, so that a membership change rebuilds little."""
PART_COLOURS = "part_colours"
SPECULAR_COLOUR = (0.70, 0.72, 0.75)


def batchable(mesh: vtkPolyData) -> bool:
    """Small, made of triangles only, and carrying nothing but normals (no vertex colours, no field)."""
    polys = mesh.GetPolys()
    n = mesh.GetNumberOfCells()
    if n == 0 or n > BATCH_PART_MAX_TRIANGLES or polys.GetNumberOfCells() != n:
        return False
    if not polys.IsHomogeneous() == 3:
        return False
    data = mesh.GetPointData()
    return {data.GetArrayName(i) for i in range(data.GetNumberOfArrays())} == {"Normals"}


def plan_batches(meshes: dict[str, vtkPolyData]) -> list[list[str]]:
    """Group batchable parts (in the order given) into batches of at most BATCH_MAX_TRIANGLES."""
    names = [name for name, mesh in meshes.items() if batchable(mesh)]
    if len(names) < BATCH_MIN_PARTS:
        return []
    groups: list[list[str]] = [[]]
    triangles = 0
    for name in names:
        n = meshes[name].GetNumberOfCells()
        if groups[-1] and triangles + n > BATCH_MAX_TRIANGLES:
            groups.append([])
            triangles = 0
        groups[-1].append(name)
        triangles += n
    return [group for group in groups if len(group) > 1]


class PartBatch:
    """One actor drawing the members of a batch that are currently ``drawn`` (see the module's docstring)."""

    def __init__(self, members: list[str], meshes: dict[str, vtkPolyData], prototype: vtkActor):
        self.members = list(members)
        self._meshes = {name: meshes[name] for name in members}
        self.drawn: list[str] = []
        self.drawn_set: set[str] = set()
        self.colours: dict[str, tuple[float, float, float]] = {}
        self._point_slices: dict[str, slice] = {}
        self._cell_starts = np.zeros(0, dtype=np.int64)
        self._rgb = np.zeros((0, 3), dtype=np.uint8)
        self.mesh = vtkPolyData()
        self.actor = primitives.surface_actor(self.mesh, (1.0, 1.0, 1.0))
        self.actor.GetProperty().DeepCopy(prototype.GetProperty())
        # The colours come from the points; the highlight, which a part's own actor draws in its colour, in
        # the neutral grey most batched parts have.
        self.actor.GetProperty().SetSpecularColor(*SPECULAR_COLOUR)
        mapper = self.actor.GetMapper()
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray(PART_COLOURS)
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()

    @property
    def address(self) -> str:
        return self.actor.GetAddressAsString("vtkObject")

    def draw(self, names: list[str]) -> None:
        """Rebuild the merged mesh from ``names`` (members, in member order)."""
        wanted = set(names)
        self.drawn = [name for name in self.members if name in wanted]
        self.drawn_set = set(self.drawn)
        points, normals, faces, starts = [], [], [], []
        offset = cells = 0
        self._point_slices = {}
        for name in self.drawn:
            mesh = self._meshes[name]
            p = primitives.points_of(mesh)
            points.append(p)
            normals.append(vtk_to_numpy(mesh.GetPointData().GetArray("Normals")))
            faces.append(vtk_to_numpy(mesh.GetPolys().GetConnectivityArray()).reshape(-1, 3) + offset)
            starts.append(cells)
            self._point_slices[name] = slice(offset, offset + len(p))
            offset += len(p)
            cells += mesh.GetNumberOfCells()
        self._cell_starts = np.asarray(starts, dtype=np.int64)
        merged = primitives.surface(np.concatenate(points) if points else np.zeros((0, 3)),
                                    np.concatenate(faces) if faces else np.zeros((0, 3), np.int64))
        if normals:
            primitives.attach_point_array(merged, "Normals", np.concatenate(normals).astype(np.float32))
            merged.GetPointData().SetActiveNormals("Normals")
        self._rgb = primitives.attach_point_array(merged, PART_COLOURS, np.zeros((offset, 3), dtype=np.uint8))
        for name in self.drawn:
            self._write_colour(name)
        self.mesh = merged
        self.actor.GetMapper().SetInputData(merged)
        self.actor.SetVisibility(bool(self.drawn))

    def set_colour(self, name: str, colour) -> None:
        """The colour (0..1 RGB) ``name`` is drawn in while it is in this batch."""
        self.colours[name] = tuple(float(c) for c in colour)
        if name in self._point_slices:
            self._write_colour(name)
            self.mesh.GetPointData().GetArray(PART_COLOURS).Modified()

    def _write_colour(self, name: str) -> None:
        colour = self.colours.get(name, (0.7, 0.7, 0.7))
        self._rgb[self._point_slices[name]] = np.round(np.clip(colour, 0.0, 1.0) * 255.0).astype(np.uint8)

    def part_at_cell(self, cell_id: int) -> str | None:
        """The drawn part a cell of the merged mesh belongs to."""
        if cell_id < 0 or not self.drawn:
            return None
        return self.drawn[int(np.searchsorted(self._cell_starts, cell_id, side="right")) - 1]
