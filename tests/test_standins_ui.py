"""A big model is on screen as a quick coarse stand-in first; its decimated stand-in is swapped in when ready, and the
overlay's field, the selection outline and picking follow the swap."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from tests.benchmarks.bench_load import torus_mesh
from tests.gui import new_window, open_and_wait
from twinviewer.ui.standins import StandInSwap

pytestmark = pytest.mark.gui

PROJECT = """
[asset]
name = "Ring"

[[models]]
file = "ring.glb"

[[sensors]]
id = "T-A"
quantity = "temperature"
unit = "°C"
part = "ring"
position = [1.3, 0.0, 0.0]
range = [0, 100]

[[sensors]]
id = "T-B"
quantity = "temperature"
unit = "°C"
part = "ring"
position = [-1.3, 0.0, 0.0]
range = [0, 100]
"""


@pytest.fixture
def ring_project(tmp_path):
    points, faces = torus_mesh(200, 100)  # 40,000 triangles
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.Trimesh(points, faces, process=False), node_name="ring", geom_name="ring")
    scene.export(tmp_path / "ring.glb")
    path = tmp_path / "ring.twin.toml"
    path.write_text(PROJECT, encoding="utf-8")
    return path


@pytest.fixture
def small_budget(monkeypatch):
    import twinviewer.render.scene as scene_module

    monkeypatch.setenv("TWINVIEWER_CACHE_DIR", "")
    monkeypatch.setenv("TWINVIEWER_TRIANGLE_BUDGET", "8000")  # fixed, not measured on this machine
    monkeypatch.setattr(scene_module, "DISPLAY_TRIANGLE_BUDGET", 8_000)


def test_coarse_first_then_the_stand_in_with_field_and_outline(qtbot, tmp_path, ring_project, small_budget,
                                                                    monkeypatch):
    window = new_window(qtbot, tmp_path, size=(1000, 700))
    try:
        # Hold the swap back until the part is selected and the field is shown, to see both follow it.
        held = []
        monkeypatch.setattr(window.standins, "start", held.append)
        open_and_wait(qtbot, window, ring_project)
        first = window.scene.parts["ring"].n_triangles
        assert 500 < first < 20_000, "a coarse stand-in is shown first"
        window.select_part("ring")
        window.set_overlay_mode("field:temperature")
        window.refresh_now()
        [twin] = held
        StandInSwap.start(window.standins, twin)
        assert window.standins.pending
        qtbot.waitUntil(lambda: not window.standins.pending, timeout=30_000)
        ring = window.scene.parts["ring"]
        assert ring.n_triangles <= 9_000
        # The model's full mesh stays for picking and measuring.
        assert window.twin.model.part("ring").n_triangles == 40_000
        # The field's scalars were rebuilt for the stand-in's vertices and written into its mesh.
        window.session.store.append("T-A", 0.0, 90.0)
        window.session.store.append("T-B", 0.0, 10.0)
        window.session.sync_range(initial=True)
        window.refresh_now()
        field = ring.mesh.GetPointData().GetArray("field")
        assert field is not None and field.GetNumberOfTuples() == ring.mesh.GetNumberOfPoints()
        values = np.array([field.GetValue(i) for i in range(field.GetNumberOfTuples())])
        # The default threshold-aware map writes threshold units (0 at the middle of the normal band, ±1 at
        # the warning limits): a hot T-A and a cold T-B still spread the field across the ring.
        assert np.nanmax(values) - np.nanmin(values) > 1.0
        # The selection outline follows the new mesh, and a click still picks the part.
        assert window.scene._outline is not None
        outline_input = window.scene._outline.GetMapper().GetInputConnection(0, 0).GetProducer()
        assert outline_input.GetInputConnection(0, 0).GetProducer().GetInput() is ring.mesh
        image = window.viewer.image()
        assert image.std() > 10
        x, y = window.viewer.display_point_of((1.3, 0.0, 0.3))
        assert window.scene.pick(x, y)[0] == "ring"
    finally:
        window.close()
