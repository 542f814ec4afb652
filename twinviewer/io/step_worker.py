"""Child process that converts a STEP/IGES file to GLB with cascadio, under a memory cap.

Run as ``python -m twinviewer.io.step_worker INPUT OUTPUT.glb --memory-mb N``. OpenCASCADE can allocate
without bound on some files (``as1_motor.step`` passes 4 GB), so the parent runs this in its own process,
caps its address space here with ``RLIMIT_AS``, kills it on timeout or cancel, and reads the GLB back.
Only cascadio's compiled converter is loaded (``cascadio/__init__`` also imports trimesh: 0.9 s of start-up).
Exit status 0: converted; 3: cascadio reported a failure; 4: out of memory; 5: cascadio is not installed.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path


def _cap_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_AS; the parent's time limit still applies
        return
    limit = megabytes * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _load_converter() -> Callable[..., int]:
    """cascadio's ``step_to_glb`` from its extension module alone, else through the package."""
    spec = importlib.util.find_spec("cascadio")
    if spec is None:
        raise ImportError("cascadio")
    for folder in spec.submodule_search_locations or []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            library = Path(folder) / f"_core{suffix}"
            if not library.is_file():
                continue
            loader = importlib.machinery.ExtensionFileLoader("cascadio._core", str(library))
            core_spec = importlib.util.spec_from_file_location("cascadio._core", library, loader=loader)
            if core_spec is None:
                continue
            try:
                module = importlib.util.module_from_spec(core_spec)
                loader.exec_module(module)
            except ImportError:
                break
            converter = getattr(module, "step_to_glb", None)
            if callable(converter):
                return converter
    import cascadio

    return cascadio.step_to_glb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twinviewer.io.step_worker")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--memory-mb", type=int, default=3072)
    parser.add_argument("--tol-linear", type=float, default=0.01)
    parser.add_argument("--tol-angular", type=float, default=0.5)
    args = parser.parse_args(argv)
    _cap_memory(args.memory_mb)
    try:
        step_to_glb = _load_converter()
    except ImportError:
        print("cascadio is not installed", file=sys.stderr)
        return 5
    try:
        status = step_to_glb(args.input, args.output, tol_linear=args.tol_linear,
                             tol_angular=args.tol_angular)
    except MemoryError:
        print("out of memory", file=sys.stderr)
        return 4
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    if status != 0:
        print(f"cascadio returned status {status}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    status = main()
    sys.stderr.flush()
    os._exit(status)  # the GLB is written and closed: OpenCASCADE's teardown would only cost time
