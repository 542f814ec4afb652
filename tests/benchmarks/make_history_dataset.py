"""Generate a plant-scale dataset folder for bench_history.py: SENSORS sensors at 1 Hz over DAYS days.

Each sensor is a slow daily wave plus a faster oscillation and noise, at 0.01 resolution (what a plant
historian typically stores), with a one-sample spike every few hours so summaries have something to keep.
Written with ``DatasetWriter`` one hour at a time (day files + multi-resolution summary in one pass).

    .venv/bin/python tests/benchmarks/make_history_dataset.py /tmp/plant-1d --sensors 1000 --days 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

START = 1_704_067_200.0  # 2024-01-01 00:00:00 UTC
HOUR = 3600


def sensor_names(count: int) -> list[str]:
    return [f"S{i:04d}" for i in range(count)]


def hour_of_data(hour: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    times = START + hour * HOUR + np.arange(HOUR, dtype=np.float64)
    phase = np.arange(count, dtype=np.float64) * 0.37
    day_wave = np.sin(2 * np.pi * (times[:, None] - START) / 86400.0 + phase)
    fast = 0.3 * np.sin(2 * np.pi * (times[:, None] - START) / (300.0 + 7 * np.arange(count)))
    values = 50.0 + 20.0 * day_wave + fast + rng.normal(0.0, 0.2, (HOUR, count))
    if hour % 3 == 0:
        values[1800, ::50] += 40.0  # spikes a chart over the whole range must still show
    return times, np.round(values, 2)


def generate(folder: Path, sensors: int, days: float) -> dict:
    from twinviewer.io.dataset import DatasetWriter

    hours = int(round(days * 24))
    names = sensor_names(sensors)
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    writer = DatasetWriter(folder, names, START, START + hours * HOUR - 1, period_s=1.0,
                           metadata={"asset": f"benchmark plant ({sensors} sensors, 1 Hz)"})
    try:
        for hour in range(hours):
            times, values = hour_of_data(hour, sensors, rng)
            writer.write(times, values)
            if sys.stderr.isatty():
                print(f"\r{hour + 1}/{hours} h", end="", file=sys.stderr, flush=True)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    summary = sum(p.stat().st_size for p in (folder / "_summary").rglob("*") if p.is_file())
    return {"sensors": sensors, "days": days, "samples": hours * HOUR * sensors, "seconds": round(elapsed, 1),
            "bytes": size, "summary_bytes": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--days", type=float, default=1.0)
    args = parser.parse_args()
    info = generate(args.folder, args.sensors, args.days)
    print(info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
