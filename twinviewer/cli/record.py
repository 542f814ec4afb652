"""``twinviewer record PROJECT --out FILE``: record a project's live sources headless, crash-safe.

Every sample of the project's ``mqtt`` and ``opcua`` sources goes to an SQLite journal as it arrives
(committed at least every 0.25 s), so a crash loses at most the last fraction of a second. With ``--out
x.parquet`` the journal is written beside it (``x.parquet.journal``) and exported to the native Parquet
recording when the recording ends; a journal left by a crash can be exported later with
``twinviewer record --recover JOURNAL --out x.parquet``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from twinviewer.core.errors import TwinViewerError

HELP = "Record a project's live MQTT/OPC UA sources headless to a crash-safe journal or a Parquet recording."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, nargs="?",
                        help="the *.twin.toml whose live sources are recorded")
    parser.add_argument("--out", type=Path, required=True,
                        help="journal file (*.journal), or *.parquet / *.csv")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument("--recover", type=Path, metavar="JOURNAL",
                        help="instead of recording: check a journal left by a crash and export it to --out")
    parser.add_argument("--status-every", type=float, default=5.0,
                        help="seconds between status lines (default 5)")


def _export(journal_path: Path, out: Path) -> int:
    from twinviewer.io.journal import export_csv, export_parquet

    if out.suffix.lower() == ".parquet":
        return export_parquet(journal_path, out)
    if out.suffix.lower() == ".csv":
        return export_csv(journal_path, out)
    raise TwinViewerError(f"--out {out}: export needs a .parquet or .csv file name")


def _recover(args: argparse.Namespace) -> int:
    from twinviewer.io.journal import recover

    report = recover(args.recover)
    print(report.summary(), flush=True)
    if not report.ok:
        raise TwinViewerError(f"{args.recover}: integrity check failed: {report.integrity}")
    if args.out.exists() and not args.force:
        raise TwinViewerError(f"{args.out} exists; pass --force to overwrite it")
    rows = _export(args.recover, args.out)
    print(f"exported {rows:,} samples to {args.out}", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.recover:
        return _recover(args)
    if args.project is None:
        raise TwinViewerError("name the project to record (PROJECT), or --recover JOURNAL")

    from twinviewer.core.project import load_project
    from twinviewer.core.store import TimeSeriesStore
    from twinviewer.io.journal import Journal
    from twinviewer.io.keyring_store import SystemKeyring
    from twinviewer.sources import LIVE_KINDS, create_source

    project = load_project(args.project, check_files=False)
    live = [source for source in project.sources if source.kind in LIVE_KINDS]
    if not live:
        raise TwinViewerError(f"{args.project}: the project has no mqtt or opcua [[sources]] to record")
    out: Path = args.out
    exported = out.suffix.lower() in (".parquet", ".csv")
    journal_path = out.with_name(out.name + ".journal") if exported else out
    for path in {out, journal_path}:
        if path.exists() and not args.force:
            raise TwinViewerError(f"{path} exists; pass --force to overwrite it")

    def prompt(text: str) -> str | None:
        if not sys.stdin.isatty():
            return None
        import getpass

        return getpass.getpass(f"{text}: ")

    meta = {"project": project.asset.name, "project_file": str(project.path),
            "sources": [{"kind": s.kind, "name": s.name, "endpoint": getattr(s, "endpoint", None)
                         or f"{getattr(s, 'host', '')}:{getattr(s, 'port', '')}"} for s in live]}
    store = TimeSeriesStore()
    journal = Journal.open(journal_path, meta=meta, overwrite=args.force)
    sources = []
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    started = time.time()
    try:
        for config in live:
            sources.append(create_source(config, store, project, journal, password_prompt=prompt,
                                         secret_store=SystemKeyring()))
        for source in sources:
            source.start()
        print(f"recording {len(sources)} source(s) of {project.asset.name} to {journal_path}", flush=True)
        last_status = started - args.status_every + min(0.5, args.status_every)  # first line once connected
        while not stop.is_set():
            now = time.time()
            if args.duration is not None and now - started >= args.duration:
                break
            if now - last_status >= args.status_every:
                for source in sources:
                    print(source.status().summary(), flush=True)
                print(f"journal: {journal.written:,} samples on disk", flush=True)
                last_status = now
            stop.wait(0.1)
    finally:
        for source in sources:
            source.stop()
        journal.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for source in sources:
        stats = source.stats()
        line = f"{source.name}: {stats.samples:,} samples in {stats.messages:,} messages"
        if stats.malformed_total:
            line += ", rejected " + ", ".join(f"{n} {kind}" for kind, n in sorted(stats.malformed.items()))
        if stats.seq_gaps:
            line += f", {stats.seq_gaps:,} lost in transit"
        print(line, flush=True)
    print(f"recorded {journal.written:,} samples in {time.time() - started:.1f} s to {journal_path}",
          flush=True)
    if exported:
        rows = _export(journal_path, out)
        for suffix in ("", "-wal", "-shm"):
            Path(str(journal_path) + suffix).unlink(missing_ok=True)
        print(f"wrote {rows:,} samples to {out}", flush=True)
    return 0
