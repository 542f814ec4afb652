"""``twinviewer report PROJECT_OR_BUNDLE [--recording R] [--from T --to T] --out report.pdf [--html]``."""

from __future__ import annotations

HELP = "write an incident report as PDF (and HTML): summary, alarms, acknowledgements, events, and per bookmark " \
       "a 3D picture and charts"


def add_arguments(parser) -> None:
    from twinviewer.cli._incident_args import add_common_arguments

    add_common_arguments(parser, "a *.twin.toml project or a .twinbundle")
    parser.add_argument("--out", required=True, help="output PDF")
    parser.add_argument("--html", nargs="?", const="", metavar="FILE", help="also write the report as one HTML "
                        "file (default name: the PDF's with .html)")
    parser.add_argument("--paper", choices=("a4", "letter"), default="a4", help="paper size (default a4)")
    parser.add_argument("--picture-size", default="1280x800", metavar="WxH", help="size of the 3D pictures in "
                        "pixels (default 1280x800)")
    parser.add_argument("--overlay", metavar="MODE", help="overlay in the pictures: status, value, field:QUANTITY "
                        "or off (default: the state's, else status)")


def run(args) -> int:
    from pathlib import Path

    from twinviewer.cli._incident import (
        make_report,
        open_args,
        output_file,
        progress_printer,
        resolve_window,
        size_option,
    )

    picture_size = size_option("--picture-size", args.picture_size)
    out = output_file(args.out, ".pdf")
    html_out = None if args.html is None else Path(args.html or out.with_suffix(".html"))
    with open_args(args) as inputs:
        t0, t1 = resolve_window(inputs.store, args.t_from, args.t_to)
        make_report(inputs, t0, t1, out, args.paper, html_out, args.overlay, progress_printer(args.progress),
                    picture_size=picture_size)
    print(f"wrote {out}" + (f" and {html_out}" if html_out else ""))
    return 0
