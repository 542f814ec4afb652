"""Start-up of the bundled app against the pip-installed one: from launching the process to its first frame.

Each run launches ``twinviewer --quit-after 0 [TARGET]`` as a new process, once with the one-folder bundle's
executable and once with the Python environment's ``python -m twinviewer`` (what a pip install runs), and
times from the launch to the line the app prints when the first frame showing the model is drawn. This
counts everything a user waits for: the bundle's loader unpacking nothing (one-folder), the interpreter
start, imports, the window and the model. Medians of interleaved runs. Without $DISPLAY it starts an Xvfb.

    .venv/bin/python tests/benchmarks/bench_bundle_startup.py dist/twinviewer [--repeats 5] [TARGET]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_load import start_xvfb  # this folder is on sys.path when the script runs


def time_to_first_frame(command: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             cwd=cwd)
    for line in child.stdout:
        if "first frame shown" in line:
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{command[0]}: no first frame ({child.wait()}): {child.stderr.read()[-800:]}")
    child.communicate(timeout=120)
    if child.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {child.returncode}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle", type=Path, help="the one-folder build (dist/twinviewer)")
    parser.add_argument("target", nargs="?", help="project or mesh (default: the demo twin)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    server = start_xvfb()
    contenders = {"bundle": [str(args.bundle.resolve() / "twinviewer")],
                  "pip-installed": [sys.executable, "-m", "twinviewer"]}
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        with tempfile.TemporaryDirectory(prefix="twinviewer-bench-") as folder:
            # A fresh display cache for each run: every start computes its display stand-ins as a first one would.
            env = dict(os.environ, TWINVIEWER_CACHE_DIR="")
            for _ in range(args.repeats):
                for name, command in contenders.items():
                    full = [*command, "--quit-after", "0", *([args.target] if args.target else [])]
                    runs[name].append(time_to_first_frame(full, env, folder))
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    for name, times in runs.items():
        print(f"{name:<15} median {statistics.median(times):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(json.dumps({"benchmark": "bench_bundle_startup", "repeats": args.repeats,
                      "median_seconds": {name: round(statistics.median(t), 3) for name, t in runs.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
