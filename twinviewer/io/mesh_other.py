"""Readers that lean on a library: PLY, OFF and 3MF through trimesh; VTP/VTU/VTK through pyvista.

A 3MF package declares its unit (``<model unit="millimeter">``, millimetres when absent): its parts come
back in metres.

A VTK file whose cells carry an integer part-id array (one of :data:`PART_ID_ARRAYS`) is split into one
part per id; a string field array ``part_names`` (indexed by id) names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.errors import MeshLoadError
from twinviewer.core.geometry import PartMesh

PART_ID_ARRAYS = ("part_id", "PartId", "part", "region", "RegionId", "block_id", "BlockId", "vtkBlockId")
PART_NAMES_FIELD = "part_names"
UNIT_METRES_3MF = {"micron": 1e-6, "millimeter": 1e-3, "centimeter": 1e-2, "inch": 0.0254, "foot": 0.3048,
                   "meter": 1.0}


def _spread_face_colours(faces: np.ndarray, n_points: int, face_rgb: np.ndarray) -> np.ndarray:
    """Per-face colours as vertex colours (a vertex takes the colour of one of its faces)."""
    colours = np.full((n_points, 3), 255, dtype=np.uint8)
    for corner in range(3):
        colours[faces[:, corner]] = face_rgb
    return colours


def _trimesh_scene(path: Path, file_type: str):
    import trimesh

    try:
        return trimesh.load(str(path), file_type=file_type, process=False, force="scene")
    except MeshLoadError:
        raise
    except Exception as exc:
        raise MeshLoadError(f"{path}: cannot read it as {file_type.upper()}: {exc}") from None


def _trimesh_parts(path: Path, file_type: str, loaded=None, scale: float = 1.0) -> list[PartMesh]:
    import trimesh

    loaded = loaded if loaded is not None else _trimesh_scene(path, file_type)
    parts = []
    for node in loaded.graph.nodes_geometry:
        transform, geometry_name = loaded.graph[node]
        geometry = loaded.geometry[geometry_name]
        if not isinstance(geometry, trimesh.Trimesh):
            continue
        points = np.asarray(geometry.vertices, dtype=np.float64) @ transform[:3, :3].T + transform[:3, 3]
        if scale != 1.0:
            points *= scale
        faces = np.asarray(geometry.faces, dtype=np.int64)
        vertex_colors = colour = None
        visual: Any = geometry.visual
        face_rgb = None
        if visual.kind == "vertex":
            vertex_colors = np.asarray(visual.vertex_colors)[:, :3].astype(np.uint8)
            if (vertex_colors == vertex_colors[:1]).all():  # uniform: the file's face colours may say more
                face_rgb = _ply_face_colours(geometry)
        elif visual.kind == "face":
            face_rgb = np.asarray(visual.face_colors)[:, :3].astype(np.uint8)
        if face_rgb is not None and len(face_rgb) == len(faces):
            if (face_rgb == face_rgb[0]).all():
                red, green, blue = (float(c) / 255.0 for c in face_rgb[0][:3])
                colour = (red, green, blue)
                vertex_colors = None
            else:
                vertex_colors = _spread_face_colours(faces, len(points), face_rgb)
        name = str(node) if len(loaded.graph.nodes_geometry) > 1 else path.stem
        parts.append(PartMesh(name=name, points=points, faces=faces, color=colour,
                              vertex_colors=vertex_colors,
                              group=str(node)))
    return parts


def _ply_face_colours(geometry) -> np.ndarray | None:
    raw = geometry.metadata.get("_ply_raw", {}).get("face", {}).get("data")
    names = getattr(getattr(raw, "dtype", None), "names", None) or ()
    if not all(channel in names for channel in ("red", "green", "blue")):
        return None
    return np.stack([raw["red"], raw["green"], raw["blue"]], axis=1).astype(np.uint8).reshape(-1, 3)


def read_ply(path: Path) -> list[PartMesh]:
    return _trimesh_parts(path, "ply")


def read_off(path: Path) -> list[PartMesh]:
    head = path.read_bytes()[:4]
    if (
        not head.lstrip().upper().startswith(b"OFF")
        and not head[:1].isdigit()
        and head[:2] not in (b"CO", b"NO", b"ST")
    ):
        raise MeshLoadError(f"{path}: not an OFF file: it does not start with the 'OFF' keyword.")
    return _trimesh_parts(path, "off")


def read_3mf(path: Path, warnings: list[str] | None = None) -> list[PartMesh]:
    """The package's objects as parts, in metres."""
    if path.read_bytes()[:2] != b"PK":
        raise MeshLoadError(f"{path}: not a 3MF file: a 3MF is a ZIP package and this is not one.")
    loaded = _trimesh_scene(path, "3mf")
    unit = str(getattr(loaded, "units", None) or "millimeter").lower()
    if unit not in UNIT_METRES_3MF:
        if warnings is not None:
            warnings.append(f"{path.name}: unknown 3MF unit {unit!r}; read as millimetres")
        unit = "millimeter"
    return _trimesh_parts(path, "3mf", loaded, UNIT_METRES_3MF[unit])


def read_vtk(path: Path) -> list[PartMesh]:
    import pyvista

    try:
        data = pyvista.read(str(path))
    except Exception as exc:
        raise MeshLoadError(f"{path}: cannot read it as a VTK file: {exc}") from None
    if data is None:
        raise MeshLoadError(f"{path}: cannot read it as a VTK file: the reader returned nothing.")
    if isinstance(data, pyvista.MultiBlock):
        parts = []
        for i, name in enumerate(data.keys()):
            block = data[i]
            if block is None or block.n_cells == 0:
                continue
            parts.extend(_vtk_dataset_parts(path, block, name or f"{path.stem}_{i}"))
        return parts
    return _vtk_dataset_parts(path, data, path.stem)


def _vtk_dataset_parts(path: Path, data, default_name: str) -> list[PartMesh]:
    if data.n_cells == 0 or data.n_points == 0:
        return []
    try:
        surface = data.extract_surface(algorithm="dataset_surface").triangulate()
    except Exception as exc:
        raise MeshLoadError(f"{path}: cannot extract a triangle surface from the VTK data: {exc}") from None
    points = np.asarray(surface.points, dtype=np.float64)
    if surface.n_cells == 0:
        return []
    connectivity = np.asarray(surface.faces)
    if not surface.is_all_triangles:
        raise MeshLoadError(f"{path}: the VTK surface holds cells that cannot be triangulated.")
    faces = connectivity.reshape(-1, 4)[:, 1:].astype(np.int64)
    vertex_colors = None
    for candidate in ("RGB", "RGBA", "Colors", "colors"):
        if candidate in surface.point_data:
            values = np.asarray(surface.point_data[candidate])
            if values.ndim == 2 and values.shape[1] >= 3 and values.dtype == np.uint8:
                vertex_colors = values[:, :3].copy()
                break
    id_name = next((n for n in PART_ID_ARRAYS if n in surface.cell_data), None)
    if id_name is None:
        return [PartMesh(name=default_name, points=points, faces=faces, vertex_colors=vertex_colors,
                         group=default_name)]
    ids = np.asarray(surface.cell_data[id_name]).reshape(-1)
    names_field = None
    if PART_NAMES_FIELD in data.field_data:
        names_field = [str(n) for n in np.asarray(data.field_data[PART_NAMES_FIELD]).reshape(-1)]
    parts = []
    for part_id in np.unique(ids):
        selected = faces[ids == part_id]
        used, local = np.unique(selected, return_inverse=True)
        index = int(part_id)
        if names_field is not None and 0 <= index < len(names_field):
            name = names_field[index]
        else:
            name = f"{default_name}_{index}"
        parts.append(PartMesh(name=name, points=points[used], faces=local.reshape(-1, 3).astype(np.int64),
                              vertex_colors=vertex_colors[used] if vertex_colors is not None else None,
                              group=f"{default_name}/{id_name}={index}"))
    return parts
