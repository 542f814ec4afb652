"""Frames per second with sensor overlays changing every frame, in the real Qt window, against a peer.

The peer is a plain pyvistaqt ``QtInteractor`` with default settings recolouring the same mesh each frame.
TwinViewer is the real ``MainWindow`` (its 3D view sized 1280×800) with 100 sensors whose values change
every frame, in the surface-field overlay (every vertex recoloured) and in the status overlay.

Run under a display:  xvfb-run -a -s "-screen 0 2560x1600x24" .venv/bin/python
tests/benchmarks/bench_overlay.py [--quick]
``--quick``: only the 3D view at 1280×800 with every panel docked (field, status, and status without FXAA),
no peer — the target configuration (30 fps), in about a minute. ``--case status 200000 --compare
new=/path/a old=/path/b --rounds 3``: that case alternating between two checkouts.
Prints a table and one JSON line.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh

VIEW_SIZE = (1280, 800)
SECONDS_PER_CASE = 4.0


def make_model(folder: Path, triangles: int, n_parts: int, n_sensors: int) -> Path:
    """A GLB of ``n_parts`` tori in a row with ``triangles`` in all, and a project with sensors on them."""
    rng = np.random.default_rng(1)
    per_part = triangles // n_parts
    sections = int(np.sqrt(per_part / 2))
    scene = trimesh.Scene()
    parts = []
    for i in range(n_parts):
        mesh = trimesh.creation.torus(0.3, 0.1, major_sections=sections, minor_sections=sections)
        mesh.apply_translation((i * 0.8, 0, 0))
        scene.add_geometry(mesh, node_name=f"part{i}", geom_name=f"part{i}")
        parts.append(mesh)
    scene.export(folder / "model.glb")
    lines = ['[asset]\nname = "bench"\n', '[[models]]\nfile = "model.glb"\n']
    lines += [f'[[parts]]\nname = "part{i}"\ncolor = "#8a9499"\n' for i in range(n_parts)]
    for s in range(n_sensors):
        part = s % n_parts
        point = parts[part].vertices[rng.integers(len(parts[part].vertices))]
        lines.append(
            f'[[sensors]]\nid = "S{s}"\nquantity = "temperature"\nunit = "°C"\npart = "part{part}"\n'
            f"position = [{point[0]:.4f}, {point[1]:.4f}, {point[2]:.4f}]\nrange = [0, 100]\n"
            "expected_period_s = 1.0\n[sensors.thresholds]\nwarning_high = 70\nalarm_high = 85\n")
    (folder / "bench.twin.toml").write_text("\n".join(lines), encoding="utf-8")
    return folder / "bench.twin.toml"


def frame_stats(times: list[float]) -> dict:
    ms = np.array(times) * 1000
    return {"frames": len(ms), "median_ms": round(float(np.median(ms)), 1),
            "p90_ms": round(float(np.percentile(ms, 90)), 1), "fps": round(1000 / float(np.median(ms)), 1)}


def bench_peer(app, project: Path) -> dict:
    """A plain pyvistaqt window with default settings recolouring the mesh every frame."""
    import pyvista as pv
    from pyvistaqt import QtInteractor

    meshes = pv.read(project.parent / "model.glb")
    mesh = pv.merge([b for b in meshes.recursive_iterator() if b is not None and b.n_points])
    plotter = QtInteractor(off_screen=False)
    plotter.resize(*VIEW_SIZE)  # the peer's window is its 3D view
    plotter.show()
    scalars = np.zeros(mesh.n_points, np.float32)
    mesh.point_data["s"] = scalars
    plotter.add_mesh(mesh, scalars="s", clim=(0, 100))
    for _ in range(5):
        app.processEvents()
    rng = np.random.default_rng(0)
    times = []
    end = time.perf_counter() + SECONDS_PER_CASE
    while time.perf_counter() < end:
        start = time.perf_counter()
        mesh.point_data["s"][:] = rng.random(mesh.n_points, dtype=np.float32) * 100
        plotter.render()
        app.processEvents()
        times.append(time.perf_counter() - start)
    plotter.close()
    plotter.deleteLater()
    app.processEvents()
    del plotter
    gc.collect()  # on this thread: a GL widget finalised by the GC on a worker thread aborts Qt
    return frame_stats(times[2:])


def bench_twinviewer(app, project: Path, mode: str, size_of: str = "view", close: tuple[str, ...] = (),
                     fxaa: bool = True) -> dict:
    from PySide6.QtCore import QSettings

    from twinviewer.app import build_window

    settings = QSettings(str(project.parent / "settings.ini"), QSettings.Format.IniFormat)
    window = build_window(settings=settings)
    window.show()
    window.open_path(project)
    standins = getattr(window, "standins", None)  # the display stand-in is swapped in after the first frame
    while window.twin is None or (standins is not None and standins.pending):
        app.processEvents()
        time.sleep(0.01)
    from PySide6.QtWidgets import QDockWidget, QToolBar

    # What a user can close from View → Panels: "docks", "toolbars" (the timeline stays a toolbar).
    for widget in window.findChildren(QDockWidget) if "docks" in close else []:
        widget.hide()
    for widget in window.findChildren(QToolBar) if "toolbars" in close else []:
        widget.hide()
    # Otherwise the panels stay docked and update as in real use. size_of="window": the whole window is
    # 1280×800
    # (the peer's size); size_of="view": the window grows until the 3D view itself is 1280×800.
    for _ in range(3):
        for _ in range(10):
            app.processEvents()
        extra = window.size() - window.viewer.size() if size_of == "view" else window.size() * 0
        window.resize(VIEW_SIZE[0] + extra.width(), VIEW_SIZE[1] + extra.height())
    window.frame_timer.stop()  # the benchmark drives the frames itself, as fast as they go
    quality = getattr(window.viewer, "quality", None)
    if quality is not None:
        quality.fxaa = fxaa
        window.viewer.renderer.SetUseFXAA(fxaa)
    window.set_overlay_mode(mode)
    session = window.session
    ids = session.sensor_ids
    rng = np.random.default_rng(0)
    t0 = time.time()
    times, n = [], 0
    end = time.perf_counter() + SECONDS_PER_CASE
    while time.perf_counter() < end:
        start = time.perf_counter()
        n += 1
        # Every sensor changes every frame: a slow wave plus noise, five sensors above their alarm limit.
        values = 55 + 10 * np.sin(n / 15 + np.arange(len(ids))) + rng.normal(0, 1, len(ids))
        values[:5] += 35
        for sensor_id, value in zip(ids, values, strict=True):
            session.store.append(sensor_id, t0 + n * 0.033, float(value))
        window.session.clock.go_live()
        window.tick()
        app.processEvents()
        times.append(time.perf_counter() - start)
    view = window.viewer.size()
    window_size = window.size()
    triangles = sum(d.n_triangles for d in window.scene.parts.values())
    window.close()
    window.deleteLater()
    app.processEvents()
    del window
    gc.collect()
    result = frame_stats(times[2:])
    size = window_size
    result.update(window=f"{size.width()}x{size.height()}", view=f"{view.width()}x{view.height()}",
                  displayed_triangles=int(triangles))
    return result


def compare_checkouts(args) -> int:
    """The 1280×800-view case with every panel docked, alternating between checkouts, round after round (so a
    busy phase of the machine hits each alike); medians per checkout."""
    import os
    import subprocess

    mode, triangles = args.case or ("status", "200000")
    runs: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for entry in args.compare:
            name, checkout = entry.split("=", 1)
            env = dict(os.environ, PYTHONPATH=checkout)
            done = subprocess.run([sys.executable, __file__, "--case", mode, triangles], env=env,
                                  capture_output=True, text=True, timeout=600)
            runs.setdefault(name, []).append(json.loads(done.stdout.strip().splitlines()[-1]))
    for name, results in runs.items():
        fps = [r["fps"] for r in results]
        print(f"{name:<12} {mode} {int(triangles) // 1000}k: median {statistics.median(fps):.1f} fps, runs {fps}, "
              f"view {results[0]['view']}, shown {results[0]['displayed_triangles']:,} triangles")
    print(json.dumps({"benchmark": "overlay_fps_compare", "mode": mode, "triangles": int(triangles),
                      "runs": runs}))
    return 0


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only the 1280x800 view with every panel docked")
    parser.add_argument("--case", nargs=2, metavar=("MODE", "TRIANGLES"),
                        help="one case only (status or field:temperature at 200000 or 1000000), JSON out")
    parser.add_argument("--compare", nargs="+", metavar="NAME=CHECKOUT",
                        help="alternate the --case runs between checkouts (each on PYTHONPATH in turn)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.compare:
        return compare_checkouts(args)
    from twinviewer.app import create_application

    app = create_application()
    if args.case:
        with tempfile.TemporaryDirectory() as tmp:
            project = make_model(Path(tmp), int(args.case[1]), n_parts=8, n_sensors=100)
            print(json.dumps(bench_twinviewer(app, project, args.case[0], "view")))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for triangles, target in ((200_000, 30.0), (1_000_000, 30.0)):
            folder = Path(tmp) / f"m{triangles}"
            folder.mkdir()
            project = make_model(folder, triangles, n_parts=8, n_sensors=100)
            if args.quick:
                for mode, fxaa in (("field:temperature", True), ("status", True), ("status", False)):
                    result = bench_twinviewer(app, project, mode, "view", fxaa=fxaa)
                    rows.append({"case": f"{triangles // 1000}k tris, TwinViewer {mode}, view 1280x800"
                                         + ("" if fxaa else ", no FXAA"), **result, "target_fps": target})
                continue
            peer = bench_peer(app, project)
            rows.append({"case": f"{triangles // 1000}k tris, plain pyvistaqt recolour", **peer,
                         "target_fps": None})
            for mode, size_of in (("field:temperature", "window"), ("status", "window"),
                                  ("field:temperature", "view"), ("status", "view")):
                result = bench_twinviewer(app, project, mode, size_of)
                rows.append({"case": f"{triangles // 1000}k tris, TwinViewer {mode}, {size_of} 1280x800",
                             **result, "target_fps": target})
            for close in (("docks",), ("docks", "toolbars")):
                result = bench_twinviewer(app, project, "status", "view", close)
                rows.append({"case": f"{triangles // 1000}k tris, TwinViewer status, view 1280x800, "
                                     f"no {'/'.join(close)}", **result, "target_fps": target})
    print(f"{'case':62} {'fps':>6} {'median ms':>10} {'p90 ms':>8} {'view':>9} {'shown tris':>11} "
          f"{'target':>7}")
    for row in rows:
        print(f"{row['case']:62} {row['fps']:>6} {row['median_ms']:>10} {row['p90_ms']:>8} "
              f"{row.get('view', ''):>9} "
              f"{row.get('displayed_triangles', ''):>11} {row['target_fps'] or '':>7}")
    print(json.dumps({"benchmark": "overlay_fps", "python": sys.version.split()[0], "rows": rows,
                      "median_of_medians_ms": statistics.median(r["median_ms"] for r in rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
