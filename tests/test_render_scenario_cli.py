"""``twinviewer render PROJECT --scenario S --step N``: a scenario step as an image, with status colours."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DEMO_PROJECT
from twinviewer.cli import main

pytestmark = pytest.mark.vtk  # every test renders

SIZE = (640, 420)
CAVITATION = "cavitation_suction_throttled"


def render(tmp_path, scenario: str, step: int, name: str) -> np.ndarray:
    import pyvista as pv

    out = tmp_path / f"{name}.png"
    assert main(["render", str(DEMO_PROJECT), "--scenario", scenario, "--step", str(step), "--out", str(out),
                 "--size", f"{SIZE[0]}x{SIZE[1]}"]) == 0
    return np.asarray(pv.read(str(out)).active_scalars).reshape(SIZE[1], SIZE[0], -1)[::-1, :, :3].astype(int)


def part_pixels(view, name: str) -> np.ndarray:
    """Boolean image (rows from the top) of where ``name`` is the front-most part, by picking a grid."""
    mask = np.zeros((SIZE[1], SIZE[0]), bool)
    for y in range(0, SIZE[1], 10):
        for x in range(0, SIZE[0], 10):
            if view.scene.pick(x, y)[0] == name:
                mask[SIZE[1] - 1 - y, x] = True
    return mask


def test_step_with_an_alarm_shows_the_alarmed_part_red(tmp_path, capsys):
    from twinviewer.io.twins import open_twin
    from twinviewer.render.offscreen import OffscreenView

    # Cavitation: step 5 starts with the suction pressure PT-101 (on the suction pipe) in alarm; step 0 is
    # normal. Both steps use the front view.
    calm = render(tmp_path, CAVITATION, 0, "step0")
    alarmed = render(tmp_path, CAVITATION, 5, "step5")
    assert "step 5 \"Suction open, discharge throttled\"" in capsys.readouterr().out
    view = OffscreenView(open_twin(DEMO_PROJECT), SIZE)
    try:
        view.scene.set_view("front")
        view.render()
        pipe = part_pixels(view, "suction_pipe")
    finally:
        view.close()
    assert pipe.sum() > 20, "the suction pipe is visible in the front view"

    def redness(image):
        r, g, b = (image[pipe][:, i] for i in range(3))
        return float(np.mean((r > 100) & (r > g + 60) & (r > b + 60)))

    assert redness(calm) < 0.15
    assert redness(alarmed) > 0.55


def test_step_camera_and_outline(tmp_path):
    front = render(tmp_path, CAVITATION, 0, "front")
    right = render(tmp_path, CAVITATION, 3, "right")   # step 3 looks from the right
    assert np.abs(front - right).mean() > 10
    # The step's parts are outlined in orange.
    orange = (right[..., 0] > 220) & (right[..., 1] > 110) & (right[..., 1] < 180) & (right[..., 2] < 60)
    assert orange.sum() > 50


def test_scenario_by_path_and_errors(tmp_path, capsys):
    scenario = DEMO_PROJECT.parent / "scenarios" / "motor_overheating.toml"
    out = tmp_path / "motor.png"
    assert main(["render", str(DEMO_PROJECT), "--scenario", str(scenario), "--step", "3", "--out", str(out),
                 "--size", "320x200"]) == 0
    assert out.stat().st_size > 1000
    assert main(["render", str(DEMO_PROJECT), "--scenario", "motor_overheating", "--step", "9",
                 "--out", str(out)]) == 2
    assert "--step 9: motor_overheating.toml has steps 0..4" in capsys.readouterr().err
    assert main(["render", str(DEMO_PROJECT), "--scenario", "motor_overheating", "--out", str(out)]) == 2
    assert "--scenario needs --step N" in capsys.readouterr().err
    assert main(["render", str(DEMO_PROJECT), "--scenario", "corrosion", "--step", "0", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert "'corrosion'" in err and "motor_overheating" in err


def test_long_scenario_renders_quickly_at_a_coarse_period(tmp_path):
    import time

    started = time.perf_counter()  # 30 days: simulated every 15 s instead of every second
    image = render(tmp_path, "bearing_wear_de", 4, "bearing")
    assert time.perf_counter() - started < 20
    assert image.std() > 10
