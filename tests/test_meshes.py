"""Model loading: every format on real files (part names and counts from the file's own structure), small
files made here for the formats the shared data lacks, and one test per kind of bad input."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh

from twinviewer.core.errors import CancelledError, MeshLoadError
from twinviewer.core.project import load_project
from twinviewer.io import meshes
from twinviewer.io.meshes import MESH_FILE_FILTER, load_model_file, load_project_model, supported_extensions


def _names(model) -> list[str]:
    return [p.name for p in model.parts]


def _check_contract(model) -> None:
    assert len(set(_names(model))) == len(model.parts)
    for part in model.parts:
        assert part.points.dtype == np.float64 and part.points.shape[1] == 3
        assert part.faces.dtype == np.int64 and part.faces.shape[1] == 3
        assert part.faces.max() < part.n_vertices
        assert np.isfinite(part.points).all()
        assert part.source_file and part.group


def _box(size=(1.0, 2.0, 3.0)) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=size)


def _write_binary_stl(path: Path, triangles: np.ndarray, header: bytes = b"\0" * 80) -> None:
    records = np.zeros(len(triangles), dtype=[("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    records["v"] = triangles
    path.write_bytes(header + struct.pack("<I", len(triangles)) + records.tobytes())


def _write_glb(path: Path, header: dict, binary: bytes) -> None:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(text), b"JSON") + text
                     + struct.pack("<I4s", len(binary), b"BIN\0") + binary)


# --- real files ---------------------------------------------------------------------------------------

def test_ascii_stl_solids_become_named_parts(shared_data):
    model = load_model_file(shared_data / "meshes/stl/openfoam_flange_4solids_ascii.stl")
    assert _names(model) == ["patch1", "patch2", "patch3", "patch4"]
    assert [p.n_triangles for p in model.parts] == [4838, 678, 192, 760]
    _check_contract(model)


def test_shaft_rotating_three_solids_with_repeated_name_stay_distinct(shared_data):
    model = load_model_file(shared_data / "meshes/stl/openfoam_mixerVessel/shaftRotating.stl")
    assert _names(model) == ["shaftRotating", "shaftRotatingCap2", "shaftRotating#2"]
    _check_contract(model)


def test_crlf_ascii_stl(shared_data):
    model = load_model_file(shared_data / "meshes/stl/fan_blade_catia_ascii_crlf.stl")
    assert _names(model) == ["fan_blade_catia_ascii_crlf"]
    assert model.n_triangles == 1792
    _check_contract(model)


def test_binary_stl_with_all_zero_header_merges_vertices(shared_data):
    model = load_model_file(shared_data / "meshes/stl/counter.unitsmm.STL", units="mm")
    part = model.parts[0]
    assert part.n_triangles == 83750
    assert part.n_vertices < part.n_triangles  # shared vertices merged, not a triangle soup
    assert np.ptp(model.bounds()[1] - model.bounds()[0]) < 1.0  # mm → m: a part well under a metre
    _check_contract(model)


def test_planetary_gearbox_six_binary_stl_files(shared_data):
    files = sorted((shared_data / "meshes/stl/planetary_gearbox").glob("*.stl"))
    assert len(files) == 6
    for file in files:
        model = load_model_file(file, units="mm")
        assert _names(model) == [file.stem]
        assert model.parts[0].n_triangles > 1000
        assert max(model.bounds()[1] - model.bounds()[0]) < 0.2
        _check_contract(model)


def test_obj_groups_become_parts(shared_data):
    model = load_model_file(shared_data / "meshes/obj/openfoam_propeller_2groups.obj")
    assert _names(model) == ["propellerStem", "propellerTip"]
    assert model.n_triangles == 37240
    _check_contract(model)


def test_ply_keeps_vertex_colours(shared_data):
    model = load_model_file(shared_data / "meshes/ply/cycloidal_drive.ply")
    part = model.parts[0]
    assert part.vertex_colors is not None and part.vertex_colors.shape == (part.n_vertices, 3)
    assert part.vertex_colors.dtype == np.uint8
    assert len(np.unique(part.vertex_colors, axis=0)) > 1
    _check_contract(model)


def test_glb_scene_graph_instances_become_parts(shared_data):
    model = load_model_file(shared_data / "meshes/gltf/CesiumMilkTruck.glb", up_axis="y")
    # 1 node with the truck body (3 primitives merged), 2 instances of the wheel mesh
    assert _names(model) == ["Cesium_Milk_Truck", "Wheels", "Wheels#2"]
    wheels = [model.part("Wheels"), model.part("Wheels#2")]
    assert wheels[0].n_triangles == wheels[1].n_triangles
    centres = [w.points.mean(axis=0) for w in wheels]
    assert abs(centres[0][0] - centres[1][0]) > 2.0  # front and rear axle: the instance transforms applied
    low, high = model.bounds()
    assert high[2] - low[2] < high[0] - low[0]  # Y-up file turned Z-up: the truck is longer than tall
    assert low[2] > -0.1  # wheels on the ground, not below it
    _check_contract(model)


def test_step_assembly_keeps_named_part_instances(shared_data):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    model = load_model_file(shared_data / "meshes/step/as1-oc-214.stp")
    assert len(model.parts) == 18
    names = _names(model)
    assert "plate_1" in names and "rod_1" in names
    assert "l-bracket-assembly_2/nut-bolt-assembly_3/nut_3" in names
    assert sum(n.endswith("bolt_1") for n in names) == 6
    extent = model.bounds()[1] - model.bounds()[0]
    assert 0.15 < extent.max() < 0.3  # the file is in mm; the model comes back in metres
    assert all(p.color is not None for p in model.parts)
    _check_contract(model)


def test_step_single_part(shared_data):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    model = load_model_file(shared_data / "meshes/step/featuretype.STEP")
    assert _names(model) == ["featuretype"]
    assert model.n_triangles > 1000
    _check_contract(model)


@pytest.mark.slow
def test_step_file_that_explodes_is_refused_quickly(shared_data):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    started = time.monotonic()
    with pytest.raises(MeshLoadError, match="as1_motor.step") as info:
        load_model_file(shared_data / "meshes/step/as1_motor.step", step_timeout_s=4)
    assert time.monotonic() - started < 8
    assert "GLB/STL" in str(info.value)


def test_step_timeout_from_environment(shared_data, monkeypatch, tmp_path):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", str(tmp_path))  # no cached conversion to fall back on
    monkeypatch.setenv("TWINVIEWER_STEP_TIMEOUT", "0.01")
    with pytest.raises(MeshLoadError, match="longer than 0.01 s"):
        load_model_file(shared_data / "meshes/step/featuretype.STEP")


def test_step_conversion_is_cancelled(shared_data, monkeypatch, tmp_path):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", str(tmp_path))  # no cached conversion to fall back on
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(CancelledError):
        load_model_file(shared_data / "meshes/step/featuretype.STEP", cancel=cancel)


def test_step_conversion_is_cached_by_content(shared_data, monkeypatch, tmp_path):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "bracket.step"
    copy.write_bytes((shared_data / "meshes/step/featuretype.STEP").read_bytes())
    first = load_model_file(copy)
    entries = list((tmp_path / "cache" / "step-glb").glob("*.glb"))
    assert len(entries) == 1
    # a second open does not convert: a converter that cannot run in 0.01 s is not needed
    monkeypatch.setenv("TWINVIEWER_STEP_TIMEOUT", "0.01")
    again = load_model_file(copy)
    assert again.n_triangles == first.n_triangles and _names(again) == _names(first)
    # a damaged entry is converted anew (and the edited file is a new entry, not the stale mesh)
    entries[0].write_bytes(b"not a glb")
    monkeypatch.delenv("TWINVIEWER_STEP_TIMEOUT")
    assert load_model_file(copy).n_triangles == first.n_triangles
    copy.write_bytes(copy.read_bytes().replace(b"featuretype", b"renamed_part", 1))
    load_model_file(copy)
    assert len(list((tmp_path / "cache" / "step-glb").glob("*.glb"))) == 2


def test_step_worker_does_not_pay_for_trimesh():
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    code = ("import sys; from twinviewer.io.step_worker import _load_converter; "
            "converter = _load_converter(); print(callable(converter), 'trimesh' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    assert done.stdout.split() == ["True", "False"], done.stderr


def test_step_without_cascadio_names_the_extra(shared_data, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "cascadio" else real_find_spec(name, *a))
    with pytest.raises(MeshLoadError, match=r'pip install "twinviewer\[step\]"'):
        load_model_file(shared_data / "meshes/step/featuretype.STEP")


def test_pump_files_share_one_frame(shared_data):
    folder = shared_data / "meshes/stl/centrifugal_pump"
    impeller = load_model_file(folder / "impeller.stl", units="mm")
    cover = load_model_file(folder / "cover.stl", units="mm")
    impeller.extend(cover)
    assert _names(impeller) == ["impeller", "cover"]
    assert 0.1 < max(impeller.parts[0].bounds()[1] - impeller.parts[0].bounds()[0]) < 0.2  # 130 mm impeller


# --- small files made here ----------------------------------------------------------------------------

def test_binary_stl_zero_header_units_and_up_axis(tmp_path):
    triangle = np.array([[[0, 0, 0], [1000, 0, 0], [0, 2000, 0]]], dtype=np.float32)
    path = tmp_path / "tri.stl"
    _write_binary_stl(path, triangle)
    model = load_model_file(path, units="mm", up_axis="y")
    points = model.parts[0].points
    # mm → m, and the file's +Y becomes the scene's +Z
    assert np.allclose(points.max(axis=0), [1.0, 0.0, 2.0])
    assert np.allclose(points.min(axis=0), [0.0, 0.0, 0.0])


def test_explicit_matrix_replaces_units_and_axis(tmp_path):
    path = tmp_path / "box.stl"
    _box().export(path)
    matrix = np.eye(4)
    matrix[:3, 3] = [10, 0, 0]
    model = load_model_file(path, units="mm", matrix=matrix, part_prefix="left/")
    assert _names(model) == ["left/box"]
    assert np.allclose(model.bounds()[0], [9.5, -1.0, -1.5])


def test_off_file(tmp_path):
    path = tmp_path / "block.off"
    _box().export(path)
    model = load_model_file(path)
    assert _names(model) == ["block"] and model.n_triangles == 12
    _check_contract(model)


def test_ply_written_here_with_vertex_colours(tmp_path):
    mesh = _box()
    mesh.visual.vertex_colors = np.tile([200, 10, 20, 255], (len(mesh.vertices), 1))
    path = tmp_path / "red.ply"
    mesh.export(path)
    part = load_model_file(path).parts[0]
    assert (part.vertex_colors == [200, 10, 20]).all()


def test_3mf_objects_become_parts(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(_box(), node_name="housing", geom_name="housing")
    scene.add_geometry(_box((0.5, 0.5, 0.5)), node_name="lid", geom_name="lid",
                       transform=trimesh.transformations.translation_matrix([0, 0, 5]))
    path = tmp_path / "assembly.3mf"
    scene.export(path)
    model = load_model_file(path)  # the package says unit="millimeter": metres without being told
    assert sorted(_names(model)) == ["housing", "lid"]
    assert model.part("lid").bounds()[0][2] == pytest.approx(0.00475)
    _check_contract(model)


def test_3mf_declared_unit_is_honoured(tmp_path):
    import zipfile

    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box((10, 20, 30)), node_name="block", geom_name="block")
    source = tmp_path / "mm.3mf"
    scene.export(source)
    for unit, metres in (("inch", 0.0254), ("centimeter", 0.01), ("micron", 1e-6)):
        target = tmp_path / f"{unit}.3mf"
        with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
            for item in original.namelist():
                data = original.read(item)
                if item.endswith(".model"):
                    data = data.replace(b'unit="millimeter"', f'unit="{unit}"'.encode())
                copy.writestr(item, data)
        low, high = load_model_file(target, units="mm").parts[0].bounds()  # the file's unit wins
        assert high - low == pytest.approx(np.array([10, 20, 30]) * metres)
    # In a project too: a units key written for another format does not scale a 3MF twice.
    (tmp_path / "inch.twin.toml").write_text(
        '[asset]\nname = "block"\n[[models]]\nfile = "inch.3mf"\nunits = "mm"\n', encoding="utf-8")
    from twinviewer.io.twins import open_twin

    low, high = open_twin(tmp_path / "inch.twin.toml").model.parts[0].bounds()
    assert high - low == pytest.approx(np.array([10, 20, 30]) * 0.0254)


def test_obj_with_mtl_colours_and_objects(tmp_path):
    (tmp_path / "parts.mtl").write_text("newmtl red\nKd 1 0 0\nnewmtl blue\nKd 0 0 1\n")
    (tmp_path / "parts.obj").write_text(
        "mtllib parts.mtl\n"
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\n"
        "o left\nusemtl red\nf 1 2 3 4\n"
        "o right\nusemtl blue\nf -6/1/1 -5/2/2 -1/3/3\n"
    )
    model = load_model_file(tmp_path / "parts.obj")
    assert _names(model) == ["left", "right"]
    assert model.part("left").color == (1.0, 0.0, 0.0) and model.part("left").n_triangles == 2
    assert model.part("right").color == (0.0, 0.0, 1.0)
    assert model.part("right").n_vertices == 3


def test_vtk_formats_and_part_id_split(tmp_path):
    pyvista = pytest.importorskip("pyvista")

    sphere = pyvista.Sphere(theta_resolution=12, phi_resolution=12)
    sphere.save(tmp_path / "ball.vtp")
    model = load_model_file(tmp_path / "ball.vtp")
    assert _names(model) == ["ball"] and model.n_triangles == sphere.n_cells

    grid = pyvista.ImageData(dimensions=(3, 3, 3)).cast_to_unstructured_grid()
    grid.save(tmp_path / "cube.vtu")
    model = load_model_file(tmp_path / "cube.vtu")
    assert model.n_triangles == 6 * 4 * 2  # 6 faces of 2×2 quads, 2 triangles each
    _check_contract(model)

    two = sphere.copy()
    two.cell_data["part_id"] = (two.cell_centers().points[:, 2] > 0).astype(np.int32)
    two.field_data["part_names"] = np.array(["south", "north"])
    two.save(tmp_path / "halves.vtk")
    model = load_model_file(tmp_path / "halves.vtk")
    assert sorted(_names(model)) == ["north", "south"]
    assert model.part("north").bounds()[1][2] > 0.4


def test_glb_node_transforms_names_and_materials(tmp_path):
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32)
    indices = np.array([0, 1, 2], dtype=np.uint16)
    binary = positions.tobytes() + indices.tobytes()
    header = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 36},
                        {"buffer": 0, "byteOffset": 36, "byteLength": 6}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                      {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [0.2, 0.4, 0.6, 1]}}],
        "meshes": [{"name": "plate",
                    "primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "nodes": [{"name": "left", "children": [2], "translation": [10, 0, 0]},
                  {"name": "right", "children": [3], "scale": [2, 2, 2]},
                  {"name": "bolt", "mesh": 0}, {"name": "bolt", "mesh": 0}],
        "scenes": [{"nodes": [0, 1]}], "scene": 0,
    }
    path = tmp_path / "pair.glb"
    _write_glb(path, header, binary)
    model = load_model_file(path)
    assert _names(model) == ["left/bolt", "right/bolt"]
    assert np.allclose(model.part("left/bolt").points[1], [11, 0, 0])
    assert np.allclose(model.part("right/bolt").points[2], [0, 2, 0])
    assert model.part("left/bolt").color == pytest.approx((0.2, 0.4, 0.6))
    assert model.part("left/bolt").group == "left/bolt"


def _draco_glb(path: Path) -> np.ndarray:
    DracoPy = pytest.importorskip("DracoPy")  # noqa: N806 (the module's own name)

    mesh = _box()
    encoded = DracoPy.encode(np.asarray(mesh.vertices, dtype=np.float32),
                             np.asarray(mesh.faces, dtype=np.uint32))
    header = {
        "asset": {"version": "2.0"},
        "extensionsUsed": ["KHR_draco_mesh_compression"],
        "extensionsRequired": ["KHR_draco_mesh_compression"],
        "buffers": [{"byteLength": len(encoded)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(encoded)}],
        "accessors": [{"componentType": 5126, "count": len(mesh.vertices), "type": "VEC3"},
                      {"componentType": 5125, "count": mesh.faces.size, "type": "SCALAR"}],
        "meshes": [{"name": "box", "primitives": [{
            "attributes": {"POSITION": 0}, "indices": 1,
            "extensions": {"KHR_draco_mesh_compression": {"bufferView": 0,
                                                          "attributes": {"POSITION": 0}}}}]}],
        "nodes": [{"name": "box", "mesh": 0}], "scenes": [{"nodes": [0]}],
    }
    _write_glb(path, header, encoded)
    return np.asarray(mesh.bounds)


def test_draco_glb_is_decoded_not_zeroed(tmp_path):
    path = tmp_path / "draco.glb"
    bounds = _draco_glb(path)
    model = load_model_file(path)
    assert model.n_triangles == 12
    assert np.allclose(model.bounds(), bounds, atol=1e-2)  # trimesh alone would give all-zero vertices


def test_draco_glb_without_dracopy_is_refused(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "draco.glb"
    _draco_glb(path)
    monkeypatch.setitem(sys.modules, "DracoPy", None)
    with pytest.raises(MeshLoadError, match="Draco-compressed"):
        load_model_file(path)


def test_progress_reported_and_cancel_honoured(tmp_path):
    path = tmp_path / "box.stl"
    _box().export(path)
    seen = []
    load_model_file(path, progress=lambda fraction, message: seen.append(fraction))
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(CancelledError):
        load_model_file(path, cancel=lambda: True)


def test_degenerate_triangles_dropped_and_counted(tmp_path):
    path = tmp_path / "degenerate.stl"
    triangles = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 0, 0], [0, 0, 0], [0, 1, 0]]],
                         dtype=np.float32)
    _write_binary_stl(path, triangles)
    model = load_model_file(path)
    assert model.n_triangles == 1
    assert any("1 degenerate" in w for w in model.warnings)


# --- project -------------------------------------------------------------------------------------------

def test_project_places_each_file_and_colours_win(tmp_path, shared_data):
    gearbox = shared_data / "meshes/stl/planetary_gearbox"
    (tmp_path / "gearbox.twin.toml").write_text(f"""
[asset]
name = "Gearbox"

[[models]]
file = "{gearbox / 'sun_gear.stl'}"
units = "mm"

[[models]]
file = "{gearbox / 'ring_gear.stl'}"
units = "mm"
translate = [1.0, 0.0, 0.0]
part_prefix = "stage1_"

[[parts]]
name = "stage1_ring_gear"
color = "#ff0000"
""")
    project = load_project(tmp_path / "gearbox.twin.toml")
    fractions = []
    model = load_project_model(project, progress=lambda f, m: fractions.append(f))
    assert _names(model) == ["sun_gear", "stage1_ring_gear"]
    assert model.part("stage1_ring_gear").color == (1.0, 0.0, 0.0)
    alone = load_model_file(gearbox / "ring_gear.stl", units="mm")
    assert np.allclose(model.part("stage1_ring_gear").points.mean(axis=0),
                       alone.parts[0].points.mean(axis=0) + [1, 0, 0])
    assert fractions[-1] == 1.0 and max(fractions) <= 1.0


def test_units_match_the_project_file():
    from twinviewer.core.project import UNIT_SCALE

    assert meshes.UNIT_SCALE == UNIT_SCALE


def test_supported_extensions_and_filter():
    extensions = supported_extensions()
    for ext in (".stl", ".obj", ".ply", ".off", ".glb", ".gltf", ".3mf", ".vtp", ".vtu", ".vtk", ".step",
                ".stp",
                ".iges", ".igs"):
        assert ext in extensions
        assert f"*{ext}" in MESH_FILE_FILTER
    assert MESH_FILE_FILTER.startswith("3D models (")


# --- bad input -----------------------------------------------------------------------------------------

def _refuses(path: Path, pattern: str) -> str:
    with pytest.raises(MeshLoadError, match=pattern) as info:
        load_model_file(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_missing_file(tmp_path):
    _refuses(tmp_path / "nope.stl", "no such file")


def test_empty_file(tmp_path):
    (tmp_path / "empty.glb").write_bytes(b"")
    _refuses(tmp_path / "empty.glb", "empty")


def test_truncated_binary_stl(tmp_path):
    path = tmp_path / "cut.stl"
    _write_binary_stl(path, np.zeros((100, 3, 3), dtype=np.float32))
    path.write_bytes(path.read_bytes()[:-500])
    _refuses(path, "declares 100 triangles")


def test_random_bytes_stl(tmp_path):
    path = tmp_path / "noise.stl"
    path.write_bytes(np.random.default_rng(1).bytes(3001))
    _refuses(path, "not a valid STL")


def test_png_renamed_stl(tmp_path):
    path = tmp_path / "photo.stl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    _refuses(path, "PNG image")


def test_text_renamed_glb(tmp_path):
    path = tmp_path / "notes.glb"
    path.write_text("meeting notes: the pump is noisy\n")
    _refuses(path, "not a glTF")


def test_unknown_extension_lists_supported(tmp_path):
    path = tmp_path / "model.fbx"
    path.write_bytes(b"x")
    message = _refuses(path, "unsupported file type")
    assert ".stl" in message and ".step" in message


def test_mesh_without_triangles(tmp_path):
    path = tmp_path / "points.obj"
    path.write_text("v 0 0 0\nv 1 0 0\n")
    _refuses(path, "no triangles")


def test_nan_coordinates(tmp_path):
    path = tmp_path / "nan.stl"
    _write_binary_stl(path, np.array([[[0, 0, 0], [np.nan, 0, 0], [0, 1, 0]]], dtype=np.float32))
    _refuses(path, "NaN or infinite")


def test_glb_requiring_unknown_extension(tmp_path):
    path = tmp_path / "ext.glb"
    _write_glb(path, {"asset": {"version": "2.0"}, "extensionsRequired": ["EXT_meshopt_compression"]}, b"")
    _refuses(path, "EXT_meshopt_compression")


def test_step_with_garbage(tmp_path):
    pytest.importorskip("cascadio")  # the optional STEP reader (extra "step")
    path = tmp_path / "junk.step"
    path.write_text("this is not a step file\n")
    _refuses(path, "ISO-10303-21")


def test_loader_error_modules_do_not_leak_exceptions(tmp_path):
    path = tmp_path / "broken.ply"
    path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 10\nproperty float "
                     b"x\nend_header\n\x00")
    _refuses(path, "broken.ply")
    assert meshes.FORMATS["STL"] == (".stl",)


# --- starter project -----------------------------------------------------------------------------------

def test_starter_project_lists_every_part_and_loads_back(tmp_path, shared_data):
    from twinviewer.io.starter import write_starter_project

    mesh = shared_data / "meshes/stl/openfoam_flange_4solids_ascii.stl"
    model = load_model_file(mesh)
    out = write_starter_project(model, mesh, tmp_path / "twins" / "flange.twin.toml")
    project = load_project(out)
    assert [p.name for p in project.parts] == ["patch1", "patch2", "patch3", "patch4"]
    assert project.sensors == []
    assert not Path(project.models[0].file).is_absolute()
    assert project.resolve(project.models[0].file) == mesh.resolve()
    assert _names(load_project_model(project)) == _names(model)
