"""``twinviewer convert IN [IN ...] --out OUT.parquet|FOLDER``: CSV/Parquet/rig data → a native recording
(one Parquet file) or a dataset folder (one Parquet file per day plus a multi-resolution summary)."""

from __future__ import annotations

import sys

HELP = "convert sensor CSV files (or a hydraulic-rig folder) into a TwinViewer recording (Parquet) or dataset folder"


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN",
                        help="input files, read as one recording back to back in time order")
    parser.add_argument("--out", required=True, metavar="OUT", help="the recording to write: a .parquet file, or "
                        "a dataset folder (any other name, or --dataset) partitioned by day for years of data")
    parser.add_argument("--dataset", action="store_true", help="write a dataset folder even if OUT ends in .parquet")
    parser.add_argument("--project", metavar="P", help="a *.twin.toml whose recording source maps columns to "
                        "sensors (without it every column becomes a sensor of the same name)")
    parser.add_argument("--source", metavar="NAME",
                        help="which recording source of the project (default: the first)")
    parser.add_argument("--delimiter", help="field separator (default: sniffed)")
    parser.add_argument("--time-column", help="name of the time column (default: detected)")
    parser.add_argument("--time-format", choices=["auto", "iso", "epoch_s", "epoch_ms"],
                        help="how times are written")
    parser.add_argument("--timezone",
                        help="IANA zone of naive timestamps, e.g. Europe/Berlin (default: local)")
    parser.add_argument("--layout", choices=["auto", "wide", "long"], help="CSV layout (default: detected)")
    parser.add_argument("--chunk-mb", type=float, default=32.0, metavar="MB",
                        help="CSV inputs larger than this are converted to a dataset piece by piece, in bounded "
                        "memory (default: 32)")


def run(args) -> int:
    from pathlib import Path

    from twinviewer.core.project import load_project
    from twinviewer.io.dataset import write_dataset
    from twinviewer.io.importers import PARQUET_SUFFIXES, find_recording_source, import_recording
    from twinviewer.io.recording import write_store
    from twinviewer.io.stream_convert import can_stream, convert_csv_to_dataset

    source = None
    periods = None
    metadata: dict = {}
    if args.project:
        project = load_project(args.project, check_files=False)
        source = find_recording_source(project, args.source)
        periods = {s.id: s.expected_period_s for s in project.sensors}
        metadata = {"asset": project.asset.name, "units": {s.id: s.unit for s in project.sensors if s.unit}}
    elif args.source:
        print("twinviewer: --source needs --project", file=sys.stderr)
        return 2

    def show_progress(fraction: float, message: str) -> None:
        if sys.stderr.isatty():
            print(f"\r{message}: {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    to_dataset = args.dataset or Path(args.out).suffix.lower() not in PARQUET_SUFFIXES
    inputs = [Path(p) for p in args.inputs]
    if not args.chunk_mb > 0:
        print("twinviewer: --chunk-mb must be a positive number", file=sys.stderr)
        return 2
    chunk_bytes = int(args.chunk_mb * 1024 * 1024)
    if to_dataset and can_stream(inputs) and sum(p.stat().st_size for p in inputs) > chunk_bytes:
        options = {"source": source, "delimiter": args.delimiter, "time_column": args.time_column,
                   "time_format": args.time_format, "timezone": args.timezone, "layout": args.layout,
                   "periods": periods}
        out, streamed = convert_csv_to_dataset(inputs, args.out, options=options, metadata=metadata,
                                               chunk_bytes=chunk_bytes, progress=show_progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(streamed, file=sys.stderr)
        print(f"Wrote dataset {out} ({streamed.samples:,} samples, {len(streamed.sensors)} sensors)",
              file=sys.stderr)
        return 0
    store, report = import_recording([Path(p) for p in args.inputs], source=source, delimiter=args.delimiter,
                                     time_column=args.time_column, time_format=args.time_format,
                                     timezone=args.timezone, layout=args.layout, periods=periods,
                                     progress=show_progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(report, file=sys.stderr)
    if metadata.get("units"):
        metadata["units"] = {k: v for k, v in metadata["units"].items() if store.has(k)}
    metadata["events"] = report.events
    metadata["source_files"] = report.files
    if to_dataset:
        out = write_dataset(args.out, store, metadata=metadata, progress=show_progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        kind = "dataset"
    else:
        out = write_store(args.out, store, metadata=metadata)
        kind = "recording"
    print(f"Wrote {kind} {out} ({store.sample_count:,} samples, {len(store.sensor_ids)} sensors)", file=sys.stderr)
    return 0
