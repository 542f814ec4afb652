"""The installable bundle (``make test-dist``): unpack the Linux archive, install it, and use it as a technician
would, from a clean folder with an empty HOME, no Python on PATH and, where the machine allows, no network.

Runs only when ``TWINVIEWER_DIST_ARCHIVE`` names the ``twinviewer-*-linux-*.tar.gz`` that ``make dist`` built
(``make test-dist`` sets it); skipped otherwise, so ``make test`` does not build the bundle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.mqtt_broker import MOSQUITTO, MosquittoBroker

ARCHIVE = os.environ.get("TWINVIEWER_DIST_ARCHIVE")
pytestmark = [pytest.mark.dist, pytest.mark.skipif(not ARCHIVE, reason="set TWINVIEWER_DIST_ARCHIVE (make test-dist)")]


def _offline_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with no network at all) where the machine lets us make one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


OFFLINE = _offline_prefix()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The archive unpacked and installed with ``install.sh --prefix``; yields (prefix, clean environment)."""
    root = tmp_path_factory.mktemp("dist")
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(root, filter="tar")
    (unpacked,) = [p for p in root.iterdir() if p.is_dir()]
    home, empty_bin, runtime = root / "home", root / "bin", root / "run"
    for folder in (home, empty_bin, runtime):
        folder.mkdir()
    runtime.chmod(0o700)
    env = {"HOME": str(home), "PATH": f"{empty_bin}:/usr/bin:/bin", "LANG": "C.UTF-8",
           "XDG_RUNTIME_DIR": str(runtime), "TWINVIEWER_CACHE_DIR": str(root / "cache")}
    prefix = root / "prefix"
    done = subprocess.run(["sh", str(unpacked / "install.sh"), "--prefix", str(prefix)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # Only the system's folders on PATH: no virtual environment, and the bundle must not need a Python.
    env["PATH"] = "/usr/bin:/bin"
    work = root / "work"
    work.mkdir()
    yield prefix, env, work


def run_app(installed, *args, offline: bool = True, timeout: float = 180, extra_env=None):
    prefix, env, work = installed
    command = [*(OFFLINE if offline else []), str(prefix / "bin" / "twinviewer"), *map(str, args)]
    return subprocess.run(command, cwd=work, env={**env, **(extra_env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def assert_picture(path: Path) -> None:
    """The PNG shows something: a good share of pixels differ from the background at their row's left edge."""
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    differs = np.abs(pixels - pixels[:, :1, :]).max(axis=2) > 40
    assert differs.mean() > 0.02, f"{path.name}: only {differs.mean():.1%} of the pixels differ from the background"


def test_install_puts_menu_entry_file_types_and_icons_in_place(installed):
    prefix, _env, _work = installed
    app = prefix / "lib" / "twinviewer" / "twinviewer"
    assert (prefix / "bin" / "twinviewer").resolve() == app.resolve()
    desktop = (prefix / "share" / "applications" / "twinviewer.desktop").read_text()
    assert f'Exec="{app}" %f' in desktop
    assert "application/x-twinviewer-project;application/x-twinviewer-bundle;" in desktop
    mime = (prefix / "share" / "mime" / "packages" / "twinviewer.xml").read_text()
    assert 'pattern="*.twin.toml"' in mime and 'pattern="*.twinbundle"' in mime
    for icon in ("scalable/apps/twinviewer.svg", "scalable/mimetypes/application-x-twinviewer-project.svg",
                 "256x256/mimetypes/application-x-twinviewer-bundle.png"):
        assert (prefix / "share" / "icons" / "hicolor" / icon).is_file(), icon
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(prefix / "share" / "applications" / "twinviewer.desktop")],
                               capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    if shutil.which("update-mime-database"):  # the database desktops read was rebuilt with our types
        globs = (prefix / "share" / "mime" / "globs2").read_text()
        assert "application/x-twinviewer-project:*.twin.toml" in globs
        assert "application/x-twinviewer-bundle:*.twinbundle" in globs


def test_render_demo_twin_offline(installed):
    prefix, _env, work = installed
    demo = prefix / "lib" / "twinviewer" / "demo" / "demo.twin.toml"
    done = run_app(installed, "render", demo, "--out", "demo.png")
    assert done.returncode == 0, done.stderr
    assert_picture(work / "demo.png")


def test_render_real_meshes_offline(installed, shared_data):
    """An STL, and a STEP file: STEP is converted in a child process started as ``-m twinviewer...``."""
    _prefix, _env, work = installed
    for mesh, out in ((shared_data / "meshes" / "stl" / "counter.unitsmm.STL", "stl.png"),
                      (shared_data / "meshes" / "step" / "as1-oc-214.stp", "step.png")):
        done = run_app(installed, "render", mesh, "--out", out)
        assert done.returncode == 0, f"{mesh.name}: {done.stderr}"
        assert_picture(work / out)


def test_simulate_then_render_the_recording(installed):
    prefix, _env, work = installed
    demo = prefix / "lib" / "twinviewer" / "demo"
    done = run_app(installed, "simulate", demo / "scenarios" / "bearing_wear_de.toml", "--out", "wear.parquet")
    assert done.returncode == 0, done.stderr
    assert (work / "wear.parquet").stat().st_size > 1000
    done = run_app(installed, "render", demo / "demo.twin.toml", "--recording", "wear.parquet",
                   "--overlay", "status", "--out", "wear.png")
    assert done.returncode == 0, done.stderr
    assert_picture(work / "wear.png")


def test_incident_bundle_report_and_video(installed):
    """The incident verbs: a bundle of ten minutes, a PDF report from it, and an MP4 clip (bundled ffmpeg)."""
    prefix, _env, work = installed
    demo = prefix / "lib" / "twinviewer" / "demo"
    recording = demo / "recordings" / "incident.parquet"
    (work / "pump").mkdir()
    for name in ("demo.twin.toml", "pump_skid.glb"):  # the demo's project and model, not its detector model
        shutil.copy(demo / name, work / "pump" / name)
    shutil.copytree(demo / "scenarios", work / "pump" / "scenarios")
    done = run_app(installed, "bundle", work / "pump" / "demo.twin.toml", "--recording", recording, "--from",
                   "+0s", "--to", "+600s", "--out", "case.twinbundle")
    assert done.returncode == 0, done.stderr
    done = run_app(installed, "report", "case.twinbundle", "--out", "case.pdf")
    assert done.returncode == 0, done.stderr
    assert (work / "case.pdf").read_bytes()[:5] == b"%PDF-"
    done = run_app(installed, "video", "case.twinbundle", "--out", "case.mp4", "--speed", "300", "--fps", "5",
                   "--size", "320x240")
    assert done.returncode == 0, done.stderr
    assert b"ftyp" in (work / "case.mp4").read_bytes()[:64]


def test_query_runs_sql_over_a_recording(installed):
    """DuckDB, bundled: ``query`` counts the demo recording's samples per sensor."""
    prefix, _env, _work = installed
    demo = prefix / "lib" / "twinviewer" / "demo"
    done = run_app(installed, "query", demo / "demo.twin.toml", "SELECT count(DISTINCT sensor) AS n FROM samples",
                   "--recording", demo / "recordings" / "normal_operation.parquet")
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) >= 10


def test_bad_input_is_one_line_and_exit_2(installed):
    done = run_app(installed, "render", "no-such.glb", "--out", "x.png")
    assert done.returncode == 2
    assert done.stderr.startswith("twinviewer") and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.mqtt
@pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed")
def test_publish_and_record_through_a_local_broker(installed, tmp_path):
    """The bundled live example, pointed at a local broker: ``publish`` replays, ``record`` writes Parquet."""
    prefix, env, work = installed
    app_dir = prefix / "lib" / "twinviewer"
    broker = MosquittoBroker(tmp_path)
    broker.start()
    try:
        live = (app_dir / "examples" / "demo-live.twin.toml").read_text()
        project = app_dir / "examples" / "test-live.twin.toml"  # beside the original: the model path holds
        project.write_text(live.replace("port = 1883", f"port = {broker.port}", 1))
        recorder = subprocess.Popen([str(prefix / "bin" / "twinviewer"), "record", str(project), "--out",
                                     "live.parquet", "--duration", "8"], cwd=work, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = recorder.stdout.readline()
        assert first.startswith("recording 1 source "), first + recorder.stderr.read()
        time.sleep(1.5)  # the recorder connects and subscribes
        publish = run_app(installed, "publish", app_dir / "demo" / "recordings" / "normal_operation.parquet",
                          "--broker", f"127.0.0.1:{broker.port}", "--speed", "600", "--limit", "3000", "--quiet",
                          offline=False)
        out, err = recorder.communicate(timeout=60)
        out = first + out
        assert publish.returncode == 0, publish.stderr
        assert recorder.returncode == 0, err
        assert (work / "live.parquet").stat().st_size > 500, out
    finally:
        broker.stop()


def test_window_opens_the_demo_and_closes_cleanly(installed):
    """The GUI under Xvfb (pytest-xvfb's display): first frame with the model, closed after 3 s, exit 0, and
    nothing on stderr."""
    display = os.environ.get("DISPLAY")
    if not display:
        pytest.skip("no X display (pytest-xvfb provides one)")
    done = run_app(installed, "--quit-after", "3", extra_env={"DISPLAY": display}, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "first frame shown" in done.stdout
    assert done.stderr == ""


def test_uninstall_removes_everything_it_installed(installed):
    prefix, env, _work = installed
    uninstaller = prefix / "lib" / "twinviewer" / "uninstall.sh"
    done = subprocess.run(["sh", str(uninstaller)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not (prefix / "lib" / "twinviewer").exists()
    assert not (prefix / "bin" / "twinviewer").exists()
    assert not (prefix / "share" / "applications" / "twinviewer.desktop").exists()
    assert not (prefix / "share" / "mime" / "packages" / "twinviewer.xml").exists()
