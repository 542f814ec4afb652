"""Report (PDF rasterised with pdftoppm, pictures not blank) and MP4 clip (frame count and size read back)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.blocks import build_blocks_project
from twinviewer.cli import main
from twinviewer.core.bookmarks import Bookmark, Camera
from twinviewer.io.bookmarks_file import write_bookmarks_file
from twinviewer.io.recording import write_recording

T0 = 1_700_000_000.0


@pytest.fixture
def incident(tmp_path: Path) -> tuple[Path, Path]:
    project = build_blocks_project(tmp_path)
    times = T0 + np.arange(30.0)
    right = np.where(np.arange(30) < 12, 40.0, 95.0)  # alarm on the right block at +12 s
    recording = tmp_path / "rec.parquet"
    write_recording(recording, times, ["T-L", "T-R"], np.column_stack((np.full(30, 40.0), right)))
    write_bookmarks_file(tmp_path / "rec.bookmarks.json", [
        Bookmark(t=T0 + 5, title="Before", author="ana", text="All normal.", parts=["left"]),
        Bookmark(t=T0 + 14, t_end=T0 + 20, title="Right block in alarm", author="bob", text="T-R at 95 °C.",
                 parts=["right"], camera=Camera(position=(0.6, -4.0, 1.0), focal_point=(0.6, 0.0, 0.0))),
    ])
    return project, recording


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (Makefile APT_PACKAGES)")
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_report_pdf_has_a_page_per_bookmark_with_a_picture(incident, tmp_path: Path, paper: str, capsys):
    project, recording = incident
    from twinviewer.cli._render_state import load_recording
    from twinviewer.core.alarms import AlarmTracker, sidecar_path
    from twinviewer.io.twins import open_twin

    twin = open_twin(project)
    tracker = AlarmTracker(twin.project.sensors)
    tracker.catch_up(load_recording(twin, recording)[0])
    alarm = next(a for a in tracker.alarms if a.level == "alarm")
    tracker.acknowledge(alarm.alarm_id, "carla", alarm.onset_t + 3, "fan filter blocked, cleaned")
    tracker.save_acknowledgements(sidecar_path(project))
    out = tmp_path / "report.pdf"
    assert main(["report", str(project), "--recording", str(recording), "--out", str(out), "--paper", paper,
                 "--html", "--picture-size", "640x400"]) == 0
    assert "wrote" in capsys.readouterr().out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Right block in alarm" in html and html.count("data:image/png;base64,") == 3

    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts)  # every font embedded
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3  # overview + one page per bookmark
    width_mm = {"a4": 210, "letter": 215.9}[paper]
    first = Image.open(pages[0])
    assert abs(first.width / first.height - width_mm / {"a4": 297, "letter": 279.4}[paper]) < 0.01
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("Incident report: Two blocks", "Alarms in order", "T-R", "Bookmark 1: Before",
                     "Bookmark 2: Right block in alarm", "bob", "T-R at 95 °C.", "acknowledged by carla",
                     "fan filter blocked, cleaned"):
        assert expected in text
    # every bookmark page holds a picture: a large area that is neither white paper nor one flat colour
    for page in pages[-2:]:
        pixels = np.asarray(Image.open(page).convert("RGB")).astype(int)
        not_paper = (pixels < 235).any(axis=2)
        assert not_paper.mean() > 0.15
        assert pixels[not_paper].std() > 15


@pytest.mark.vtk
def test_ten_second_clip_at_ten_fps_has_one_hundred_frames(incident, tmp_path: Path, capsys):
    import imageio.v2 as imageio

    project, recording = incident
    out = tmp_path / "clip.mp4"
    assert main(["video", str(project), "--recording", str(recording), "--from", "+5s", "--to", "+25s",
                 "--speed", "2", "--fps", "10", "--size", "320x240", "--out", str(out)]) == 0
    assert "100 frames" in capsys.readouterr().out
    reader = imageio.get_reader(out)
    frames = [frame for frame in reader]
    assert reader.get_meta_data()["codec"] == "h264"
    assert len(frames) == 100
    assert all(frame.shape == (240, 320, 3) for frame in frames)
    # the right block turns red during the clip: the last frame differs from the first
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1.0


def test_video_refuses_bad_input_with_one_line(incident, tmp_path: Path, capsys):
    project, recording = incident
    common = ["video", str(project), "--recording", str(recording), "--out", str(tmp_path / "c.mp4")]
    assert main([*common, "--speed", "0"]) == 2
    assert "--speed 0: must be above 0" in capsys.readouterr().err
    assert main([*common, "--from", "+40s"]) == 2
    assert "outside the recording" in capsys.readouterr().err
    assert not (tmp_path / "c.mp4").exists()


def test_a_detector_beside_the_project_gives_the_first_anomaly_and_travels_in_the_bundle(tmp_path: Path):
    import zipfile

    from twinviewer.core.anomaly import fit_detector
    from twinviewer.io.anomaly_model import model_path, save_model

    project = build_blocks_project(tmp_path)
    rng = np.random.default_rng(7)
    times = T0 + np.arange(600.0)
    left = 40 + rng.normal(0, 0.5, 600)
    right = 40 + rng.normal(0, 0.5, 600) + np.where(np.arange(600) >= 450, 25.0, 0.0)  # a step at +450 s
    recording = tmp_path / "rec.parquet"
    write_recording(recording, times, ["T-L", "T-R"], np.column_stack((left, right)))
    model = fit_detector(np.column_stack((left, right))[:300], ["T-L", "T-R"], times[:300])
    save_model(model_path(project), model)

    from twinviewer.cli._incident import open_inputs

    with open_inputs(project, recording) as inputs:
        detected = [e for e in inputs.events if e.kind == "detected anomaly"]
    assert detected and T0 + 450 <= detected[0].t <= T0 + 470

    bundle = tmp_path / "case.twinbundle"
    assert main(["bundle", str(project), "--recording", str(recording), "--out", str(bundle)]) == 0
    assert "project/blocks.twin.anomaly.json" in zipfile.ZipFile(bundle).namelist()
    with open_inputs(bundle) as reopened:  # the bundled detector finds the same episode
        assert [e.t for e in reopened.events if e.kind == "detected anomaly"][:1] == [detected[0].t]


def test_frames_showing_the_same_moment_are_rendered_once(incident):
    from twinviewer.cli._render_state import load_recording
    from twinviewer.io.twins import open_twin
    from twinviewer.render.incident_render import MomentRenderer

    project, recording = incident
    twin = open_twin(project)
    renderer = MomentRenderer(twin, load_recording(twin, recording)[0], (160, 120))
    try:
        first = renderer.image(T0 + 5.0)
        assert renderer.image(T0 + 5.5) is first  # same sample, same time stamp: the same picture
        later = renderer.image(T0 + 6.0)
        assert later is not first and not np.array_equal(later, first)  # the time stamp moved on
        renderer.select("right")
        assert renderer.image(T0 + 6.2) is not later  # a new selection is drawn
    finally:
        renderer.close()
