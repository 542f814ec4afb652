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

from twinviewer.core.budgets import (
    MAX_ARCHIVE_BYTES,
    MAX_ARCHIVE_ENTRIES,
    MAX_ARCHIVE_RATIO,
    MAX_PARTS,
    MAX_TRIANGLES,
)
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
        with np.errstate(all="ignore"):  # non-finite coordinates are refused by the caller, by count
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


_PLY_TYPE_BYTES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2,
                   "uint16": 2, "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4,
                   "double": 8, "float64": 8}


def ply_header(path: Path) -> tuple[str, dict[str, int], int]:
    """(format, {element: declared count}, header bytes) of a PLY file, read without trimesh."""
    with open(path, "rb") as handle:
        head = handle.read(65536)
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        raise MeshLoadError(f"{path}: not a PLY file: no 'ply' ... 'end_header' header in its first 64 KiB.")
    newline = head.find(b"\n", end)
    header_bytes = newline + 1 if newline >= 0 else len(head)
    fmt = ""
    counts: dict[str, int] = {}
    min_bytes: dict[str, int] = {}
    element = None
    for number, raw in enumerate(head[:end].decode("ascii", "replace").splitlines(), start=1):
        fields = raw.split()
        if not fields:
            continue
        if fields[0] == "format" and len(fields) > 1:
            fmt = fields[1]
        elif fields[0] == "element" and len(fields) == 3:
            try:
                count = int(fields[2])
            except ValueError:
                raise MeshLoadError(f"{path}:{number}: PLY element {fields[1]!r} count is not an integer.") from None
            if count < 0:
                raise MeshLoadError(f"{path}:{number}: PLY element {fields[1]!r} has a negative count.")
            element = fields[1]
            counts[element] = count
            min_bytes[element] = 0
        elif fields[0] == "property" and element is not None and len(fields) >= 3:
            kind = fields[2] if fields[1] == "list" else fields[1]
            min_bytes[element] += _PLY_TYPE_BYTES.get(kind, 1)
    size = path.stat().st_size - header_bytes
    needed = sum(counts[e] * (max(min_bytes[e], 1) if fmt.startswith("binary") else 2) for e in counts)
    if needed > size:
        declared = ", ".join(f"{n:,} {e}" for e, n in counts.items())
        raise MeshLoadError(f"{path}: the PLY header declares {declared}, which need at least {needed:,} bytes, "
                            f"but the file has {size:,} after its header: it is truncated or its header lies.")
    MAX_TRIANGLES.check(counts.get("face", 0), str(path), "the PLY declares")
    return fmt, counts, header_bytes


def read_ply(path: Path, warnings: list[str] | None = None) -> list[PartMesh]:
    _, declared, _ = ply_header(path)
    parts = _trimesh_parts(path, "ply")
    vertices = sum(len(p.points) for p in parts)
    faces = sum(len(p.faces) for p in parts)
    lost = []
    if vertices < declared.get("vertex", 0):
        lost.append(f"{declared['vertex'] - vertices:,} of {declared['vertex']:,} vertices")
    if faces < declared.get("face", 0):
        lost.append(f"{declared['face'] - faces:,} of {declared['face']:,} faces")
    if lost and warnings is not None:
        warnings.append(f"{path.name}: the PLY file is cut short: {' and '.join(lost)} declared in its header "
                        "are missing; the rest is loaded")
    return parts


def read_off(path: Path) -> list[PartMesh]:
    with open(path, "rb") as handle:
        start = handle.read(4096)
    head = start[:4]
    if (
        not head.lstrip().upper().startswith(b"OFF")
        and not head[:1].isdigit()
        and head[:2] not in (b"CO", b"NO", b"ST")
    ):
        raise MeshLoadError(f"{path}: not an OFF file: it does not start with the 'OFF' keyword.")
    _check_off_counts(path, start)
    return _trimesh_parts(path, "off")


def _check_off_counts(path: Path, start: bytes) -> None:
    """The vertex and face counts of the OFF header against the file size (a vertex line takes at least
    6 bytes, a face line 8), before trimesh allocates anything for them."""
    lines = [line.split(b"#", 1)[0].split() for line in start.splitlines()]
    fields = [field for line in lines for field in line][:4]
    if fields and not fields[0][:1].isdigit():
        fields = fields[1:]  # the OFF / COFF / NOFF keyword
    try:
        vertices, faces = int(fields[0]), int(fields[1])
    except (IndexError, ValueError):
        return
    size = path.stat().st_size
    if vertices < 0 or faces < 0 or vertices * 6 + faces * 8 > size:
        raise MeshLoadError(f"{path}: the OFF header declares {vertices:,} vertices and {faces:,} faces, more "
                            f"than its {size:,} bytes can hold: it is truncated or its header lies.")
    MAX_TRIANGLES.check(faces, str(path), "the OFF declares")


def check_archive(path: Path) -> None:
    """Refuse a ZIP package whose declared contents exceed the budgets, before anything is inflated.

    Python's zipfile never inflates more than an entry's declared size (a lying entry fails its CRC check),
    so checking the declared sizes bounds the memory the whole read needs."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise MeshLoadError(f"{path}: not a readable ZIP package ({exc}).") from None
    where = str(path)
    MAX_ARCHIVE_ENTRIES.check(len(entries), where, "the package holds")
    MAX_ARCHIVE_BYTES.check(sum(e.file_size for e in entries), where, "the package unpacks to")
    ratio = MAX_ARCHIVE_RATIO.value
    for entry in entries:
        if entry.file_size > 1_000_000 and entry.file_size > ratio * max(entry.compress_size, 1):
            MAX_ARCHIVE_RATIO.check(entry.file_size // max(entry.compress_size, 1), where,
                                    f"entry {entry.filename[:80]!r} is compressed at")


def _check_3mf_instances(path: Path) -> None:
    """Count the triangles the 3MF build instances (components may share objects, so a small file can
    describe an exponential number of them) and refuse loops, before trimesh expands anything."""
    import zipfile

    from lxml import etree

    counts: dict[str, int] = {}
    components: dict[str, list[str]] = {}
    items: list[str] = []
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".model")]
        for name in names:
            with archive.open(name) as handle:
                current = None
                for event, element in etree.iterparse(handle, events=("start", "end"), resolve_entities=False,
                                                      no_network=True, huge_tree=False):
                    tag = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
                    if event == "start":
                        if tag == "object":
                            current = element.get("id", "")
                            counts.setdefault(current, 0)
                        elif tag == "triangle" and current is not None:
                            counts[current] += 1
                        elif tag == "component" and current is not None:
                            components.setdefault(current, []).append(element.get("objectid", ""))
                        elif tag == "item":
                            items.append(element.get("objectid", ""))
                    else:
                        if tag == "object":
                            current = None
                        element.clear()
    totals: dict[str, int] = {}
    meshes: dict[str, int] = {}  # mesh objects an object expands to: the parts it becomes

    def total(object_id: str) -> int:
        stack, on_path = [(object_id, False)], set()
        while stack:
            oid, done = stack.pop()
            if done:
                on_path.discard(oid)
                totals[oid] = counts.get(oid, 0) + sum(totals[c] for c in components.get(oid, []))
                meshes[oid] = (oid not in components) + sum(meshes[c] for c in components.get(oid, []))
                continue
            if oid in totals:
                continue
            on_path.add(oid)
            stack.append((oid, True))
            for child in components.get(oid, []):
                if child in on_path:
                    raise MeshLoadError(f"{path}: 3MF object {child!r} contains itself through its components.")
                if child not in totals:
                    stack.append((child, False))
        return totals[object_id]

    MAX_TRIANGLES.check(sum(total(i) for i in items), str(path), "the 3MF build instances")
    MAX_PARTS.check(sum(meshes.get(i, 0) for i in items), str(path), "the 3MF build instances")


def read_3mf(path: Path, warnings: list[str] | None = None) -> list[PartMesh]:
    """The package's objects as parts, in metres."""
    with open(path, "rb") as handle:
        if handle.read(2) != b"PK":
            raise MeshLoadError(f"{path}: not a 3MF file: a 3MF is a ZIP package and this is not one.")
    check_archive(path)
    try:
        _check_3mf_instances(path)
    except MeshLoadError:
        raise
    except Exception as exc:  # malformed XML: trimesh will say more, but nothing was expanded
        raise MeshLoadError(f"{path}: the 3MF model XML cannot be read ({type(exc).__name__}: {exc}).") from None
    loaded = _trimesh_scene(path, "3mf")
    unit = str(getattr(loaded, "units", None) or "millimeter").lower()
    if unit not in UNIT_METRES_3MF:
        if warnings is not None:
            warnings.append(f"{path.name}: unknown 3MF unit {unit!r}; read as millimetres")
        unit = "millimeter"
    return _trimesh_parts(path, "3mf", loaded, UNIT_METRES_3MF[unit])


def read_vtk(path: Path) -> list[PartMesh]:
    import pyvista

    from twinviewer.io.vtk_quiet import silence_vtk, vtk_messages

    silence_vtk()
    before = len(vtk_messages())
    try:
        data = pyvista.read(str(path))
    except Exception as exc:
        raise MeshLoadError(f"{path}: cannot read it as a VTK file: {str(exc)[:200]}") from None
    reported = vtk_messages()[before:]
    if "ERROR" in reported.upper() and (data is None or data.n_cells == 0):
        first = next((line.strip() for line in reported.splitlines() if "rror" in line), "").strip()
        raise MeshLoadError(f"{path}: cannot read it as a VTK file: {first[:200] or 'the reader reported an error'}")
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
