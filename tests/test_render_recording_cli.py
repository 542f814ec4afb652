"""``twinviewer render PROJECT --recording R --time T``: the state at an instant, as pixels."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.blocks import build_blocks_project
from twinviewer.cli import main
from twinviewer.cli._render_state import parse_time
from twinviewer.core.errors import TwinViewerError
from twinviewer.io.recording import write_recording

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC

@pytest.fixture
def project_and_recording(tmp_path: Path) -> tuple[Path, Path]:
    project = build_blocks_project(tmp_path)
    times = T0 + np.arange(10.0)
    right = np.where(np.arange(10) < 5, 40.0, 95.0)  # the right block goes into alarm at +5 s
    write_recording(tmp_path / "rec.parquet", times, ["T-L", "T-R"],
                    np.column_stack((np.full(10, 40.0), right)))
    return project, tmp_path / "rec.parquet"


def face_of_right(path: Path) -> np.ndarray:
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    h, w, _ = image.shape
    # the blocks are framed above the status legend (bottom-left); the right block's face, below its marker
    return image[int(h * 0.3):int(h * 0.42), int(w * 0.6):int(w * 0.8)].reshape(-1, 3).mean(axis=0)


@pytest.mark.vtk
def test_two_times_differ_where_a_sensor_goes_into_alarm(project_and_recording, tmp_path: Path, capsys):
    project, recording = project_and_recording
    before, after = tmp_path / "before.png", tmp_path / "after.png"
    common = ["render", str(project), "--recording", str(recording), "--view", "front", "--size", "400x300"]
    assert main([*common, "--time", "+2s", "--out", str(before)]) == 0
    assert "overlay at 2023-11-14" in capsys.readouterr().out
    epoch_after = str(T0 + 7)
    assert main([*common, "--time", epoch_after, "--out", str(after)]) == 0
    normal, alarm = face_of_right(before), face_of_right(after)
    assert np.abs(alarm - normal).sum() > 60, (normal, alarm)
    assert alarm[0] > alarm[1] + 60 and alarm[0] > alarm[2] + 60, f"the right block is red in alarm: {alarm}"
    assert not normal[0] > normal[1] + 60, f"and not red before: {normal}"


@pytest.mark.vtk
def test_time_outside_the_recording_is_a_clear_error(project_and_recording, tmp_path: Path, capsys):
    project, recording = project_and_recording
    code = main(["render", str(project), "--recording", str(recording), "--time", "+1h", "--out",
                 str(tmp_path / "x.png")])
    assert code == 2
    assert "outside the recording" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    ("+90s", T0 + 90), ("+1h30m", T0 + 5400), ("+1m 5s", T0 + 65), ("-10s", T0 + 86400 - 10),
    (str(T0 + 12.5), T0 + 12.5), ("2023-11-14T22:15:00Z", T0 + 100), ("2023-11-14 23:15:00+01:00", T0 + 100),
])
def test_parse_time_forms(text: str, expected: float):
    assert parse_time(text, T0, T0 + 86400) == pytest.approx(expected)


def test_parse_time_naive_iso_is_local_time():
    local = datetime.fromtimestamp(T0 + 60).strftime("%Y-%m-%dT%H:%M:%S")
    assert parse_time(local, T0, T0 + 3600) == pytest.approx(T0 + 60)
    assert datetime.fromtimestamp(T0, timezone.utc).year == 2023


def test_parse_time_rejects_nonsense():
    with pytest.raises(TwinViewerError, match="ISO time"):
        parse_time("yesterday", T0, T0 + 10)
