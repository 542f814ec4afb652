"""A starter ``*.twin.toml`` for a raw mesh: the asset, the model file and every part, no sensors yet."""

from __future__ import annotations

import os
from pathlib import Path

import tomli_w

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.geometry import Model
from twinviewer.io.project_files import load_project


def starter_project_dict(model: Model, mesh_path: Path | str, out_path: Path | str, *, units: str = "m",
                         up_axis: str = "z", asset_name: str | None = None,
                         split_bodies: bool = False) -> dict:
    """The project as a TOML-ready dict; ``file`` is written relative to the output file's folder."""
    mesh_path = Path(mesh_path).resolve()
    out_dir = Path(out_path).resolve().parent
    try:
        relative = Path(os.path.relpath(mesh_path, out_dir)).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        relative = mesh_path.as_posix()
    model_entry: dict = {"file": relative, "units": units}
    if up_axis != "z":
        model_entry["up_axis"] = up_axis
    if split_bodies:
        model_entry["split_bodies"] = True
    return {
        "format_version": 1,
        "asset": {"name": asset_name or mesh_path.stem,
                  "description": f"Starter twin made from {mesh_path.name}: add sensors and sources."},
        "models": [model_entry],
        "parts": [{"name": part.name, "group": part.group} if split_bodies else {"name": part.name}
                  for part in model.parts],
    }


def write_starter_project(model: Model, mesh_path: Path | str, out_path: Path | str, *, units: str = "m",
                          up_axis: str = "z", asset_name: str | None = None,
                          split_bodies: bool = False) -> Path:
    """Write the starter project and check that it loads back; returns the written path."""
    out_path = Path(out_path)
    data = starter_project_dict(model, mesh_path, out_path, units=units, up_axis=up_axis,
                                asset_name=asset_name,
                                split_bodies=split_bodies)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    except OSError as exc:
        raise TwinViewerError(
            f"{out_path}: cannot write the starter project: {exc.strerror or exc}."
        ) from None
    load_project(out_path)
    return out_path
