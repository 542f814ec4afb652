"""``twinviewer rul --fit TRAIN --out MODEL`` and ``twinviewer rul DATA --model MODEL --out rul.csv``.

TRAIN is run-to-failure data in the C-MAPSS text layout (unit, cycle, 3 settings, 21 sensors; no header).
DATA is a C-MAPSS file (one estimate per unit, at its last cycle) or a recording (Parquet or CSV: one unit,
one row per timestamp, sensors named as in the model). ``rul.csv`` has ``unit,rul``.
"""

from __future__ import annotations

from twinviewer.core.formatting import counted

HELP = "remaining useful life: fit a model on run-to-failure data, or estimate it per unit"


def add_arguments(parser) -> None:
    parser.add_argument("data", nargs="?", help="units to estimate: a C-MAPSS text file or a recording")
    parser.add_argument("--fit", metavar="TRAIN", help="fit a model on run-to-failure data (C-MAPSS text layout)")
    parser.add_argument("--model", metavar="MODEL", help="the model to estimate with (*.json from --fit)")
    parser.add_argument("--out", required=True, help="--fit: the model file to write; else the rul.csv to write")


def _is_cmapss(path) -> bool:
    from pathlib import Path

    return Path(path).suffix.lower() not in (".parquet", ".pq", ".parq", ".csv", ".tsv")


def run(args) -> int:
    import csv
    import time
    from pathlib import Path

    from twinviewer.core.errors import TwinViewerError
    from twinviewer.core.rul import fit_rul
    from twinviewer.io.rul_files import CMAPSS_SENSORS, load_rul_model, read_cmapss, save_rul_model

    if args.fit is not None:
        if args.data is not None or args.model is not None:
            raise TwinViewerError("--fit takes no DATA and no --model")
        started = time.perf_counter()
        units = read_cmapss(args.fit)
        model = fit_rul(list(units.values()), CMAPSS_SENSORS)
        path = save_rul_model(args.out, model)
        print(f"{path}: fitted on {len(units)} units ({model.meta['rows']:,} cycles), sensors "
              f"{', '.join(model.sensors)}; {time.perf_counter() - started:.1f} s, {path.stat().st_size:,} bytes")
        return 0
    if args.data is None or args.model is None:
        raise TwinViewerError("give DATA and --model MODEL (or --fit TRAIN)")
    model = load_rul_model(args.model)
    data = Path(args.data)
    if not data.exists():
        raise TwinViewerError(f"{data}: no such file")
    estimates: list[tuple[str, float]] = []
    if _is_cmapss(data):
        units = read_cmapss(data)
        index = [CMAPSS_SENSORS.index(s) for s in model.sensors if s in CMAPSS_SENSORS]
        if len(index) != len(model.sensors):
            raise TwinViewerError(f"{args.model}: its sensors ({', '.join(model.sensors)}) are not C-MAPSS s1…s21")
        estimates = [(str(unit), model.predict_last(values[:, index])) for unit, values in units.items()]
    else:
        from twinviewer.core.anomaly import store_matrix
        from twinviewer.io.importers import import_recording

        store, _ = import_recording(data)
        missing = [s for s in model.sensors if not store.has(s)]
        if missing:
            raise TwinViewerError(f"{data}: no samples of {', '.join(missing)} (the model needs "
                                  f"{', '.join(model.sensors)})")
        _, values = store_matrix(store, model.sensors)
        estimates = [(data.stem, model.predict_last(values))]
    out = Path(args.out)
    try:
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["unit", "rul"])
            writer.writerows((unit, f"{rul:.1f}") for unit, rul in estimates)
    except OSError as exc:
        raise TwinViewerError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    print(f"{out}: {counted(len(estimates), 'unit')}; remaining useful life (cycles) " +
          ", ".join(f"{u} {r:.0f}" for u, r in estimates[:8]) + (" …" if len(estimates) > 8 else ""))
    return 0
