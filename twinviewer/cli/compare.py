"""``twinviewer compare PROJECT --recording R --a T --b T [--recording-b R2]``: the largest changes first."""

from __future__ import annotations

HELP = "compare two moments (of one recording, or of two recordings of the project): changes B − A per sensor, " \
       "largest first"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="a *.twin.toml project")
    parser.add_argument("--recording", metavar="R", help="recording of A (default: the project's own)")
    parser.add_argument("--recording-b", metavar="R2", help="recording of B, e.g. after a repair (default: R)")
    parser.add_argument("--a", required=True, metavar="T", help="moment A: ISO time, epoch seconds or +offset")
    parser.add_argument("--b", required=True, metavar="T", help="moment B, in B's recording")
    parser.add_argument("--top", type=int, default=0, metavar="N", help="show only the N largest changes")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")


def run(args) -> int:
    import json
    import math

    from twinviewer.cli._render_state import load_recording, parse_time
    from twinviewer.core.compare import compare_moments
    from twinviewer.core.errors import TwinViewerError
    from twinviewer.core.formatting import format_number, format_time
    from twinviewer.io.twins import open_twin

    twin = open_twin(args.project)
    store_a, _ = load_recording(twin, args.recording)
    store_b = load_recording(twin, args.recording_b)[0] if args.recording_b else store_a
    for store, name in ((store_a, args.recording), (store_b, args.recording_b or args.recording)):
        if store.time_range() is None:
            raise TwinViewerError(f"--recording {name or 'of the project'}: the recording holds no samples")
    t_a = parse_time(args.a, *store_a.time_range())
    t_b = parse_time(args.b, *store_b.time_range())
    rows = compare_moments(twin.project.sensors, store_a, t_a, store_b, t_b)
    if args.top > 0:
        rows = rows[:args.top]
    if args.json:
        print(json.dumps([{"sensor": r.sensor_id, "part": r.part, "unit": r.unit,
                           "a": r.a if math.isfinite(r.a) else None, "b": r.b if math.isfinite(r.b) else None,
                           "delta": r.delta if math.isfinite(r.delta) else None,
                           "share_of_scale": r.relative if math.isfinite(r.relative) else None} for r in rows],
                         indent=1))
        return 0
    print(f"A = {format_time(t_a)}, B = {format_time(t_b)}")
    print(f"{'sensor':<12} {'A':>10} {'B':>10} {'B - A':>10} {'unit':<8} {'% of scale':>10}  part")
    for r in rows:
        share = f"{r.relative * 100:+.1f} %" if math.isfinite(r.relative) else "—"
        delta = f"{r.delta:+.4g}" if math.isfinite(r.delta) else "—"
        print(f"{r.sensor_id:<12} {format_number(r.a):>10} {format_number(r.b):>10} {delta:>10} {r.unit:<8} "
              f"{share:>10}  {r.part}")
    return 0
