"""``twinviewer validate FILE``: check a twin project, or check that a scenario shows what it says.

A project (``*.twin.toml``): every problem as ``file:line: key: problem`` (exit 1).
A scenario (any other ``*.toml``, with ``[[steps]]``): simulated for each of ``--seeds`` on ``--project``
(default: the demo twin); every step is checked at its shown moment (the statuses it names hold), its
camera must show the part it names (and a "click the part" answer). Each problem is
``scenario:step: what does not hold`` (steps from 1), exit 1.
"""

from __future__ import annotations

import sys

from twinviewer.core.formatting import counted

HELP = ("check a *.twin.toml project, or a scenario (*.toml) over --seeds: prints file:line: problem, or "
        "scenario:step: what does not hold (exit 1)")


def add_arguments(parser) -> None:
    parser.add_argument("file", help="a *.twin.toml project, or a scenario file")
    parser.add_argument("--project", default=None,
                        help="for a scenario: the *.twin.toml to simulate it on (default: the demo twin)")
    parser.add_argument("--seeds", default=None,
                        help="for a scenario: noise seeds to check, e.g. 1-20 or 1,5,9 (default: its own seed)")
    parser.add_argument("--no-camera", action="store_true",
                        help="for a scenario: skip the camera check (it renders offscreen)")


def _is_scenario(path) -> bool:
    import tomllib

    if path.name.endswith(".twin.toml"):
        return False
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "steps" in data and "models" not in data


def run(args) -> int:
    from pathlib import Path

    from twinviewer.core.project import ProjectError
    from twinviewer.io.project_files import load_project

    path = Path(args.file)
    if _is_scenario(path):
        return _run_scenario(args, path)
    if args.seeds is not None or args.project is not None:
        from twinviewer.core.errors import TwinViewerError

        raise TwinViewerError(f"{path}: --seeds and --project apply to a scenario file, not a project")
    try:
        project = load_project(path)
    except ProjectError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stdout)
        return 1
    from twinviewer.sources.warnings import clear_text_warnings

    for warning in clear_text_warnings(project.sources):
        print(f"{args.file}: warning: {warning}", file=sys.stdout)
    print(f"{args.file}: ok: {project.asset.name!r}, {counted(len(project.models), 'model file')}, "
          f"{counted(len(project.parts), 'part')}, {counted(len(project.sensors), 'sensor')}, "
          f"{counted(len(project.sources), 'source')}, {counted(len(project.scenarios), 'scenario')}")
    return 0


def _run_scenario(args, path) -> int:
    import time
    from pathlib import Path

    from twinviewer.core.errors import TwinViewerError
    from twinviewer.core.scenario import ScenarioError
    from twinviewer.core.scenario_check import StepProblem, check_moments, parse_seeds
    from twinviewer.io.scenario_files import load_scenario
    from twinviewer.paths import demo_project_path

    try:
        seeds = parse_seeds(args.seeds) if args.seeds is not None else [None]
    except ValueError as exc:
        raise TwinViewerError(str(exc)) from None
    project_path = Path(args.project) if args.project else demo_project_path()
    started = time.perf_counter()
    if args.no_camera:
        from twinviewer.io.project_files import load_project

        project, twin = load_project(project_path, check_files=False), None
    else:
        from twinviewer.io.twins import open_twin

        twin = open_twin(project_path)
        project = twin.project
    try:
        scenario = load_scenario(path, project)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stdout)
        return 1
    problems: list[StepProblem] = check_moments(scenario, project, seeds)
    if twin is not None:
        problems += _camera_problems(twin, scenario, path.name)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{path}: ok: {counted(len(scenario.steps), 'step')} hold at their shown moments for "
          f"{counted(len(seeds), 'seed')} ({time.perf_counter() - started:.1f} s)")
    return 0


def _camera_problems(twin, scenario, name: str):
    from twinviewer.core.scenario_check import StepProblem
    from twinviewer.render.offscreen import OffscreenView
    from twinviewer.render.step_camera import frame_step

    view = OffscreenView(twin, (1280, 800))
    problems = []
    try:
        for i, step in enumerate(scenario.steps):
            view.scene.set_view("iso")
            shown = frame_step(view.scene, step)
            problems += [StepProblem(name, i + 1, text) for text in shown.problems(twin.project.part_label)]
    finally:
        view.close()
    return problems
