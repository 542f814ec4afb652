"""Simulator throughput: simulated seconds per wall second, for every sensor of the demo twin.

    .venv/bin/python tests/benchmarks/bench_simulate.py

Runs each bundled demo scenario at its own sample period (1 Hz), including the 30-day drive-end bearing
wear scenario (2.6 million time steps × 12 sensors; target: under 10 s), then writes that run as a
recording. Prints a table and one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from twinviewer.core.simulation import simulate
from twinviewer.io.project_files import load_project
from twinviewer.io.scenario_files import load_scenario
from twinviewer.io.simulated import write_simulation
from twinviewer.paths import demo_project_path

SCENARIOS = Path(__file__).resolve().parents[2] / "assets" / "demo" / "scenarios"
TARGET_30D_S = 10.0


def best_of(runs: int, fn):
    best, value = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> int:
    project = load_project(demo_project_path(), check_files=False)
    rows = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        scenario = load_scenario(path, project)
        runs = 1 if scenario.n_samples > 1_000_000 else 3
        wall, result = best_of(runs, lambda s=scenario: simulate(s, project))
        row = {"scenario": path.stem, "steps": len(result.times), "sensors": len(result.sensor_ids),
               "simulated_s": result.duration, "wall_s": round(wall, 3),
               "sim_s_per_wall_s": round(result.duration / wall)}
        if path.stem == "bearing_wear_de":
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                written = write_simulation(result, Path(tmp) / "bearing.parquet")
                row["write_s"] = round(time.perf_counter() - started, 2)
                row["file_mb"] = round(written.stat().st_size / 1e6, 1)
        rows.append(row)
    print(f"{'scenario':34} {'time steps':>11} {'sensors':>7} {'simulated':>10} {'wall s':>7} "
          f"{'sim s/wall s':>13}")
    for r in rows:
        extra = f"   (write {r['write_s']} s, {r['file_mb']} MB)" if "write_s" in r else ""
        print(f"{r['scenario']:34} {r['steps']:>11,} {r['sensors']:>7} {r['simulated_s'] / 3600:>9.1f}h "
              f"{r['wall_s']:>7.2f} {r['sim_s_per_wall_s']:>13,}{extra}")
    month = next(r for r in rows if r["scenario"] == "bearing_wear_de")
    verdict = "meets" if month["wall_s"] < TARGET_30D_S else "MISSES"
    print(f"30-day bearing wear at 1 Hz: {month['wall_s']:.2f} s, {verdict} the {TARGET_30D_S:.0f} s target")
    print(json.dumps({"benchmark": "simulate", "cpu_count": os.cpu_count(),
                      "python": platform.python_version(),
                      "target_30d_s": TARGET_30D_S, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
