"""Wavefront OBJ reader: each group (``g``) or object (``o``) becomes a part; ``.mtl`` diffuse colours
(``Kd``) become part colours.

Polygons are fanned into triangles; negative (relative) indices and ``v/vt/vn`` forms are understood.
A part takes the colour of the material that covers most of its faces.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from twinviewer.core.errors import MeshLoadError
from twinviewer.core.geometry import PartMesh


def read_mtl_colours(path: Path) -> dict[str, tuple[float, float, float]]:
    colours: dict[str, tuple[float, float, float]] = {}
    current = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "newmtl" and len(fields) > 1:
            current = " ".join(fields[1:])
        elif fields[0] == "Kd" and current is not None and len(fields) >= 4:
            try:
                colours[current] = (float(fields[1]), float(fields[2]), float(fields[3]))
            except ValueError:
                continue
    return colours


def read_obj(path: Path, *, warnings: list[str]) -> list[PartMesh]:
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise MeshLoadError(f"{path}: not an OBJ file: it is binary data, not Wavefront OBJ text.") from None
    vertices: list[list[str]] = []
    vertex_colours: list[list[str]] = []
    part_faces: dict[str, list[list[int]]] = {}
    part_materials: dict[str, Counter] = {}
    material_files: list[str] = []
    current_part = path.stem
    current_material: str | None = None
    skipped_faces = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line or line[0] == "#":
            continue
        fields = line.split()
        if not fields:
            continue
        key = fields[0]
        if key == "v":
            vertices.append(fields[1:4])
            if len(fields) >= 7:
                vertex_colours.append(fields[4:7])
        elif key == "f":
            try:
                indices = [int(token.split("/", 1)[0]) for token in fields[1:]]
            except ValueError:
                raise MeshLoadError(f"{path}:{line_number}: face has an index that is not a number.") from None
            if len(indices) < 3:
                skipped_faces += 1
                continue
            count = len(vertices)
            indices = [i - 1 if i > 0 else count + i for i in indices]
            faces = part_faces.setdefault(current_part, [])
            for k in range(1, len(indices) - 1):
                faces.append([indices[0], indices[k], indices[k + 1]])
            part_materials.setdefault(current_part, Counter())[current_material] += len(indices) - 2
        elif key in ("g", "o"):
            current_part = " ".join(fields[1:]) or path.stem
        elif key == "usemtl":
            current_material = " ".join(fields[1:]) or None
        elif key == "mtllib":
            material_files.append(" ".join(fields[1:]))
    if skipped_faces:
        warnings.append(f"{path.name}: {skipped_faces} face(s) with fewer than 3 vertices skipped")
    try:
        points = np.array(vertices, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise MeshLoadError(f"{path}: a vertex line ('v') does not hold three numbers.") from None
    colours_by_material: dict[str, tuple[float, float, float]] = {}
    for name in material_files:
        mtl = path.parent / name
        if mtl.is_file():
            colours_by_material.update(read_mtl_colours(mtl))
        else:
            warnings.append(f"{path.name}: material file {name!r} not found; colours from it are not used")
    per_vertex = None
    if vertex_colours and len(vertex_colours) == len(vertices):
        try:
            rgb = np.array(vertex_colours, dtype=np.float64)
            per_vertex = np.clip((rgb * 255.0 if rgb.max() <= 1.0 else rgb) + 0.5, 0, 255).astype(np.uint8)
        except ValueError:
            per_vertex = None
    parts = []
    for name, face_list in part_faces.items():
        faces = np.array(face_list, dtype=np.int64)
        if faces.size and (faces.min() < 0 or faces.max() >= len(points)):
            raise MeshLoadError(f"{path}: group {name!r} has a face that refers to a vertex that does not exist.")
        used, local = np.unique(faces, return_inverse=True)
        material = part_materials[name].most_common(1)[0][0]
        parts.append(PartMesh(
            name=name, points=points[used], faces=local.reshape(-1, 3).astype(np.int64),
            color=colours_by_material.get(material) if material else None,
            vertex_colors=per_vertex[used] if per_vertex is not None else None, group=name,
        ))
    return parts
