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


def without_legend(image: np.ndarray) -> np.ndarray:
    """The picture with the legend card (bottom-left corner, it shows every status colour) blanked out."""
    out = image.copy()
    h, w = out.shape[:2]
    out[int(0.4 * h):, :int(0.4 * w)] = 128
    return out


def test_step_with_an_alarm_shows_the_alarmed_part_red(tmp_path, capsys):
    # Cavitation: step 6 starts with the suction pressure PT-101 (on the suction pipe) in alarm; step 1 is
    # normal. Both steps' views show the suction pipe.
    calm = without_legend(render(tmp_path, CAVITATION, 1, "step1"))
    alarmed = without_legend(render(tmp_path, CAVITATION, 6, "step6"))
    assert "step 6 \"Suction open, discharge throttled\"" in capsys.readouterr().out
    red = (alarmed[..., 0] > 150) & (alarmed[..., 1] < 90) & (alarmed[..., 2] < 90)
    assert red.sum() > 200
    assert ((calm[..., 0] > 150) & (calm[..., 1] < 90) & (calm[..., 2] < 90)).sum() < 20, "no red when all is normal"


def test_step_view_shows_the_named_part_outlined_in_magenta(tmp_path):
    from twinviewer.core.overlay import LOOK_AT_OUTLINE_RGB

    image = without_legend(render(tmp_path, "motor_overheating", 4, "motor"))  # asks to click the fan cover
    magenta = np.abs(image - np.array(LOOK_AT_OUTLINE_RGB)).sum(axis=2) < 60
    assert magenta.sum() > 50
    orange = (image[..., 0] > 220) & (image[..., 1] > 110) & (image[..., 1] < 180) & (image[..., 2] < 60)
    assert orange.sum() == 0, "no orange highlight that reads as a warning"


def test_step_camera_is_corrected_to_show_the_named_part():
    from twinviewer.core.scenario import load_scenario
    from twinviewer.io.twins import open_twin
    from twinviewer.render.offscreen import OffscreenView
    from twinviewer.render.step_camera import MIN_PART_SHARE, frame_step, part_shares

    twin = open_twin(DEMO_PROJECT)
    scenario = load_scenario(DEMO_PROJECT.parent / "scenarios" / "bearing_wear_de.toml", twin.project)
    step = scenario.steps[2]  # "Vibration warning at the DE bearing": camera "right", where the motor hides it
    view = OffscreenView(twin, SIZE)
    try:
        view.scene.set_view(step.camera)
        assert part_shares(view.scene, ["bearing_housing_de"])["bearing_housing_de"] < MIN_PART_SHARE
        shown = frame_step(view.scene, step)
        assert shown.corrected and shown.ok
        assert part_shares(view.scene, ["bearing_housing_de"])["bearing_housing_de"] >= MIN_PART_SHARE
    finally:
        view.close()


def test_scenario_by_path_and_errors(tmp_path, capsys):
    scenario = DEMO_PROJECT.parent / "scenarios" / "motor_overheating.toml"
    out = tmp_path / "motor.png"
    assert main(["render", str(DEMO_PROJECT), "--scenario", str(scenario), "--step", "4", "--out", str(out),
                 "--size", "320x200"]) == 0
    assert out.stat().st_size > 1000
    assert main(["render", str(DEMO_PROJECT), "--scenario", "motor_overheating", "--step", "9",
                 "--out", str(out)]) == 2
    assert "--step 9: motor_overheating.toml has steps 1..5" in capsys.readouterr().err
    assert main(["render", str(DEMO_PROJECT), "--scenario", "motor_overheating", "--out", str(out)]) == 2
    assert "--scenario needs --step N" in capsys.readouterr().err
    assert main(["render", str(DEMO_PROJECT), "--scenario", "corrosion", "--step", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'corrosion'" in err and "motor_overheating" in err


def test_long_scenario_renders_quickly_at_a_coarse_period(tmp_path):
    import time

    started = time.perf_counter()  # 30 days: simulated every 15 s instead of every second
    image = render(tmp_path, "bearing_wear_de", 5, "bearing")
    assert time.perf_counter() - started < 20
    assert image.std() > 10
