"""STEP/IGES through the optional ``twinviewer[step]`` extra (cascadio), in a guarded child process.

cascadio (OpenCASCADE) converts the file to GLB in ``python -m twinviewer.io.step_worker``, which caps its
own memory; this side enforces a time limit (``timeout_s``, else ``TWINVIEWER_STEP_TIMEOUT``, else 120 s),
kills the child when the user cancels, and reads the GLB back with the glTF reader, so the assembly's
node names become part names. OpenCASCADE applies the file's length unit: the result is in metres.
The GLB is kept in the display cache (``io.lod_cache.converted_step_folder``), keyed by the SHA-256 of the
file's bytes, the tessellation tolerances and cascadio's version, so opening the same file again skips the
conversion; at most ``CACHE_MAX_FILES`` GLBs and ``CACHE_MAX_BYTES`` are kept (oldest used go first).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from twinviewer.core.errors import CancelledError, MeshLoadError
from twinviewer.core.geometry import PartMesh
from twinviewer.io.lod_cache import converted_step_folder
from twinviewer.io.mesh_gltf import read_gltf

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_MB = 3072
INSTALL_HINT = 'pip install "twinviewer[step]"'
TOLERANCE_LINEAR = 0.01
TOLERANCE_ANGULAR = 0.5
CACHE_MAX_FILES = 64
CACHE_MAX_BYTES = 256 << 20


def step_timeout_s(timeout_s: float | None = None) -> float:
    if timeout_s is not None:
        return float(timeout_s)
    env = os.environ.get("TWINVIEWER_STEP_TIMEOUT")
    if env:
        try:
            return float(env)
        except ValueError:
            raise MeshLoadError(f"TWINVIEWER_STEP_TIMEOUT={env!r} is not a number of seconds.") from None
    return DEFAULT_TIMEOUT_S


def step_memory_mb() -> int:
    env = os.environ.get("TWINVIEWER_STEP_MEMORY_MB")
    return int(env) if env and env.isdigit() else DEFAULT_MEMORY_MB


def read_step(path: Path, *, warnings: list[str], timeout_s: float | None = None,
              cancel: Callable[[], bool] | None = None,
              progress: Callable[[float, str], None] | None = None) -> list[PartMesh]:
    if importlib.util.find_spec("cascadio") is None:
        raise MeshLoadError(f"{path}: reading STEP/IGES files needs the optional cascadio package: "
                            f'install it with `{INSTALL_HINT}`.')
    with open(path, "rb") as handle:
        head = handle.read(512)
    if path.suffix.lower() in (".step", ".stp") and b"ISO-10303-21" not in head:
        raise MeshLoadError(f"{path}: not a STEP file: it does not start with the ISO-10303-21 header.")
    cached = _cached_glb(path, cancel)
    if cached is not None and cached.is_file():
        try:
            parts = read_gltf(cached, warnings=warnings)
        except MeshLoadError:
            cached.unlink(missing_ok=True)  # damaged cache entry: convert again
        else:
            os.utime(cached)  # most recently used
            return parts
    return _convert(path, cached, warnings=warnings, timeout_s=timeout_s, cancel=cancel, progress=progress)


def _cached_glb(path: Path, cancel: Callable[[], bool] | None = None) -> Path | None:
    """The cache entry of this file's conversion (it may not exist yet); None when caching is off."""
    folder = converted_step_folder()
    if folder is None:
        return None
    try:
        version = importlib.metadata.version("cascadio")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256(f"{version}|{TOLERANCE_LINEAR}|{TOLERANCE_ANGULAR}|".encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            if cancel is not None and cancel():
                raise CancelledError(f"Loading {path.name} was cancelled.")
            digest.update(block)
    return folder / f"{digest.hexdigest()}.glb"


def _store(converted: Path, entry: Path) -> None:
    """Copy a fresh conversion into the cache atomically and prune the cache; a cache that cannot be
    written (read-only disk, full disk) only costs the next open another conversion."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_name(f"{entry.name}.{os.getpid()}.partial")
        shutil.copyfile(converted, partial)
        os.replace(partial, entry)
        entries = sorted(entry.parent.glob("*.glb"), key=lambda p: p.stat().st_mtime, reverse=True)
        total = 0
        for index, kept in enumerate(entries):
            total += kept.stat().st_size
            if index >= CACHE_MAX_FILES or (total > CACHE_MAX_BYTES and kept != entry):
                kept.unlink(missing_ok=True)
    except OSError:
        pass


def _exited_within(child: subprocess.Popen, seconds: float) -> bool:
    try:
        child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _convert(path: Path, cached: Path | None, *, warnings: list[str], timeout_s: float | None,
             cancel: Callable[[], bool] | None,
             progress: Callable[[float, str], None] | None) -> list[PartMesh]:
    limit = step_timeout_s(timeout_s)
    with tempfile.TemporaryDirectory(prefix="twinviewer-step-") as folder:
        output = Path(folder) / "converted.glb"
        command = [sys.executable, "-m", "twinviewer.io.step_worker", str(path), str(output),
                   "--memory-mb", str(step_memory_mb()), "--tol-linear", str(TOLERANCE_LINEAR),
                   "--tol-angular", str(TOLERANCE_ANGULAR)]
        started = time.monotonic()
        log_path = Path(folder) / "stderr.txt"
        with open(log_path, "wb") as log:
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            while not _exited_within(child, 0.05):  # returns as soon as the child exits
                elapsed = time.monotonic() - started
                if cancel is not None and cancel():
                    raise CancelledError(f"Loading {path.name} was cancelled.")
                if elapsed > limit:
                    raise MeshLoadError(
                        f"{path}: converting the STEP file took longer than {limit:g} s and was stopped; "
                        "raise "
                        "the limit with TWINVIEWER_STEP_TIMEOUT or export the model as GLB/STL from the CAD "
                        "tool.")
                if progress is not None:
                    progress(min(0.7, 0.1 + 0.6 * elapsed / max(limit, 1.0)), f"Tessellating {path.name}")
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        stderr = log_path.read_text(encoding="utf-8", errors="replace").strip()
        if child.returncode == 5:
            raise MeshLoadError(f"{path}: reading STEP/IGES files needs the optional cascadio package: "
                                f'install it with `{INSTALL_HINT}`.')
        if child.returncode != 0 or not output.is_file():
            reason = stderr.splitlines()[-1] if stderr else ""
            if child.returncode == 4 or child.returncode < 0 or not reason:
                reason = (f"the converter ran out of its {step_memory_mb()} MB memory limit or crashed "
                          f"(exit status {child.returncode})")
            raise MeshLoadError(f"{path}: the STEP/IGES file could not be converted: {reason}; export the "
                                "model as GLB/STL from the CAD tool instead.")
        parts = read_gltf(output, warnings=warnings)
        if cached is not None:
            _store(output, cached)
        return parts
