"""A tiny twin for tests: two boxes, "left" and "right", with one temperature sensor each."""

from __future__ import annotations

from pathlib import Path

import trimesh

PROJECT = """
[asset]
name = "Two blocks"

[[models]]
file = "blocks.glb"

[[parts]]
name = "left"
color = "#8c8c8c"

[[parts]]
name = "right"
color = "#8c8c8c"

[[sensors]]
id = "T-L"
quantity = "temperature"
unit = "°C"
part = "left"
position = [-0.6, -0.5, 0.0]
range = [0, 100]
expected_period_s = 1.0
thresholds = { warning_high = 60, alarm_high = 80 }

[[sensors]]
id = "T-R"
quantity = "temperature"
unit = "°C"
part = "right"
position = [0.6, -0.5, 0.0]
range = [0, 100]
expected_period_s = 1.0
thresholds = { warning_high = 60, alarm_high = 80 }
"""


def build_blocks_project(folder: Path, extra: str = "") -> Path:
    """Two boxes "left" and "right" with one temperature sensor each (used by the UI tests too)."""
    scene = trimesh.Scene()
    for name, x in (("left", -0.6), ("right", 0.6)):
        scene.add_geometry(trimesh.creation.box((1, 1, 1)).apply_translation((x, 0, 0)), node_name=name,
                           geom_name=name)
    scene.export(folder / "blocks.glb")
    project = folder / "blocks.twin.toml"
    project.write_text(PROJECT + extra, encoding="utf-8")
    return project

