"""File to first rendered pixels: ``twinviewer render`` vs pyvista vs F3D.

Generates a 1M-triangle binary STL (a finely tessellated torus) and a multi-part GLB (12 named parts,
~600k triangles) in a temporary folder, then for each file and each contender runs a fresh Python process
several times (interleaved, median) that imports, loads, renders one 1280×800 offscreen frame and saves it:

- pyvista: ``pyvista.read`` + ``pyvista.Plotter(off_screen=True)`` + ``screenshot`` (pyvista defaults);
- f3d: the ``f3d`` module, offscreen engine (its default: GLX when there is a display), ``render_to_image``;
- f3d-egl: the same through F3D's EGL engine (``twinviewer render`` draws through EGL);
- twinviewer: the ``twinviewer render FILE --out shot.png`` command (``python -m twinviewer``), the same
  scene code as the window, timed as a whole process only (the other columns are "nan");
- tv-phases: the functions that command calls (``open_twin``, ``OffscreenView``, ``screenshot``) timed
  one by one, to show where the time goes.

"whole" is the wall time of the process (includes interpreter start and imports), the figure to compare;
"load+render" is measured inside the process. Without $DISPLAY the script starts its own Xvfb for the run.

    .venv/bin/python tests/benchmarks/bench_load.py [--repeats 5] [--triangles 1000000]
    .venv/bin/python tests/benchmarks/bench_load.py --assemblies --only twinviewer --only f3d --repeats 3

``--assemblies`` times real many-part models instead: CesiumMilkTruck.glb and the as1 STEP assembly from
``../shared/data/meshes`` (when present) and a generated glTF of 120 parts, instances of 4 meshes.
A STEP file's conversion is cached between runs (the display cache): set ``TWINVIEWER_CACHE_DIR=""``
to time the cold conversion, or a folder of your own to time a repeated open.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 1280, 800

PYVISTA_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import pyvista
t1 = time.perf_counter()
mesh = pyvista.read(sys.argv[1])
t2 = time.perf_counter()
plotter = pyvista.Plotter(off_screen=True, window_size=(%(w)d, %(h)d))
plotter.add_mesh(mesh)
plotter.screenshot(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "render": t3 - t2}))
"""

F3D_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import f3d
t1 = time.perf_counter()
engine = f3d.Engine.create(True)
engine.window.size = (%(w)d, %(h)d)
engine.scene.add(sys.argv[1])
t2 = time.perf_counter()
image = engine.window.render_to_image()
image.save(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "render": t3 - t2}))
"""

# F3D through EGL, as `twinviewer render` draws (F3D's default offscreen engine uses GLX when there is a display).
F3D_EGL_CHILD = F3D_CHILD.replace("f3d.Engine.create(True)", "f3d.Engine.create_egl()")

# The product path: the `twinviewer render FILE --out shot.png` command itself, as a user runs it (a command
# line, not a script: only the whole process is timed).
TWINVIEWER_COMMAND = ["-m", "twinviewer", "render", "{target}", "--out", "{image}", "--size", "%(w)dx%(h)d"]

# The same functions the command calls, timed phase by phase (open_twin, then OffscreenView + screenshot).
TWINVIEWER_PHASES_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from twinviewer.io.twins import open_twin
from twinviewer.render.offscreen import OffscreenView
t1 = time.perf_counter()
twin = open_twin(sys.argv[1])
t2 = time.perf_counter()
view = OffscreenView(twin, (%(w)d, %(h)d))
view.screenshot(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "render": t3 - t2}))
"""

CONTENDERS = {"pyvista": PYVISTA_CHILD, "f3d": F3D_CHILD, "f3d-egl": F3D_EGL_CHILD,
              "twinviewer": TWINVIEWER_COMMAND,
              "tv-phases": TWINVIEWER_PHASES_CHILD}


def torus_mesh(n_major: int, n_minor: int, major: float = 1.0, minor: float = 0.3):
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, n_major, endpoint=False),
                       np.linspace(0, 2 * np.pi, n_minor, endpoint=False), indexing="ij")
    points = np.stack([(major + minor * np.cos(v)) * np.cos(u), (major + minor * np.cos(v)) * np.sin(u),
                       minor * np.sin(v)], axis=-1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(n_major), np.arange(n_minor), indexing="ij")
    a = i * n_minor + j
    b = ((i + 1) % n_major) * n_minor + j
    c = ((i + 1) % n_major) * n_minor + (j + 1) % n_minor
    d = i * n_minor + (j + 1) % n_minor
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return points, faces


def write_binary_stl(path: Path, points: np.ndarray, faces: np.ndarray) -> None:
    records = np.zeros(len(faces), dtype=[("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    tri = points[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-30
    records["n"] = normals
    records["v"] = tri
    with open(path, "wb") as handle:
        handle.write(b"twinviewer benchmark torus".ljust(80, b" "))
        handle.write(struct.pack("<I", len(faces)))
        handle.write(records.tobytes())


def write_multipart_glb(path: Path, parts: list[tuple[str, np.ndarray, np.ndarray, tuple]]) -> None:
    """A GLB with one named node, mesh and material per part (float32 positions, uint32 indices)."""
    binary = bytearray()
    header: dict = {"asset": {"version": "2.0", "generator": "twinviewer bench_load"}, "buffers": [],
                    "bufferViews": [], "accessors": [], "materials": [], "meshes": [], "nodes": [],
                    "scenes": [{"nodes": list(range(len(parts)))}], "scene": 0}
    for index, (name, points, faces, colour) in enumerate(parts):
        for data, target, kind, component in ((points.astype(np.float32), 34962, "VEC3", 5126),
                                              (faces.astype(np.uint32).reshape(-1), 34963, "SCALAR", 5125)):
            raw = data.tobytes()
            header["bufferViews"].append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(raw),
                                          "target": target})
            accessor = {"bufferView": len(header["bufferViews"]) - 1, "componentType": component,
                        "count": int(len(data)), "type": kind}
            if kind == "VEC3":
                accessor["min"] = points.min(axis=0).tolist()
                accessor["max"] = points.max(axis=0).tolist()
            header["accessors"].append(accessor)
            binary += raw + b"\0" * (-len(raw) % 4)
        header["materials"].append({"pbrMetallicRoughness": {"baseColorFactor": [*colour, 1.0]}})
        header["meshes"].append({"name": name, "primitives": [
            {"attributes": {"POSITION": 2 * index}, "indices": 2 * index + 1, "material": index}]})
        header["nodes"].append({"name": name, "mesh": index})
    header["buffers"].append({"byteLength": len(binary)})
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<4sII", b"glTF", 2, total))
        handle.write(struct.pack("<I4s", len(text), b"JSON") + text)
        handle.write(struct.pack("<I4s", len(binary), b"BIN\0") + bytes(binary))


def write_instanced_glb(path: Path, meshes: list[tuple[str, np.ndarray, np.ndarray, tuple]], copies: int) -> None:
    """A GLB whose ``copies`` × len(meshes) nodes reuse the meshes (glTF instancing), laid out on a grid."""
    write_multipart_glb(path, meshes)
    with open(path, "rb") as handle:
        data = handle.read()
    json_length = struct.unpack("<I", data[12:16])[0]
    header = json.loads(data[20:20 + json_length])
    binary = data[20 + json_length + 8:]
    side = int(np.ceil(np.sqrt(copies * len(meshes))))
    header["nodes"] = [{"name": f"{name}_{copy:03d}", "mesh": index,
                        "translation": [float((n % side) * 0.8), float((n // side) * 0.8), 0.0]}
                       for n, (copy, (index, (name, *_rest))) in enumerate(
                           (c, m) for c in range(copies) for m in enumerate(meshes))]
    header["scenes"] = [{"nodes": list(range(len(header["nodes"])))}]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 4)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(text) + 8 + len(binary)))
        handle.write(struct.pack("<I4s", len(text), b"JSON") + text)
        handle.write(struct.pack("<I4s", len(binary), b"BIN\0") + binary)


def assembly_inputs(folder: Path) -> dict[str, Path]:
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "meshes"
    inputs = {}
    for key, relative in (("milk_truck", "gltf/CesiumMilkTruck.glb"), ("as1_step", "step/as1-oc-214.stp")):
        if (shared / relative).is_file():
            inputs[key] = shared / relative
    rng = np.random.default_rng(11)
    meshes = [(f"mesh{k}", *torus_mesh(40 + 10 * k, 16, major=0.25, minor=0.05 + 0.02 * k),
               tuple(rng.uniform(0.2, 0.9, 3).round(3))) for k in range(4)]
    glb = folder / "assembly_120_instanced.glb"
    write_instanced_glb(glb, meshes, copies=30)
    inputs["glb_120_instanced"] = glb
    return inputs


def make_inputs(folder: Path, triangles: int) -> dict[str, Path]:
    n_minor = int(np.sqrt(triangles / 4))
    n_major = triangles // (2 * n_minor)
    stl = folder / "torus_1m.stl"
    write_binary_stl(stl, *torus_mesh(n_major, n_minor))
    rng = np.random.default_rng(7)
    parts = []
    for k in range(12):
        points, faces = torus_mesh(250, 100, major=0.3 + 0.05 * k, minor=0.02 + 0.01 * (k % 3))
        points = points + [0.0, 0.0, 0.1 * k]
        parts.append((f"part_{k:02d}", points, faces, tuple(rng.uniform(0.2, 0.9, 3).round(3))))
    glb = folder / "assembly_12parts.glb"
    write_multipart_glb(glb, parts)
    return {"stl_1M": stl, "glb_12parts": glb}


def run_once(contender: str | list[str], target: Path, image: Path, env: dict) -> dict:
    """One fresh process: a script that prints its phases as JSON, or a command line (whole time only)."""
    size = {"w": WIDTH, "h": HEIGHT}
    if isinstance(contender, list):
        argv = [a.format(target=target, image=image) % size for a in contender]
    else:
        argv = ["-c", contender % size, str(target), str(image)]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=300)
    whole = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    nan = float("nan")
    result = {"import": nan, "load": nan, "render": nan, "load_render": nan}
    if not isinstance(contender, list):
        result = json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])
        result.setdefault("load_render", result["load"] + result["render"])
    result["whole"] = whole
    result["drawn_pixels"] = count_drawn_pixels(image)
    return result


def count_drawn_pixels(image: Path) -> int:
    """Pixels that differ from the top-left (background) pixel: proof that something was rendered."""
    from PIL import Image

    with Image.open(image) as img:
        pixels = np.asarray(img.convert("RGB"))
    return int((np.abs(pixels.astype(int) - pixels[0, 0].astype(int)).sum(axis=2) > 30).sum())


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY") or not shutil.which("Xvfb"):
        return None
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    os.environ["DISPLAY"] = display
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--triangles", type=int, default=1_000_000)
    parser.add_argument("--only", choices=sorted(CONTENDERS), action="append")
    parser.add_argument("--assemblies", action="store_true", help="many-part models instead of the torus/GLB")
    args = parser.parse_args()
    server = start_xvfb()
    try:
        with tempfile.TemporaryDirectory(prefix="twinviewer-bench-") as folder_name:
            folder = Path(folder_name)
            inputs = assembly_inputs(folder) if args.assemblies else make_inputs(folder, args.triangles)
            # An installed package has compiled bytecode; PYTHONDONTWRITEBYTECODE (set on some machines)
            # would make every run compile the modules changed since the last write from source.
            env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
            contenders = args.only or list(CONTENDERS)
            runs: dict[tuple[str, str], list[dict]] = {}
            for _ in range(args.repeats):  # interleaved, so a slow phase of the machine hits everyone alike
                for file_key, path in inputs.items():
                    for name in contenders:
                        image = folder / f"{name}_{file_key}.png"
                        runs.setdefault((file_key, name),
                                        []).append(run_once(CONTENDERS[name], path, image, env))
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    summary = {}
    header = f"{'file':<12} {'contender':<11} {'whole s':>8} {'import s':>9} {'load s':>7} {'render s':>9} " \
             f"{'load+render s':>14} {'drawn px':>9}"
    print(header)
    print("-" * len(header))
    for (file_key, name), results in runs.items():
        med = {key: statistics.median(r[key] for r in results)
               for key in ("whole", "import", "load", "render")}
        med["load_render"] = statistics.median(r["load_render"] for r in results)
        drawn = min(r["drawn_pixels"] for r in results)
        summary.setdefault(file_key,
                           {})[name] = {k: round(v, 3) for k, v in med.items()} | {"drawn_pixels": drawn}
        print(f"{file_key:<12} {name:<11} {med['whole']:>8.3f} {med['import']:>9.3f} {med['load']:>7.3f} "
              f"{med['render']:>9.3f} {med['load_render']:>14.3f} {drawn:>9d}")
    print(json.dumps({"benchmark": "bench_load", "repeats": args.repeats, "triangles": args.triangles,
                      "window": [WIDTH, HEIGHT], "median_seconds": summary}))


if __name__ == "__main__":
    main()
