"""What is open in the app: a project (or a raw mesh wrapped in a generated project) and its model.

:func:`twinviewer.io.twins.open_twin` reads one from files (the core reads no files).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.core.geometry import Model

if TYPE_CHECKING:  # the project module (pydantic) is imported when first needed: see open_twin
    from twinviewer.core.project import Project

Progress = Callable[[float, str], None]
Cancelled = Callable[[], bool]


class Twin:
    """A project and its model. A raw mesh's project is generated from its parts on first use
    (``make_project``): rendering a mesh file needs no project, so it pays nothing for the project model."""

    def __init__(self, project: Project | None, model: Model, path: Path, is_raw_mesh: bool = False,
                 hint: str = "", make_project: Callable[[], Project] | None = None):
        if project is None and make_project is None:
            raise ValueError("a Twin needs a project or a way to make one")
        self._project = project
        self._make_project = make_project
        self.model = model
        self.path = path
        self.is_raw_mesh = is_raw_mesh
        self.hint = hint  # something worth telling when it opens (a raw mesh made of several bodies)

    @property
    def project(self) -> Project:
        if self._project is None:
            assert self._make_project is not None
            self._project = self._make_project()
        return self._project

    @property
    def title(self) -> str:
        return self.project.asset.name


def is_project_file(path: Path) -> bool:
    return path.name.endswith(".toml")
