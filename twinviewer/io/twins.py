"""Opening a twin from files: a ``*.twin.toml`` project with its models, or a raw mesh file.

``open_twin(path)`` is the one entry the window, the CLI and tests use to open anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.core.errors import MeshLoadError
from twinviewer.core.formatting import counted
from twinviewer.core.twin import Cancelled, Progress, Twin, is_project_file

if TYPE_CHECKING:
    from twinviewer.core.project import Project


def open_twin(path: Path | str, progress: Progress | None = None, cancelled: Cancelled | None = None,
              split_bodies: bool = False, units: str = "m") -> Twin:
    """Load a ``*.twin.toml`` project with its models, or a raw mesh file as a project of its parts
    (``split_bodies``: of its connected bodies; a project says that per model file). ``units``: what a raw
    mesh's numbers are in (mm, cm, m, in, ft; formats that declare their units ignore it).

    A raw mesh's project is generated when something first asks for it: ``twinviewer render`` of a mesh file
    never does, so it does not import pydantic and the project model (0.1 s).
    """
    from twinviewer.io.meshes import load_model_file, load_project_model

    path = Path(path).expanduser()
    if not path.exists():
        raise MeshLoadError(f"{path}: no such file")
    if is_project_file(path):
        from twinviewer.io.project_files import load_project

        project = load_project(path)
        model = load_project_model(project, progress=progress, cancel=cancelled)
        missing = [p.name for p in project.parts if p.name not in set(model.part_names)]
        if missing:
            model.warnings.append(
                f"{counted(len(missing), 'part')} named in the project "
                f"{'is' if len(missing) == 1 else 'are'} not in the model files: "
                f"{', '.join(missing[:8])}")
        return Twin(project, model, path.resolve())
    # glTF is Y-up by specification; every other mesh format is taken as Z-up unless a project says otherwise.
    up_axis = "y" if path.suffix.lower() in (".gltf", ".glb") else "z"
    model = load_model_file(path, units=units, up_axis=up_axis, split_bodies=split_bodies, progress=progress,
                            cancel=cancelled)
    resolved = path.resolve()

    def make_project() -> Project:
        from twinviewer.core.project import Project

        project = Project.model_validate({
            "asset": {"name": path.stem, "description": f"Opened from {path.name} (no project file)"},
            "models": [{"file": str(resolved), "units": units, "up_axis": up_axis,
                        "split_bodies": split_bodies}],
            # Split bodies are grouped under the part they came from; other parts stand on their own.
            "parts": [{"name": p.name, "group": p.group} if split_bodies else {"name": p.name}
                      for p in model.parts],
        })
        project.path = resolved
        return project

    return Twin(None, model, resolved, is_raw_mesh=True, make_project=make_project)
