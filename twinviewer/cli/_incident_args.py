"""The arguments ``bundle``, ``report`` and ``video`` share, without their heavy imports: building the CLI
parser (which every command, ``render`` included, does first) stays cheap."""

from __future__ import annotations


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
