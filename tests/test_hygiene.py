"""The suite's own rule: a test that leaves a window or a render window open fails (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LEAKY = '''
import pytest

KEPT = []  # what a careless test keeps alive (a module global, a cache, a window's attribute)

def test_leaves_an_offscreen_view(blocks_twin):
    from twinviewer.render.offscreen import OffscreenView

    KEPT.append(OffscreenView(blocks_twin, (64, 48)))

@pytest.mark.gui
def test_leaves_a_dialog(qtbot):
    from PySide6.QtWidgets import QDialog

    dialog = QDialog()
    dialog.setWindowTitle("forgotten")
    dialog.show()
    KEPT.append(dialog)

def test_closes_what_it_opens(blocks_twin):
    from twinviewer.render.offscreen import OffscreenView

    OffscreenView(blocks_twin, (64, 48)).close()
'''


@pytest.mark.gui
def test_a_test_that_leaves_windows_open_fails(tmp_path):
    pytest.importorskip("pytestqt")
    test_file = tmp_path / "test_leaky.py"
    test_file.write_text(textwrap.dedent(LEAKY), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xvfb", "-p", "tests.conftest",
                           "-W", "ignore::pytest.PytestUnknownMarkWarning", "--rootdir", str(tmp_path),
                           str(test_file)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "test_leaves_an_offscreen_view left open: OffscreenView of blocks.twin.toml" in out, out
    assert "test_leaves_a_dialog left open: QDialog 'forgotten'" in out, out
    assert "3 passed, 2 errors" in out, out
