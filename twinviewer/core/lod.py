"""Level of detail: lighter display meshes for big parts, the full mesh kept for picking and measuring.

On a laptop without a GPU the frame time grows with the triangle count (1M triangles ≈ 170 ms a frame
with llvmpipe, 200k ≈ 60 ms), so parts above a model-wide triangle budget are shown as decimated
stand-ins (``fast_simplification``: ~0.5 s for 1M → 200k; VTK's quadric decimation takes ten times as
long). ``vertex_map`` ties each stand-in vertex to the nearest full-resolution vertex, so a per-vertex
field computed on the full mesh is shown on the stand-in by a gather: ``field[vertex_map]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twinviewer.core.errors import CancelledError
from twinviewer.core.geometry import Model, PartMesh

DEFAULT_TRIANGLE_BUDGET = 300_000
MIN_DECIMATED_TRIANGLES = 1_000  # a stand-in never gets fewer triangles than this
KEEP_FULL_RATIO = 0.8  # decimating to more than 80 % of the original saves too little to be worth it


@dataclass
class DisplayLod:
    """A part's display stand-in: points (k, 3) float64, faces (j, 3) int64, and for each stand-in vertex
    the index of the full-resolution vertex it shows (``vertex_map`` (k,) int64)."""

    points: np.ndarray
    faces: np.ndarray
    vertex_map: np.ndarray
    full_triangles: int

    @property
    def n_triangles(self) -> int:
        return int(self.faces.shape[0])

    def values_from_full(self, full_values: np.ndarray) -> np.ndarray:
        """A per-vertex array of the full mesh (n, ...) as a per-vertex array of the stand-in (k, ...)."""
        return np.asarray(full_values)[self.vertex_map]


def make_display_lod(part_or_arrays: PartMesh | tuple[np.ndarray, np.ndarray],
                     target_triangles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decimate to about ``target_triangles``; returns (points, faces, vertex_map).

    A mesh already at or under the target comes back unchanged with ``vertex_map = arange(n)``.
    """
    if isinstance(part_or_arrays, PartMesh):
        points, faces = part_or_arrays.points, part_or_arrays.faces
    else:
        points, faces = part_or_arrays
    points = np.ascontiguousarray(points, dtype=np.float64)
    faces = np.ascontiguousarray(faces, dtype=np.int64)
    if target_triangles < 1:
        raise ValueError(f"target_triangles must be at least 1, got {target_triangles}")
    if faces.shape[0] <= target_triangles:
        return points, faces, np.arange(len(points), dtype=np.int64)

    import fast_simplification
    from scipy.spatial import cKDTree

    reduced_points, reduced_faces = fast_simplification.simplify(
        points, faces.astype(np.int32), target_count=int(target_triangles))
    reduced_points = np.asarray(reduced_points, dtype=np.float64)
    reduced_faces = np.asarray(reduced_faces, dtype=np.int64)
    _, nearest = cKDTree(points).query(reduced_points, k=1, workers=2)
    return reduced_points, reduced_faces, np.asarray(nearest, dtype=np.int64)


def plan_display_lods(model: Model, budget: int = DEFAULT_TRIANGLE_BUDGET) -> dict[str, int]:
    """Which parts get a stand-in and its triangle target, so the whole model shows about ``budget``.

    Nothing is decimated when the model fits. Otherwise small parts stay whole, and the big parts share
    what is left of the budget in proportion to their triangle counts.
    """
    counts = {part.name: part.n_triangles for part in model.parts}
    total = sum(counts.values())
    if total <= budget:
        return {}
    # Parts smaller than the average share a part would get are cheap: keep them whole.
    fair_share = budget / max(len(counts), 1)
    small = {name: n for name, n in counts.items() if n <= max(fair_share, MIN_DECIMATED_TRIANGLES)}
    large = {name: n for name, n in counts.items() if name not in small}
    remaining = max(budget - sum(small.values()), MIN_DECIMATED_TRIANGLES * max(len(large), 1))
    large_total = sum(large.values())
    plan = {}
    for name, n in large.items():
        target = max(int(n * remaining / large_total), MIN_DECIMATED_TRIANGLES)
        if target < KEEP_FULL_RATIO * n:
            plan[name] = target
    return plan


def build_display_lods(model: Model, budget: int = DEFAULT_TRIANGLE_BUDGET,
                       progress: Callable[[float, str], None] | None = None,
                       cancel: Callable[[], bool] | None = None) -> dict[str, DisplayLod]:
    """Stand-ins for the parts :func:`plan_display_lods` picks; every other part is shown as it is."""
    plan = plan_display_lods(model, budget)
    lods: dict[str, DisplayLod] = {}
    work = sum(model.part(name).n_triangles for name in plan) or 1
    done = 0
    for name, target in plan.items():
        if cancel is not None and cancel():
            raise CancelledError("Preparing the display meshes was cancelled.")
        part = model.part(name)
        if progress is not None:
            progress(done / work, f"Simplifying {name} for display ({part.n_triangles:,} → {target:,} triangles)")
        points, faces, vertex_map = make_display_lod(part, target)
        lods[name] = DisplayLod(points, faces, vertex_map, part.n_triangles)
        done += part.n_triangles
    if progress is not None:
        progress(1.0, f"{len(lods)} part(s) simplified for display")
    return lods
