"""VTK datasets and actors built straight from numpy arrays: part surfaces, point clouds, lines, outlines.

The render layer talks to VTK directly rather than through pyvista's plotting API: importing
``pyvista.plotting`` (and the matplotlib it pulls in) takes about half a second, more than a headless
render of a million triangles. Only the modules used here are imported.
"""

from __future__ import annotations

import os

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints, vtkSMPTools
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkTextActor

if not os.environ.get("VTK_SMP_BACKEND_IN_USE"):
    # VTK's wheels start with the sequential backend; threads take point normals from 100 to 65 ms for
    # 600k triangles on two cores (and help every other threaded VTK filter).
    vtkSMPTools.SetBackend("STDThread")

# ----- datasets ------------------------------------------------------------------------------------


def _vtk_points(points) -> vtkPoints:
    array = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
    vtk_points = vtkPoints()
    vtk_points.SetData(numpy_to_vtk(array, deep=True))
    return vtk_points


def _cells(connectivity: np.ndarray, size: int) -> vtkCellArray:
    """Cells of ``size`` points each from a flat connectivity array."""
    connectivity = np.ascontiguousarray(connectivity, dtype=np.int64).reshape(-1)
    offsets = np.arange(0, len(connectivity) + 1, size, dtype=np.int64)
    cells = vtkCellArray()
    cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=True),
                  numpy_to_vtkIdTypeArray(connectivity, deep=True))
    return cells


def surface(points, faces) -> vtkPolyData:
    """A triangle surface from (n, 3) points and (m, 3) vertex indices."""
    mesh = vtkPolyData()
    mesh.SetPoints(_vtk_points(points))
    mesh.SetPolys(_cells(np.asarray(faces), 3))
    return mesh


def with_point_normals(mesh: vtkPolyData, feature_angle: float = 35.0) -> vtkPolyData:
    """A copy with point normals; edges sharper than ``feature_angle`` are split so CAD edges stay crisp."""
    from vtkmodules.vtkFiltersCore import vtkPolyDataNormals

    normals = vtkPolyDataNormals()
    normals.SetInputData(mesh)
    normals.SetFeatureAngle(feature_angle)
    normals.SplittingOn()
    normals.ConsistencyOff()
    normals.AutoOrientNormalsOff()
    normals.ComputeCellNormalsOff()
    normals.ComputePointNormalsOn()
    normals.Update()
    result = vtkPolyData()
    result.ShallowCopy(normals.GetOutput())
    return result


def point_cloud(points) -> vtkPolyData:
    """Points with one vertex cell each (markers, measurement ends)."""
    mesh = vtkPolyData()
    mesh.SetPoints(_vtk_points(points))
    mesh.SetVerts(_cells(np.arange(mesh.GetNumberOfPoints()), 1))
    return mesh


def polyline(points) -> vtkPolyData:
    """The points joined in order by one line."""
    mesh = vtkPolyData()
    mesh.SetPoints(_vtk_points(points))
    n = mesh.GetNumberOfPoints()
    mesh.SetLines(_cells(np.arange(n), n))
    return mesh


def points_of(mesh: vtkPolyData) -> np.ndarray:
    """The mesh's points as an (n, 3) numpy view."""
    if mesh.GetPoints() is None:
        return np.zeros((0, 3))
    return vtk_to_numpy(mesh.GetPoints().GetData())


def attach_point_array(mesh: vtkPolyData, name: str, values: np.ndarray) -> np.ndarray:
    """Add ``values`` as a named point array that shares memory with the returned numpy array: write into
    it and call ``mesh.GetPointData().GetArray(name).Modified()`` to update the render."""
    values = np.ascontiguousarray(values)
    array = numpy_to_vtk(values, deep=False)  # numpy_support keeps ``values`` alive with the VTK array
    array.SetName(name)
    mesh.GetPointData().AddArray(array)
    return values


# ----- actors --------------------------------------------------------------------------------------


def mesh_actor(mesh: vtkPolyData, colour, pickable: bool = True) -> vtkActor:
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(mesh)
    mapper.ScalarVisibilityOff()
    mapper.InterpolateScalarsBeforeMappingOn()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*colour)
    actor.SetPickable(pickable)
    return actor


def surface_actor(mesh: vtkPolyData, colour) -> vtkActor:
    """A part's surface: flat interpolation of its point normals, mild specular highlight."""
    actor = mesh_actor(mesh, colour)
    prop = actor.GetProperty()
    prop.SetInterpolationToFlat()
    prop.SetSpecular(0.25)
    prop.SetSpecularPower(20.0)
    prop.SetDiffuse(0.85)
    prop.SetAmbient(0.18)
    return actor


def sphere_points_actor(mesh: vtkPolyData, colour, size_px: float) -> vtkActor:
    """Vertices drawn as shaded spheres of a fixed size on screen."""
    actor = mesh_actor(mesh, colour, pickable=False)
    prop = actor.GetProperty()
    prop.SetPointSize(size_px)
    prop.SetRenderPointsAsSpheres(True)
    return actor


def sensor_markers(positions, rgba: np.ndarray, size_px: float) -> tuple[vtkActor, vtkPolyData, np.ndarray]:
    """Unlit sphere markers at ``positions`` coloured by their own RGBA rows, drawn through the surface they
    sit on. Returns the actor, its mesh and the "rgba" array (write into it, then mark the array modified)."""
    mesh = point_cloud(np.asarray(positions, dtype=float).reshape(-1, 3))
    colours = attach_point_array(mesh, "rgba", rgba)
    actor = sphere_points_actor(mesh, (1.0, 1.0, 1.0), size_px)
    actor.GetProperty().SetLighting(False)
    mapper = actor.GetMapper()
    mapper.SetScalarModeToUsePointFieldData()
    mapper.SelectColorArray("rgba")
    mapper.SetColorModeToDirectScalars()
    mapper.ScalarVisibilityOn()
    # Markers stay visible through the parts they sit on (they are on the surface).
    mapper.SetResolveCoincidentTopologyToPolygonOffset()
    mapper.SetRelativeCoincidentTopologyPointOffsetParameter(-60)
    return actor, mesh, colours


def line_actor(mesh: vtkPolyData, colour, width_px: float) -> vtkActor:
    actor = mesh_actor(mesh, colour, pickable=False)
    actor.GetProperty().SetLineWidth(width_px)
    actor.GetProperty().SetLighting(False)
    return actor


def boxed_label(font_size: int, frame_colour, background_opacity: float) -> vtkTextActor:
    """Dark text on a white box with a coloured frame, drawn over the scene; not pickable."""
    label = vtkTextActor()
    text = label.GetTextProperty()
    text.SetFontSize(font_size)
    text.SetColor(0.05, 0.05, 0.05)
    text.SetBackgroundColor(1.0, 1.0, 1.0)
    text.SetBackgroundOpacity(background_opacity)
    text.SetFrame(True)
    text.SetFrameColor(*frame_colour)
    label.SetPickable(False)
    return label


def silhouette_actor(mesh: vtkPolyData, camera, colour, width_px: float) -> vtkActor:
    """The outline of ``mesh`` as seen from ``camera`` (it follows the camera as it moves).

    Coincident points are merged first: display meshes are split along sharp edges (for crisp normals)
    and glTF files often store faces unshared, and the silhouette filter only finds edges that two faces
    share.
    """
    from vtkmodules.vtkFiltersCore import vtkStaticCleanPolyData
    from vtkmodules.vtkFiltersHybrid import vtkPolyDataSilhouette

    merged = vtkStaticCleanPolyData()
    merged.SetInputData(mesh)
    merged.ToleranceIsAbsoluteOn()
    merged.SetAbsoluteTolerance(0.0)
    silhouette = vtkPolyDataSilhouette()
    silhouette.SetInputConnection(merged.GetOutputPort())
    silhouette.SetCamera(camera)
    silhouette.SetEnableFeatureAngle(False)
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(silhouette.GetOutputPort())
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.SetPickable(False)
    prop = actor.GetProperty()
    prop.SetColor(*colour)
    prop.SetLineWidth(width_px)
    return actor
