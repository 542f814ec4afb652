"""How the window is launched from outside: ``--quit-after`` (smoke tests, start-up timing) and files the
desktop hands to the running app (macOS "open document" events, delivered by Qt as ``QFileOpenEvent``)."""

from __future__ import annotations

import pytest
import trimesh
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window
from twinviewer.cli import main
from twinviewer.ui.autoquit import quit_after_first_frame
from twinviewer.ui.file_open import FileOpenHandler

pytestmark = pytest.mark.gui


def test_quit_after_closes_the_window_once_the_model_is_drawn(qtbot, tmp_path, capsys):
    window = new_window(qtbot, tmp_path)
    quit_after_first_frame(window, 0.2)
    window.open_path(DEMO_PROJECT)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)
    assert window.twin is not None and window.twin.project.asset.name
    assert "twinviewer: first frame shown; closing in 0.2 s" in capsys.readouterr().out


def test_quit_after_out_of_range_is_refused(capsys):
    assert main(["open", "--quit-after", "-1"]) == 2
    assert "--quit-after -1: must be between 0 and 86400 seconds" in capsys.readouterr().err


def test_file_handed_over_while_the_demo_loads_opens_right_after_it(qtbot, tmp_path):
    mesh = tmp_path / "block.stl"
    trimesh.creation.box(extents=(1, 2, 3)).export(mesh)
    window = new_window(qtbot, tmp_path)
    handler = FileOpenHandler(window)
    QApplication.instance().installEventFilter(handler)
    try:
        window.open_path(DEMO_PROJECT)  # as at a launch by double-click: the demo is loading
        QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(mesh)))
        qtbot.waitUntil(lambda: window.twin is not None and window.twin.model.n_triangles == 12, timeout=60000)
        assert window.last_error is None
    finally:
        QApplication.instance().removeEventFilter(handler)
        window.close()


def test_incident_bundle_handed_over_opens_as_a_bundle(qtbot, tmp_path):
    """``twinviewer case.twinbundle`` and a double-click on one: the bundle's project opens, not an error."""
    import shutil

    from twinviewer.ui.file_open import open_file

    bundle = tmp_path / "case.twinbundle"
    project = tmp_path / "pump" / DEMO_PROJECT.name  # the demo's project and model, without its detector model
    project.parent.mkdir()
    for name in (DEMO_PROJECT.name, "pump_skid.glb"):
        shutil.copy(DEMO_PROJECT.parent / name, project.parent / name)
    shutil.copytree(DEMO_PROJECT.parent / "scenarios", project.parent / "scenarios")
    recording = DEMO_PROJECT.parent / "recordings" / "incident.parquet"
    assert main(["bundle", str(project), "--recording", str(recording), "--from", "+5s", "--to", "+20s",
                 "--out", str(bundle)]) == 0
    window = new_window(qtbot, tmp_path)
    try:
        open_file(window, bundle)
        qtbot.waitUntil(lambda: window.twin is not None and window.session is not None
                        and window.session.has_data, timeout=60000)
        assert window.last_error is None
        assert window.twin.project.asset.name == "Centrifugal pump skid P-101"
    finally:
        window.close()


def _launched(qtbot, tmp_path, target):
    from PySide6.QtCore import QSettings

    from twinviewer.app import launch

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    _app, window = launch(str(target), size=(1200, 800), settings=settings)
    qtbot.addWidget(window)
    return window


def test_launch_reads_a_big_mesh_while_the_window_is_built(qtbot, tmp_path, monkeypatch):
    """``twinviewer part.stl``: the file is read in a thread started before the window is built, and the window
    shows that read's model (it does not read the file a second time)."""
    import threading

    from twinviewer.ui import twin_loading

    reads = []
    real_read = twin_loading.read_twin

    def watched_read(*args, **kwargs):
        reads.append(threading.current_thread().name)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(twin_loading, "read_twin", watched_read)
    mesh = tmp_path / "pump_casing.stl"
    trimesh.creation.icosphere(subdivisions=6).export(mesh)  # 81,920 triangles
    window = _launched(qtbot, tmp_path, mesh)
    try:
        qtbot.waitUntil(lambda: window.twin is not None, timeout=60000)
        assert reads == ["twinviewer-early-open"], "read once, on the thread started before the window"
        assert window.early_open is None, "the window took the early read"
        assert window.last_error is None
        assert window.twin.model.n_triangles == 81_920
        assert window.scene.parts and window.model_label.text().startswith("1 part · 81,920 triangles · 0 sensors")
    finally:
        window.close()


def test_launch_with_a_broken_mesh_says_so_in_the_window(qtbot, tmp_path):
    mesh = tmp_path / "cut.stl"
    mesh.write_bytes(b"\0" * 80 + (1000).to_bytes(4, "little") + b"\0" * 500)  # declares 1000 triangles, holds 10
    window = _launched(qtbot, tmp_path, mesh)
    try:
        qtbot.waitUntil(lambda: window.last_error is not None, timeout=60000)
        assert "cut.stl" in window.last_error and "truncated" in window.last_error
        assert window.twin is None
    finally:
        window.close()


def test_the_early_read_imports_nothing_on_its_thread(shared_data, tmp_path):
    """Two threads importing at once can get a half-initialised module; the launch's early read must find
    everything imported before its thread starts (checked in a fresh interpreter, on real files)."""
    import subprocess
    import sys

    files = [shared_data / "meshes" / "stl" / "counter.unitsmm.STL",
             shared_data / "meshes" / "stl" / "fan_blade_catia_ascii_crlf.stl",
             shared_data / "meshes" / "stl" / "openfoam_flange_4solids_ascii.stl",
             shared_data / "meshes" / "obj" / "openfoam_propeller_2groups.obj"]
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from twinviewer.ui.twin_loading import prepare_imports, read_twin, EarlyOpen\n"
        "prepare_imports()\n"
        "before = set(sys.modules)\n"
        "for name in sys.argv[1:]:\n"
        "    assert EarlyOpen.suits(Path(name)), name\n"
        "    twin = read_twin(Path(name), lambda *a: None, lambda: False, False, 'mm')\n"
        "    assert twin.model.n_triangles > 0\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *map(str, files)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"imported on the reading thread: {done.stdout.strip()}"
