"""The bundled demo twin (assets/demo): the project validates, the GLB holds exactly the demo's parts, every
sensor sits on its part's surface where a real sensor is mounted, no part floats, the build is
deterministic and keeps hand-edited tables, and ``twinviewer validate`` reports broken copies by line."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pytest
import trimesh

from twinviewer.cli import main as cli_main
from twinviewer.core.geometry import apply_matrix, placement_matrix
from twinviewer.core.project import UNIT_SCALE, parse_colour, parse_project
from twinviewer.io.project_files import load_project

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "assets"
DEMO_DIR = ASSETS / "demo"
DEMO_PROJECT = DEMO_DIR / "demo.twin.toml"
DEMO_GLB = DEMO_DIR / "pump_skid.glb"

PART_NAMES = {
    "base_frame", "motor", "motor_fan_cover", "motor_terminal_box", "coupling", "bearing_housing_de",
    "bearing_housing_nde", "pump_volute", "impeller_housing", "suction_pipe", "suction_valve",
    "discharge_pipe", "discharge_valve", "flow_meter",
}
# id: (quantity, unit, part, thresholds) as fixed in the team brief.
SENSORS = {
    "TT-101": ("temperature", "°C", "motor", {"warning_high": 130, "alarm_high": 155}),
    "IT-101": ("current", "A", "motor_terminal_box", {"warning_high": 72, "alarm_high": 80}),
    "VT-101": ("vibration", "mm/s", "motor", {"warning_high": 4.5, "alarm_high": 7.1}),
    "TT-102": ("temperature", "°C", "bearing_housing_de", {"warning_high": 80, "alarm_high": 95}),
    "TT-103": ("temperature", "°C", "bearing_housing_nde", {"warning_high": 80, "alarm_high": 95}),
    "VT-102": ("vibration", "mm/s", "bearing_housing_de", {"warning_high": 4.5, "alarm_high": 7.1}),
    "VT-103": ("vibration", "mm/s", "bearing_housing_nde", {"warning_high": 4.5, "alarm_high": 7.1}),
    "PT-101": ("pressure", "bar(g)", "suction_pipe", {"warning_low": 0.5, "alarm_low": 0.2}),
    "PT-102": ("pressure", "bar(g)", "discharge_pipe",
               {"warning_low": 2.0, "warning_high": 9.0, "alarm_high": 10.0}),
    "FT-101": ("flow", "m³/h", "flow_meter", {"alarm_low": 20, "warning_low": 40}),
    "TT-104": ("temperature", "°C", "suction_pipe", {"warning_high": 60, "alarm_high": 70}),
    "ST-101": ("speed", "rpm", "coupling", {"warning_low": 1400, "warning_high": 1520, "alarm_high": 1560}),
}
# The normal operating point of the brief: every sensor's range must show it, and it must read "normal".
NORMAL = {"TT-101": 90, "IT-101": 60, "VT-101": 2.0, "TT-102": 55, "TT-103": 55, "VT-102": 2.0, "VT-103": 2.0,
          "PT-101": 1.2, "PT-102": 5.5, "FT-101": 100, "TT-104": 25, "ST-101": 1480}
SURFACE_TOLERANCE_M = 0.003
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<key>\S+): (?P<message>.+)$")


@pytest.fixture(scope="module")
def project():
    return load_project(DEMO_PROJECT)


@pytest.fixture(scope="module")
def scene_parts(project) -> dict[str, trimesh.Trimesh]:
    """The GLB's parts read with trimesh and placed in the scene frame the way the project says."""
    entry = project.models[0]
    matrix = placement_matrix(UNIT_SCALE[entry.units], entry.up_axis, entry.scale, entry.rotate_deg,
                              entry.translate)
    scene = trimesh.load(project.resolve(entry.file), force="scene")
    parts = {}
    for node in scene.graph.nodes_geometry:
        transform, geometry_name = scene.graph[node]
        mesh = scene.geometry[geometry_name].copy()
        mesh.apply_transform(transform)
        parts[node] = trimesh.Trimesh(apply_matrix(mesh.vertices, matrix), mesh.faces, process=False)
    return parts


@pytest.fixture(scope="module")
def build_demo():
    """assets/build_demo.py as a module (it lives outside the package)."""
    sys.path.insert(0, str(ASSETS))
    try:
        return importlib.import_module("build_demo")
    finally:
        sys.path.remove(str(ASSETS))


def distance_to_surface(mesh: trimesh.Trimesh, point) -> float:
    triangles = mesh.triangles
    closest = trimesh.triangles.closest_point(triangles, np.tile(point, (len(triangles), 1)))
    return float(np.min(np.linalg.norm(closest - np.asarray(point), axis=1)))


# ------------------------------------------------------------------------------------------------ project
def test_demo_project_names_the_fixed_parts_and_sensors(project):
    assert project.asset.name == "Centrifugal pump skid P-101"
    assert project.asset.description
    assert {p.name for p in project.parts} == PART_NAMES
    for part in project.parts:
        assert part.label and part.notes, part.name
        assert part.group in {"Drive", "Pump", "Piping", "Structure", "Instrumentation"}, part.name
        parse_colour(part.color)
    assert {s.id for s in project.sensors} == set(SENSORS)
    for sensor in project.sensors:
        quantity, unit, part, thresholds = SENSORS[sensor.id]
        assert (sensor.quantity, sensor.unit, sensor.part) == (quantity, unit, part), sensor.id
        assert sensor.thresholds.model_dump(exclude_none=True) == pytest.approx(thresholds), sensor.id
        assert sensor.expected_period_s == 1.0
        low, high = sensor.range
        limits = list(thresholds.values())
        assert low <= min(limits) and max(limits) <= high, f"{sensor.id}: range {sensor.range} hides a limit"
        assert low < NORMAL[sensor.id] < high


def test_normal_operating_point_is_inside_every_warning_band(project):
    for sensor in project.sensors:
        t, value = sensor.thresholds, NORMAL[sensor.id]
        assert t.warning_low is None or value > t.warning_low, sensor.id
        assert t.alarm_low is None or value > t.alarm_low, sensor.id
        assert t.warning_high is None or value < t.warning_high, sensor.id
        assert t.alarm_high is None or value < t.alarm_high, sensor.id


# ------------------------------------------------------------------------------------------------ geometry
def test_glb_holds_exactly_the_demo_parts_with_their_paint(project):
    scene = trimesh.load(DEMO_GLB, force="scene")
    assert set(scene.graph.nodes_geometry) == PART_NAMES
    assert len(scene.graph.nodes_geometry) == len(PART_NAMES)
    for name in PART_NAMES:
        geometry = scene.geometry[scene.graph[name][1]]
        rgba = np.asarray(geometry.visual.material.baseColorFactor, dtype=float)
        assert rgba[:3] / 255.0 == pytest.approx(parse_colour(project.part(name).color), abs=1 / 255), name
    total = sum(len(m.faces) for m in scene.geometry.values())
    assert 50_000 <= total <= 150_000
    assert DEMO_GLB.stat().st_size < 1.5e6


def test_scene_frame_is_z_up_metres_with_the_shaft_along_x(scene_parts):
    lows = np.min([m.bounds[0] for m in scene_parts.values()], axis=0)
    highs = np.max([m.bounds[1] for m in scene_parts.values()], axis=0)
    size = highs - lows
    assert lows[2] == pytest.approx(0.0, abs=1e-6), "the frame stands on z = 0"
    assert 2.0 < size[0] < 2.5 and size[1] < 1.0 and 1.2 < size[2] < 2.0
    motor, volute = scene_parts["motor"].bounds, scene_parts["pump_volute"].bounds
    assert motor[0][2] > 0.15 and volute[0][2] > 0.15, "motor and pump stand on the frame, not in it"
    assert motor[1][0] < volute[0][0], "motor and pump sit one after the other along +X"


def test_every_sensor_sits_on_its_part_surface(project, scene_parts):
    for sensor in project.sensors:
        gap = distance_to_surface(scene_parts[sensor.part], sensor.position)
        assert gap < SURFACE_TOLERANCE_M, f"{sensor.id} is {gap * 1000:.1f} mm off {sensor.part}"


def test_sensors_are_where_a_technician_mounts_them(project, scene_parts):
    axis = scene_parts["coupling"].bounds.mean(axis=0)
    pos = {s.id: np.asarray(s.position) for s in project.sensors}
    for temperature, vibration, housing in (("TT-102", "VT-102", "bearing_housing_de"),
                                            ("TT-103", "VT-103", "bearing_housing_nde")):
        assert pos[temperature][2] > axis[2] + 0.1, f"{temperature} sits on top of the housing"
        assert abs(pos[vibration][2] - axis[2]) < 0.01 and abs(pos[vibration][1]) > 0.1, \
            f"{vibration} is on the horizontal, on the housing's side"
        lo, hi = scene_parts[housing].bounds
        assert lo[0] < pos[temperature][0] < hi[0]
    assert pos["TT-102"][0] < pos["TT-103"][0], "DE bearing is the one next to the coupling"
    lo, hi = scene_parts["motor_terminal_box"].bounds
    assert np.all(lo - 0.003 <= pos["IT-101"]) and np.all(pos["IT-101"] <= hi + 0.003)
    assert pos["IT-101"][2] > axis[2] + 0.2, "the terminal box is on top of the motor"
    assert pos["PT-101"][0] < pos["TT-104"][0] < scene_parts["suction_valve"].bounds.mean(axis=0)[0], \
        "suction taps are between the pump and the suction valve"
    assert scene_parts["pump_volute"].bounds[1][2] < pos["PT-102"][2] < scene_parts["flow_meter"].bounds[0][2]


def test_no_part_floats(scene_parts):
    """Each part's box (grown by 2 mm) meets another part's, and every part links back to the base frame."""
    grown = {name: (m.bounds[0] - 0.002, m.bounds[1] + 0.002) for name, m in scene_parts.items()}
    touching = {name: {other for other, (lo2, hi2) in grown.items()
                       if other != name and np.all(lo <= hi2) and np.all(lo2 <= hi)}
                for name, (lo, hi) in grown.items()}
    for name, neighbours in touching.items():
        assert neighbours, f"{name} touches nothing"
    reached, queue = {"base_frame"}, deque(["base_frame"])
    while queue:
        for other in touching[queue.popleft()] - reached:
            reached.add(other)
            queue.append(other)
    assert reached == PART_NAMES


def test_project_model_loads_through_io_meshes(project):
    from twinviewer.io.meshes import load_project_model

    model = load_project_model(project)
    assert set(model.part_names) == PART_NAMES
    lows, highs = model.bounds()
    assert lows[2] == pytest.approx(0.0, abs=1e-6) and highs[0] - lows[0] > 2.0
    for sensor in project.sensors:
        part = model.part(sensor.part)
        mesh = trimesh.Trimesh(part.points, part.faces, process=False)
        assert distance_to_surface(mesh, sensor.position) < SURFACE_TOLERANCE_M, sensor.id


# ------------------------------------------------------------------------------------------------ build
def test_rebuild_matches_the_committed_files(build_demo, tmp_path, scene_parts):
    glb, generated_project, _ = build_demo.build(tmp_path)
    again = trimesh.load(glb, force="scene")
    committed = trimesh.load(DEMO_GLB, force="scene")
    for name in PART_NAMES:
        a, b = again.geometry[name], committed.geometry[name]
        assert np.array_equal(a.faces, b.faces), name
        assert np.allclose(a.vertices, b.vertices, atol=1e-6), name
    marker = build_demo.HAND_EDITED_MARKER
    fresh = generated_project.read_text(encoding="utf-8")
    assert fresh.split(marker)[0] == DEMO_PROJECT.read_text(encoding="utf-8").split(marker)[0], \
        "demo.twin.toml is out of date: run .venv/bin/python assets/build_demo.py"
    build_demo.build(tmp_path / "second")
    assert (tmp_path / "second" / glb.name).read_bytes() == glb.read_bytes(), "two builds, same bytes"


def _copy_demo_files(tmp_path: Path) -> None:
    """The files the demo project names (model, scenarios, recordings), so a copy of it validates."""
    shutil.copy(DEMO_GLB, tmp_path / DEMO_GLB.name)
    for folder in ("scenarios", "recordings"):
        shutil.copytree(DEMO_PROJECT.parent / folder, tmp_path / folder)


def test_rebuild_keeps_hand_edited_tables(build_demo, tmp_path):
    _copy_demo_files(tmp_path)
    (tmp_path / "scenarios" / "bearing.toml").write_text("# scenario\n", encoding="utf-8")
    added = ('# Commissioning run, 2024-09-18.\n[[sources]]\nkind = "recording"\nname = "commissioning"\n'
             'file = "runs/commissioning.csv"\n\n[[sources.columns]]\ncolumn = "T_bearing_DE"\nsensor = '
             '"TT-102"\n\n'
             '[[scenarios]]\nfile = "scenarios/bearing.toml"\n\n'
             '[[components]]\nname = "de_bearing"\nkind = "bearing"\nparts = ["bearing_housing_de"]\n'
             'drives = ["TT-102", "VT-102"]\n\n[view]\nlabels = "all"\n')
    project_file = tmp_path / DEMO_PROJECT.name
    project_file.write_text(DEMO_PROJECT.read_text(encoding="utf-8") + "\n" + added, encoding="utf-8")
    build_demo.build(tmp_path)
    first = project_file.read_text(encoding="utf-8")
    assert added.strip() in first
    build_demo.build(tmp_path)
    assert project_file.read_text(encoding="utf-8") == first, "regenerating twice changes nothing"
    rebuilt = load_project(project_file)
    commissioning = next(s for s in rebuilt.sources if s.name == "commissioning")
    assert commissioning.columns[0].sensor == "TT-102"
    assert rebuilt.components[0].drives == ["TT-102", "VT-102"]
    demo = load_project(DEMO_PROJECT)
    assert rebuilt.view.labels == "all" and len(rebuilt.sensors) == 12
    assert len(rebuilt.scenarios) == len(demo.scenarios) + 1


# ------------------------------------------------------------------------------------------------ validate
def test_validate_command_accepts_the_demo():
    result = subprocess.run([sys.executable, "-m", "twinviewer", "validate", str(DEMO_PROJECT)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and ": ok: " in lines[0] and "14 parts, 12 sensors" in lines[0]


def _broken_copy(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The demo project with the first ``old`` replaced by ``new``; returns the file and that line's
    number."""
    _copy_demo_files(tmp_path)
    text = DEMO_PROJECT.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    line = text[: text.index(new)].count("\n") + 1
    path = tmp_path / "broken.twin.toml"
    path.write_text(text, encoding="utf-8")
    return path, line


def _validate(path: Path, capsys) -> tuple[int, list[re.Match]]:
    code = cli_main(["validate", str(path)])
    out = capsys.readouterr().out.strip().splitlines()
    matches = [PROBLEM_LINE.match(line) for line in out]
    assert out and all(matches), f"not 'file:line: key: message': {out}"
    return code, matches


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ('units = "m"', 'units = "furlong"', "models[0].units", "furlong"),
    ('label = "Drive motor M-101"', 'lable = "Drive motor M-101"', "parts[1].lable", "unknown key"),
    ("thresholds = { warning_high = 80.0, alarm_high = 95.0 }",
     "thresholds = { warning_high = 95.0, alarm_high = 80.0 }", "sensors[3].thresholds",
     "warning_high (95.0) must be below alarm_high (80.0)"),
    ('file = "pump_skid.glb"', 'file = "pump_skid_v2.glb"', "models[0].file", "not found"),
    ('serial = "P-101"', 'serial = "P-101', "(toml)", "invalid TOML"),
], ids=["unknown-unit", "misspelt-key", "threshold-order", "missing-model-file", "invalid-toml"])
def test_validate_reports_a_broken_copy_at_its_line(tmp_path, capsys, old, new, key, says):
    path, line = _broken_copy(tmp_path, old, new)
    code, problems = _validate(path, capsys)
    assert code == 1
    assert len(problems) == 1
    problem = problems[0]
    assert problem["file"] == str(path)
    assert problem["key"] == key
    assert says in problem["message"]
    assert int(problem["line"]) == line


def test_validate_reports_a_sensor_on_a_missing_part(tmp_path, capsys):
    path, _ = _broken_copy(tmp_path, 'part = "coupling"', 'part = "coupling_guard"')
    assert cli_main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(str(path)) and "'ST-101'" in out and "'coupling_guard'" in out
    assert "not in [[parts]]" in out


def test_validate_points_at_the_line_of_a_sensor_on_a_missing_part(tmp_path, capsys):
    path, line = _broken_copy(tmp_path, 'part = "coupling"', 'part = "coupling_guard"')
    code, problems = _validate(path, capsys)
    assert code == 1 and int(problems[0]["line"]) == line


def test_the_documented_complete_example_is_a_valid_project():
    doc = (REPO / "docs" / "project-format.md").read_text(encoding="utf-8")
    section = doc.split("## Complete example", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    project = parse_project(example)
    assert {s.kind for s in project.sources} == {"recording", "mqtt", "opcua", "simulator"}
    demo = load_project(DEMO_PROJECT)
    for sensor in project.sensors:
        assert sensor.position == demo.sensor(sensor.id).position, f"{sensor.id}: the doc's position is stale"
