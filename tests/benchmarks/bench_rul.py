"""Remaining useful life on NASA C-MAPSS FD001 (100 run-to-failure engines): 5-fold cross-validation by engine.

Prints RMSE over every held-out cycle against the capped target (125), and the test-set protocol: each
held-out engine cut at 5 random points with true remaining life 1–145 cycles, the estimate at the cut
against the true life (RMSE and NASA score per 100 engines), plus the fit and per-engine predict times.

    .venv/bin/python tests/benchmarks/bench_rul.py [--data ../shared/data/sensors/cmapss/train_FD001.txt]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from twinviewer.core.rul import cross_validate, fit_rul
from twinviewer.io.rul_files import CMAPSS_SENSORS, read_cmapss

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=REPO.parent / "shared" / "data" / "sensors" / "cmapss" / "train_FD001.txt")
    args = parser.parse_args()
    units = list(read_cmapss(args.data).values())
    started = time.perf_counter()
    result = cross_validate(units, CMAPSS_SENSORS)
    result["cv_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    model = fit_rul(units, CMAPSS_SENSORS)
    result["fit_seconds"] = time.perf_counter() - started
    index = [CMAPSS_SENSORS.index(s) for s in model.sensors]
    started = time.perf_counter()
    for unit in units:
        model.predict_last(unit[:, index])
    result["predict_ms_per_engine"] = (time.perf_counter() - started) / len(units) * 1000
    print(f"C-MAPSS FD001, 5-fold CV by engine: RMSE {result['rmse_all_capped']:.2f} (all held-out cycles, "
          f"target capped at 125); test protocol RMSE {result['rmse_cut']:.2f}, NASA score "
          f"{result['nasa_cut_per_100']:.0f} per 100 engines; fit {result['fit_seconds']:.1f} s, predict "
          f"{result['predict_ms_per_engine']:.2f} ms per engine")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
