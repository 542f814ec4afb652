"""The cost of FXAA per frame: the same scene rendered with and without it, interleaved, 1280×800.

Scenes: the demo twin (60k triangles, 14 parts) and an 80k-triangle torus (the display budget). Each round
renders every scene N times with FXAA off and N times on (the camera turning a little each frame, so every
frame is drawn in full); medians of the per-frame times.

    xvfb-run -a .venv/bin/python tests/benchmarks/bench_fxaa.py [--frames 15] [--rounds 3]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.benchmarks.bench_load import torus_mesh
    from twinviewer.core.geometry import Model, PartMesh
    from twinviewer.paths import demo_project_path
    from twinviewer.render.offscreen import OffscreenView

    try:
        from twinviewer.io.twins import open_twin
    except ImportError:  # an older checkout
        from twinviewer.core.twin import open_twin
    demo = open_twin(demo_project_path())
    points, faces = torus_mesh(200, 200)  # 80,000 triangles
    torus = open_twin(demo_project_path())
    torus.model = Model([PartMesh("torus", points, faces)])
    views = {"demo (60k)": OffscreenView(demo, (1280, 800)), "torus (80k)": OffscreenView(torus, (1280, 800))}
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(args.rounds):
        for name, view in views.items():
            for fxaa in (False, True):
                view.renderer.SetUseFXAA(fxaa)
                view.render()
                for _ in range(args.frames):
                    view.scene.camera.Azimuth(1.0)
                    start = time.perf_counter()
                    view.render()
                    times.setdefault((name, fxaa), []).append(time.perf_counter() - start)
    rows = []
    print(f"{'scene':<14} {'no FXAA ms':>11} {'FXAA ms':>9} {'cost ms':>8} {'cost %':>7}")
    for name in views:
        off = statistics.median(times[(name, False)]) * 1000
        on = statistics.median(times[(name, True)]) * 1000
        rows.append({"scene": name, "no_fxaa_ms": round(off, 1), "fxaa_ms": round(on, 1),
                     "cost_ms": round(on - off, 1), "cost_pct": round(100 * (on - off) / off, 1)})
        print(f"{name:<14} {off:>11.1f} {on:>9.1f} {on - off:>8.1f} {100 * (on - off) / off:>6.1f}%")
    print(json.dumps({"benchmark": "bench_fxaa", "frames": args.frames, "rounds": args.rounds, "rows": rows}))
    for view in views.values():
        view.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
