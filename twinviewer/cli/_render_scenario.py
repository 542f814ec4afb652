"""``twinviewer render PROJECT --scenario S --step N --out shot.png``: finds the scenario, renders the step
(:func:`twinviewer.render.scenario_render.render_scenario_step`) and says what it wrote."""

from __future__ import annotations

from pathlib import Path

from twinviewer.core.errors import TwinViewerError
from twinviewer.io.scenario_files import project_scenarios


def find_scenario(project, name_or_path: str | Path) -> Path:
    """A scenario file given as a path, or by the file name (without .toml) of one of the project's."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path.resolve()
    known = project_scenarios(project)
    for candidate in known:
        if candidate.stem == str(name_or_path) or candidate.name == str(name_or_path):
            return candidate
    names = ", ".join(p.stem for p in known) or "none"
    raise TwinViewerError(f"scenario {name_or_path!r}: no such file, and not one of the project's scenarios "
                          f"({names})")


def run_render_command(twin, args, size: tuple[int, int]) -> int:
    """Run the scenario form of ``twinviewer render`` (called by cli/render.py)."""
    from twinviewer.core.formatting import format_time
    from twinviewer.core.scenario import load_scenario
    from twinviewer.render.scenario_render import render_scenario_step

    if args.step is None:
        raise TwinViewerError("--scenario needs --step N (1 = the first step)")
    if twin.is_raw_mesh:
        raise TwinViewerError("--scenario needs a *.twin.toml project (sensors and parts), not a bare mesh "
                              "file")
    path = find_scenario(twin.project, args.scenario)
    scenario = load_scenario(path)
    if not 1 <= args.step <= len(scenario.steps):
        raise TwinViewerError(f"--step {args.step}: {path.name} has steps 1..{len(scenario.steps)}")
    index = args.step - 1
    out = render_scenario_step(twin, path, index, args.out, size, hide=args.hide, style=args.style,
                               parallel=args.parallel)
    print(f"wrote {out} ({size[0]}x{size[1]}, {path.name} step {args.step} "
          f"\"{scenario.steps[index].title}\", shown from {format_time(scenario.step_time(index))})")
    return 0
