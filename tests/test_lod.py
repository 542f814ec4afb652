"""Level of detail: decimated display stand-ins, the vertex map back to the full mesh, the budget plan."""

from __future__ import annotations

import time

import numpy as np
import pytest

from twinviewer.core.errors import CancelledError
from twinviewer.core.geometry import Model, PartMesh
from twinviewer.core.lod import DisplayLod, build_display_lods, make_display_lod, plan_display_lods


def torus(n_major: int, n_minor: int, major: float = 1.0, minor: float = 0.3, name: str = "torus") -> PartMesh:
    """A closed torus with 2·n_major·n_minor triangles."""
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, n_major, endpoint=False),
                       np.linspace(0, 2 * np.pi, n_minor, endpoint=False), indexing="ij")
    points = np.stack([(major + minor * np.cos(v)) * np.cos(u), (major + minor * np.cos(v)) * np.sin(u),
                       minor * np.sin(v)], axis=-1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(n_major), np.arange(n_minor), indexing="ij")
    a = i * n_minor + j
    b = ((i + 1) % n_major) * n_minor + j
    c = ((i + 1) % n_major) * n_minor + (j + 1) % n_minor
    d = i * n_minor + (j + 1) % n_minor
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return PartMesh(name=name, points=points, faces=faces.astype(np.int64))


@pytest.fixture(scope="module")
def million() -> PartMesh:
    return torus(1000, 500)  # 1,000,000 triangles


def test_million_triangles_to_200k_keeps_shape_and_maps_vertices(million):
    started = time.perf_counter()
    points, faces, vertex_map = make_display_lod(million, 200_000)
    elapsed = time.perf_counter() - started
    assert 180_000 <= len(faces) <= 200_000
    assert elapsed < 6.0  # fast_simplification + KD-tree; VTK's quadric decimation would take ~6 s alone
    assert faces.dtype == np.int64 and faces.max() < len(points)
    # the stand-in still is the torus: every vertex within a fraction of the tube radius of the surface
    radial = np.hypot(np.hypot(points[:, 0], points[:, 1]) - 1.0, points[:, 2])
    assert np.abs(radial - 0.3).max() < 0.01
    assert np.allclose(points.min(axis=0), million.points.min(axis=0), atol=0.01)
    # the map points each stand-in vertex at a nearby full-resolution vertex
    assert vertex_map.shape == (len(points),) and vertex_map.dtype == np.int64
    assert np.linalg.norm(million.points[vertex_map] - points, axis=1).max() < 0.01
    # a field computed on the full mesh shows the same pattern on the stand-in
    field = million.points[:, 2]
    lod = DisplayLod(points, faces, vertex_map, million.n_triangles)
    assert np.corrcoef(lod.values_from_full(field), points[:, 2])[0, 1] > 0.999


def test_small_mesh_is_returned_unchanged():
    part = torus(20, 10)
    points, faces, vertex_map = make_display_lod(part, 1_000)
    assert points is not None and np.array_equal(faces, part.faces)
    assert np.array_equal(vertex_map, np.arange(part.n_vertices))


def test_arrays_accepted_and_target_met():
    part = torus(200, 100)  # 40k triangles
    points, faces, vertex_map = make_display_lod((part.points, part.faces), 5_000)
    assert 4_000 <= len(faces) <= 5_000
    assert vertex_map.max() < part.n_vertices


def test_plan_keeps_a_model_under_budget_whole():
    model = Model(parts=[torus(100, 50, name="a"), torus(100, 50, name="b")])
    assert plan_display_lods(model, budget=300_000) == {}


def test_plan_shares_the_budget_by_size_and_spares_small_parts():
    big = PartMesh("big", np.zeros((3, 3)), np.zeros((600_000, 3), dtype=np.int64))
    medium = PartMesh("medium", np.zeros((3, 3)), np.zeros((200_000, 3), dtype=np.int64))
    bolt = PartMesh("bolt", np.zeros((3, 3)), np.zeros((5_000, 3), dtype=np.int64))
    plan = plan_display_lods(Model(parts=[big, medium, bolt]), budget=300_000)
    assert "bolt" not in plan
    assert plan["big"] == pytest.approx(3 * plan["medium"], rel=0.01)
    assert plan["big"] + plan["medium"] + 5_000 == pytest.approx(300_000, rel=0.01)


def test_build_lods_for_a_model_over_budget():
    model = Model(parts=[torus(300, 100, name="shell"), torus(20, 10, name="pin")])  # 60k + 400 triangles
    fractions = []
    lods = build_display_lods(model, budget=20_000, progress=lambda f, m: fractions.append(f))
    assert set(lods) == {"shell"}
    assert lods["shell"].n_triangles <= 20_000 and lods["shell"].full_triangles == 60_000
    assert model.part("shell").n_triangles == 60_000  # the full mesh is kept for picking and measuring
    assert fractions[-1] == 1.0
    with pytest.raises(CancelledError):
        build_display_lods(model, budget=20_000, cancel=lambda: True)
