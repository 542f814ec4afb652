"""STL reader: binary (numpy records, no per-triangle Python) and ASCII (one part per ``solid NAME``).

STL carries no units and no shared vertices; vertices are merged exactly (identical coordinates) with a
lexsort, which is several times faster than ``np.unique(axis=0)``.

ASCII STL is read in one linear pass (no regular expression that backtracks over the file): every
``facet`` must hold exactly three ``vertex`` lines of three numbers, else the file is refused naming the
line. A file cut short (the last solid without ``endsolid``, the last facet incomplete) loads what is
complete and warns with the counts of what was lost.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from twinviewer.core.budgets import MAX_PARTS, MAX_TRIANGLES
from twinviewer.core.errors import MeshLoadError
from twinviewer.core.formatting import counted
from twinviewer.core.geometry import PartMesh, merge_identical_points

_BINARY_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attribute", "<u2")])
_KEYWORD_LINE = re.compile(rb"^[ \t]*(endsolid|solid|endfacet|facet|vertex)\b([^\r\n]*)", re.M)


def merge_vertices(soup: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangle soup (3·m, 3) → unique points (n, 3) float64 and faces (m, 3) int64 (exact merge).

    A float32 soup is merged by sorting one 64-bit hash of each vertex's bits (about twice as fast as
    sorting on the three coordinates); the result is checked exactly against the soup, and a hash
    collision falls back to the coordinate sort.
    """
    if soup.shape[0] == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    if soup.dtype == np.float32 and soup.flags.c_contiguous:
        merged = _merge_by_hash(soup)
        if merged is not None:
            return merged
    return _merge_by_sort(soup)


def _merge_by_hash(soup: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Sort one 64-bit hash of each vertex's bits instead of three float keys; None on a hash collision."""
    bits = soup.view(np.uint32)
    key = bits[:, 0].astype(np.uint64)
    key <<= np.uint64(32)
    key |= bits[:, 1]
    key ^= bits[:, 2].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    order = np.argsort(key)
    ordered = key[order]
    is_new = np.empty(len(ordered), dtype=bool)
    is_new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=is_new[1:])
    inverse = np.empty(len(soup), dtype=np.int64)
    inverse[order] = np.cumsum(is_new) - 1
    points = soup[order[is_new]]
    # Bitwise, so NaN coordinates compare too; four times faster than array_equal(..., equal_nan=True).
    if not np.array_equal(points.view(np.uint32)[inverse], bits):
        return None
    return points.astype(np.float64), inverse.reshape(-1, 3)


def _merge_by_sort(soup: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    points, inverse = merge_identical_points(soup)
    return points.astype(np.float64), inverse.reshape(-1, 3)


def read_stl(path: Path, warnings: list[str] | None = None) -> list[PartMesh]:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(84)
    if size >= 84:
        count = int(np.frombuffer(head, dtype="<u4", count=1, offset=80)[0])
        if size == 84 + 50 * count:
            MAX_TRIANGLES.check(count, str(path), "the binary STL holds")
            return [_read_binary(path, count)]
    text_start = head.lstrip()[:5].lower()
    if text_start == b"solid":
        data = path.read_bytes()
        if b"facet" in data or b"endsolid" in data:
            return _read_ascii(path, data, warnings if warnings is not None else [])
    if size < 84:
        raise MeshLoadError(f"{path}: not an STL file: {size} bytes is shorter than a binary STL header "
                            "and it is not ASCII STL text.")
    expected = 84 + 50 * count
    raise MeshLoadError(
        f"{path}: not a valid STL file: its binary header declares {count} triangles "
        f"({expected} bytes) but the file has {size} bytes, so it is truncated or not an STL."
    )


def _read_binary(path: Path, count: int) -> PartMesh:
    records = np.memmap(path, dtype=_BINARY_RECORD, mode="r", offset=84, shape=(count,))
    soup = np.ascontiguousarray(records["vertices"]).reshape(-1, 3)
    points, faces = merge_vertices(soup)
    return PartMesh(name=path.stem, points=points, faces=faces, group=path.name)


class _AsciiSolid:
    def __init__(self, name: str, line: int):
        self.name = name
        self.line = line
        self.vertex_text: list[bytes] = []
        self.vertex_lines: list[int] = []
        self.facets = 0
        self.closed = False


def _read_ascii(path: Path, data: bytes, warnings: list[str]) -> list[PartMesh]:
    solids: list[_AsciiSolid] = []
    current: _AsciiSolid | None = None
    facet_vertices = -1  # -1: outside a facet
    facet_line = 0
    incomplete = 0
    unterminated = 0
    line = 1
    last_position = 0
    for match in _KEYWORD_LINE.finditer(data):
        line += data.count(b"\n", last_position, match.start())
        last_position = match.start()
        keyword, rest = match.group(1), match.group(2)
        if keyword == b"solid":
            if current is not None and not current.closed:
                unterminated += 1
                if facet_vertices >= 0:
                    incomplete += 1
            current = _AsciiSolid(rest.strip().decode("utf-8", "replace"), line)
            solids.append(current)
            facet_vertices = -1
        elif current is None or current.closed:
            if keyword == b"endsolid":
                continue
            if current is None:  # facets without a "solid" line: one unnamed solid
                current = _AsciiSolid("", line)
                solids.append(current)
            else:
                raise MeshLoadError(f"{path}:{line}: ASCII STL has {keyword.decode()!r} after 'endsolid'.")
        if keyword == b"facet":
            if facet_vertices >= 0:
                raise MeshLoadError(f"{path}:{facet_line}: ASCII STL facet has no 'endfacet' before the next "
                                    "facet: a facet must hold exactly 3 vertices.")
            facet_vertices, facet_line = 0, line
        elif keyword == b"vertex":
            if facet_vertices < 0:
                raise MeshLoadError(f"{path}:{line}: ASCII STL vertex outside a facet.")
            facet_vertices += 1
            if facet_vertices > 3:
                raise MeshLoadError(f"{path}:{facet_line}: ASCII STL facet has more than 3 vertices (a facet "
                                    "must hold exactly 3).")
            current.vertex_text.append(rest)
            current.vertex_lines.append(line)
        elif keyword == b"endfacet":
            if facet_vertices != 3:
                raise MeshLoadError(f"{path}:{facet_line}: ASCII STL facet has {max(facet_vertices, 0)} vertices "
                                    "(a facet must hold exactly 3).")
            current.facets += 1
            facet_vertices = -1
        elif keyword == b"endsolid":
            if facet_vertices >= 0:
                raise MeshLoadError(f"{path}:{facet_line}: ASCII STL facet is not closed by 'endfacet' before "
                                    "'endsolid'.")
            current.closed = True
    if current is not None and not current.closed:
        unterminated += 1
        if facet_vertices >= 0:  # the file ends inside a facet: drop its vertices
            incomplete += 1
            del current.vertex_text[current.facets * 3:]
            del current.vertex_lines[current.facets * 3:]
    if unterminated or incomplete:
        warnings.append(f"{path.name}: the ASCII STL is cut short: {counted(unterminated, 'solid')} without 'endsolid'"
                        + (f", {counted(incomplete, 'incomplete facet')} dropped" if incomplete else "")
                        + f"; {counted(sum(s.facets for s in solids), 'complete facet')} loaded")
    MAX_TRIANGLES.check(sum(s.facets for s in solids), str(path), "the ASCII STL holds")
    MAX_PARTS.check(sum(1 for s in solids if s.facets), str(path), "the ASCII STL holds")
    parts = []
    for solid in solids:
        if not solid.facets:
            continue
        soup = _vertex_numbers(path, solid)
        points, faces = merge_vertices(soup)
        parts.append(PartMesh(name=solid.name, points=points, faces=faces, group=solid.name))
    if len(parts) == 1:
        parts[0].name = path.stem
    for part in parts:
        part.name = part.name or path.stem
    return parts


def _vertex_numbers(path: Path, solid: _AsciiSolid) -> np.ndarray:
    """The solid's vertex lines as an (n, 3) float array; a line without three numbers is refused by number."""
    fields = b" ".join(solid.vertex_text).split()
    try:
        numbers = np.array(fields, dtype=np.float64)
    except ValueError:
        numbers = None
    if numbers is not None and numbers.size == 3 * len(solid.vertex_text):
        return numbers.reshape(-1, 3)
    for text, line in zip(solid.vertex_text, solid.vertex_lines, strict=True):
        values = text.split()
        try:
            ok = len([float(v) for v in values]) == 3
        except ValueError:
            ok = False
        if not ok:
            raise MeshLoadError(f"{path}:{line}: ASCII STL vertex line does not hold three numbers.")
    raise MeshLoadError(f"{path}: ASCII STL solid {solid.name or '(unnamed)'!r} has a malformed vertex line.")
