"""Wavefront OBJ reading: TwinViewer's bulk reader vs its per-line reader vs trimesh.

Writes three OBJ files of a torus (default 500×500 grid: 250k vertices, 500k triangles) in a temporary folder:

- ``tri``: ``v x y z`` and ``f a b c`` lines (≈ 18 MB);
- ``quad_vtvn``: ``v``, ``vt`` and ``vn`` lines and quads written as ``f a/a/a b/b/b c/c/c d/d/d``;
- ``vcolour``: ``v x y z r g b`` lines and ``f a b c`` lines.

Contenders, each timed in this process, interleaved, median of the repeats (file in the page cache):

- ``twinviewer``: ``twinviewer.io.mesh_obj.read_obj`` (what the app calls);
- ``old``: the reader as committed before the bulk parser (loaded from git, commit ``OLD_COMMIT``);
- ``per_line``: ``read_obj_per_line``, today's fallback for files the bulk parser cannot prove it reads
  exactly;
- ``trimesh``: ``trimesh.load(path, process=False)``.

    .venv/bin/python tests/benchmarks/bench_obj.py [--repeats 3] [--grid 500]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_load import torus_mesh  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OLD_COMMIT = "73f283f"


def write_variants(folder: Path, grid: int) -> dict[str, Path]:
    points, triangles = torus_mesh(grid, grid)
    n = grid
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    quads = np.stack([i * n + j, ((i + 1) % n) * n + j, ((i + 1) % n) * n + (j + 1) % n, i * n + (j + 1) % n],
                     axis=-1).reshape(-1, 4)
    vertex_lines = "".join(f"v {x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in points)
    paths = {}
    paths["tri"] = folder / "torus_tri.obj"
    paths["tri"].write_text(vertex_lines + "".join(f"f {a} {b} {c}\n" for a, b, c in triangles + 1))
    normals = points.copy()
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    paths["quad_vtvn"] = folder / "torus_quad_vtvn.obj"
    paths["quad_vtvn"].write_text(
        vertex_lines
        + "".join(f"vt {u:.6f} {v:.6f}\n" for u, v in points[:, :2] * 0.5 + 0.5)
        + "".join(f"vn {x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in normals)
        + "".join(f"f {a}/{a}/{a} {b}/{b}/{b} {c}/{c}/{c} {d}/{d}/{d}\n" for a, b, c, d in quads + 1))
    colours = (points - points.min(axis=0)) / np.ptp(points, axis=0)
    paths["vcolour"] = folder / "torus_vcolour.obj"
    paths["vcolour"].write_text(
        "".join(f"v {x:.6f} {y:.6f} {z:.6f} {r:.4f} {g:.4f} {b:.4f}\n" for (x, y, z),
                (r, g, b) in zip(points, colours, strict=True))
        + "".join(f"f {a} {b} {c}\n" for a, b, c in triangles + 1))
    return paths


def load_old_reader():
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:twinviewer/io/mesh_obj.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="tv_old_obj_"))
    (folder / "old_mesh_obj.py").write_text(source)
    spec = importlib.util.spec_from_file_location("old_mesh_obj", folder / "old_mesh_obj.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_obj


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grid", type=int, default=500, help="torus grid size; triangles = 2 × grid²")
    args = parser.parse_args()

    import trimesh

    from twinviewer.io.mesh_obj import read_obj, read_obj_per_line

    old_read_obj = load_old_reader()
    contenders = {
        "twinviewer": lambda path: read_obj(path, warnings=[]),
        "old": lambda path: old_read_obj(path, warnings=[]),
        "per_line": lambda path: read_obj_per_line(path, warnings=[]),
        "trimesh": lambda path: trimesh.load(path, process=False),
    }
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="tv_bench_obj_") as tmp:
        paths = write_variants(Path(tmp), args.grid)
        for key, path in paths.items():
            reference = read_obj(path, warnings=[])
            expected = old_read_obj(path, warnings=[])
            assert all(np.array_equal(a.points, b.points) and np.array_equal(a.faces, b.faces)
                       for a, b in zip(reference, expected, strict=True)), f"{key}: readers disagree"
            times: dict[str, list[float]] = {name: [] for name in contenders}
            for _ in range(args.repeats):
                for name, load in contenders.items():
                    start = time.perf_counter()
                    load(path)
                    times[name].append(time.perf_counter() - start)
            results[key] = {name: statistics.median(values) for name, values in times.items()}
            results[key]["megabytes"] = path.stat().st_size / 1e6
            results[key]["triangles"] = int(sum(len(part.faces) for part in reference))

    header = (f"{'file':<10} {'MB':>5} {'triangles':>9} {'twinviewer s':>12} {'old s':>7} {'per_line s':>10} "
              f"{'trimesh s':>9} {'vs old':>7} {'vs trimesh':>10}")
    print(header)
    print("-" * len(header))
    for key, row in results.items():
        print(f"{key:<10} {row['megabytes']:>5.1f} {row['triangles']:>9} {row['twinviewer']:>12.3f} "
              f"{row['old']:>7.3f} {row['per_line']:>10.3f} {row['trimesh']:>9.3f} "
              f"{row['old'] / row['twinviewer']:>6.1f}× {row['trimesh'] / row['twinviewer']:>9.1f}×")
    print(json.dumps({"benchmark": "bench_obj", "repeats": args.repeats, "grid": args.grid,
                      "results": results}))


if __name__ == "__main__":
    main()
