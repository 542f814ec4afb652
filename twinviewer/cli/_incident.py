"""Options shared by ``twinviewer bundle``, ``report`` and ``video``, and their progress lines."""

from __future__ import annotations

import sys


def add_common_arguments(parser, target_help: str) -> None:
    parser.add_argument("target", help=target_help)
    parser.add_argument("--recording", metavar="R", help="recording (Parquet or CSV; default: the project's own "
                        "[[sources]] recording, or the bundle's)")
    parser.add_argument("--from", dest="t_from", metavar="T", help="start: ISO time (local, or with Z/offset), "
                        "epoch seconds, or an offset from the recording start such as +90s (default: its start)")
    parser.add_argument("--to", dest="t_to", metavar="T", help="end, as --from (default: the recording's end; "
                        "-10m counts back from the end)")
    parser.add_argument("--bookmarks", metavar="FILE", help="bookmark file (default: the sidecar beside the "
                        "recording, e.g. incident.bookmarks.json)")
    parser.add_argument("--state", metavar="FILE", help="view state JSON (time, camera, overlay, selection) as in "
                        "a bundle's state.json")
    parser.add_argument("--progress", action="store_true", help="print 'PROGRESS fraction message' lines "
                        "(for the window's export dialogs)")


def progress_printer(enabled: bool):
    if not enabled:
        return None

    def report(fraction: float, message: str = "") -> None:
        print(f"PROGRESS {fraction:.4f} {message}", flush=True)

    return report


def open_args(args):
    from twinviewer.incident import open_inputs

    return open_inputs(args.target, args.recording, args.bookmarks, args.state)


def fail_if_exists_as_dir(path) -> None:
    from pathlib import Path

    from twinviewer.core.errors import TwinViewerError

    if Path(path).is_dir():
        raise TwinViewerError(f"--out {path} is a folder; give a file name")


def err(message: str) -> None:
    print(message, file=sys.stderr)
