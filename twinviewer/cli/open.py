"""``twinviewer [TARGET]`` / ``twinviewer open TARGET``: the desktop window."""

from __future__ import annotations

from pathlib import Path

from twinviewer.core.errors import TwinViewerError

HELP = "open the window with TARGET (a *.twin.toml project or a mesh file), or the demo twin"


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?", help="project or mesh file (default: the bundled demo twin)")


def run(args) -> int:
    if args.target and not Path(args.target).exists():
        raise TwinViewerError(f"{args.target}: no such file")
    from twinviewer.app import run as run_app

    return run_app(args.target)
