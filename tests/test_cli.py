"""The command line as a user meets it: help, render with no window, and one-line errors for bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DEMO_PROJECT, REPO

TWINVIEWER = [sys.executable, "-m", "twinviewer"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*TWINVIEWER, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("validate", "inspect", "render"):
        assert command in result.stdout


@pytest.mark.vtk
def test_render_the_demo_offscreen(tmp_path):
    out = tmp_path / "demo.png"
    result = run("render", str(DEMO_PROJECT), "--out", str(out), "--size", "640x400", "--view", "front")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", "no warnings from VTK or Qt on a headless machine"
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape == (400, 640, 3)
    assert image.std() > 20, "the render is not blank"


@pytest.mark.vtk
def test_render_a_mesh_file_skips_the_project_model_and_still_says_what_it_wrote(tmp_path):
    """A mesh file needs no project: the command does not import pydantic (0.1 s), and leaving without
    Python's teardown still delivers its line on stdout and the whole image."""
    import trimesh

    mesh = tmp_path / "bracket.stl"
    trimesh.creation.box(extents=(0.3, 0.2, 0.1)).export(mesh)
    out = tmp_path / "bracket.png"
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "twinviewer", "render", str(mesh),
                             "--out", str(out), "--size", "320x200"],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"wrote {out} (320x200, view iso)"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "vtkmodules.vtkRenderingOpenGL2" in imported and "pydantic" not in imported
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape == (200, 320, 3) and image.std() > 10


@pytest.mark.vtk
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="EGL offscreen windows are for Linux")
def test_render_draws_the_same_picture_when_egl_cannot_start(tmp_path):
    """The command line renders offscreen through EGL; where EGL cannot start (here: no vendor library for
    libglvnd to load) it falls back to VTK's default window, silently, and the picture is the same."""
    probe = ("from twinviewer.render import gl_window; gl_window.render_without_display(); "
             "print(gl_window.offscreen_window((8, 8)).GetClassName())")
    made = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert made.stdout.strip() == "vtkEGLRenderWindow", "Mesa's EGL works on this machine"
    with_egl, without = tmp_path / "egl.png", tmp_path / "x.png"
    assert run("render", str(DEMO_PROJECT), "--out", str(with_egl), "--size", "480x300").returncode == 0
    broken = dict(os.environ, __EGL_VENDOR_LIBRARY_FILENAMES=str(tmp_path / "no-such-vendor.json"))
    result = subprocess.run([*TWINVIEWER, "render", str(DEMO_PROJECT), "--out", str(without), "--size", "480x300"],
                            capture_output=True, text=True, timeout=120, cwd=REPO, env=broken)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    a = np.asarray(Image.open(with_egl).convert("RGB")).astype(int)
    b = np.asarray(Image.open(without).convert("RGB")).astype(int)
    assert a.std() > 20 and np.abs(a - b).max() <= 2


@pytest.mark.vtk
def test_render_hides_a_part(tmp_path):
    full, hidden = tmp_path / "full.png", tmp_path / "hidden.png"
    assert run("render", str(DEMO_PROJECT), "--out", str(full), "--size", "320x200").returncode == 0
    assert run("render", str(DEMO_PROJECT), "--out", str(hidden), "--size", "320x200",
               "--hide", "motor").returncode == 0
    a = np.asarray(Image.open(full).convert("RGB")).astype(int)
    b = np.asarray(Image.open(hidden).convert("RGB")).astype(int)
    assert (np.abs(a - b).sum(axis=2) > 30).mean() > 0.005


@pytest.mark.vtk
def test_render_a_section(tmp_path):
    from twinviewer.cli import main

    whole, cut = tmp_path / "whole.png", tmp_path / "cut.png"
    assert main(["render", str(DEMO_PROJECT), "--out", str(whole), "--size", "320x200", "--view",
                 "back"]) == 0
    assert main(["render", str(DEMO_PROJECT), "--out", str(cut), "--size", "320x200", "--view", "back",
                 "--section", "y:0.5"]) == 0
    a = np.asarray(Image.open(whole).convert("RGB")).astype(int)
    b = np.asarray(Image.open(cut).convert("RGB")).astype(int)
    assert (np.abs(a - b).sum(axis=2) > 30).mean() > 0.02, "the cut shows"
    for bad, message in (("w", "unknown section axis"), ("x:2", "from 0 to 1")):
        result = run("render", str(DEMO_PROJECT), "--out", str(tmp_path / "x.png"), "--section", bad)
        assert result.returncode == 2 and message in result.stderr


@pytest.mark.parametrize("content, name", [
    (b"", "empty.stl"),
    (b"\x89PNG\r\n\x1a\n" + bytes(300), "picture.stl"),
    (b"not a mesh at all", "thing.xyz"),
    (b"[asset\nname = 1\n", "broken.twin.toml"),
])
@pytest.mark.vtk
def test_bad_input_is_one_line_and_exit_2(tmp_path, content, name):
    bad = tmp_path / name
    bad.write_bytes(content)
    result = run("render", str(bad), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twinviewer: error:"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.vtk
def test_missing_file_and_bad_options(tmp_path):
    result = run("render", str(tmp_path / "nope.glb"), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "no such file" in result.stderr
    result = run("render", str(DEMO_PROJECT), "--out", str(tmp_path / "x.png"), "--size", "huge")
    assert result.returncode == 2 and "WIDTHxHEIGHT" in result.stderr
    result = run("render", str(DEMO_PROJECT), "--out", str(tmp_path / "x.png"), "--hide", "flux_capacitor")
    assert result.returncode == 2 and "flux_capacitor" in result.stderr


def test_window_command_refuses_a_missing_file_before_opening_a_window(tmp_path):
    result = run(str(tmp_path / "missing.glb"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_window_without_a_display_says_what_to_do():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([*TWINVIEWER, str(DEMO_PROJECT)], capture_output=True, text=True, timeout=60,
                            cwd=REPO, env=env)
    assert result.returncode == 2
    assert "no display" in result.stderr and "xvfb-run" in result.stderr
