"""Headless renders compared with small committed baseline images (``tests/baselines/*.png``).

A change that alters what `twinviewer render` draws (colours, legend, camera, lighting) fails here and
shows which picture moved. When a change is intended, look at the new pictures and commit them:
``TWINVIEWER_UPDATE_BASELINES=1 pytest tests/test_baseline_images.py`` rewrites the baselines.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DEMO_PROJECT
from twinviewer.cli import main

BASELINES = Path(__file__).parent / "baselines"
INCIDENT = DEMO_PROJECT.parent / "recordings" / "incident.parquet"
SIZE = "640x400"
# The tolerance: llvmpipe is deterministic on one machine, but another Mesa version may shade edges a little
# differently. A mean difference above MEAN_LEVELS (of 255) or more than MOVED_SHARE of the pixels off by more
# than PIXEL_LEVELS is a change a person would see.
MEAN_LEVELS = 2.0
PIXEL_LEVELS = 40
MOVED_SHARE = 0.01

CASES = {
    "demo_status_alarm": ["--recording", str(INCIDENT), "--time", "+2h20m", "--overlay", "status"],
    "demo_value": ["--recording", str(INCIDENT), "--time", "+2h20m", "--overlay", "value"],
    "demo_field_temperature": ["--recording", str(INCIDENT), "--time", "+2h20m",
                               "--overlay", "field:temperature"],
    "demo_plain_front_section": ["--overlay", "off", "--view", "front", "--section", "x:0.5"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_headless_render_matches_its_baseline(tmp_path, name):
    out = tmp_path / f"{name}.png"
    assert main(["render", str(DEMO_PROJECT), "--size", SIZE, "--out", str(out), *CASES[name]]) == 0
    image = np.asarray(Image.open(out).convert("RGB")).astype(np.int16)
    baseline_file = BASELINES / f"{name}.png"
    if os.environ.get("TWINVIEWER_UPDATE_BASELINES") == "1":
        BASELINES.mkdir(exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(baseline_file, optimize=True)
        pytest.skip(f"baseline {baseline_file.name} rewritten")
    assert baseline_file.exists(), f"no baseline {baseline_file}: run with TWINVIEWER_UPDATE_BASELINES=1"
    baseline = np.asarray(Image.open(baseline_file).convert("RGB")).astype(np.int16)
    assert image.shape == baseline.shape
    difference = np.abs(image - baseline).max(axis=2)
    mean = float(np.abs(image - baseline).mean())
    moved = float((difference > PIXEL_LEVELS).mean())
    assert mean <= MEAN_LEVELS and moved <= MOVED_SHARE, (
        f"{name}: mean difference {mean:.2f} levels (allowed {MEAN_LEVELS}), {moved:.2%} of pixels off by more "
        f"than {PIXEL_LEVELS} levels (allowed {MOVED_SHARE:.0%}); if intended, rewrite the baselines")
