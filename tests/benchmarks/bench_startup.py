"""Window start-up: from a fresh process to the first frame of the 3D view showing the model.

Each run starts a new Python process that builds the QApplication and the main window exactly as
``twinviewer`` does, opens the target (default: the bundled demo twin with its recording) and stops at the
end of the first render that happens once the twin is shown. Medians of interleaved runs. Without $DISPLAY
the script starts its own Xvfb. Times count from the first line of the child's script (the interpreter
itself starts in about 0.02 s).

    .venv/bin/python tests/benchmarks/bench_startup.py [--repeats 5] [TARGET ...]

For a before/after comparison in one run, ``--compare new=/path/a old=/path/b`` alternates every run between
the two checkouts (run it from outside the repository).

The peer, when the ``f3d`` module is installed (the bench extra): F3D's whole process for the same model
(interpreter start, import, load, one 1400×900 frame, PNG), timed from outside, in the same rounds. For the
demo twin F3D opens the demo's model file (it cannot read a project). ``--no-peer`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from bench_load import F3D_CHILD, start_xvfb  # this folder is on sys.path when the script runs

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
target = sys.argv[1] if len(sys.argv) > 1 else None
try:
    from twinviewer.app import launch  # the app's own launch: the first file is read while the window builds
except ImportError:  # an older checkout, for a before/after comparison: what its run() did
    launch = None
if launch is not None:
    t_imported = time.perf_counter()
    app, window = launch(target, size=(1400, 900))
else:
    from twinviewer.app import create_application
    app = create_application()
    from twinviewer.paths import demo_project_path
    from twinviewer.app import build_window
    from twinviewer.ui.tasks import stop_all_tasks
    app.aboutToQuit.connect(stop_all_tasks)
    t_imported = time.perf_counter()
    window = build_window()
    window.resize(1400, 900)
    window.show()
    window.open_path(Path(target) if target else demo_project_path())
marks = {}

def on_render_end(*_):
    if window.twin is not None and "frame" not in marks:
        marks["frame"] = time.perf_counter()
        from PySide6.QtCore import QTimer
        QTimer.singleShot(0, app.quit)

render_window = getattr(window.viewer, "render_window", None)  # an older checkout: pyvistaqt's plotter
(render_window or window.viewer.plotter.render_window).AddObserver("EndEvent", on_render_end)
app.exec()
print(json.dumps({"imports": t_imported - t0, "first_frame": marks["frame"] - t0,
                  "triangles": window.twin.model.n_triangles}), flush=True)
import os
os._exit(0)  # measured; skip teardown (an older checkout aborts there while its recording still loads)
"""


def _label(key: str) -> str:
    checkout, _, target = key.rpartition(":") if key.count(":") else ("", "", key)
    return f"{checkout}:{os.path.basename(target)}" if checkout else os.path.basename(target)


def run_once(target: str | None) -> dict:
    # An installed app has its bytecode compiled (pip and PyInstaller both do it); a machine that sets
    # PYTHONDONTWRITEBYTECODE would otherwise compile ~100 modules from source in every run (0.2 s).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", CHILD, *([target] if target else [])], capture_output=True,
                          text=True, timeout=300, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])


def run_peer(target: str | None, image: str) -> float:
    """Wall time of F3D's whole process rendering ``target`` (the demo's model file for the demo)."""
    import time

    from twinviewer.paths import demo_project_path

    model = target or str(demo_project_path().parent / "pump_skid.glb")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", F3D_CHILD % {"w": 1400, "h": 900}, model, image],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"f3d failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help="projects or meshes (default: the demo twin)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare", nargs="+", metavar="NAME=CHECKOUT",
                        help="alternate every run between checkouts (each on PYTHONPATH in turn)")
    parser.add_argument("--no-peer", action="store_true", help="do not time F3D alongside")
    args = parser.parse_args()
    try:
        import f3d  # noqa: F401
        peer = not args.no_peer
    except ImportError:
        peer = False
    checkouts = [entry.split("=", 1) for entry in args.compare] if args.compare else [("", None)]
    targets = args.targets or [None]
    server = start_xvfb()
    runs: dict[str, list[dict]] = {}
    try:
        for _ in range(args.repeats):
            for target in targets:
                for name, checkout in checkouts:
                    if checkout is not None:
                        os.environ["PYTHONPATH"] = checkout
                    key = f"{name}:{target or 'demo'}" if name else (target or "demo")
                    last = run_once(target)
                    runs.setdefault(key, []).append(last)
                if peer:
                    import tempfile

                    with tempfile.TemporaryDirectory() as folder:
                        whole = run_peer(target, os.path.join(folder, "f3d.png"))
                    runs.setdefault(f"f3d (whole process):{target or 'demo'}", []).append(
                        {"imports": float("nan"), "first_frame": whole, "triangles": last["triangles"]})
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    summary = {}
    header = f"{'target':<40} {'triangles':>10} {'imports s':>10} {'first frame s':>14}"
    print(header)
    print("-" * len(header))
    for name, results in runs.items():
        med = {key: round(statistics.median(r[key] for r in results), 3)
               for key in ("imports", "first_frame")}
        summary[name] = med | {"triangles": results[0]["triangles"]}
        print(f"{_label(name):<40} {results[0]['triangles']:>10,} {med['imports']:>10.2f} "
              f"{med['first_frame']:>14.2f}")
    print(json.dumps({"benchmark": "bench_startup", "repeats": args.repeats, "median_seconds": summary}))


if __name__ == "__main__":
    main()
