"""Level of detail: decimated display stand-ins, the vertex map back to the full mesh, the budget plan."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.benchmarks.bench_load import torus_mesh
from twinviewer.core.errors import CancelledError
from twinviewer.core.geometry import Model, PartMesh
from twinviewer.core.lod import DisplayLod, build_display_lods, make_display_lod, plan_display_lods
from twinviewer.io.lod_cache import DiskLodBackend


def torus(n_major: int, n_minor: int, major: float = 1.0, minor: float = 0.3,
          name: str = "torus") -> PartMesh:
    """A closed torus with 2·n_major·n_minor triangles."""
    points, faces = torus_mesh(n_major, n_minor, major, minor)
    return PartMesh(name=name, points=points, faces=faces.astype(np.int64))


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    """These tests time and compare the decimation itself: no stand-in comes from the disk cache."""
    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", "")


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


def test_big_decimation_runs_in_a_child_process_without_stalling_this_one():
    """fast_simplification holds the GIL: in-process it would freeze the window and its Cancel button."""
    import threading

    model = Model(parts=[torus(600, 400, name="shell")])  # 480k triangles
    expected = build_display_lods(model, budget=50_000, child_processes=False)["shell"]
    result = {}
    backend = DiskLodBackend()  # no cache: decimated in a child process
    worker = threading.Thread(target=lambda: result.update(build_display_lods(model, 50_000, backend=backend)))
    worker.start()
    longest, last = 0.0, time.perf_counter()
    while worker.is_alive():
        time.sleep(0.005)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    lod = result["shell"]
    assert np.array_equal(lod.points, expected.points) and np.array_equal(lod.faces, expected.faces)
    assert np.array_equal(lod.vertex_map, expected.vertex_map) and lod.full_triangles == 480_000
    assert longest < 0.25, f"this thread stalled {longest:.2f} s"


def test_cancel_kills_the_child_processes(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    model = Model(parts=[torus(1000, 500, name="a"), torus(1000, 500, name="b")])
    started = time.perf_counter()
    with pytest.raises(CancelledError):
        build_display_lods(model, budget=50_000, child_processes=True, backend=DiskLodBackend(),
                           cancel=lambda: time.perf_counter() - started > 0.5)
    assert time.perf_counter() - started < 1.5
    assert not list(tmp_path.glob("twinviewer-lod-*")), "the children's files are removed"


def test_a_child_that_cannot_run_falls_back_to_this_process(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", "/bin/false")  # every child exits at once with status 1
    model = Model(parts=[torus(300, 100, name="shell")])
    lods = build_display_lods(model, budget=20_000, child_processes=True, backend=DiskLodBackend())
    assert lods["shell"].n_triangles <= 20_000 and lods["shell"].full_triangles == 60_000


def test_a_stand_in_is_made_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    from twinviewer.core import lod as lod_module
    from twinviewer.io.lod_cache import display_cache_folder

    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", str(tmp_path))
    cache = display_cache_folder()
    assert cache == tmp_path / "display-lods"
    model = Model(parts=[torus(300, 100, name="shell")])  # 60k triangles
    first = build_display_lods(model, budget=20_000, backend=DiskLodBackend(cache))["shell"]
    [entry] = list((tmp_path / "display-lods").glob("*.npz"))
    def refuse(*_args):
        raise AssertionError("decimated again instead of reading the cache")

    monkeypatch.setattr(lod_module, "make_display_lod", refuse)
    second = build_display_lods(model, budget=20_000, backend=DiskLodBackend(cache))["shell"]
    assert np.array_equal(first.points, second.points) and np.array_equal(first.faces, second.faces)
    assert np.array_equal(first.vertex_map, second.vertex_map) and second.full_triangles == 60_000
    # Another target, or other geometry, is another entry; a damaged entry is made again.
    monkeypatch.undo()
    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", str(tmp_path))
    build_display_lods(model, budget=10_000, backend=DiskLodBackend(cache))
    assert len(list((tmp_path / "display-lods").glob("*.npz"))) == 2
    entry.write_bytes(b"not an npz")
    again = build_display_lods(model, budget=20_000, backend=DiskLodBackend(cache))["shell"]
    assert np.array_equal(again.faces, first.faces)
