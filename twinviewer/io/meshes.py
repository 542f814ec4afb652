"""Loading CAD/mesh files into a :class:`~twinviewer.core.geometry.Model` in the scene frame (metres, Z up).

``load_model_file`` reads one file (STL, OBJ, PLY, OFF, glTF/GLB, 3MF, VTP/VTU/VTK, and STEP/IGES with the
``twinviewer[step]`` extra), converts it with the file's units and up axis (or an explicit matrix), checks
it and names every part uniquely. ``load_project_model`` does that for each ``[[models]]`` entry of a
project and merges the results. The format readers live in ``twinviewer.io.mesh_*``.

Units and up axis apply to the coordinates as stored in the file. glTF says +Y is up, and files exported by
Blender and most DCC tools follow it (use ``up_axis="y"``); GLB written by CAD converters (cascadio, trimesh)
keeps the CAD's +Z up, which is the default. STEP/IGES and 3MF declare their units and come back in metres
whatever ``units`` says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twinviewer.core.budgets import MAX_MODEL_FILE_BYTES, MAX_PARTS, MAX_TRIANGLES
from twinviewer.core.errors import CancelledError, MeshLoadError
from twinviewer.core.formatting import counted
from twinviewer.core.geometry import Model, PartMesh, apply_matrix, placement_matrix

if TYPE_CHECKING:
    from twinviewer.core.project import Project

ProgressCallback = Callable[[float, str], None]
CancelCallback = Callable[[], bool]

FORMATS: dict[str, tuple[str, ...]] = {
    "STL": (".stl",),
    "Wavefront OBJ": (".obj",),
    "PLY": (".ply",),
    "OFF": (".off",),
    "glTF": (".glb", ".gltf"),
    "3MF": (".3mf",),
    "VTK": (".vtp", ".vtu", ".vtk"),
    "STEP/IGES": (".step", ".stp", ".iges", ".igs"),
}
STEP_EXTENSIONS = (".step", ".stp", ".iges", ".igs")
# Formats that declare their units: their readers return metres, and a project's ``units`` does not apply.
SELF_SCALING_EXTENSIONS = (*STEP_EXTENSIONS, ".3mf")
# The project file's units (twinviewer.core.project.UNIT_SCALE, checked equal by a test), repeated here so
# opening a mesh does not import pydantic: it is a tenth of a second of the time to the first frame.
UNIT_SCALE = {"mm": 0.001, "cm": 0.01, "m": 1.0, "in": 0.0254, "ft": 0.3048}

_MAGIC = [
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"glTF", "a binary glTF (GLB) file"), (b"ISO-10303-21", "a STEP file"),
    (b"ply\n", "a PLY file"), (b"ply\r\n", "a PLY file"), (b"\x1f\x8b", "a gzip archive"),
]


def supported_extensions() -> list[str]:
    """Every file extension ``load_model_file`` reads (lower case, with the dot)."""
    return [ext for exts in FORMATS.values() for ext in exts]


def _file_filter() -> str:
    every = " ".join(f"*{e}" for e in supported_extensions())
    per_format = ";;".join(f"{name} ({' '.join('*' + e for e in exts)})" for name, exts in FORMATS.items())
    return f"3D models ({every});;{per_format};;All files (*)"


MESH_FILE_FILTER = _file_filter()


def _sniff(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[:2] == b"PK":
        return "a ZIP archive"
    return None


def _expected_kind(suffix: str) -> tuple[str, ...]:
    """Descriptions `_sniff` may return for a file that really is of this extension's format."""
    return {".glb": ("a binary glTF (GLB) file",), ".step": ("a STEP file",), ".stp": ("a STEP file",),
            ".ply": ("a PLY file",), ".3mf": ("a ZIP archive",)}.get(suffix, ())


def _read_parts(path: Path, suffix: str, warnings: list[str], step_timeout_s: float | None,
                progress: ProgressCallback | None, cancel: CancelCallback | None) -> list[PartMesh]:
    if suffix == ".stl":
        from twinviewer.io.mesh_stl import read_stl
        return read_stl(path, warnings)
    if suffix == ".obj":
        from twinviewer.io.mesh_obj import read_obj
        return read_obj(path, warnings=warnings)
    if suffix in (".glb", ".gltf"):
        from twinviewer.io.mesh_gltf import read_gltf
        return read_gltf(path, warnings=warnings)
    if suffix == ".ply":
        from twinviewer.io.mesh_other import read_ply
        return read_ply(path, warnings)
    if suffix == ".off":
        from twinviewer.io.mesh_other import read_off
        return read_off(path)
    if suffix == ".3mf":
        from twinviewer.io.mesh_other import read_3mf
        return read_3mf(path, warnings=warnings)
    if suffix in (".vtp", ".vtu", ".vtk"):
        from twinviewer.io.mesh_other import read_vtk
        return read_vtk(path)
    from twinviewer.io.mesh_step import read_step
    return read_step(path, warnings=warnings, timeout_s=step_timeout_s, cancel=cancel, progress=progress)


def _check_cancel(cancel: CancelCallback | None, path: Path) -> None:
    if cancel is not None and cancel():
        raise CancelledError(f"Loading {path.name} was cancelled.")


def load_model_file(path: Path | str, *, units: str = "m", up_axis: str = "z",
                    matrix: np.ndarray | None = None,
                    part_prefix: str = "", split_bodies: bool = False,
                    progress: ProgressCallback | None = None,
                    cancel: CancelCallback | None = None, step_timeout_s: float | None = None) -> Model:
    """Read one model file into the scene frame (metres, Z up).

    ``units`` and ``up_axis`` describe the file; ``matrix`` (4×4), if given, replaces them and maps file
    coordinates straight to the scene. ``part_prefix`` is put in front of every part name. ``split_bodies``
    turns each part into its connected bodies (:func:`twinviewer.core.bodies.split_bodies`). ``progress``
    receives (fraction 0..1, message); ``cancel`` returning True stops with :class:`CancelledError`.
    ``step_timeout_s`` limits STEP/IGES conversion (default: ``TWINVIEWER_STEP_TIMEOUT`` or 120 s).
    Raises :class:`MeshLoadError` with one sentence naming the file for anything unreadable.
    """
    path = Path(path)
    report = progress or (lambda fraction, message: None)
    suffix = path.suffix.lower()
    if suffix not in supported_extensions():
        raise MeshLoadError(f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
                            f"TwinViewer reads {', '.join(supported_extensions())}.")
    if not path.exists():
        raise MeshLoadError(f"{path}: no such file.")
    if path.is_dir():
        raise MeshLoadError(f"{path}: is a folder, not a model file.")
    if not path.is_file():
        raise MeshLoadError(f"{path}: is not a regular file (a device, pipe or socket), not a model file.")
    if units not in UNIT_SCALE:
        raise MeshLoadError(f"{path}: unknown units {units!r}; use one of {', '.join(UNIT_SCALE)}.")
    size = path.stat().st_size
    if size == 0:
        raise MeshLoadError(f"{path}: the file is empty (0 bytes).")
    MAX_MODEL_FILE_BYTES.check(size, str(path), "the file has")
    with open(path, "rb") as handle:
        head = handle.read(64)
    found = _sniff(head)
    if found is not None and found not in _expected_kind(suffix):
        raise MeshLoadError(f"{path}: the file is {found}, not a {suffix[1:].upper()} model (wrong "
                            "extension?).")
    _check_cancel(cancel, path)
    report(0.05, f"Reading {path.name}")
    warnings: list[str] = []
    try:
        parts = _read_parts(path, suffix, warnings, step_timeout_s, progress, cancel)
    except (MeshLoadError, CancelledError):
        raise
    except MemoryError:
        raise MeshLoadError(f"{path}: not enough memory to load this model.") from None
    except RecursionError:
        raise MeshLoadError(f"{path}: the file nests its structure too deeply to be a valid "
                            f"{suffix[1:].upper()} file.") from None
    except Exception as exc:  # a reader tripping over malformed content: still one sentence, naming the file
        raise MeshLoadError(f"{path}: the file is damaged or not a valid {suffix[1:].upper()} file "
                            f"({type(exc).__name__}: {str(exc)[:200]}).") from None
    MAX_TRIANGLES.check(sum(len(part.faces) for part in parts), str(path), "the file holds")
    MAX_PARTS.check(len(parts), str(path), "the file holds")
    _check_cancel(cancel, path)
    report(0.8, f"Checking {path.name}")
    if suffix in SELF_SCALING_EXTENSIONS:
        units = "m"
    if matrix is None:
        matrix = placement_matrix(UNIT_SCALE[units], up_axis, 1.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    model = _finish(path, parts, np.asarray(matrix, dtype=np.float64), part_prefix, warnings)
    if split_bodies:
        from twinviewer.core.bodies import split_bodies as split

        _check_cancel(cancel, path)
        report(0.9, f"Splitting {path.name} into bodies")
        model.parts = [body for part in model.parts for body in split(part)]
    report(1.0, f"Loaded {path.name}: {counted(len(model.parts), 'part')}, {counted(model.n_triangles, 'triangle')}")
    return model


def _finish(path: Path, parts: list[PartMesh], matrix: np.ndarray, prefix: str, warnings: list[str]) -> Model:
    kept: list[PartMesh] = []
    degenerate_total = 0
    empty = 0
    for part in parts:
        points = np.ascontiguousarray(part.points, dtype=np.float64).reshape(-1, 3)
        faces = np.ascontiguousarray(part.faces, dtype=np.int64).reshape(-1, 3)
        if faces.size and (faces.min() < 0 or faces.max() >= len(points)):
            raise MeshLoadError(f"{path}: part {part.name!r} has a triangle that refers to a vertex that "
                                "does not exist.")
        if not np.isfinite(points).all():
            bad = int((~np.isfinite(points).all(axis=1)).sum())
            raise MeshLoadError(f"{path}: part {part.name!r} has {counted(bad, 'vertex', 'vertices')} with coordinates that are NaN or "
                                "infinite.")
        degenerate = (
            (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 0] == faces[:, 2])
        )
        n_degenerate = int(degenerate.sum())
        if n_degenerate:
            faces = faces[~degenerate]
            degenerate_total += n_degenerate
        if faces.shape[0] == 0:
            empty += 1
            continue
        if not np.array_equal(matrix, np.eye(4)):
            points = apply_matrix(points, matrix)
            if np.linalg.det(matrix[:3, :3]) < 0:
                faces = faces[:, ::-1].copy()
        part.points, part.faces = points, faces
        part.name = f"{prefix}{part.name}"
        part.source_file = str(path)
        part.group = part.group or path.name
        kept.append(part)
    if not kept:
        raise MeshLoadError(f"{path}: the file holds no triangles (nothing to show).")
    if degenerate_total:
        warnings.append(f"{path.name}: {counted(degenerate_total, 'degenerate triangle')} (repeated vertex) dropped")
    if empty:
        warnings.append(f"{path.name}: {counted(empty, 'part')} without triangles skipped")
    model = Model(sources=[str(path)], warnings=warnings)
    model.extend(Model(parts=kept))
    return model


def load_project_model(project: Project, progress: ProgressCallback | None = None,
                       cancel: CancelCallback | None = None, step_timeout_s: float | None = None) -> Model:
    """Every ``[[models]]`` entry of the project, placed in the scene and merged; [[parts]] colours win."""
    from twinviewer.core.project import parse_colour

    model = Model()
    count = len(project.models)
    for index, entry in enumerate(project.models):
        path = project.resolve(entry.file)

        def scaled(fraction: float, message: str, index: int = index) -> None:
            if progress is not None:
                progress((index + fraction) / count, message)

        matrix = placement_matrix(UNIT_SCALE[entry.units], entry.up_axis, entry.scale, entry.rotate_deg,
                                  entry.translate)
        if path.suffix.lower() in SELF_SCALING_EXTENSIONS:  # already metres: keep only up axis and placement
            matrix = placement_matrix(1.0, entry.up_axis, entry.scale, entry.rotate_deg, entry.translate)
        loaded = load_model_file(path, matrix=matrix, part_prefix=entry.part_prefix,
                                 split_bodies=entry.split_bodies, progress=scaled, cancel=cancel,
                                 step_timeout_s=step_timeout_s)
        model.extend(loaded)
    for part_spec in project.parts:
        if part_spec.color is None:
            continue
        try:
            part = model.part(part_spec.name)
        except KeyError:
            model.warnings.append(
                f"[[parts]] {part_spec.name!r} has a colour but no model part has that name"
            )
            continue
        part.color = parse_colour(part_spec.color)
        part.vertex_colors = None
    if progress is not None:
        progress(1.0, f"Loaded {counted(len(model.parts), 'part')}, {counted(model.n_triangles, 'triangle')}")
    return model
