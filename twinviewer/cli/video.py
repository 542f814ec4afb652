"""``twinviewer video PROJECT --recording R --from T --to T --speed X --out clip.mp4``: an offscreen replay."""

from __future__ import annotations

HELP = "export a replay of an interval as an MP4 (H.264) with the legend and time stamp burned in"


def add_arguments(parser) -> None:
    from twinviewer.cli._incident_args import add_common_arguments

    add_common_arguments(parser, "a *.twin.toml project or a .twinbundle")
    parser.add_argument("--out", required=True, help="output MP4")
    parser.add_argument("--speed", type=float, default=1.0, help="recording seconds per clip second (default 1)")
    parser.add_argument("--fps", type=float, default=10.0, help="frames per second of the clip (default 10)")
    parser.add_argument("--size", default="1280x720", help="frame size WIDTHxHEIGHT, even numbers (default 1280x720)")
    parser.add_argument("--overlay", metavar="MODE", help="status, value, field:QUANTITY or off (default: the "
                        "state's, else status)")


def run(args) -> int:
    from twinviewer.cli._incident import (
        make_video,
        open_args,
        output_file,
        progress_printer,
        resolve_window,
        size_option,
    )

    size = size_option("--size", args.size)
    out = output_file(args.out, ".mp4")
    with open_args(args) as inputs:
        t0, t1 = resolve_window(inputs.store, args.t_from, args.t_to)
        stats = make_video(inputs, t0, t1, out, args.speed, args.fps, size, args.overlay,
                           progress_printer(args.progress))
    print(f"wrote {out} ({stats['frames']} frames at {args.fps:g} fps, exported at {stats['fps_export']:.1f} "
          f"frames/s)")
    return 0
