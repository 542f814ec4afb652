"""What is open in the app: a project (or a raw mesh wrapped in a generated project) and its model.

:func:`twinviewer.io.twins.open_twin` reads one from files (the core reads no files).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.core.geometry import Model

if TYPE_CHECKING:  # the project module (pydantic) is imported when first needed: see open_twin
    from twinviewer.core.project import Project

Progress = Callable[[float, str], None]
Cancelled = Callable[[], bool]


@dataclass
class Twin:
    project: Project
    model: Model
    path: Path
    is_raw_mesh: bool = False
    hint: str = ""  # something worth telling when it opens (a raw mesh made of several bodies)

    @property
    def title(self) -> str:
        return self.project.asset.name


def is_project_file(path: Path) -> bool:
    return path.name.endswith(".toml")
