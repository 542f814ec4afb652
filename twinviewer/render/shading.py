"""Point normals computed once per shape: the hundredth copy of a bolt reuses the first bolt's normals.

Assemblies repeat parts (fasteners, bearings, blades): glTF instances one mesh under many nodes, STEP places
one shape many times. Each copy reaches the scene as its own part with its own points, and computing its
normals (``vtkPolyDataNormals``, about 0.8 ms even for a small part because of the threaded backend's
start-up) cost 1.7 s for 2,000 parts. A part whose triangles are the same as a shape seen before and whose
points are that shape moved, turned and uniformly scaled (fitted on a few points, then checked on every
point to a tolerance of 1e-6 of its size) takes the shape's shaded mesh with its points and normals transformed instead: the same
result, computed in microseconds. Anything else (other triangles, a mirror image, a stretched copy, a flat
part whose transform is not determined) is shaded the ordinary way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkPolyData

from twinviewer.render import primitives

RELATIVE_TOLERANCE = 1e-6
MAX_TRIANGLES = 20_000
"""Bigger parts are shaded directly: their normals cost per triangle, not per call, and checking them for
copies would cost about as much."""


SAMPLE_POINTS = 24  # a candidate transform is fitted and checked on these first, then on every point


def _sample(n: int) -> np.ndarray:
    index = np.linspace(0, n - 1, min(n, SAMPLE_POINTS)).astype(np.intp)
    return index[np.concatenate(([True], np.diff(index) > 0))]  # (np.unique would import numpy.ma: 10 ms)


class _Shape:
    def __init__(self, points: np.ndarray, faces: np.ndarray, shaded: vtkPolyData):
        self.faces = faces
        self.centre = points.mean(axis=0)
        self.centred = points - self.centre
        self.sample = _sample(len(points))
        self.shaded = shaded
        self.shaded_points = primitives.points_of(shaded) - self.centre
        normals = shaded.GetPointData().GetArray("Normals")
        self.normals = vtk_to_numpy(normals).astype(np.float64) if normals is not None else None


class ShapeCache:
    """Shaded meshes by shape for one model (see the module docstring)."""

    def __init__(self):
        self._shapes: dict[tuple, list[_Shape]] = {}
        self.reused = 0

    def shaded(self, points: np.ndarray, faces: np.ndarray, shade: Callable[[], vtkPolyData]) -> vtkPolyData:
        """``shade()``'s result for this part, or a transformed copy of an earlier shape's."""
        if len(faces) > MAX_TRIANGLES:
            return shade()
        points = np.asarray(points, dtype=np.float64)
        faces = np.ascontiguousarray(faces)
        # A cheap key (the first and last triangles) finds the candidates; their triangles are then compared.
        key = (len(points), faces.shape, faces[:1].tobytes(), faces[-1:].tobytes())
        candidates = self._shapes.setdefault(key, [])
        for shape in candidates:
            if not np.array_equal(shape.faces, faces):
                continue
            copy = _transformed(shape, points)
            if copy is not None:
                self.reused += 1
                return copy
        mesh = shade()
        if mesh.GetPointData().GetArray("Normals") is not None and len(candidates) < 8:
            candidates.append(_Shape(points, faces, mesh))
        return mesh


def _transformed(shape: _Shape, points: np.ndarray) -> vtkPolyData | None:
    if shape.normals is None or len(points) < 4:
        return None
    centre = points.mean(axis=0)
    sample = shape.sample
    size = float(np.ptp(points[sample], axis=0).max()) or 1.0
    tolerance = RELATIVE_TOLERANCE * size
    # Most copies are only moved (bolts on a flange, blades on a grid): no fit, and the normals are the shape's.
    if (np.abs(shape.centred[sample] - (points[sample] - centre)).max() <= tolerance
            and np.abs(shape.centred - (points - centre)).max() <= tolerance):
        return _copy(shape, shape.shaded_points + centre)  # with the shape's own normals array
    # Fitted on a few points (target ≈ centred @ linear): most shapes that are not copies fail here, cheaply.
    linear, *_ = np.linalg.lstsq(shape.centred[sample], points[sample] - centre, rcond=None)
    gram = linear.T @ linear
    scale2 = float(np.trace(gram)) / 3.0
    if scale2 <= 0 or np.abs(gram - scale2 * np.eye(3)).max() > 1e-6 * scale2 or np.linalg.det(linear) <= 0:
        return None  # stretched or mirrored (or the sample is flat): its normals are not the shape's turned
    if np.abs(shape.centred[sample] @ linear - (points[sample] - centre)).max() > tolerance:
        return None
    if np.abs(shape.centred @ linear - (points - centre)).max() > tolerance:
        return None
    rotation = linear / np.sqrt(scale2)
    copy = _copy(shape, shape.shaded_points @ linear + centre)
    normals = numpy_to_vtk(np.ascontiguousarray(shape.normals @ rotation, dtype=np.float32), deep=True)
    normals.SetName("Normals")
    copy.GetPointData().SetNormals(normals)
    return copy


def _copy(shape: _Shape, points: np.ndarray) -> vtkPolyData:
    """The shape's shaded mesh (its cells and point arrays, shared) at other points."""
    copy = vtkPolyData()
    copy.ShallowCopy(shape.shaded)
    copy.SetPoints(primitives._vtk_points(points))
    return copy
