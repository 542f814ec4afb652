"""The legend scales with the view and the model is framed clear of it (headless renders of the demo twin
with its incident recording, in every overlay mode with a legend, at a small and a large size)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DEMO_PROJECT
from twinviewer.cli._render_state import show_recording_state
from twinviewer.io.twins import open_twin
from twinviewer.render.legend_layer import MARGIN
from twinviewer.render.offscreen import OffscreenView
from twinviewer.render.step_camera import IdBuffer

pytestmark = pytest.mark.vtk

INCIDENT = DEMO_PROJECT.parent / "recordings" / "incident.parquet"


@pytest.fixture(scope="module")
def twin():
    return open_twin(DEMO_PROJECT)


def legend_and_parts(twin, mode: str, size: tuple[int, int], view_name: str = "iso"):
    """The legend card's (width, height) and the part-id image (top row first) of a headless render."""
    view = OffscreenView(twin, size)
    try:
        view.scene.set_view(view_name)
        show_recording_state(view, INCIDENT, "+2h20m", mode)
        legend = view.state_layer.legend
        assert legend.visible
        ids = IdBuffer(view.scene).id_image(width=size[0])
        assert ids.shape == (size[1], size[0])
        return legend.size, ids
    finally:
        view.close()


@pytest.mark.parametrize("size", [(640, 400), (1280, 800)])
@pytest.mark.parametrize("mode", ["value", "field:temperature", "status"])
def test_the_model_is_framed_clear_of_the_legend(twin, mode, size):
    (width, height), ids = legend_and_parts(twin, mode, size)
    model = ids >= 0
    rows, cols = np.nonzero(model)
    assert model.sum() > 0.08 * model.size, "the model is still drawn large"
    under_legend = model[size[1] - MARGIN - height:size[1] - MARGIN, MARGIN:MARGIN + width]
    assert under_legend.sum() <= 0.01 * model.sum(), (mode, size, under_legend.sum(), model.sum())
    # The model uses the free part of the view: it spans most of its height or of its free width.
    free_width = size[0] - (MARGIN + width)
    assert (rows.max() - rows.min() > 0.75 * size[1]) or (cols.max() - cols.min() > 0.75 * free_width)


@pytest.mark.parametrize("view_name", ["front", "top"])
def test_standard_views_keep_clear_of_the_legend_too(twin, view_name):
    (width, height), ids = legend_and_parts(twin, "value", (640, 400), view_name)
    model = ids >= 0
    under_legend = model[400 - MARGIN - height:400 - MARGIN, MARGIN:MARGIN + width]
    assert under_legend.sum() <= 0.01 * model.sum()


def test_the_legend_scales_with_the_view(twin):
    small, _ = legend_and_parts(twin, "status", (640, 400))
    large, _ = legend_and_parts(twin, "status", (1280, 800))
    assert large[1] > 1.25 * small[1] and large[0] > 1.25 * small[0]
    assert small[1] < 0.7 * 400  # small views get a smaller card (fonts stay 9 px or more)
