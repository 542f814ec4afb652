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
