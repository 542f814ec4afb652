"""``twinviewer render TARGET --out shot.png``: render a twin or mesh offscreen, with no window."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from twinviewer.core.errors import TwinViewerError

HELP = "render a project or mesh to a PNG with no window (for documentation, reports and tests)"
EXIT_WITHOUT_TEARDOWN = True  # the image is written and the view closed when run() returns


def add_arguments(parser) -> None:
    from twinviewer.core.options import LABEL_MODES, RENDER_STYLES, VIEW_NAMES

    parser.add_argument("target", help="a *.twin.toml project or a mesh file")
    parser.add_argument("--out", required=True, help="output PNG file")
    parser.add_argument("--size", default="1280x800", help="image size WIDTHxHEIGHT (default 1280x800)")
    parser.add_argument("--view", default="iso", choices=VIEW_NAMES, help="camera view (default iso)")
    parser.add_argument("--style", default="surface", choices=RENDER_STYLES)
    parser.add_argument("--parallel", action="store_true", help="parallel projection")
    parser.add_argument("--hide", action="append", default=[], metavar="PART",
                        help="hide a part (repeatable)")
    parser.add_argument("--select", metavar="PART", help="highlight a part")
    parser.add_argument("--section", metavar="AXIS[:F]",
                        help="cut the model with a section plane normal to AXIS "
                        "(x, y, z keep what lies below it, -x, -y, -z what lies above) at fraction F of the "
                        "model's extent (default 0.5), e.g. x or -y:0.3")
    parser.add_argument("--split-bodies", action="store_true", help="a mesh file's connected bodies as parts "
                        "(so --hide and --select can name them)")
    parser.add_argument("--recording", metavar="R",
                        help="recording to show the state of (Parquet or CSV; default "
                        "with --time: the project's own [[sources]] recording)")
    parser.add_argument("--time", metavar="T",
                        help="instant to show: ISO time (local, or with Z/offset), epoch "
                        "seconds, or an offset from the recording start such as +90s or +1h30m")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder of the project's own recording, replacing the ${VAR}/ its [[sources]] "
                        "path starts with (when VAR is not set)")
    parser.add_argument("--overlay", metavar="MODE",
                        help="sensor overlay at --time: status (default), value, "
                        "field:QUANTITY (e.g. field:temperature, with a colour bar) or off")
    parser.add_argument("--labels", choices=LABEL_MODES,
                        help="floating sensor value labels (default: the project's [view] labels)")
    parser.add_argument("--scenario", metavar="S",
                        help="render a failure scenario step: a scenario file, or the "
                        "name of one of the project's (e.g. motor_overheating); needs --step")
    parser.add_argument("--step", type=int, metavar="N",
                        help="with --scenario: the step (1 = the first), shown at its shown moment (when what "
                        "it says holds) with status colours, its camera (corrected to show its part) and its "
                        "parts outlined")


def apply_section(scene, text: str) -> None:
    """``--section AXIS[:FRACTION]`` on the scene, or one line saying what is wrong with it."""
    axis, _, fraction_text = text.partition(":")
    try:
        fraction = float(fraction_text) if fraction_text else 0.5
    except ValueError:
        fraction = -1.0
    if not 0.0 <= fraction <= 1.0:
        raise TwinViewerError(f"--section {text}: the fraction after ':' must be a number from 0 to 1")
    try:
        scene.set_clip(axis.strip().lower(), fraction)
    except ValueError as exc:
        raise TwinViewerError(f"--section {text}: {exc}") from None


def run(args) -> int:
    from pathlib import Path

    from twinviewer.core.twin import is_project_file
    from twinviewer.core.views import parse_size
    from twinviewer.io.twins import open_twin
    from twinviewer.io.vtk_quiet import silence_vtk

    try:
        size = parse_size(args.size)
    except ValueError as exc:
        raise TwinViewerError(str(exc)) from None
    if getattr(args, "split_bodies", False):
        from twinviewer.cli import refuse_split_bodies_for_project

        refuse_split_bodies_for_project(args.target)
    # The model loads in a worker thread (numpy releases the GIL while it sorts and gathers; a STEP file's
    # converter runs in its own process) while this thread imports VTK (and for a project file the project
    # module): 0.1 s sooner to the image for a 1M-triangle STL. The load starts first: VTK's import holds
    # the interpreter most of the time, and a STEP converter started 25 ms later finishes 25 ms later.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as pool:
        loading = pool.submit(open_twin, args.target, split_bodies=getattr(args, "split_bodies", False))
        silence_vtk()  # VTK's own log lines must not appear beside this command's one-line messages
        if is_project_file(Path(args.target)):
            import twinviewer.core.project  # noqa: F401
        from twinviewer.render.offscreen import OffscreenView
        twin = loading.result()

    if getattr(args, "scenario", None) is not None:
        from twinviewer.cli._render_scenario import run_render_command

        return run_render_command(twin, args, size)
    view = OffscreenView(twin, size)
    try:
        for name in args.hide:
            if name not in view.scene.parts:
                raise TwinViewerError(f"--hide {name}: no such part (parts: {', '.join(view.scene.parts)})")
            view.scene.set_visible(name, False)
        if args.select:
            if args.select not in view.scene.parts:
                raise TwinViewerError(f"--select {args.select}: no such part")
            view.scene.select(args.select)
        if getattr(args, "section", None):
            apply_section(view.scene, args.section)
        view.scene.set_style(args.style)
        view.scene.set_parallel(args.parallel)
        view.scene.set_view(args.view)
        state = ""
        overlay = getattr(args, "overlay", None)
        if args.recording is not None or args.time is not None or overlay is not None or args.data_dir:
            from twinviewer.cli._render_state import show_recording_state
            from twinviewer.core.formatting import format_time

            frame = show_recording_state(view, args.recording, args.time, overlay or "status",
                                         getattr(args, "labels", None), data_dir=args.data_dir)
            state = f", {overlay or 'status'} overlay at {format_time(frame.t)}"
        out = view.screenshot(args.out)
    finally:
        view.close()
    print(f"wrote {out} ({size[0]}x{size[1]}, view {args.view}{state})")
    return 0
