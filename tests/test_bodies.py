"""Splitting a mesh exported as one piece into its connected bodies: the real cycloidal drive PLY, small
made-up cases, the project key, and the window's File → Split into bodies."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from twinviewer.core.bodies import split_bodies
from twinviewer.core.geometry import PartMesh
from twinviewer.io.meshes import load_model_file
from twinviewer.io.twins import open_twin

DRIVE = "meshes/ply/cycloidal_drive.ply"


def soup(*meshes: trimesh.Trimesh) -> PartMesh:
    """Meshes as one part whose faces share no vertex index (as many glTF and STL writers store them)."""
    triangles = np.concatenate([m.vertices[m.faces] for m in meshes]).reshape(-1, 3)
    return PartMesh("piece", triangles, np.arange(len(triangles)).reshape(-1, 3))


def test_the_cycloidal_drive_splits_into_its_bodies(shared_data):
    model = load_model_file(shared_data / DRIVE, split_bodies=True)
    assert len(model.parts) == 112
    assert model.n_triangles == 43_368, "every triangle is in exactly one body"
    assert model.part_names[:2] == ["cycloidal_drive body 001", "cycloidal_drive body 002"]
    assert {p.group for p in model.parts} == {"cycloidal_drive"}
    # The file colours each solid; a body in one colour shows it as its own.
    coloured = [p for p in model.parts if p.color is not None]
    assert len(coloured) >= 100 and len({p.color for p in coloured}) >= 5
    for part in model.parts:  # each body is one connected piece
        assert len(split_bodies(part)) == 1


def test_bodies_are_found_by_position_and_shared_edges_not_by_index():
    box = trimesh.creation.box((1, 1, 1))
    far_box = trimesh.creation.box((1, 1, 1)).apply_translation((3, 0, 0))
    bodies = split_bodies(soup(box, far_box))
    assert [b.name for b in bodies] == ["piece body 001", "piece body 002"]
    assert [b.n_triangles
            for b in bodies] == [12, 12] and bodies[0].n_vertices == 36, "vertices kept as stored"
    assert bodies[1].points[:, 0].min() == pytest.approx(2.5)
    # Two solids touching at one corner stay two bodies; sharing an edge makes them one.
    corner = trimesh.creation.box((1, 1, 1)).apply_translation((1, 1, 1))
    assert len(split_bodies(soup(box, corner))) == 2
    tetra = trimesh.Trimesh([[0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [1.5, 0, 1]], [[0, 1, 2]])
    assert len(split_bodies(soup(box, tetra))) == 1
    one = soup(box)
    assert split_bodies(one) == [one], "a single body is left as it is"


def test_a_project_names_and_colours_bodies(shared_data, tmp_path):
    (tmp_path / "drive.twin.toml").write_text(f"""
[asset]
name = "Cycloidal drive"

[[models]]
file = "{(shared_data / DRIVE).as_posix()}"
units = "in"
split_bodies = true

[[parts]]
name = "cycloidal_drive body 001"
label = "Output housing"
color = "#3366cc"

[[sensors]]
id = "TT-1"
quantity = "temperature"
unit = "°C"
part = "cycloidal_drive body 001"
position = [0.0, 0.0, 0.0]
""", encoding="utf-8")
    twin = open_twin(tmp_path / "drive.twin.toml")
    assert len(twin.model.parts) == 112 and not twin.model.warnings
    assert twin.model.part("cycloidal_drive body 001").color == pytest.approx((0.2, 0.4, 0.8))


@pytest.mark.gui
def test_split_into_bodies_in_the_window_and_saved_in_the_starter(qtbot, tmp_path, shared_data):
    from tests.gui import new_window, open_and_wait

    window = new_window(qtbot, tmp_path)
    try:
        open_and_wait(qtbot, window, shared_data / DRIVE)
        assert window.twin.model.part_names == ["cycloidal_drive"]
        assert window.split_bodies_action.isEnabled() and not window.split_bodies_action.isChecked()
        assert "one mesh made of 112 separate bodies: File → Split into bodies" in window.status_label.text()
        window.split_bodies_action.trigger()
        qtbot.waitUntil(lambda: len(window.twin.model.parts) == 112, timeout=30000)
        assert window.split_bodies_action.isChecked()
        assert window.part_tree.topLevelItemCount() == 1, "the bodies are grouped under the file's part"
        window.part_tree.setCurrentItem(window.part_tree.item_for("cycloidal_drive body 002"))  # a click
        assert window.scene.selected == "cycloidal_drive body 002"
        out = window.save_starter_project(tmp_path / "drive.twin.toml")
        assert "split_bodies = true" in out.read_text(encoding="utf-8")
        assert len(open_twin(out).model.parts) == 112
    finally:
        window.close()


def test_inspect_and_render_list_and_name_bodies(shared_data, tmp_path, capsys):
    pytest.importorskip("vtkmodules")  # `render` draws with VTK
    from twinviewer.cli import main

    assert main(["inspect", str(shared_data / DRIVE), "--split-bodies", "--json"]) == 0
    import json

    document = json.loads(capsys.readouterr().out)
    assert document["totals"]["parts"] == 112 and document["parts"][2]["name"] == "cycloidal_drive body 003"
    out = tmp_path / "drive.png"
    assert main(["render", str(shared_data / DRIVE), "--split-bodies", "--hide", "cycloidal_drive body 001",
                 "--out", str(out), "--size", "320x200"]) == 0
    assert main(["inspect", str(tmp_path / "x.twin.toml"), "--split-bodies"]) == 2
    assert "in a project, set split_bodies" in capsys.readouterr().err
    assert main(["inspect", str(shared_data / DRIVE)]) == 0
    assert "one mesh made of 112 separate bodies: --split-bodies lists each" in capsys.readouterr().out
    assert main(["inspect", str(shared_data / "meshes/stl/planetary_gearbox/sun_gear.stl")]) == 0
    assert "note:" not in capsys.readouterr().out, "a one-body mesh says nothing"
