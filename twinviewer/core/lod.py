"""Level of detail: lighter display meshes for big parts, the full mesh kept for picking and measuring.

On a laptop without a GPU the frame time grows with the triangle count (1M triangles ≈ 170 ms a frame
with llvmpipe, 200k ≈ 60 ms), so parts above a model-wide triangle budget are shown as decimated
stand-ins (``fast_simplification``: ~0.5 s for 1M → 200k; VTK's quadric decimation takes ten times as
long). ``vertex_map`` ties each stand-in vertex to the nearest full-resolution vertex, so a per-vertex
field computed on the full mesh is shown on the stand-in by a gather: ``field[vertex_map]``.

``fast_simplification`` holds the GIL for the whole decimation (1.3 s for 1M → 80k triangles), which would
freeze the window and its Cancel button even from a worker thread. Big jobs therefore run in child
processes, one part each, as many at a time as there are cores; Cancel kills them, and if a child cannot
run, the part is decimated in this process instead.

Stand-ins are kept in a disk cache keyed by the part's geometry and the target (:func:`cache_key`; at most
:data:`CACHE_LIMIT_BYTES`, oldest dropped first), so opening the same big model again skips the decimation.
The core owns no files: the cache and the child processes are a :class:`LodBackend` the caller passes
(``io.lod_cache.DiskLodBackend``); without one, every part is decimated in this process and nothing cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from twinviewer.core.errors import CancelledError
from twinviewer.core.formatting import counted
from twinviewer.core.geometry import Model, PartMesh

DEFAULT_TRIANGLE_BUDGET = 300_000
MIN_DECIMATED_TRIANGLES = 1_000  # a stand-in never gets fewer triangles than this
KEEP_FULL_RATIO = 0.8  # decimating to more than 80 % of the original saves too little to be worth it
CACHE_LIMIT_BYTES = 500 * 1024 * 1024
CACHE_FORMAT = "lod-1"  # part of every cache key: change it when the decimation changes
CHILD_PROCESS_MIN_TRIANGLES = 400_000
"""Decimate in child processes when the parts to decimate hold at least this many triangles together: below,
the GIL is held for less than about 0.4 s and starting a process (about 0.3 s) is not worth it."""


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


class LodBackend(Protocol):
    """The disk side of :func:`build_display_lods` (``io.lod_cache.DiskLodBackend``)."""

    def load(self, part: PartMesh, target: int) -> DisplayLod | None:
        """The cached stand-in of ``part`` at ``target`` triangles, or None."""
        ...

    def store(self, made: list[tuple[PartMesh, int, DisplayLod]]) -> None:
        """Keep stand-ins (part, target, stand-in) for next time."""
        ...

    def decimate_apart(self, model: Model, plan: dict[str, int], report: Callable[[float, str], None],
                       cancel: Callable[[], bool] | None) -> dict[str, DisplayLod]:
        """Decimate the planned parts in child processes; a part whose child failed is left out."""
        ...


def build_display_lods(model: Model, budget: int = DEFAULT_TRIANGLE_BUDGET,
                       progress: Callable[[float, str], None] | None = None,
                       cancel: Callable[[], bool] | None = None,
                       child_processes: bool | None = None,
                       backend: LodBackend | None = None, only_cached: bool = False) -> dict[str, DisplayLod]:
    """Stand-ins for the parts :func:`plan_display_lods` picks; every other part is shown as it is.
    ``only_cached``: return the stand-ins found in the cache and make none.

    ``backend``: the stand-in cache and the child processes (``io.lod_cache.DiskLodBackend``); None: no
    cache, everything decimated in this process.

    ``child_processes``: decimate in the backend's child processes (None: when the work is at least
    :data:`CHILD_PROCESS_MIN_TRIANGLES` triangles).
    """
    plan = plan_display_lods(model, budget)
    report = progress or (lambda fraction, message: None)
    lods: dict[str, DisplayLod] = {}
    if backend is not None:
        for name, target in plan.items():
            cached = backend.load(model.part(name), target)
            if cached is not None:
                lods[name] = cached
    to_make = {name: target for name, target in plan.items() if name not in lods}
    if only_cached:
        return lods
    work = sum(model.part(name).n_triangles for name in to_make)
    if child_processes is None:
        child_processes = work >= CHILD_PROCESS_MIN_TRIANGLES
    if child_processes and to_make and backend is not None:
        lods.update(backend.decimate_apart(model, to_make, report, cancel))
    remaining = {name: target for name, target in to_make.items() if name not in lods}
    done = work - sum(model.part(name).n_triangles for name in remaining)
    for name, target in remaining.items():
        check_cancel(cancel)
        part = model.part(name)
        report(done / max(work, 1), lod_message(part, target))
        points, faces, vertex_map = make_display_lod(part, target)
        lods[name] = DisplayLod(points, faces, vertex_map, part.n_triangles)
        done += part.n_triangles
    if backend is not None and to_make:
        backend.store([(model.part(name), target, lods[name]) for name, target in to_make.items()])
    report(1.0, f"{counted(len(lods), 'part')} simplified for display")
    return lods


def cache_key(part: PartMesh, target: int) -> str:
    """The cache key of a part's stand-in: its geometry, the target and :data:`CACHE_FORMAT`."""
    digest = hashlib.sha1(f"{CACHE_FORMAT}:{target}:{part.points.shape}:{part.faces.shape}".encode())
    digest.update(np.ascontiguousarray(part.points, dtype=np.float64).data)
    digest.update(np.ascontiguousarray(part.faces, dtype=np.int64).data)
    return digest.hexdigest()


def lod_message(part: PartMesh, target: int) -> str:
    """The progress message while ``part`` is decimated."""
    return f"Simplifying {part.name} for display ({part.n_triangles:,} → {target:,} triangles)"


def check_cancel(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise CancelledError("Preparing the display meshes was cancelled.")
