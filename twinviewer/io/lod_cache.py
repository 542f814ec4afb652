"""The disk side of the display stand-ins of big models (``core/lod.py``): where they and converted STEP
files are cached, the cache entries (``KEY.npz``, least recently used dropped beyond
``core.lod.CACHE_LIMIT_BYTES``), and the child processes that decimate big parts (:mod:`.lod_worker`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from twinviewer.core.geometry import Model, PartMesh
from twinviewer.core.lod import CACHE_LIMIT_BYTES, DisplayLod, cache_key, check_cancel, lod_message


def display_cache_folder() -> Path | None:
    """Where stand-ins are cached; None when ``TWINVIEWER_CACHE_DIR`` is set empty (no cache)."""
    configured = os.environ.get("TWINVIEWER_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "display-lods" if configured else None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("twinviewer")) / "display-lods"


def converted_step_folder() -> Path | None:
    """Where STEP/IGES files converted to GLB are cached (next to the stand-ins); None: no cache."""
    stand_ins = display_cache_folder()
    return None if stand_ins is None else stand_ins.parent / "step-glb"


class DiskLodBackend:
    """Stand-ins cached in ``cache_dir`` (None: no cache) and decimated in child processes
    (``core.lod.LodBackend``)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir

    def load(self, part: PartMesh, target: int) -> DisplayLod | None:
        if self.cache_dir is None:
            return None
        return _cache_load(self.cache_dir / f"{cache_key(part, target)}.npz", part)

    def store(self, made: list[tuple[PartMesh, int, DisplayLod]]) -> None:
        if self.cache_dir is not None:
            _cache_store(self.cache_dir, {cache_key(part, target): lod for part, target, lod in made})

    def decimate_apart(self, model: Model, plan: dict[str, int], report: Callable[[float, str], None],
                       cancel: Callable[[], bool] | None) -> dict[str, DisplayLod]:
        return _build_in_children(model, plan, report, cancel)


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


def _build_in_children(model: Model, plan: dict[str, int], report, cancel) -> dict[str, DisplayLod]:
    """Decimate the planned parts in child processes, biggest first, one per core at a time. Returns the
    stand-ins the children produced; a part whose child failed is left out (the caller decimates it)."""
    work = sum(model.part(name).n_triangles for name in plan) or 1
    queue = sorted(plan, key=lambda name: -model.part(name).n_triangles)
    slots = max(1, min(len(queue), os.cpu_count() or 1))
    running: dict[str, tuple[subprocess.Popen, Path]] = {}
    lods: dict[str, DisplayLod] = {}
    done = 0
    report(0.0, lod_message(model.part(queue[0]), plan[queue[0]]))
    try:
        while queue or running:
            check_cancel(cancel)
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
                report(done / work, lod_message(model.part(following), plan[following]) if following else "")
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
        child = subprocess.Popen([sys.executable, "-m", "twinviewer.io.lod_worker", str(folder),
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
