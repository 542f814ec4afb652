"""Level of detail: lighter display meshes for big parts, the full mesh kept for picking and measuring.

On a laptop without a GPU the frame time grows with the triangle count (1M triangles ≈ 170 ms a frame
with llvmpipe, 200k ≈ 60 ms), so parts above a model-wide triangle budget are shown as decimated
stand-ins (``fast_simplification``: ~0.5 s for 1M → 200k; VTK's quadric decimation takes ten times as
long). ``vertex_map`` ties each stand-in vertex to the nearest full-resolution vertex, so a per-vertex
field computed on the full mesh is shown on the stand-in by a gather: ``field[vertex_map]``.

``fast_simplification`` holds the GIL for the whole decimation (1.3 s for 1M → 80k triangles), which would
freeze the window and its Cancel button even from a worker thread. Big jobs therefore run in child
processes (:mod:`twinviewer.core.lod_worker`), one part each, as many at a time as there are cores; Cancel
kills them, and if a child cannot run, the part is decimated in this process instead.

Stand-ins are kept in a disk cache keyed by the part's geometry and the target (``cache_dir``: see
``io/lod_cache.py``; at most :data:`CACHE_LIMIT_BYTES`, oldest dropped first), so opening the same
big model again skips the decimation.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twinviewer.core.errors import CancelledError
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


def build_display_lods(model: Model, budget: int = DEFAULT_TRIANGLE_BUDGET,
                       progress: Callable[[float, str], None] | None = None,
                       cancel: Callable[[], bool] | None = None,
                       child_processes: bool | None = None,
                       cache_dir: Path | None = None, only_cached: bool = False) -> dict[str, DisplayLod]:
    """Stand-ins for the parts :func:`plan_display_lods` picks; every other part is shown as it is.
    ``only_cached``: return the stand-ins found in the cache and make none.

    ``cache_dir``: where stand-ins are kept between runs (``io.lod_cache.display_cache_folder()``; None:
    no cache).

    ``child_processes``: decimate in child processes (None: when the work is at least
    :data:`CHILD_PROCESS_MIN_TRIANGLES` triangles).
    """
    plan = plan_display_lods(model, budget)
    report = progress or (lambda fraction, message: None)
    folder = cache_dir
    keys = {name: _cache_key(model.part(name), target) for name, target in plan.items()} if folder else {}
    lods: dict[str, DisplayLod] = {}
    for name, key in keys.items():
        assert folder is not None  # keys is empty without a cache folder
        cached = _cache_load(folder / f"{key}.npz", model.part(name))
        if cached is not None:
            lods[name] = cached
    to_make = {name: target for name, target in plan.items() if name not in lods}
    if only_cached:
        return lods
    work = sum(model.part(name).n_triangles for name in to_make)
    if child_processes is None:
        child_processes = work >= CHILD_PROCESS_MIN_TRIANGLES
    if child_processes and to_make:
        lods.update(_build_in_children(model, to_make, report, cancel))
    remaining = {name: target for name, target in to_make.items() if name not in lods}
    done = work - sum(model.part(name).n_triangles for name in remaining)
    for name, target in remaining.items():
        _check_cancel(cancel)
        part = model.part(name)
        report(done / max(work, 1), _message(part, target))
        points, faces, vertex_map = make_display_lod(part, target)
        lods[name] = DisplayLod(points, faces, vertex_map, part.n_triangles)
        done += part.n_triangles
    if folder and to_make:
        _cache_store(folder, {keys[name]: lods[name] for name in to_make})
    report(1.0, f"{len(lods)} part(s) simplified for display")
    return lods


# ----- the disk cache ---------------------------------------------------------------------------------------


def _cache_key(part: PartMesh, target: int) -> str:
    digest = hashlib.sha1(f"{CACHE_FORMAT}:{target}:{part.points.shape}:{part.faces.shape}".encode())
    digest.update(np.ascontiguousarray(part.points, dtype=np.float64).data)
    digest.update(np.ascontiguousarray(part.faces, dtype=np.int64).data)
    return digest.hexdigest()


def _cache_load(path: Path, part: PartMesh) -> DisplayLod | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            lod = DisplayLod(data["points"], data["faces"], data["vertex_map"], part.n_triangles)
        if lod.faces.size and (lod.faces.max() >= len(lod.points) or lod.vertex_map.max() >= part.n_vertices):
            raise ValueError("indices out of range")
        os.utime(path)  # recently used: dropped last
        return lod
    except (OSError, ValueError, KeyError, EOFError):  # a damaged entry is made again
        path.unlink(missing_ok=True)
        return None


def _cache_store(folder: Path, lods: dict[str, DisplayLod]) -> None:
    """Keep stand-ins (by cache key) for next time, then drop the least recently used entries beyond the
    limit; a full disk or a read-only folder only costs the cache."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key, lod in lods.items():
            partial = folder / f"{key}.partial.npz"
            np.savez(partial, points=lod.points, faces=lod.faces, vertex_map=lod.vertex_map)
            partial.replace(folder / f"{key}.npz")
        entries = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        total = 0
        for entry in entries:
            total += entry.stat().st_size
            if total > CACHE_LIMIT_BYTES:
                entry.unlink(missing_ok=True)
    except OSError:
        return


def _message(part: PartMesh, target: int) -> str:
    return f"Simplifying {part.name} for display ({part.n_triangles:,} → {target:,} triangles)"


def _check_cancel(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise CancelledError("Preparing the display meshes was cancelled.")


def _build_in_children(model: Model, plan: dict[str, int], report, cancel) -> dict[str, DisplayLod]:
    """Decimate the planned parts in child processes, biggest first, one per core at a time. Returns the
    stand-ins the children produced; a part whose child failed is left out (the caller decimates it)."""
    work = sum(model.part(name).n_triangles for name in plan) or 1
    queue = sorted(plan, key=lambda name: -model.part(name).n_triangles)
    slots = max(1, min(len(queue), os.cpu_count() or 1))
    running: dict[str, tuple[subprocess.Popen, Path]] = {}
    lods: dict[str, DisplayLod] = {}
    done = 0
    report(0.0, _message(model.part(queue[0]), plan[queue[0]]))
    try:
        while queue or running:
            _check_cancel(cancel)
            while queue and len(running) < slots:
                name = queue.pop(0)
                started = _start_child(model.part(name), plan[name])
                if started is not None:
                    running[name] = started
            for name, (child, folder) in list(running.items()):
                if child.poll() is None:
                    continue
                del running[name]
                part = model.part(name)
                lod = _read_child_result(child, folder, part)
                if lod is not None:
                    lods[name] = lod
                done += part.n_triangles
                following = queue[0] if queue else next(iter(running), None)
                report(done / work, _message(model.part(following), plan[following]) if following else "")
            time.sleep(0.02)
    finally:
        for child, folder in running.values():
            child.kill()
            child.wait()
            shutil.rmtree(folder, ignore_errors=True)
    return lods


def _start_child(part: PartMesh, target: int) -> tuple[subprocess.Popen, Path] | None:
    try:
        folder = Path(tempfile.mkdtemp(prefix="twinviewer-lod-"))
    except OSError:  # no writable temporary folder: the part is decimated in this process
        return None
    try:
        np.save(folder / "points.npy", np.ascontiguousarray(part.points, dtype=np.float64))
        np.save(folder / "faces.npy", np.ascontiguousarray(part.faces, dtype=np.int32))
        child = subprocess.Popen([sys.executable, "-m", "twinviewer.core.lod_worker", str(folder),
                                  str(target)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return child, folder


def _read_child_result(child: subprocess.Popen, folder: Path, part: PartMesh) -> DisplayLod | None:
    try:
        if child.returncode != 0:
            return None
        points = np.load(folder / "lod_points.npy")
        faces = np.load(folder / "lod_faces.npy")
        vertex_map = np.load(folder / "vertex_map.npy")
        return DisplayLod(points, faces.astype(np.int64, copy=False), vertex_map, part.n_triangles)
    except (OSError, ValueError):
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
