"""The scene drawn with plain VTK: selection outline, measurement, PNG output, and a lean headless path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from twinviewer.render.offscreen import write_png
from twinviewer.render.scene import HIGHLIGHT_OUTLINE, MEASURE_COLOUR

from .conftest import DEMO_PROJECT


def near(image: np.ndarray, colour, tolerance: int = 40) -> np.ndarray:
    target = np.round(np.asarray(colour) * 255).astype(int)
    return np.abs(image.astype(int) - target).max(axis=2) <= tolerance


def test_selection_outline_surrounds_the_part(blocks_view):
    blocks_view.scene.set_view("iso")
    before = near(blocks_view.image(), HIGHLIGHT_OUTLINE, 30).sum()
    blocks_view.scene.select("left")
    image = blocks_view.image()
    outline = near(image, HIGHLIGHT_OUTLINE, 30)
    assert outline.sum() > before + 200, "an orange outline is drawn"
    columns = np.flatnonzero(outline.any(axis=0))
    left_x, _ = blocks_view.scene.world_to_display((-0.6, -0.5, 0.0))
    right_x, _ = blocks_view.scene.world_to_display((0.6, -0.5, 0.0))
    assert abs(columns.mean() - left_x) < abs(columns.mean() - right_x), (
        "around the left block, not the right"
    )
    blocks_view.scene.set_visible("left", False)
    assert near(blocks_view.image(), HIGHLIGHT_OUTLINE,
                30).sum() <= before + 20, "a hidden part loses its outline"


def test_measurement_line_and_label_appear_and_clear(blocks_view):
    a, b = np.array([-0.9, -0.5, 0.2]), np.array([0.9, -0.5, 0.2])
    distance = blocks_view.scene.show_measurement(a, b)
    assert distance == pytest.approx(1.8)
    image = blocks_view.image()
    h = image.shape[0]
    red = near(image, MEASURE_COLOUR, 40)
    for point in (a, b, (a + b) / 2 + [0.3, 0, 0]):
        x, y = blocks_view.scene.world_to_display(point)
        assert red[int(h - y) - 3:int(h - y) + 4, int(x) - 3:int(x) + 4].any(), point
    # The label "1.80 m" is drawn on a white box next to the midpoint.
    x, y = blocks_view.scene.world_to_display((a + b) / 2)
    box = image[int(h - y) - 30:int(h - y) + 5, int(x) - 5:int(x) + 70]
    assert (box.min(axis=2) > 240).sum() > 100 and (box.max(axis=2) < 60).sum() > 10, "white box, dark text"
    blocks_view.scene.clear_measurement()
    assert near(blocks_view.image(), MEASURE_COLOUR, 40).sum() == 0


def test_png_writer_round_trips_the_frame(blocks_view, tmp_path):
    image = blocks_view.image()
    out = tmp_path / "frame.png"
    write_png(out, image)
    with Image.open(out) as png:
        assert png.mode == "RGB" and png.size == (400, 300)
        assert np.array_equal(np.asarray(png), image)


def test_headless_render_does_not_import_pyvista_or_qt(tmp_path):
    """The reason `twinviewer render` reaches its image before F3D does (docs/performance.md)."""
    out = tmp_path / "demo.png"
    code = ("import sys\nfrom twinviewer.cli import main\n"
            f"assert main(['render', {str(DEMO_PROJECT)!r}, '--out', {str(out)!r}, '--size', '320x200']) == "
            "0\n"
            "heavy = sorted(m for m in ('pyvista', 'matplotlib', 'PySide6') if m in sys.modules)\n"
            "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(out) as png:
        assert png.size == (320, 200)


def blue_pixels(image: np.ndarray) -> int:
    return int(((image[..., 2] > 180) & (image[..., 0] < 70) & (image[..., 1] < 70)).sum())


def test_vertex_colours_from_the_file_are_shown_and_come_back_after_a_tint(shared_data):
    """The cycloidal drive PLY colours its motor blue in its vertex colours, all in one mesh."""
    from twinviewer.io.twins import open_twin
    from twinviewer.render.offscreen import OffscreenView

    view = OffscreenView(open_twin(shared_data / "meshes/ply/cycloidal_drive.ply"), (400, 300))
    try:
        assert blue_pixels(view.image()) > 2000, "the motor is blue"
        view.scene.set_tint({"cycloidal_drive": (0.9, 0.1, 0.1)})
        assert blue_pixels(view.image()) == 0, "a status tint colours the whole part"
        view.scene.set_tint({"cycloidal_drive": None})
        assert blue_pixels(view.image()) > 2000
        mapper = view.scene.parts["cycloidal_drive"].actor.GetMapper()
        view.scene.set_field_active(True)  # the overlay's surface field owns the colours while it is shown
        mapper.SelectColorArray("field")
        view.scene.set_tint({"cycloidal_drive": None})
        assert mapper.GetArrayName() == "field", "the scene leaves the field's colours alone"
        view.scene.set_field_active(False)
        assert blue_pixels(view.image()) > 2000, "the file's colours are back after the field"
    finally:
        view.close()


def test_glb_materials_of_one_mesh_show_in_their_colours(shared_data):
    """The milk truck's body mesh has several primitives: the windows' dark material must show."""
    from twinviewer.io.twins import open_twin
    from twinviewer.render.offscreen import OffscreenView

    view = OffscreenView(open_twin(shared_data / "meshes/gltf/CesiumMilkTruck.glb"), (400, 300))
    try:
        image = view.image()
        assert int((image.max(axis=2) < 40).sum()) > 500, "dark windows"
    finally:
        view.close()


def test_display_stand_ins_keep_vertex_colours(shared_data):
    from twinviewer.io.meshes import load_model_file
    from twinviewer.render.scene import VERTEX_COLOURS, prepare_display_meshes

    model = load_model_file(shared_data / "meshes/ply/cycloidal_drive.ply")
    mesh = prepare_display_meshes(model, budget=20_000)["cycloidal_drive"]
    assert mesh.GetNumberOfCells() < 30_000, "decimated (the file has 43,368 triangles)"
    colours = mesh.GetPointData().GetArray(VERTEX_COLOURS)
    assert colours is not None and colours.GetNumberOfTuples() == mesh.GetNumberOfPoints()
    assert colours.GetRange(2)[1] == 255, "the blue motor survives the decimation"


def test_the_section_plane_shows_cut_parts_solid(blocks_view):
    """Looking into a cut block, its inside is one flat colour (darker than the part), not a lit shell."""
    from twinviewer.render.scene import CAP_SHADE

    scene = blocks_view.scene
    scene.set_clip("x", 0.25)  # a plane through the left block; the right block is cut away
    scene.set_view("right")
    image = blocks_view.image().astype(int)
    h = image.shape[0]
    x, y = scene.world_to_display((-0.8, 0.0, 0.0))
    patch = image[int(h - y) - 15:int(h - y) + 15, int(x) - 15:int(x) + 15].reshape(-1, 3)
    expected = np.round(np.array([0x8C] * 3) * CAP_SHADE)
    assert np.abs(patch - expected).max() <= 3, "flat section colour"
    scene.set_clip(None)
    assert scene.parts["left"].actor.GetBackfaceProperty() is None
    # "-x" keeps the other side: from +X the right block is whole again, in its lit colour.
    scene.set_clip("-x", 0.25)
    image = blocks_view.image().astype(int)
    x, y = scene.world_to_display((1.1, 0.0, 0.0))
    assert np.abs(image[int(h - y), int(x)] - expected).max() > 20
    with pytest.raises(ValueError, match="section axis"):
        scene.set_clip("w")


def test_a_framing_with_room_around_the_parts_keeps_it_when_the_view_changes(blocks_view):
    """A scenario step frames its part with room around it; resizing the window (which frames the view again,
    clear of the legend) must not zoom in onto the part alone."""
    scene = blocks_view.scene

    def distance():
        return float(np.linalg.norm(np.subtract(scene.camera.GetPosition(), scene.camera.GetFocalPoint())))

    scene.set_view("front", ["left"])
    tight = distance()
    scene.set_view("front", ["left"], zoom=2.2)
    assert distance() == pytest.approx(2.2 * tight, rel=1e-6)
    scene.set_reserved_corner((60, 40))  # the legend appears or changes size: framed again
    scene.set_reserved_corner((0, 0))
    assert distance() == pytest.approx(2.2 * tight, rel=1e-6)
