"""Wavefront OBJ reader: each group (``g``) or object (``o``) becomes a part; ``.mtl`` diffuse colours
(``Kd``) become part colours.

Polygons are fanned into triangles; negative (relative) indices and ``v/vt/vn`` forms are understood.
A part takes the colour of the material that covers most of its faces.

Two parsers produce the same parts. ``read_obj_per_line`` walks the text line by line and names the exact
line of a bad face. ``read_obj`` parses all ``v`` lines and all ``f`` lines of the file in bulk with numpy
(only ``g``/``o``/``usemtl``/``mtllib`` lines go through Python one by one); whenever the bulk parse cannot
prove it read the file exactly as the per-line parser would (bad numbers, vertex lines with fewer than three
numbers, unusual whitespace, ``\\`` continuations, ...) it hands the whole file to ``read_obj_per_line``, so
results, warnings and error messages are the same either way.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np

from twinviewer.core.budgets import MAX_PARTS
from twinviewer.core.errors import MeshLoadError
from twinviewer.core.formatting import counted
from twinviewer.core.geometry import PartMesh
from twinviewer.io.referenced_files import ReferencedFileError, read_reference

# Characters outside ASCII that Python's str.split()/splitlines() treat as whitespace or line breaks; the
# bulk parser splits bytes on ASCII whitespace only, so a file holding any of these goes line by line.
NON_ASCII_WHITESPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[ord(" "), ord("\t"), ord("\r"), ord("\n")]] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0"):ord("9") + 1] = True
_INDEX_BYTE = _WHITESPACE | _DIGIT
_INDEX_BYTE[[ord("+"), ord("-")]] = True
_VERTEX_SUFFIX = re.compile(rb"/\S*")
_LARGEST_PLAIN_INDEX = 2**62


@dataclass
class _ObjContent:
    """What both parsers extract: vertices, faces per part (in part order) and the material files."""

    points: np.ndarray
    vertex_colours: np.ndarray | None
    parts: list[tuple[str, np.ndarray, str | None]]
    material_files: list[str] = field(default_factory=list)
    skipped_faces: int = 0


def read_mtl_colours(path: Path, text: str | None = None) -> dict[str, tuple[float, float, float]]:
    colours: dict[str, tuple[float, float, float]] = {}
    current = None
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "newmtl" and len(fields) > 1:
            current = " ".join(fields[1:])
        elif fields[0] == "Kd" and current is not None and len(fields) >= 4:
            try:
                rgb = (float(fields[1]), float(fields[2]), float(fields[3]))
            except ValueError:
                continue
            if all(math.isfinite(c) for c in rgb):
                colours[current] = rgb
    return colours


def read_obj(path: Path, *, warnings: list[str]) -> list[PartMesh]:
    data = path.read_bytes()
    content = _parse_bulk(path, data)
    if content is None:
        return read_obj_per_line(path, warnings=warnings, data=data)
    _warn_skipped_faces(path, content.skipped_faces, warnings)
    return _build_parts(path, content, warnings)


def read_obj_per_line(path: Path, *, warnings: list[str], data: bytes | None = None) -> list[PartMesh]:
    """The exact line-by-line reader; ``read_obj`` falls back to it and must return what it returns."""
    if data is None:
        data = path.read_bytes()
    try:
        text = data.decode("utf-8", errors="strict")
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
    for line_number, line in _logical_lines(text):
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
                raise MeshLoadError(
                    f"{path}:{line_number}: face has an index that is not a number."
                ) from None
            if len(indices) < 3:
                skipped_faces += 1
                continue
            if any(abs(i) > 2**40 for i in indices):
                raise MeshLoadError(f"{path}:{line_number}: face refers to a vertex index beyond any file's "
                                    "vertex count.")
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
    _warn_skipped_faces(path, skipped_faces, warnings)
    try:
        points = np.array(vertices, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise MeshLoadError(f"{path}: a vertex line ('v') does not hold three numbers.") from None
    per_vertex = None
    if vertex_colours and len(vertex_colours) == len(vertices):
        try:
            per_vertex = _colours_to_bytes(np.array(vertex_colours, dtype=np.float64))
        except ValueError:
            per_vertex = None
    parts = [(name, np.array(face_list, dtype=np.int64), part_materials[name].most_common(1)[0][0])
             for name, face_list in part_faces.items()]
    return _build_parts(path, _ObjContent(points, per_vertex, parts, material_files), warnings)


def _logical_lines(text: str):
    """(first line number, text) per logical line: a data line ending in ``\\`` continues on the next."""
    pending: list[str] = []
    pending_number = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            pending_number = line_number
        stripped = line.rstrip()
        if stripped.endswith("\\") and not stripped.startswith("#"):
            pending.append(stripped[:-1])
            continue
        if pending:
            pending.append(line)
            line = " ".join(pending)
            pending = []
        yield pending_number, line
    if pending:
        yield pending_number, " ".join(pending)


def _warn_skipped_faces(path: Path, skipped_faces: int, warnings: list[str]) -> None:
    if skipped_faces:
        warnings.append(f"{path.name}: {counted(skipped_faces, 'face')} with fewer than 3 vertices skipped")


def _colours_to_bytes(rgb: np.ndarray) -> np.ndarray:
    return np.clip((rgb * 255.0 if rgb.max() <= 1.0 else rgb) + 0.5, 0, 255).astype(np.uint8)


def _build_parts(path: Path, content: _ObjContent, warnings: list[str]) -> list[PartMesh]:
    colours_by_material: dict[str, tuple[float, float, float]] = {}
    for name in content.material_files[:64]:
        try:
            raw = read_reference(path, name, "material file")
        except ReferencedFileError as exc:
            reason = str(exc).removeprefix(f"{path}: ").replace(" next to it", "")
            warnings.append(f"{path.name}: {reason}; colours from it are not used")
            continue
        colours_by_material.update(read_mtl_colours(path, raw.decode("utf-8", errors="replace")))
    points, per_vertex = content.points, content.vertex_colours
    MAX_PARTS.check(len(content.parts), str(path), "the OBJ holds groups for")
    parts = []
    for name, faces, material in content.parts:
        if faces.size and (faces.min() < 0 or faces.max() >= len(points)):
            raise MeshLoadError(f"{path}: group {name!r} has a face that refers to a vertex that does not "
                                "exist.")
        used, local = np.unique(faces, return_inverse=True)
        parts.append(PartMesh(
            name=name, points=points[used], faces=local.reshape(-1, 3).astype(np.int64),
            color=colours_by_material.get(material) if material else None,
            vertex_colors=per_vertex[used] if per_vertex is not None else None, group=name,
        ))
    return parts


class _Lines:
    """Where each line of the file starts, how many whitespace-separated tokens it holds, and its keyword."""

    def __init__(self, data: bytes):
        self.data = data
        self.bytes = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(self.bytes == ord("\n"))
        self.starts = np.empty(len(newlines) + 1, dtype=np.int64)
        self.starts[0] = 0
        self.starts[1:] = newlines + 1  # the last entry is the end of the data (it ends with a newline)
        is_space = self.bytes <= ord(" ")  # _parse_bulk gives up if other control bytes occur
        token_start = ~is_space
        token_start[1:] &= is_space[:-1]
        self.token_counts = np.add.reduceat(token_start.view(np.uint8), self.starts[:-1], dtype=np.int32)
        self.token_counts = self.token_counts.astype(np.int64)
        self.key_positions = self.starts[:-1].copy()
        indented = is_space[self.key_positions] & (self.token_counts > 0)
        if indented.any():
            token_positions = np.flatnonzero(token_start)
            self.key_positions[indented] = token_positions[
                np.searchsorted(token_positions, self.key_positions[indented])]
        has_key = self.token_counts > 0
        first = self.bytes[self.key_positions]
        one_letter_key = has_key & _WHITESPACE[self.bytes[np.minimum(self.key_positions + 1, len(data) - 1)]]
        self.is_vertex = one_letter_key & (first == ord("v"))
        self.is_face = one_letter_key & (first == ord("f"))
        self.maybe_control = has_key & (
            (one_letter_key & ((first == ord("g")) | (first == ord("o"))))
            | (first == ord("u"))
            | (first == ord("m"))
        )

    def text(self, line: int) -> str:
        return self.data[self.starts[line]:self.starts[line + 1]].decode("utf-8")

    def joined(self, selected: np.ndarray) -> tuple[bytes, np.ndarray]:
        """The selected lines (a boolean mask) as one bytes object, and where each of them starts in it."""
        edges = np.diff(np.concatenate([[0], selected.astype(np.int8), [0]]))
        run_first, run_stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        view = memoryview(self.data)
        joined = b"".join([view[self.starts[a]:self.starts[b]] for a,
                           b in zip(run_first, run_stop, strict=True)])
        lengths = np.diff(self.starts)[selected]
        offsets = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        return joined, offsets


def _parse_bulk(path: Path, data: bytes) -> _ObjContent | None:
    """Parse the whole file with numpy; None when only the per-line parser can say what it means."""
    if not data.isascii():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if NON_ASCII_WHITESPACE.search(text):
            return None
    if not data.endswith(b"\n"):
        data += b"\n"
    carriage_returns = data.count(b"\r")
    if b"\\" in data or (carriage_returns and carriage_returns != data.count(b"\r\n")):
        return None
    lines = _Lines(data)
    if np.count_nonzero(lines.bytes < ord(" ")) != len(lines.starts) - 1 + carriage_returns + data.count(
        b"\t"
    ):
        return None

    states: list[tuple[str, str | None]] = [(path.stem, None)]  # (part, material) from each control line on
    state_lines: list[int] = []
    material_files: list[str] = []
    current_part, current_material = path.stem, None
    for line in np.flatnonzero(lines.maybe_control).tolist():
        fields = lines.text(line).split()
        key = fields[0]
        if key in ("g", "o"):
            current_part = " ".join(fields[1:]) or path.stem
        elif key == "usemtl":
            current_material = " ".join(fields[1:]) or None
        elif key == "mtllib":
            material_files.append(" ".join(fields[1:]))
            continue
        else:
            continue
        state_lines.append(line)
        states.append((current_part, current_material))

    vertices = _parse_vertices(lines)
    if vertices is None:
        return None
    points, vertex_colours = vertices
    faces = _parse_faces(lines)
    if faces is None:
        return None
    indices, counts = faces

    face_lines = np.flatnonzero(lines.is_face)
    vertices_before = np.cumsum(lines.is_vertex)[face_lines]
    indices = np.where(indices > 0, indices - 1, np.repeat(vertices_before, counts) + indices)
    kept = counts >= 3
    skipped_faces = int(len(counts) - np.count_nonzero(kept))
    if skipped_faces == 0 and (counts == 3).all():
        triangles = indices.reshape(-1, 3)
        triangle_line = np.arange(len(counts))
    else:
        first_index = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(counts[:-1], out=first_index[1:])
        kept_lines = np.flatnonzero(kept)
        fan_sizes = counts[kept_lines] - 2
        triangle_line = np.repeat(kept_lines, fan_sizes)
        fan_first = np.zeros(len(fan_sizes), dtype=np.int64)
        np.cumsum(fan_sizes[:-1], out=fan_first[1:])
        k = np.arange(len(triangle_line)) - np.repeat(fan_first, fan_sizes) + 1
        anchor = first_index[triangle_line]
        triangles = np.stack([indices[anchor], indices[anchor + k], indices[anchor + k + 1]], axis=1)

    triangle_state = np.searchsorted(np.asarray(state_lines, dtype=np.int64), face_lines)[triangle_line]
    triangles_per_state = np.bincount(triangle_state, minlength=len(states))
    part_of_state = np.zeros(len(states), dtype=np.int64)
    part_ids: dict[str, int] = {}
    materials: list[Counter] = []
    for state in np.flatnonzero(triangles_per_state).tolist():
        name, material = states[state]
        if name not in part_ids:
            part_ids[name] = len(part_ids)
            materials.append(Counter())
        part_of_state[state] = part_ids[name]
        materials[part_ids[name]][material] += int(triangles_per_state[state])
    if len(part_ids) == 1:
        faces_per_part = [triangles]
    else:
        triangle_part = part_of_state[triangle_state]
        order = np.argsort(triangle_part, kind="stable")
        faces_per_part = np.split(triangles[order], np.cumsum(np.bincount(triangle_part))[:-1])
    parts = [(name, faces_per_part[i], materials[i].most_common(1)[0][0]) for name, i in part_ids.items()]
    return _ObjContent(points, vertex_colours, parts, material_files, skipped_faces)


def _parse_vertices(lines: _Lines) -> tuple[np.ndarray, np.ndarray | None] | None:
    vertex_lines = np.flatnonzero(lines.is_vertex)
    if len(vertex_lines) == 0:
        return np.empty((0, 3), dtype=np.float64), None
    numbers_per_line = lines.token_counts[vertex_lines] - 1
    if numbers_per_line.min() < 3:
        return None
    joined, _ = lines.joined(lines.is_vertex)
    tokens = joined.split()
    if len(tokens) != int(numbers_per_line.sum()) + len(vertex_lines):
        return None
    stride = int(numbers_per_line[0]) + 1
    uniform = bool((numbers_per_line == stride - 1).all())
    line_first_token = None
    if not uniform:
        line_first_token = np.zeros(len(vertex_lines), dtype=np.int64)
        np.cumsum(numbers_per_line[:-1] + 1, out=line_first_token[1:])

    def column(position: int) -> np.ndarray:
        if uniform:
            return np.array(tokens[position::stride], dtype=np.float64)
        assert line_first_token is not None  # set whenever lines are not uniform
        picked = itemgetter(*(line_first_token + position).tolist())(tokens)
        return np.array(picked if len(vertex_lines) > 1 else [picked], dtype=np.float64)

    try:
        points = np.stack([column(1), column(2), column(3)], axis=1)
        vertex_colours = None
        if numbers_per_line.min() >= 6:
            vertex_colours = _colours_to_bytes(np.stack([column(4), column(5), column(6)], axis=1))
    except ValueError:
        return None
    return points, vertex_colours


def _parse_faces(lines: _Lines) -> tuple[np.ndarray, np.ndarray] | None:
    """All face indices as written (1-based or negative) and how many each face line holds."""
    face_lines = np.flatnonzero(lines.is_face)
    counts = lines.token_counts[face_lines] - 1
    if len(face_lines) == 0 or counts.sum() == 0:
        return np.zeros(0, dtype=np.int64), counts
    joined, line_offsets = lines.joined(lines.is_face)
    buffer = bytearray(joined)
    np.frombuffer(buffer, dtype=np.uint8)[line_offsets + lines.key_positions[face_lines]
                                          - lines.starts[face_lines]] = ord(" ")
    numbers = _VERTEX_SUFFIX.sub(b"", buffer) if b"/" in buffer else bytes(buffer)
    raw = np.frombuffer(numbers, dtype=np.uint8)
    if not _INDEX_BYTE[raw].all():
        return None
    signs = np.flatnonzero((raw == ord("+")) | (raw == ord("-")))
    if len(signs) and (signs[0] == 0 or not _WHITESPACE[raw[signs - 1]].all()
                       or not _DIGIT[raw[signs + 1]].all()):
        return None
    try:
        indices = np.fromstring(numbers, dtype=np.int64, sep=" ")
    except ValueError:
        return None
    if len(indices) != int(counts.sum()) or (np.abs(indices) >= _LARGEST_PLAIN_INDEX).any():
        return None
    return indices, counts
