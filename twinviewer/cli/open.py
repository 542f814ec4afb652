"""``twinviewer [TARGET]`` / ``twinviewer open TARGET``: the desktop window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from twinviewer.core.errors import TwinViewerError

SHOWS_WINDOW = True  # Qt's view: offscreen renders in this process keep VTK's default (GLX) windows
HELP = "open the window with TARGET (a *.twin.toml project, a mesh file or a .twinbundle), or the demo twin"


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?",
                        help="project, mesh file or incident bundle (default: the bundled demo twin)")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS",
                        help="close the window SECONDS after its first frame showing the model (smoke tests of "
                        "an installation, start-up timing); prints a line when that frame is shown")


def run(args) -> int:
    if args.target and not Path(args.target).exists():
        raise TwinViewerError(f"{args.target}: no such file")
    if (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
            and not os.environ.get("QT_QPA_PLATFORM")):
        raise TwinViewerError("no display to open a window on (DISPLAY is not set); run it on a desktop, "
                              "under "
                              "`xvfb-run -a twinviewer`, or use `twinviewer render` for pictures without a "
                              "window")
    if args.quit_after is not None and not 0 <= args.quit_after <= 86400:
        raise TwinViewerError(f"--quit-after {args.quit_after:g}: must be between 0 and 86400 seconds")
    from twinviewer.app import run as run_app

    return run_app(args.target, quit_after=args.quit_after)
