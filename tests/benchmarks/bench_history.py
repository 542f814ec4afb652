"""Benchmark: lazy Parquet datasets (twinviewer.io.dataset) from one day to one year.

For each dataset folder (made by make_history_dataset.py; ``--make`` builds the default set) a fresh
process measures
- open → first frame: open the folder (day files listed, summary memory-mapped) and every sensor's value
  at the start, i.e. what the window needs to draw its first frame;
- seek: every sensor's value at 40 random times anywhere in the range (median and worst);
- timeline + chart: the whole range's threshold episodes of every sensor (what the timeline paints) plus a
  2,000-point chart of one sensor over the whole range;
- resident memory (now and peak) after all of it.

    .venv/bin/python tests/benchmarks/bench_history.py --make /work/tmp/plant   # generate, then measure
    .venv/bin/python tests/benchmarks/bench_history.py FOLDER [FOLDER ...]      # measure existing datasets
    .venv/bin/python tests/benchmarks/bench_history.py                          # quick: 200 sensors, 1 and 7 days

``--window`` (under ``xvfb-run -a``) adds the same figures in the real window: a project whose sensors are
the dataset's (on two parts, each with warning/alarm limits) and whose recording source is the folder;
open → first frame with data shown (timeline episodes included), open → alarm list filled (it follows the
first frame), seek → frame shown (``refresh_now``, back to back; wall and CPU time of this process), a click
on the timeline → frame shown (the next UI tick draws it; a pause between clicks), and the whole-range chart
of one sensor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_SET = (("1000s-1d", 1000, 1), ("1000s-7d", 1000, 7), ("50s-1d", 50, 1), ("50s-30d", 50, 30),
               ("50s-365d", 50, 365))
THRESHOLDS = {"warning_high": 75.0, "alarm_high": 85.0}


def rss_mb() -> tuple[float, float]:
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Timer:
    """Wall time and this process's CPU time of a block (CPU time shows the cost on an idle machine when
    other work shares the cores)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def measure(folder: Path) -> dict:
    from twinviewer.io.dataset import ParquetDataset

    with Timer() as opening:
        dataset = ParquetDataset(folder)
        t0, t1 = dataset.time_range()
        dataset.values_at(t0)

    rng = np.random.default_rng(3)
    seeks = []
    for t in rng.uniform(t0, t1, 40):
        with Timer() as seek:
            snapshot = dataset.values_at(float(t))
        seeks.append(seek)
        assert np.isfinite(snapshot.values).all()

    with Timer() as timeline:
        limits = dict.fromkeys(dataset.sensor_ids, THRESHOLDS)
        episodes = sum(len(c) for c in dataset.threshold_crossings_many(limits).values())
    with Timer() as chart:
        times, vmin, vmax = dataset.window(dataset.sensor_ids[0], t0, t1, 2000)
    rss, peak = rss_mb()

    def ms(seconds: float) -> float:
        return round(seconds * 1000, 1)

    return {"dataset": folder.name, "sensors": len(dataset.sensor_ids), "days": round((t1 - t0) / 86400, 1),
            "samples": dataset.sample_count, "open_first_frame_ms": ms(opening.wall),
            "open_cpu_ms": ms(opening.cpu),
            "seek_median_ms": ms(statistics.median(s.wall for s in seeks)),
            "seek_cpu_median_ms": ms(statistics.median(s.cpu for s in seeks)),
            "seek_max_ms": ms(max(s.wall for s in seeks)),
            "timeline_ms": ms(timeline.wall), "timeline_cpu_ms": ms(timeline.cpu), "chart_ms": ms(chart.wall),
            "crossings": episodes, "chart_points": int(times.size), "chart_max": float(np.nanmax(vmax)),
            "rss_mb": round(rss), "peak_rss_mb": round(peak)}


def write_project(folder: Path, dataset: Path, sensor_ids: list[str]) -> Path:
    import trimesh

    scene = trimesh.Scene()
    for name, x in (("left", -0.6), ("right", 0.6)):
        scene.add_geometry(trimesh.creation.box((1, 1, 1)).apply_translation((x, 0, 0)), node_name=name,
                           geom_name=name)
    scene.export(folder / "plant.glb")
    lines = ['[asset]\nname = "benchmark plant"\n[[models]]\nfile = "plant.glb"\n']
    for i, sensor in enumerate(sensor_ids):
        lines.append(f'[[sensors]]\nid = "{sensor}"\nquantity = "temperature"\nunit = "°C"\n'
                     f'part = "{"left" if i % 2 else "right"}"\nposition = [0, 0, 0]\n'
                     f'thresholds = {{ warning_high = 75, alarm_high = 85 }}\n')
    lines.append(f'[[sources]]\nkind = "recording"\nname = "plant"\nfile = "{dataset}"\n')
    project = folder / "plant.twin.toml"
    project.write_text("\n".join(lines), encoding="utf-8")
    return project


def measure_window(folder: Path) -> dict:
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from twinviewer.app import build_window
    from twinviewer.io.dataset import ParquetDataset

    app = QApplication.instance() or QApplication([])
    sensor_ids = ParquetDataset(folder).sensor_ids
    work = Path(tempfile.mkdtemp())
    project = write_project(work, folder.resolve(), sensor_ids)
    window = build_window(settings=QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    shown = []
    window.frame_shown.connect(lambda frame: shown.append((time.perf_counter(), frame)))
    started, started_cpu = time.perf_counter(), time.process_time()
    window.open_path(project)
    while not (window.session is not None and window.session.has_data and shown
               and np.isfinite(shown[-1][1].values).any()):
        app.processEvents()
        time.sleep(0.002)
    open_s = shown[-1][0] - started
    open_cpu_s = time.process_time() - started_cpu
    alarms = window.panels["overlay_panel"].alarms
    while alarms._store is not window.session.store:  # the alarm list fills after the first frame
        app.processEvents()
        time.sleep(0.002)
    alarms_s = time.perf_counter() - started
    panel = window.panels["recording_panel"]
    t0, t1 = window.session.store.time_range()
    rng = np.random.default_rng(5)
    seeks, seek_cpu = [], []
    for t in rng.uniform(t0, t1, 20):
        started, cpu = time.perf_counter(), time.process_time()
        panel.timeline.seek(float(t))
        window.refresh_now()
        app.processEvents()
        seeks.append(time.perf_counter() - started)
        seek_cpu.append(time.process_time() - cpu)
    clicks, click_cpu = [], []  # a click on the timeline: the clock moves, the next UI tick shows the frame
    for t in rng.uniform(t0, t1, 20):
        for _ in range(20):  # a person pauses between clicks: the panels that follow the frame catch up
            app.processEvents()
            time.sleep(0.01)
        shown.clear()
        started, cpu = time.perf_counter(), time.process_time()
        panel.timeline.seek(float(t))
        while not shown or abs(shown[-1][1].t - t) > 1e-3:
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()
        clicks.append(time.perf_counter() - started)
        click_cpu.append(time.process_time() - cpu)
    started = time.perf_counter()
    panel.charts.pin(sensor_ids[0])
    app.processEvents()
    chart_s = time.perf_counter() - started
    rss, peak = rss_mb()
    window.close()
    return {"dataset": folder.name, "window_open_first_frame_ms": round(open_s * 1000, 1),
            "window_open_cpu_ms": round(open_cpu_s * 1000, 1), "window_open_alarms_ms": round(alarms_s * 1000, 1),
            "window_seek_median_ms": round(statistics.median(seeks) * 1000, 1),
            "window_seek_cpu_median_ms": round(statistics.median(seek_cpu) * 1000, 1),
            "window_seek_max_ms": round(max(seeks) * 1000, 1),
            "window_click_median_ms": round(statistics.median(clicks) * 1000, 1),
            "window_click_cpu_median_ms": round(statistics.median(click_cpu) * 1000, 1), "window_chart_ms": round(chart_s * 1000, 1),
            "window_rss_mb": round(rss), "window_peak_rss_mb": round(peak)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--make", type=Path, metavar="DIR", help="generate the default set under DIR first")
    parser.add_argument("--window", action="store_true", help="also measure in the real window (needs a display)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--one-window", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    if args.one_window:
        print(json.dumps(measure_window(args.one_window)))
        return 0
    folders = list(args.folders)
    scratch = None
    if not folders and not args.make:  # `make bench`: a quick set in a temporary folder
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="twinviewer-history-"))
        sys.path.insert(0, str(Path(__file__).parent))
        from make_history_dataset import generate

        for name, sensors, days in (("200s-1d", 200, 1), ("200s-7d", 200, 7)):
            print(generate(scratch / name, sensors, days), file=sys.stderr)
            folders.append(scratch / name)
    if args.make:
        sys.path.insert(0, str(Path(__file__).parent))
        from make_history_dataset import generate

        for name, sensors, days in DEFAULT_SET:
            target = args.make / name
            if not target.exists():
                print(generate(target, sensors, days), file=sys.stderr)
            folders.append(target)
    rows = []
    for folder in folders:
        out = subprocess.run([sys.executable, __file__, "--one", str(folder)], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return 1
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if args.window:
            out = subprocess.run([sys.executable, __file__, "--one-window", str(folder)], capture_output=True,
                                 text=True)
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return 1
            rows[-1].update(json.loads(out.stdout.strip().splitlines()[-1]))
    header = ("dataset", "sensors", "days", "samples", "open_first_frame_ms", "open_cpu_ms", "seek_median_ms",
              "seek_cpu_median_ms", "seek_max_ms", "timeline_ms", "timeline_cpu_ms", "chart_ms", "rss_mb",
              "peak_rss_mb")
    if args.window:
        header += ("window_open_first_frame_ms", "window_open_cpu_ms", "window_open_alarms_ms", "window_seek_median_ms",
                   "window_seek_cpu_median_ms", "window_click_median_ms", "window_click_cpu_median_ms", "window_seek_max_ms", "window_chart_ms",
                   "window_rss_mb", "window_peak_rss_mb")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(f"{row[h]:,}" if isinstance(row[h], int) else str(row[h]) for h in header) + " |")
    print(json.dumps(rows))
    if scratch is not None:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
