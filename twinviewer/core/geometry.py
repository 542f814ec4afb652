"""Loaded geometry as plain numpy arrays: parts with points and triangles in the scene frame (metres, Z up).

No VTK and no Qt here. Loaders in ``twinviewer.io.meshes`` produce a :class:`Model`; the render layer turns
each :class:`PartMesh` into an actor. Sensors are anchored to a part and a position, never a vertex index
(loaders disagree on vertex merging).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

AXIS_VECTORS = {
    "x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0),
    "-x": (-1.0, 0.0, 0.0), "-y": (0.0, -1.0, 0.0), "-z": (0.0, 0.0, -1.0),
}


@dataclass
class PartMesh:
    """One named part: a triangle mesh in the scene frame."""

    name: str
    points: np.ndarray  # (n, 3) float64, metres
    faces: np.ndarray  # (m, 3) int64 vertex indices
    color: tuple[float, float, float] | None = None  # RGB 0..1 from the file (material), if any
    vertex_colors: np.ndarray | None = None  # (n, 3) uint8, if the file has them
    group: str = ""  # where it came from: scene-graph path, OBJ group, STL solid, file name
    source_file: str = ""

    @property
    def n_triangles(self) -> int:
        return int(self.faces.shape[0])

    @property
    def n_vertices(self) -> int:
        return int(self.points.shape[0])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.points.size == 0:
            zero = np.zeros(3)
            return zero, zero
        return self.points.min(axis=0), self.points.max(axis=0)

    def area(self) -> float:
        if self.faces.size == 0:
            return 0.0
        tri = self.points[self.faces]
        return float(0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]),
                                          axis=1).sum())


@dataclass
class Model:
    """All parts of an asset, from one or several files."""

    parts: list[PartMesh] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def part(self, name: str) -> PartMesh:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    @property
    def part_names(self) -> list[str]:
        return [p.name for p in self.parts]

    @property
    def n_triangles(self) -> int:
        return sum(p.n_triangles for p in self.parts)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lows = [p.bounds()[0] for p in self.parts if p.points.size]
        highs = [p.bounds()[1] for p in self.parts if p.points.size]
        if not lows:
            return np.zeros(3), np.zeros(3)
        return np.min(lows, axis=0), np.max(highs, axis=0)

    def extend(self, other: Model) -> None:
        """Add another file's parts, renaming clashes as ``name#2`` so every part name stays unique."""
        taken = set(self.part_names)
        last_suffix: dict[str, int] = {}  # per base name, so thousands of equal names stay linear
        for part in other.parts:
            base = part.name
            if base in taken:
                n = last_suffix.get(base, 1)
                while f"{base}#{n}" in taken or n == 1:
                    n += 1
                last_suffix[base] = n
                part.name = f"{base}#{n}"
            taken.add(part.name)
            self.parts.append(part)
        self.sources.extend(other.sources)
        self.warnings.extend(other.warnings)


def rotation_matrix_deg(rx: float, ry: float, rz: float) -> np.ndarray:
    """Rotation about X, then Y, then Z (degrees), as a 3×3 matrix."""
    ax, ay, az = np.radians([rx, ry, rz])
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_z @ rot_y @ rot_x


def up_axis_matrix(up: str) -> np.ndarray:
    """The rotation that takes a file's up axis to the scene's +Z."""
    src = np.array(AXIS_VECTORS[up])
    dst = np.array([0.0, 0.0, 1.0])
    if np.allclose(src, dst):
        return np.eye(3)
    if np.allclose(src, -dst):
        return np.diag([1.0, -1.0, -1.0])
    axis = np.cross(src, dst)
    axis /= np.linalg.norm(axis)
    angle = np.arccos(np.clip(np.dot(src, dst), -1, 1))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def placement_matrix(units_scale: float, up: str, scale: float, rotate_deg, translate) -> np.ndarray:
    """4×4 matrix: file units → metres, up axis → Z, then the project's scale, rotation and translation."""
    m = np.eye(4)
    m[:3, :3] = rotation_matrix_deg(*rotate_deg) @ up_axis_matrix(up) * (units_scale * scale)
    m[:3, 3] = translate
    return m


def apply_matrix(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def merge_identical_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact merge: ``(unique points in lexicographic order, index of each input point into them)``."""
    order = np.lexsort((points[:, 2], points[:, 1], points[:, 0]))
    ordered = points[order]
    is_new = np.ones(len(ordered), dtype=bool)
    np.any(ordered[1:] != ordered[:-1], axis=1, out=is_new[1:])
    inverse = np.empty(len(points), dtype=np.int64)
    inverse[order] = np.cumsum(is_new) - 1
    return ordered[is_new], inverse
