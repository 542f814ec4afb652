"""Reading a twin project file (``*.twin.toml``) from disk: the core parses and validates the text
(:func:`twinviewer.core.project.parse_project`), this module reads it and checks the files it names exist."""

from __future__ import annotations

from pathlib import Path

from twinviewer.core.project import (
    FileProblemsError,
    Project,
    ProjectError,
    ProjectProblem,
    locate_key,
    parse_project,
)


def read_source_text(path: Path, error: type[FileProblemsError]) -> str:
    """The text of a project or scenario file; ``error`` (a list of problems) names the file when it is
    missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error([ProjectProblem(file=str(path), line=None, key="(file)", message="no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error([ProjectProblem(file=str(path), line=None, key="(file)",
                                    message=f"cannot read: {exc}")]) from None


def load_project(path: Path | str, *, check_files: bool = True) -> Project:
    """Read, validate and (optionally) check that the files the project names exist."""
    path = Path(path)
    text = read_source_text(path, ProjectError)
    project = parse_project(text, path)
    if check_files:
        problems = []
        for i, model in enumerate(project.models):
            if not project.resolve(model.file).is_file():
                problems.append(ProjectProblem(file=str(path), line=locate_key(text, ("models", i, "file")),
                                               key=f"models[{i}].file",
                                               message=f"model file {model.file!r} not found (looked in "
                                                       f"{project.resolve(model.file)})"))
        for i, ref in enumerate(project.scenarios):
            if not project.resolve(ref.file).is_file():
                problems.append(ProjectProblem(file=str(path),
                                               line=locate_key(text, ("scenarios", i, "file")),
                                               key=f"scenarios[{i}].file",
                                               message=f"scenario file {ref.file!r} not found"))
        if problems:
            raise ProjectError(problems)
    return project
