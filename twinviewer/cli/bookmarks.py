"""``twinviewer bookmarks FILE...``: list bookmark files, or merge two people's into one (``--out``)."""

from __future__ import annotations

from twinviewer.core.formatting import counted

HELP = "list bookmark sidecar files, or merge several people's into one with --out"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", help="bookmark files (*.bookmarks.json)")
    parser.add_argument("--out", help="write the merged bookmarks here (may be one of the inputs)")


def run(args) -> int:
    from twinviewer.core.bookmarks import merge_bookmarks
    from twinviewer.core.formatting import format_time
    from twinviewer.io.bookmarks_file import read_bookmarks_file, write_bookmarks_file

    lists = [read_bookmarks_file(path, missing_ok=False) for path in args.files]
    merged = merge_bookmarks(*lists)
    if args.out:
        write_bookmarks_file(args.out, merged)
        print(f"wrote {args.out}: {counted(len(merged), 'bookmark')} from {counted(len(args.files), 'file')}")
        return 0
    for b in merged:
        span = f" → {format_time(b.t_end)}" if b.is_interval else ""
        print(f"{format_time(b.t)}{span}  {b.title}  [{b.author or '?'}]  {', '.join(b.parts)}")
    return 0
