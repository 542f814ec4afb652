"""``twinviewer validate FILE``: check a twin project and list every problem."""

from __future__ import annotations

import sys

HELP = "check a *.twin.toml project; prints file:line: key: problem for each problem (exit 1)"


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the *.twin.toml project file")


def run(args) -> int:
    from twinviewer.core.project import ProjectError, load_project

    try:
        project = load_project(args.file)
    except ProjectError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stdout)
        return 1
    from twinviewer.sources.warnings import clear_text_warnings

    for warning in clear_text_warnings(project.sources):
        print(f"{args.file}: warning: {warning}", file=sys.stdout)
    print(f"{args.file}: ok: {project.asset.name!r}, {len(project.models)} model file(s), "
          f"{len(project.parts)} parts, {len(project.sensors)} sensors, {len(project.sources)} sources, "
          f"{len(project.scenarios)} scenarios")
    return 0
