"""``twinviewer record PROJECT --out FILE``: record a project's live sources headless, crash-safe.

Every sample of the project's ``mqtt`` and ``opcua`` sources goes to an SQLite journal as it arrives
(committed at least every 0.25 s), so a crash loses at most the last fraction of a second. With ``--out
x.parquet`` the journal is written beside it (``x.parquet.journal``) and exported to the native Parquet
recording when the recording ends; a journal left by a crash can be exported later with
``twinviewer record --recover JOURNAL --out x.parquet``.

Exit status: 0 when everything sent was recorded; 1 when the recording is complete on disk but messages
were lost before they reached the recorder (sequence gaps); 2 when recording failed: a write error (disk
full, file size limit, permission), credentials or the broker's certificate refused, or nothing recorded.
After a write error the journal is kept (never deleted) and the final line says where it is.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.formatting import counted

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
    parser.add_argument("--status-every", type=float, default=5.0, help="seconds between status lines (default 5)")
    parser.add_argument("--connect-timeout", type=float, default=30.0,
                        help="give up when no source has connected after this many seconds (default 30)")


class _JournalOnly:
    """The store of the headless recorder: it keeps nothing in memory (every sample goes to the journal),
    so an hours-long recording at a high rate needs no more memory than a short one."""

    def add_sensor(self, sensor_id: str, expected_period_s: float | None = None) -> None:
        pass

    def append_many(self, sensor_id: str, times: object, values: object) -> None:
        pass


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
    try:
        rows = _export(args.recover, args.out)
    except TwinViewerError as exc:
        args.out.unlink(missing_ok=True)  # no half-written export left behind; the journal is untouched
        raise TwinViewerError(f"{exc}; the journal {args.recover} is kept") from None
    print(f"exported {rows:,} samples to {args.out}", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.recover:
        return _recover(args)
    if args.project is None:
        raise TwinViewerError("name the project to record (PROJECT), or --recover JOURNAL")

    from twinviewer.io.journal import Journal
    from twinviewer.io.keyring_store import SystemKeyring
    from twinviewer.io.project_files import load_project
    from twinviewer.sources import LIVE_KINDS, create_source
    from twinviewer.sources.warnings import clear_text_warnings

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
    journal = Journal.open(journal_path, meta=meta, overwrite=args.force)
    for warning in clear_text_warnings(live):
        print(f"twinviewer: warning: {warning}", file=sys.stderr, flush=True)
    sources = []
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    if hasattr(signal, "SIGXFSZ"):  # a file size limit makes writes fail (and be reported) instead of killing us
        previous[signal.SIGXFSZ] = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    started = time.time()
    failure = ""
    last_status_lines: list[str] = []
    store = _JournalOnly()
    try:
        for config in live:
            sources.append(create_source(config, store, project, journal, password_prompt=prompt,
                                         secret_store=SystemKeyring()))
        for source in sources:
            source.start()
        print(f"recording {counted(len(sources), 'source')} of {project.asset.name} to {journal_path}", flush=True)
        last_status = started - args.status_every + min(0.5, args.status_every)  # first line once connected
        while not stop.is_set():
            now = time.time()
            if args.duration is not None and now - started >= args.duration:
                break
            if journal.error:
                failure = journal.error
                break
            fatal = next((s for s in sources if s.fatal_error), None)
            if fatal is not None:
                failure = f"{fatal.name}: {fatal.fatal_error}"
                break
            if now - started >= args.connect_timeout and not any(s.stats().connects for s in sources):
                reasons = "; ".join(s.status().summary() for s in sources)
                failure = f"no source connected within {args.connect_timeout:g} s ({reasons})"
                break
            if now - last_status >= args.status_every:
                for source in sources:
                    print(source.status().summary(), flush=True)
                print(f"journal: {journal.written:,} samples on disk", flush=True)
                last_status = now
            stop.wait(0.1)
    finally:
        last_status_lines = [source.status().summary() for source in sources]  # before stop() clears the state
        for source in sources:
            source.stop()
        journal.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    lost = 0
    for source in sources:
        stats = source.stats()
        line = f"{source.name}: {stats.samples:,} samples in {stats.messages:,} messages"
        if stats.malformed_total:
            line += ", rejected " + ", ".join(f"{n} {kind}" for kind, n in sorted(stats.malformed.items()))
        if stats.seq_gaps:
            line += f", {stats.seq_gaps:,} messages lost in transit (sequence gaps)"
        if stats.duplicates:
            line += f", {stats.duplicates:,} redelivered duplicates dropped"
        if stats.seq_resets:
            line += f", {stats.seq_resets:,} sequence restarts"
        lost += stats.seq_gaps
        print(line, flush=True)
    failure = failure or journal.error
    if failure or journal.failed:
        raise TwinViewerError(f"recording failed: {failure}. {journal.written:,} samples are safe in "
                              f"{journal_path} (kept; export it with `twinviewer record --recover "
                              f"{journal_path} --out FILE.parquet`)")
    if journal.written == 0:
        reasons = "; ".join(last_status_lines)
        raise TwinViewerError(f"nothing was recorded in {time.time() - started:.1f} s ({reasons})")
    summary = f"recorded {journal.written:,} samples in {time.time() - started:.1f} s to {journal_path}"
    if lost:
        summary += f"; {lost:,} messages were lost before they reached the recorder (see docs/live-data.md)"
    print(summary, flush=True)
    if exported:
        try:
            rows = _export(journal_path, out)
        except TwinViewerError as exc:
            out.unlink(missing_ok=True)
            raise TwinViewerError(f"{exc}; the journal {journal_path} is kept") from None
        for suffix in ("", "-wal", "-shm"):
            Path(str(journal_path) + suffix).unlink(missing_ok=True)
        print(f"wrote {rows:,} samples to {out}"
              + (f"; {lost:,} messages were lost before they reached the recorder" if lost else ""), flush=True)
    return 1 if lost else 0
