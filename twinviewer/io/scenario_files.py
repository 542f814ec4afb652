"""Scenario files and training logs on disk.

- ``load_scenario(path, project=None)``: read a scenario file; the core parses and validates the text.

- ``project_scenarios(project)``: the project's ``[[scenarios]]`` files, or every ``scenarios/*.toml`` next
  to the project when it lists none.
- ``training_log_dir(project_path)`` and ``write_training_log(session, folder)``: where a trainee's answers
  go (a ``training-logs/`` folder next to the project, or the user's data folder when that is read-only)
  as a JSON and a CSV file a trainer can collect.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from twinviewer.core.scenario import Scenario, ScenarioError, TrainingSession, check_scenario, parse_scenario
from twinviewer.core.scenario_playback import project_folder, training_log_stem
from twinviewer.io.project_files import read_source_text


def project_scenarios(project) -> list[Path]:
    """Scenario files of a project: its ``[[scenarios]]`` entries (relative to the project file), else every
    ``*.toml`` in a ``scenarios/`` folder next to it. Entries whose file is missing are left out (project
    validation reports them)."""
    folder = project_folder(project)
    if folder is None:
        return []
    listed = [(folder / ref.file).resolve() for ref in getattr(project, "scenarios", [])]
    if listed:
        return [p for p in listed if p.is_file()]
    return sorted(p.resolve() for p in (folder / "scenarios").glob("*.toml") if p.is_file())


def scenario_title(path: Path) -> str:
    """The ``title`` of a scenario file without validating it (for menus); the file name if unreadable."""
    import tomllib

    try:
        title = tomllib.loads(path.read_text(encoding="utf-8")).get("title")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        title = None
    return title if isinstance(title, str) and title.strip() else path.stem.replace("_", " ")


def user_data_dir() -> Path:
    """The per-user data folder of TwinViewer on this platform."""
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "TwinViewer"


def _writable(folder: Path) -> bool:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return os.access(existing, os.W_OK)


def training_log_dir(project_path: Path | str | None) -> Path:
    """``training-logs/`` next to the project, or in the user's data folder if that place is read-only
    (an installed demo, a network share)."""
    if project_path is not None:
        candidate = Path(project_path).parent / "training-logs"
        if _writable(candidate):
            return candidate
    return user_data_dir() / "training-logs"


def write_training_log(session: TrainingSession, folder: Path | str) -> tuple[Path, Path]:
    """Write the session as ``STEM.json`` and ``STEM.csv`` in ``folder`` (created); returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = training_log_stem(session)
    json_path = folder / f"{stem}.json"
    csv_path = folder / f"{stem}.csv"
    json_path.write_text(session.to_json() + "\n", encoding="utf-8")
    # utf-8-sig: spreadsheet programs then read names and units (°C, m³/h) correctly.
    csv_path.write_text(session.to_csv(), encoding="utf-8-sig")
    return json_path, csv_path


def load_scenario(path: Path | str, project=None) -> Scenario:
    """Read and validate a scenario file; with a project, also check the names it uses."""
    path = Path(path)
    scenario = parse_scenario(read_source_text(path, ScenarioError), path)
    if project is not None:
        problems = check_scenario(scenario, project)
        if problems:
            raise ScenarioError(problems)
    return scenario
