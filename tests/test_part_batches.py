"""Many small parts drawn by a few batch actors, and copies of one shape sharing its normals: the picture,
picking, tints, hiding and selection are what they are with one actor per part."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from vtkmodules.util.numpy_support import vtk_to_numpy

from twinviewer.core.geometry import PartMesh
from twinviewer.render import part_batches, primitives
from twinviewer.render.scene import HIGHLIGHT_OUTLINE, part_polydata
from twinviewer.render.shading import ShapeCache

ROWS, COLUMNS = 6, 8


def _rotation(angle: float, axis) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(angle, axis)


@pytest.fixture(scope="module")
def assembly_twin(tmp_path_factory):
    """A plate of 48 small parts: bolts (cylinders) and nuts (boxes), each one a placed copy (a glTF instance)
    of one of two meshes, turned every which way, plus a finely tessellated casing (too many triangles to
    batch)."""
    from twinviewer.io.twins import open_twin

    scene = trimesh.Scene()
    bolt = trimesh.creation.cylinder(radius=0.12, height=0.3, sections=24)
    nut = trimesh.creation.box(extents=(0.25, 0.25, 0.12))
    rng = np.random.default_rng(5)
    for r in range(ROWS):
        for c in range(COLUMNS):
            geometry = bolt if (r + c) % 2 else nut
            matrix = _rotation(rng.uniform(0, np.pi), rng.normal(size=3))
            matrix[:3, 3] = (c * 0.5, r * 0.5, 0.0)
            scene.add_geometry(geometry.copy(), node_name=f"part_{r}_{c}", geom_name=f"g_{r}_{c}",
                               transform=matrix)
    casing = trimesh.creation.icosphere(subdivisions=6, radius=0.3)  # 81,920 triangles
    scene.add_geometry(casing, node_name="casing", transform=trimesh.transformations.translation_matrix(
        (1.75, -0.8, 0.0)))
    path = tmp_path_factory.mktemp("assembly") / "plate.glb"
    scene.export(path)
    return open_twin(path)


def _view(twin, size=(640, 400)):
    from twinviewer.render.offscreen import OffscreenView

    view = OffscreenView(twin, size)
    view.scene.set_view("front")  # glTF is y-up: the plate stands in the x-z plane
    view.render()  # display coordinates are those of a rendered frame
    return view


def _part_pixel(view, name: str) -> tuple[int, int]:
    """(row, column) of the image pixel at the centre of ``name`` (seen from the front)."""
    low, high = view.scene.bounds([name])
    x, y = view.scene.world_to_display((low + high) / 2 - [0, 0.5 * (high - low)[1], 0])
    return int(round(view.image().shape[0] - y)), int(round(x))


def test_many_small_parts_are_drawn_by_a_few_actors_and_look_the_same(assembly_twin, monkeypatch):
    view = _view(assembly_twin)
    try:
        scene = view.scene
        assert scene.batches and sum(len(b.drawn) for b in scene.batches) == ROWS * COLUMNS
        own = [name for name, d in scene.parts.items() if d.actor.GetVisibility()]
        assert own == ["casing"], "only the part too big to batch draws itself"
        batched = view.image()
    finally:
        view.close()
    monkeypatch.setattr(part_batches, "BATCH_MIN_PARTS", 10**9)
    view = _view(assembly_twin)
    try:
        assert not view.scene.batches
        single = view.image()
    finally:
        view.close()
    difference = np.abs(batched.astype(int) - single.astype(int)).max(axis=2)
    assert (difference > 40).mean() < 0.005, "the same picture (highlights aside)"


def test_a_batched_part_is_picked_tinted_hidden_and_selected_as_itself(assembly_twin):
    view = _view(assembly_twin)
    try:
        scene = view.scene
        name = "part_2_3"
        row, column = _part_pixel(view, name)
        height = view.image().shape[0]
        picked, _point = scene.pick(column, height - row)
        assert picked == name
        scene.set_tint({name: (0.9, 0.1, 0.1)}, {name})
        pixel = view.image()[row, column].astype(int)
        assert pixel[0] > 120 and pixel[0] > 2 * pixel[1], f"drawn in its alarm red, {pixel}"
        neighbour = view.image()[_part_pixel(view, "part_2_4")].astype(int)
        assert not (neighbour[0] > 2 * neighbour[1]), "its neighbour keeps its own colour"
        scene.set_visible(name, False)
        assert scene.pick(column, height - row)[0] != name, "a hidden part cannot be picked"
        pixel = view.image()[row, column].astype(int)
        assert not (pixel[0] > 2 * pixel[1]), "and is not drawn"
        scene.set_visible(name, True)
        scene.select(name)
        batch = next(b for b in scene.batches if name in b.members)
        assert name not in batch.drawn and scene.parts[name].actor.GetVisibility(), "drawn by its own actor"
        outline = np.abs(view.image().astype(int) - np.round(np.array(HIGHLIGHT_OUTLINE) * 255)).max(axis=2) < 30
        assert outline[max(row - 40, 0):row + 40, max(column - 40, 0):column + 40].sum() > 20
        scene.select(None)
        assert name in batch.drawn and not scene.parts[name].actor.GetVisibility(), "back in its batch"
        scene.set_opacity(name, 0.4)
        assert name not in batch.drawn, "a see-through part draws itself"
        scene.set_opacity(name, 1.0)
        scene.set_field_active(True)
        assert not any(b.drawn for b in scene.batches), "a surface field is drawn by every part's own actor"
        scene.set_field_active(False)
        scene.set_clip("x", 0.5)
        assert not any(b.drawn for b in scene.batches), "so is a section"
        scene.set_clip(None)
        assert sum(len(b.drawn) for b in scene.batches) == ROWS * COLUMNS
    finally:
        view.close()


def _normals(mesh) -> np.ndarray:
    return vtk_to_numpy(mesh.GetPointData().GetArray("Normals"))


def test_copies_of_a_shape_reuse_its_normals_exactly():
    source = trimesh.creation.cylinder(radius=0.1, height=0.4, sections=20)
    cache = ShapeCache()
    first = part_polydata(PartMesh("a", np.asarray(source.vertices), np.asarray(source.faces)), cache)
    for k, matrix in enumerate([np.eye(4), _rotation(0.7, (1, 2, 3)), _rotation(2.0, (0, 1, 0)) * 2.5]):
        matrix[:3, 3] = (k + 1.0, -2.0, 0.5)
        matrix[3, 3] = 1.0
        placed = trimesh.transform_points(source.vertices, matrix)
        part = PartMesh(f"copy{k}", placed, np.asarray(source.faces))
        reused = part_polydata(part, cache)
        direct = part_polydata(part)
        assert np.allclose(primitives.points_of(reused), primitives.points_of(direct), atol=1e-9)
        assert np.allclose(_normals(reused), _normals(direct), atol=1e-5)
    assert cache.reused == 3 and first.GetNumberOfPoints() == reused.GetNumberOfPoints()


def test_a_shape_with_other_triangles_is_not_taken_for_a_copy():
    source = trimesh.creation.cylinder(radius=0.1, height=0.4, sections=20)
    cache = ShapeCache()
    part_polydata(PartMesh("a", np.asarray(source.vertices), np.asarray(source.faces)), cache)
    faces = np.asarray(source.faces).copy()
    faces[5] = faces[5][[0, 2, 1]]  # one triangle turned over; the first and last are the same
    part = PartMesh("b", np.asarray(source.vertices) + 1.0, faces)
    shaded = part_polydata(part, cache)
    assert cache.reused == 0
    assert np.array_equal(vtk_to_numpy(shaded.GetPolys().GetConnectivityArray()).reshape(-1, 3),
                          vtk_to_numpy(part_polydata(part).GetPolys().GetConnectivityArray()).reshape(-1, 3))
    assert np.allclose(_normals(shaded), _normals(part_polydata(part)), atol=1e-6)


def test_a_mirrored_or_stretched_copy_is_shaded_on_its_own():
    source = trimesh.creation.cylinder(radius=0.1, height=0.4, sections=20)
    cache = ShapeCache()
    part_polydata(PartMesh("a", np.asarray(source.vertices), np.asarray(source.faces)), cache)
    for scale in ((-1.0, 1.0, 1.0), (1.0, 1.0, 3.0)):
        part = PartMesh("b", np.asarray(source.vertices) * scale, np.asarray(source.faces))
        shaded = part_polydata(part, cache)
        assert np.allclose(_normals(shaded), _normals(part_polydata(part)), atol=1e-6)
    assert cache.reused == 0
