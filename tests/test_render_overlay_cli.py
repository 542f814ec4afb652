"""``twinviewer render PROJECT --recording R --time T --overlay MODE --labels L``: overlays in headless
images,
on the demo twin and its real incident recording."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DEMO_PROJECT
from twinviewer.cli import main
from twinviewer.core.colormaps import colormap_table
from twinviewer.core.overlay import Status

pytestmark = pytest.mark.vtk  # every test renders

INCIDENT = DEMO_PROJECT.parent / "recordings" / "incident.parquet"
SIZE = (640, 400)


def render(tmp_path, name, *extra) -> np.ndarray:
    out = tmp_path / f"{name}.png"
    code = main(["render", str(DEMO_PROJECT), "--recording", str(INCIDENT), "--size", f"{SIZE[0]}x{SIZE[1]}",
                 "--view", "iso", "--out", str(out), *extra])
    assert code == 0
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def selection_mask(folder, *overlay) -> np.ndarray:
    """Where the pump's drive-end bearing housing is drawn: what the selection highlight changes."""
    plain = render(folder, "plain", *overlay)
    selected = render(folder, "selected", *overlay, "--select", "bearing_housing_de")
    mask = np.abs(selected - plain).sum(axis=2) > 40
    assert mask.sum() > 150, "the bearing housing is visible in the iso view"
    return mask


@pytest.fixture(scope="module")
def bearing_mask():
    """The bearing housing's pixels with the status legend shown (the model is framed clear of it), from a
    part-id render of the same headless view the CLI draws."""
    from twinviewer.cli._render_state import show_recording_state
    from twinviewer.io.twins import open_twin
    from twinviewer.render.offscreen import OffscreenView
    from twinviewer.render.step_camera import IdBuffer

    view = OffscreenView(open_twin(DEMO_PROJECT), SIZE)
    try:
        view.scene.set_view("iso")
        show_recording_state(view, INCIDENT, "+10m", "status")
        ids = IdBuffer(view.scene)
        mask = ids.id_image(width=SIZE[0]) == ids.names.index("bearing_housing_de")
    finally:
        view.close()
    assert mask.sum() > 150, "the bearing housing is visible in the iso view"
    return mask


@pytest.fixture(scope="module")
def bearing_mask_plain(tmp_path_factory):
    """The bearing housing's pixels without an overlay (no legend: the model is framed in the whole view)."""
    return selection_mask(tmp_path_factory.mktemp("mask_off"), "--overlay", "off")


def test_status_overlay_paints_the_part_in_alarm_red(tmp_path, bearing_mask, bearing_mask_plain, capsys):
    image = render(tmp_path, "alarm", "--time", "+2h55m", "--overlay", "status")
    assert "status overlay at" in capsys.readouterr().out
    colour = np.median(image[bearing_mask], axis=0)
    red = np.array(Status.ALARM.rgb)
    assert np.abs(colour - red).sum() < 90, colour
    # 45 min in, the bearing only has a vibration warning: amber, not red (the first half hour is healthy).
    early = render(tmp_path, "early", "--time", "+45m", "--overlay", "status")
    colour = np.median(early[bearing_mask], axis=0)
    assert colour[0] > colour[1] > colour[2] + 60 and colour[1] > 0.6 * colour[0], colour
    # Without an overlay the part has its own grey-blue colour.
    plain = render(tmp_path, "plain", "--time", "+2h55m", "--overlay", "off")
    colour = np.median(plain[bearing_mask_plain], axis=0)
    assert abs(colour[0] - colour[2]) < 60 and colour[0] < 150, colour


def test_field_overlay_draws_a_colour_bar(tmp_path):
    image = render(tmp_path, "field", "--time", "+2h55m", "--overlay", "field:temperature")
    width, height = SIZE
    # The legend card with the colour bar sits in the bottom-left corner, as in the window.
    strip = image[int(0.3 * height):, :int(0.4 * width)]
    table = colormap_table("thresholds").astype(int)
    pixels = strip.reshape(-1, 3)
    distance = np.abs(pixels[:, None, :] - table[None, :, :]).sum(axis=2)
    nearest = distance.argmin(axis=1)[distance.min(axis=1) < 12]
    # The threshold map's bar: calm blues, then amber and red bands (-3..3 threshold units: index 128 is 0).
    assert nearest.size > 300
    assert ((nearest > 128) & (nearest < 160)).any(), "calm band"
    red = np.abs(pixels - table[240]).sum(axis=1) < 30
    assert red.sum() > 50, "alarm band"


def test_labels_all_adds_value_labels(tmp_path):
    off = render(tmp_path, "nolabels", "--time", "+2h55m", "--overlay", "status", "--labels", "off")
    labelled = render(tmp_path, "labels", "--time", "+2h55m", "--overlay", "status", "--labels", "all")
    changed = (np.abs(labelled - off).sum(axis=2) > 60).mean()
    assert 0.005 < changed < 0.3


def test_bad_overlay_is_a_clear_error(tmp_path, capsys):
    code = main(["render", str(DEMO_PROJECT), "--recording", str(INCIDENT), "--overlay", "field:humidity",
                 "--out", str(tmp_path / "x.png")])
    assert code == 2
    err = capsys.readouterr().err
    assert "--overlay field:humidity" in err and "temperature" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("mode", ["status", "value", "field:temperature"])
def test_every_overlay_mode_draws_its_legend(tmp_path, mode):
    """The legend is part of the VTK scene: a white card in the bottom-left corner of every overlay image."""
    image = render(tmp_path, "legend", "--time", "+2h20m", "--overlay", mode)
    plain = render(tmp_path, "plain", "--time", "+2h20m", "--overlay", "off")
    corner = (slice(SIZE[1] - 60, SIZE[1] - 14), slice(14, 60))
    white = (image[corner] > 235).all(axis=2).mean()
    assert white > 0.3 and (plain[corner] > 235).all(axis=2).mean() < 0.05, (mode, white)
