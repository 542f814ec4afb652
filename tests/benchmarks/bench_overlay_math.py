"""Overlay math per frame: sensor statuses + part statuses + surface field (+ glyph colours).

Compares, on the same synthetic model in the same run, the sparse CSR product the app uses against a naive
numpy gather-and-sum over (N, k) index/weight arrays and a dense (N × S) matrix product. Each frame has
one NaN sensor unless said otherwise (the realistic case: some sensor is always missing), so every method
renormalises. Prints a table and one JSON line.

    .venv/bin/python tests/benchmarks/bench_overlay_math.py [--frames 40] [--sizes 1000000x50,200000x100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from twinviewer.core.colormaps import map_values
from twinviewer.core.field import FieldInterpolator
from twinviewer.core.overlay import status_colors
from twinviewer.core.overlay_engine import OverlayEngine
from twinviewer.core.project import Sensor, Thresholds

N_PARTS = 14


def synthetic_model(n_points: int, n_sensors: int, seed: int = 0):
    """14 parts, each a noisy ellipsoid shell of its own size and place; sensors on 10 of them."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(N_PARTS, 2.0))
    counts = np.maximum((shares * n_points).astype(int), 1)
    counts[-1] += n_points - counts.sum()
    centres = rng.uniform(-2, 2, size=(N_PARTS, 3))
    radii = rng.uniform(0.1, 0.8, size=(N_PARTS, 3))
    points, part_index = [], []
    for p, count in enumerate(counts):
        direction = rng.normal(size=(count, 3))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        points.append(centres[p] + direction * radii[p] * rng.uniform(0.98, 1.02, size=(count, 1)))
        part_index.append(np.full(count, p, dtype=np.int32))
    points = np.concatenate(points)
    part_index = np.concatenate(part_index)
    sensor_parts = rng.integers(0, 10, size=n_sensors)
    sensor_pos = points[[rng.choice(np.flatnonzero(part_index == p)) for p in sensor_parts]]
    sensors = [
        Sensor(id=f"TT-{i:03d}", quantity="temperature", unit="°C", part=f"part{p}",
               position=tuple(map(float, sensor_pos[i])),
               thresholds=Thresholds(warning_high=80.0, alarm_high=95.0))
        for i, p in enumerate(sensor_parts)
    ]
    return points, part_index, sensor_pos, sensor_parts, sensors


def timed(fn, frames: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(frames):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3, min(samples) * 1e3


def run(n_points: int, n_sensors: int, frames: int, k: int = 4) -> dict:
    points, part_index, sensor_pos, sensor_parts, sensors = synthetic_model(n_points, n_sensors)
    start = time.perf_counter()
    field = FieldInterpolator.build(points, part_index, sensor_pos, sensor_parts, k=k, restrict_to_parts=True)
    build_parts_s = time.perf_counter() - start
    start = time.perf_counter()
    FieldInterpolator.build(points, part_index, sensor_pos, sensor_parts, k=k, restrict_to_parts=False)
    build_all_s = time.perf_counter() - start

    engine = OverlayEngine(sensors, [f"part{p}" for p in range(N_PARTS)], field=field,
                           field_quantity="temperature", field_sensor_index=np.arange(n_sensors))
    rng = np.random.default_rng(1)
    values = rng.uniform(40, 100, size=n_sensors)
    state = np.zeros(n_sensors, dtype=np.int8)
    one_missing = values.copy()
    one_missing[0] = np.nan
    many_missing = values.copy()
    many_missing[: n_sensors * 2 // 5] = np.nan

    def frame(v):
        def go():
            out = engine.compute(v, state)
            status_colors(out.sensor_status)  # glyph colours
            map_values(v, *out.field_range, out.colormap)
        return go

    # The same weights as naive (N, k) arrays and as a dense matrix, for comparison.
    csr = field.weights
    rows_full = np.diff(csr.indptr) == k
    idx = np.zeros((n_points, k), dtype=np.int32)  # padding: weight 0 on sensor 0
    wts = np.zeros((n_points, k), dtype=np.float32)
    counts = np.diff(csr.indptr)
    slot = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], counts)
    row_of = np.repeat(np.arange(n_points), counts)
    idx[row_of, slot] = csr.indices
    wts[row_of, slot] = csr.data

    def naive():
        usable = ~np.isnan(one_missing)
        x = np.append(np.where(usable, one_missing, 0.0), np.nan).astype(np.float32)
        ok = np.append(usable, True).astype(np.float32)
        with np.errstate(invalid="ignore"):
            return (x[idx] * wts).sum(axis=1) / (ok[idx] * wts).sum(axis=1)

    dense = csr.toarray()

    def dense_product():
        usable = ~np.isnan(one_missing)
        x = np.append(np.where(usable, one_missing, 0.0), np.nan).astype(np.float32)
        ok = np.append(usable, True).astype(np.float32)
        with np.errstate(invalid="ignore"):
            return (dense @ x) / (dense @ ok)

    np.testing.assert_allclose(naive(), field.interpolate(one_missing), rtol=1e-4)
    results = {
        "n_points": n_points, "n_sensors": n_sensors, "k": k, "nnz": int(csr.nnz),
        "rows_with_k_sensors": float(rows_full.mean()),
        "build_restricted_s": round(build_parts_s, 3), "build_unrestricted_s": round(build_all_s, 3),
    }
    for name, fn in [
        ("frame_all_valid_ms", frame(values)),
        ("frame_one_nan_ms", frame(one_missing)),
        ("frame_40pct_nan_ms", frame(many_missing)),
        ("field_only_one_nan_ms", lambda: field.interpolate(one_missing)),
        ("naive_gather_one_nan_ms", naive),
        ("dense_product_one_nan_ms", dense_product),
        ("rgb_per_vertex_map_values_ms", lambda: map_values(field.interpolate(values), 40, 100, "inferno")),
    ]:
        median, best = timed(fn, frames)
        results[name] = round(median, 2)
        results[name.replace("_ms", "_best_ms")] = round(best, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--sizes", default="1000000x50,200000x100")
    args = parser.parse_args()
    rows = [run(int(n), int(s), args.frames) for n, s in (size.split("x") for size in args.sizes.split(","))]
    labels = [
        ("build, restricted to parts (s)", "build_restricted_s"),
        ("build, all sensors (s)", "build_unrestricted_s"),
        ("frame: statuses+field+glyph colours, all valid (ms)", "frame_all_valid_ms"),
        ("frame: same, 1 NaN sensor (ms)", "frame_one_nan_ms"),
        ("frame: same, 40 % NaN sensors (ms)", "frame_40pct_nan_ms"),
        ("field only, CSR, 1 NaN (ms)", "field_only_one_nan_ms"),
        ("field, naive gather-and-sum, 1 NaN (ms)", "naive_gather_one_nan_ms"),
        ("field, dense matrix product, 1 NaN (ms)", "dense_product_one_nan_ms"),
        ("per-vertex RGB in numpy (map_values) (ms)", "rgb_per_vertex_map_values_ms"),
    ]
    header = f"{'':55s}" + "".join(f"{r['n_points']:>10,d} × {r['n_sensors']:<4d}" for r in rows)
    print(header)
    for label, key in labels:
        print(f"{label:55s}" + "".join(f"{r[key]:>17.3f}" for r in rows))
    print("(frame and field times: median of", args.frames, "frames)")
    print(json.dumps({"benchmark": "overlay_math", "frames": args.frames, "results": rows}))


if __name__ == "__main__":
    main()
