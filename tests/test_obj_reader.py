"""The bulk OBJ reader (``read_obj``) returns exactly what the per-line reader (``read_obj_per_line``)
returns:
same parts, points, faces, colours, warnings and error messages."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from twinviewer.core.errors import MeshLoadError
from twinviewer.io import mesh_obj
from twinviewer.io.mesh_obj import read_obj, read_obj_per_line


def _assert_same_as_per_line(path: Path, *, bulk_expected: bool = True):
    if bulk_expected:
        assert mesh_obj._parse_bulk(path, path.read_bytes()) is not None, "bulk parser fell back"
    fast_warnings: list[str] = []
    exact_warnings: list[str] = []
    fast = read_obj(path, warnings=fast_warnings)
    exact = read_obj_per_line(path, warnings=exact_warnings)
    assert fast_warnings == exact_warnings
    assert [part.name for part in fast] == [part.name for part in exact]
    for a, b in zip(fast, exact, strict=True):
        assert a.group == b.group and a.color == b.color
        assert a.points.dtype == b.points.dtype and np.array_equal(a.points, b.points)
        assert a.faces.dtype == b.faces.dtype and np.array_equal(a.faces, b.faces)
        assert (a.vertex_colors is None) == (b.vertex_colors is None)
        if a.vertex_colors is not None:
            assert np.array_equal(a.vertex_colors, b.vertex_colors)
    return fast, fast_warnings


def _write(tmp_path: Path, text: str, name: str = "model.obj", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def test_real_propeller_two_groups(shared_data):
    parts, _ = _assert_same_as_per_line(shared_data / "meshes/obj/openfoam_propeller_2groups.obj")
    assert [part.name for part in parts] == ["propellerStem", "propellerTip"]


GROUPS_AND_MATERIALS = """mtllib colours.mtl
mtllib missing.mtl
# a comment line
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vt 0 0
vn 0 0 1
  v 0 0 1
v\t1 0 1
g base
usemtl red
f 1 2 3
f 1 3 4
s off
usemtl blue
f 1 2 6 5
f 1 2
g lid
usemtl blue
f 5/1/1 6/1/1 3/1/1 4/1/1 2/1/1
l 1 2

o base
usemtl red
f -6//1 -5//1 -4//1
g
f 1 2 5
"""


def test_groups_materials_ngons_and_skipped_faces(tmp_path):
    (tmp_path / "colours.mtl").write_text("newmtl red\nKd 1 0 0\nnewmtl blue\nKd 0 0 1\n")
    path = _write(tmp_path, GROUPS_AND_MATERIALS)
    parts, warnings = _assert_same_as_per_line(path)
    assert [part.name for part in parts] == ["base", "lid", "model"]
    base = parts[0]
    assert len(base.faces) == 5 and base.color == (1.0, 0.0, 0.0)  # red 3 triangles beat blue 2
    assert parts[1].color == (0.0, 0.0, 1.0) and len(parts[1].faces) == 3  # a pentagon fanned
    assert parts[2].color == (1.0, 0.0, 0.0)
    assert warnings == ["model.obj: 1 face with fewer than 3 vertices skipped",
                        "model.obj: material file 'missing.mtl' not found; colours from it are not used"]


def test_crlf_and_no_final_newline(tmp_path):
    path = _write(tmp_path, GROUPS_AND_MATERIALS.rstrip("\n"), newline="\r\n")
    (tmp_path / "colours.mtl").write_text("newmtl red\nKd 1 0 0\n")
    parts, _ = _assert_same_as_per_line(path)
    assert [part.name for part in parts] == ["base", "lid", "model"]


def test_material_tie_goes_to_the_first_material(tmp_path):
    (tmp_path / "m.mtl").write_text("newmtl a\nKd 1 0 0\nnewmtl b\nKd 0 1 0\n")
    path = _write(tmp_path, "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl b\nf 1 2 3\nusemtl a\nf 1 3 2\n")
    parts, _ = _assert_same_as_per_line(path)
    assert parts[0].color == (0.0, 1.0, 0.0)


def test_negative_indices_are_relative_to_vertices_read_so_far(tmp_path):
    path = _write(tmp_path, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 5 5 5\nf -4 -1 -2\nf +1 +2 +3\n")
    parts, _ = _assert_same_as_per_line(path)
    assert len(parts[0].points) == 4 and len(parts[0].faces) == 3


def test_vertex_colours_and_mixed_vertex_columns(tmp_path):
    coloured = _write(tmp_path, "v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 0 1 0 0 0 1\nf 1 2 3\n", "rgb.obj")
    parts, _ = _assert_same_as_per_line(coloured)
    assert parts[0].vertex_colors.tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    bytes_0_255 = _write(tmp_path, "v 0 0 0 200 10 0\nv 1 0 0 0 1 0 7\nv 0 1 0 0 0 1\nf 1 2 3\n",
                         "rgb255.obj")
    assert _assert_same_as_per_line(bytes_0_255)[0][0].vertex_colors[0].tolist() == [200, 10, 0]
    mixed = _write(tmp_path, "v 0 0 0 1 0 0\nv 1 0 0 1.0\nv 0 1 0 0 0 1 # rgb\nf 1 2 3\n", "mixed.obj")
    assert _assert_same_as_per_line(mixed)[0][0].vertex_colors is None
    commented = _write(tmp_path, "v 0 0 0 # here\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "commented.obj")
    _assert_same_as_per_line(commented, bulk_expected=False)


def test_generated_torus_with_quads_and_texture_normal_indices(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from bench_obj import write_variants

    for key, path in write_variants(tmp_path, 24).items():
        parts, _ = _assert_same_as_per_line(path)
        assert len(parts[0].faces) == 2 * 24 * 24, key


def test_line_continuations_are_joined(tmp_path):
    path = _write(tmp_path, "# C:\\models\\\nv 0 0 0\nv 1 0 \\\n 0\nv 0 1 0\nf 1 2 \\\n3\n")
    parts, _ = _assert_same_as_per_line(path, bulk_expected=False)
    assert len(parts[0].points) == 3 and len(parts[0].faces) == 1


def test_unicode_group_names_take_the_bulk_path(tmp_path):
    path = _write(tmp_path, "v 0 0 0\nv 1 0 0\nv 0 1 0\ng Gehäuse Ø 40\nf 1 2 3\n")
    assert _assert_same_as_per_line(path)[0][0].name == "Gehäuse Ø 40"
    nbsp = _write(tmp_path, "v 0 0 0\nv 1 0 0\nv 0 1 0\ng a\u00a0b\nf 1 2 3\n", "nbsp.obj")
    assert _assert_same_as_per_line(nbsp, bulk_expected=False)[0][0].name == "a b"


def test_non_ascii_whitespace_list_is_complete():
    spaces = {chr(code) for code in range(128, 0x3001) if chr(code).isspace()}
    assert {char for char in spaces if mesh_obj.NON_ASCII_WHITESPACE.match(char)} == spaces


@pytest.mark.parametrize(("text", "message"), [
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 x 3\n", ":5: face has an index that is not a number."),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 /2 3\n", ":4: face has an index that is not a number."),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2-3 3\n", ":4: face has an index that is not a number."),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3.0\n", ":4: face has an index that is not a number."),
    ("v 0 0 0\nv 1 0\nv 0 1 0\nf 1 2 3\n", ": a vertex line ('v') does not hold three numbers."),
    ("v 0 0 0\nv 1 0 zero\nv 0 1 0\nf 1 2 3\n", ": a vertex line ('v') does not hold three numbers."),
    ("v 0 0 0\nv 1 0 1e\nv 0 1 0\nf 1 2 3\n", ": a vertex line ('v') does not hold three numbers."),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\ng top\nf 1 2 4\n",
     ": group 'top' has a face that refers to a vertex that does not exist."),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf -4 1 2\n",
     ": group 'model' has a face that refers to a vertex that does not exist."),
    ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n",
     ": group 'model' has a face that refers to a vertex that does not exist."),
])
def test_bad_input_messages_match(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(MeshLoadError) as exact:
        read_obj_per_line(path, warnings=[])
    with pytest.raises(MeshLoadError) as fast:
        read_obj(path, warnings=[])
    assert str(fast.value) == str(exact.value) == f"{path}{message}"


def test_binary_data_is_refused(tmp_path):
    path = tmp_path / "model.obj"
    path.write_bytes(b"solid \x80\xff\x00\x01" * 20)
    with pytest.raises(MeshLoadError, match="binary data, not Wavefront OBJ text"):
        read_obj(path, warnings=[])
