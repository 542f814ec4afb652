"""Helpers for window tests: a shown main window with its own settings file, and opening a file in it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings


def new_window(qtbot, tmp_path: Path, size: tuple[int, int] = (1400, 900),
               settings_values: dict | None = None):
    """A shown MainWindow whose QSettings live in ``tmp_path`` (no test touches the user's settings)."""
    from twinviewer.app import build_window
    from twinviewer.io.keyring_store import SystemKeyring

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in (settings_values or {}).items():
        settings.setValue(key, value)
    window = build_window(settings=settings, secret_store=SystemKeyring())  # as app.py builds it
    window.resize(*size)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_and_wait(qtbot, window, path, timeout: int = 30000, expect_ok: bool = True) -> None:
    """Open a project or mesh and wait until it is shown (or refused, when ``expect_ok`` is False)."""
    before = window.twin
    window.open_path(path)
    qtbot.waitUntil(lambda: window.task is not None and window.task.done and
                    (window.twin is not before or window.last_error is not None), timeout=timeout)
    qtbot.wait(20)
    if expect_ok:
        assert window.last_error is None, window.last_error
