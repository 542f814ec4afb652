"""``twinviewer bundle PROJECT --recording R [--from T --to T] --out X.twinbundle``: one file to hand over."""

from __future__ import annotations

from twinviewer.core.formatting import counted

HELP = "write an incident bundle (.twinbundle): project, models, recording or a window of it, bookmarks, " \
       "acknowledgements, events and view state, with checksums"


def add_arguments(parser) -> None:
    from twinviewer.cli._incident_args import add_common_arguments

    add_common_arguments(parser, "a *.twin.toml project (or a .twinbundle to re-pack)")
    parser.add_argument("--out", required=True, help="output file (.twinbundle is added if missing)")


def run(args) -> int:
    from pathlib import Path

    from twinviewer.cli._incident import fail_if_exists_as_dir, open_args, progress_printer, resolve_window
    from twinviewer.io.incident import make_bundle

    out = Path(args.out)
    if out.suffix.lower() != ".twinbundle":
        out = out.with_name(out.name + ".twinbundle")
    fail_if_exists_as_dir(out)
    with open_args(args) as inputs:
        window = resolve_window(inputs.store, args.t_from, args.t_to) if (args.t_from or args.t_to) else None
        written = make_bundle(inputs, out, window, progress_printer(args.progress))
        size = written.stat().st_size
    print(f"wrote {written} ({size / 1e6:.1f} MB, {counted(len(inputs.bookmarks), 'bookmark')})")
    return 0
