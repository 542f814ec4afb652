"""``twinviewer detect PROJECT --recording R (--train-until T | --train R2 | --train-rows N) --out scores.csv``.

Learns normal behaviour (docs/anomaly-detection.md) from the training part, scores every later timestamp
and writes ``time,score,anomaly`` (ISO 8601 UTC, the smoothed score, 0/1); prints the anomaly episodes with
the sensors that contribute most. Without a training option the model saved beside the project is used.
"""

from __future__ import annotations

from twinviewer.core.formatting import counted

HELP = "find anomalies in a recording: learn normal from a training range, write time,score,anomaly per timestamp"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="the *.twin.toml project")
    parser.add_argument("--recording", metavar="R", default=None,
                        help="recording to score (Parquet or CSV; default: the project's own [[sources]] recording)")
    train = parser.add_mutually_exclusive_group()
    train.add_argument("--train-until", metavar="T", default=None,
                       help="train on the recording up to T (ISO time, epoch seconds, or an offset like +10m)")
    train.add_argument("--train", metavar="R2", default=None, help="train on all of a separate normal recording")
    train.add_argument("--train-rows", metavar="N", type=int, default=None,
                       help="train on the first N timestamps of the recording")
    parser.add_argument("--out", required=True, help="the CSV to write: time,score,anomaly")
    parser.add_argument("--adapt", action="store_true",
                        help="let the baseline follow slow drift while the score is normal (fewer false alarms "
                             "on a wandering process; a slowly growing fault is learned as normal too)")
    parser.add_argument("--save-model", action="store_true",
                        help="save the trained model beside the project (PROJECT → *.anomaly.json)")


def run(args) -> int:
    import csv
    from pathlib import Path

    import numpy as np

    from twinviewer.cli._render_state import load_recording, parse_time
    from twinviewer.core.alarms import iso_utc
    from twinviewer.core.anomaly import detector_sensors, episodes, fit_detector, score_block, store_matrix
    from twinviewer.core.errors import TwinViewerError
    from twinviewer.io.anomaly_model import load_model, model_path, save_model
    from twinviewer.io.twins import open_twin

    twin = open_twin(Path(args.project))
    project_sensors = [s.id for s in twin.project.sensors]
    store, _ = load_recording(twin, args.recording)
    span = store.time_range()
    if span is None:
        raise TwinViewerError("the recording holds no samples")
    saved = model_path(twin.path)
    if args.train is None and args.train_until is None and args.train_rows is None:
        if not saved.is_file():
            raise TwinViewerError(f"give --train-until, --train or --train-rows (no saved model at {saved})")
        model = load_model(saved)
        missing = [s for s in model.sensors if not store.has(s)]
        if missing:
            raise TwinViewerError(f"{saved}: the recording has no samples of {', '.join(missing)}")
        times, values = store_matrix(store, model.sensors)
        after = model.train_end if model.train_end is not None and model.train_end >= span[0] else -np.inf
    else:
        sensors = detector_sensors(store, project_sensors)
        if not sensors:
            raise TwinViewerError("the recording has samples of none of the project's sensors")
        times, values = store_matrix(store, sensors)
        if args.train is not None:
            train_store, _ = load_recording(twin, args.train)
            sensors = [s for s in sensors if train_store.has(s)]
            if not sensors:
                raise TwinViewerError(f"--train {args.train}: no samples of the sensors in the recording")
            times, values = store_matrix(store, sensors)
            train_times, train_values = store_matrix(train_store, sensors)
            after = -np.inf
        elif args.train_rows is not None:
            if not 0 < args.train_rows < len(times):
                raise TwinViewerError(f"--train-rows must be between 1 and {len(times) - 1} "
                                      f"(the recording has {len(times)} timestamps)")
            train_times, train_values = times[:args.train_rows], values[:args.train_rows]
            after = train_times[-1]
        else:
            until = parse_time(args.train_until, *span)
            keep = times <= until
            train_times, train_values = times[keep], values[keep]
            after = until
        model = fit_detector(train_values, sensors, train_times, adapt=args.adapt)
        if args.save_model:
            print(f"model saved to {save_model(saved, model)}")
    scored = times > after
    if not scored.any():
        raise TwinViewerError("nothing left to score after the training range")
    result = score_block(model, times[scored], values[scored])
    out = Path(args.out)
    try:
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["time", "score", "anomaly"])
            writer.writerows((iso_utc(t), f"{s:.6g}", int(a))
                             for t, s, a in zip(result.times, result.score, result.anomaly, strict=True))
    except OSError as exc:
        raise TwinViewerError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    found = episodes(result)
    print(f"{out}: {len(result.times)} timestamps scored with {len(model.sensors)} sensors (score 1 = the limit); "
          f"{counted(len(found), 'anomaly episode')}, {counted(int(result.anomaly.sum()), 'anomalous timestamp')}")
    for episode in found:
        print(f"  {iso_utc(episode.start)} → {iso_utc(episode.end)}  {episode.describe()}")
    return 0
