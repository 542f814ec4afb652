"""Child process that converts a STEP/IGES file to GLB with cascadio, under a memory cap.

Run as ``python -m twinviewer.io.step_worker INPUT OUTPUT.glb --memory-mb N``. OpenCASCADE can allocate
without bound on some files (``as1_motor.step`` passes 4 GB), so the parent runs this in its own process,
caps its address space here with ``RLIMIT_AS``, kills it on timeout or cancel, and reads the GLB back.
Exit status 0: converted; 3: cascadio reported a failure; 4: out of memory; 5: cascadio is not installed.
"""

from __future__ import annotations

import argparse
import sys


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
        import cascadio
    except ImportError:
        print("cascadio is not installed", file=sys.stderr)
        return 5
    try:
        status = cascadio.step_to_glb(args.input, args.output, tol_linear=args.tol_linear,
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
    sys.exit(main())
