"""Benchmark: TimeSeriesStore vs DuckDB (long and wide tables) on the same recording.

Default size: 1,000 sensors × 100,000 timestamps at 10 Hz = 100 million float32 samples. Measures
- seek: every sensor's value at a random t (store.values_at vs SQL),
- window: one sensor over one hour = 36,000 samples (store.window, decimated to 2,000 min/max points,
  vs SQL returning the raw rows),
- open: a fresh process reads the native Parquet recording and produces the first frame
  (values_at at the start), with its resident memory afterwards and at peak,
- resident memory of a store holding the data (fresh process, after open).
Each DuckDB layout runs in its own fresh process so memory figures do not mix.

    .venv/bin/python tests/benchmarks/bench_store.py       # full size (several minutes, ~6 GB free tmp)
    .venv/bin/python tests/benchmarks/bench_store.py --sensors 100 --times 20000   # quick check

Prints a table and one JSON line.
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

import numpy as np

T0 = 1_700_000_000.0
RATE_HZ = 10.0
HOUR = 3600.0


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def median_time(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def random_times(n_times: int, count: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return T0 + rng.uniform(0, (n_times - 1) / RATE_HZ, count)


def window_starts(n_times: int, count: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return T0 + rng.uniform(0, max((n_times - 1) / RATE_HZ - HOUR, 0), count)


def make_data(sensors: int, n_times: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(1)
    times = T0 + np.arange(n_times) / RATE_HZ
    values = rng.standard_normal((n_times, sensors), dtype=np.float32)
    np.cumsum(values, axis=0, out=values)
    return times, [f"S{i:04d}" for i in range(sensors)], values


# ----------------------------------------------------------------- child processes
def child_open(path: str, n_times: int, sensors: int) -> dict:
    started = time.perf_counter()
    from twinviewer.io.recording import read_recording

    store, _ = read_recording(path)
    first = store.values_at(store.time_range()[0])
    first_frame_s = time.perf_counter() - started
    assert first.state.max() == 0
    rss, peak = rss_mb()
    ids = store.sensor_ids
    seek = median_time(lambda ts=iter(random_times(n_times, 2000)): store.values_at(next(ts)), 2000)
    starts = iter(window_starts(n_times, 200))
    window = median_time(lambda: store.window(ids[sensors // 2], (s := next(starts)), s + HOUR), 200)
    t, lo, hi = store.window(ids[0], T0, T0 + HOUR)
    return {"first_frame_s": first_frame_s, "rss_mb": rss, "peak_mb": peak, "seek_s": seek,
            "window_s": window,
            "window_points": int(t.size), "samples": store.sample_count}


def child_duckdb(path: str, layout: str, n_times: int, sensors: int) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    started = time.perf_counter()
    if layout == "long":
        con.execute("CREATE TABLE long AS SELECT time, sensor::VARCHAR AS sensor, value FROM "
                    f"read_parquet('{path}')")
    else:
        wide_path = str(Path(path).with_name("wide.parquet"))
        con.execute(f"CREATE TABLE wide_sorted AS SELECT * FROM read_parquet('{wide_path}') ORDER BY time")
    load_s = time.perf_counter() - started
    rss, peak = rss_mb()
    from datetime import datetime, timezone

    def ts(t: float):
        return datetime.fromtimestamp(t, timezone.utc)

    seek_times = iter(random_times(n_times, 50))
    if layout == "long":
        seek_sql = ("SELECT sensor, value FROM long WHERE time = "
                    "(SELECT max(time) FROM long WHERE time <= ?)")
        window_sql = "SELECT time, value FROM long WHERE sensor = ? AND time BETWEEN ? AND ?"
    else:
        seek_sql = (
            "SELECT * FROM wide_sorted WHERE time = (SELECT max(time) FROM wide_sorted WHERE time <= ?)"
        )
        window_sql = 'SELECT time, "{sensor}" FROM wide_sorted WHERE time BETWEEN ? AND ?'
    seek = median_time(lambda: con.execute(seek_sql, [ts(next(seek_times))]).fetchnumpy(), 50)
    sensor = f"S{sensors // 2:04d}"
    starts = iter(window_starts(n_times, 30))

    def window_query():
        s = next(starts)
        if layout == "long":
            return con.execute(window_sql, [sensor, ts(s), ts(s + HOUR)]).fetchnumpy()
        return con.execute(window_sql.format(sensor=sensor), [ts(s), ts(s + HOUR)]).fetchnumpy()

    window = median_time(window_query, 30)
    return {"load_s": load_s, "rss_mb": rss, "peak_mb": peak, "seek_s": seek, "window_s": window}


def run_child(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--times", type=int, default=100_000)
    parser.add_argument("--no-duckdb", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, n_times, sensors = args.child[0], args.child[1], int(args.child[2]), int(args.child[3])
        out = child_open(path, n_times,
                         sensors) if kind == "open" else child_duckdb(path, kind, n_times, sensors)
        print(json.dumps(out))
        return

    from twinviewer.core.store import TimeSeriesStore
    from twinviewer.io.recording import write_recording

    n_times, sensors = args.times, args.sensors
    times, ids, values = make_data(sensors, n_times)
    base_rss = rss_mb()[0]
    store = TimeSeriesStore()
    started = time.perf_counter()
    store.append_block(times, ids, values, copy=False)
    append_s = time.perf_counter() - started
    seek_times = iter(random_times(n_times, 2000))
    seek = median_time(lambda: store.values_at(next(seek_times)), 2000)
    starts = iter(window_starts(n_times, 200))
    window = median_time(lambda: store.window(ids[sensors // 2], (s := next(starts)), s + HOUR), 200)
    results: dict[str, dict] = {"store (in process)": {"seek_s": seek, "window_s": window,
                                                       "load_s": append_s}}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        path = str(Path(tmp) / "bench.parquet")
        started = time.perf_counter()
        write_recording(path, times, ids, values)
        write_s = time.perf_counter() - started
        file_mb = Path(path).stat().st_size / 1e6
        if not args.no_duckdb:  # the same data as a wide Parquet table for DuckDB's wide layout
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = {"time": pa.array(np.round(times * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC"))}
            columns.update({sensor_id: values[:, j] for j, sensor_id in enumerate(ids)})
            pq.write_table(pa.table(columns), str(Path(tmp) / "wide.parquet"), compression="zstd")
            del columns
        store.clear()  # free the in-process copy before the children measure memory
        del values
        opened = run_child("open", path, str(n_times), str(sensors))
        results["store (fresh process, from Parquet)"] = {
            "seek_s": opened["seek_s"], "window_s": opened["window_s"], "load_s": opened["first_frame_s"],
            "rss_mb": opened["rss_mb"], "peak_mb": opened["peak_mb"]}
        if not args.no_duckdb:
            for layout in ("long", "wide"):
                results[f"DuckDB {layout} table"] = run_child(layout, path, str(n_times), str(sensors))
    samples = n_times * sensors
    print(f"\n{samples:,} samples ({sensors} sensors × {n_times:,} timestamps at {RATE_HZ:g} Hz); "
          f"Parquet {file_mb:.0f} MB written in {write_s:.1f} s; process baseline {base_rss:.0f} MB\n")
    print(f"| {'layout':38} | seek all sensors | 1 h window (36k) | load / first frame | RSS after | peak "
          "RSS |")
    print(f"|{'-' * 40}|------------------|------------------|--------------------|-----------|----------|")
    for name, r in results.items():
        rss = f"{r['rss_mb']:.0f} MB" if "rss_mb" in r else "—"
        peak = f"{r['peak_mb']:.0f} MB" if "peak_mb" in r else "—"
        print(f"| {name:38} | {r['seek_s'] * 1e3:13.3f} ms | {r['window_s'] * 1e3:13.3f} ms | "
              f"{r['load_s']:16.2f} s | {rss:>9} | {peak:>8} |")
    print(json.dumps({"benchmark": "bench_store", "sensors": sensors, "timestamps": n_times,
                      "samples": samples,
                      "parquet_mb": round(file_mb, 1), "write_s": round(write_s, 2),
                      "results": {k: {m: round(v, 6) for m, v in r.items()} for k, r in results.items()}}))


if __name__ == "__main__":
    main()
