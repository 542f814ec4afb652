"""The composition root, the one place that assembles the application: the QApplication, the adapters (the
app's settings, the OS keyring for live sources' passwords, the recordings folder), the Qt-free live
controller (``sources.live.LiveController``) and the main window they are handed to; then the first twin."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def create_application(argv: list[str] | None = None):
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("TwinViewer")
    app.setOrganizationName("TwinViewer")
    return app


def build_window(settings=None, secret_store=None):
    """The main window with its services: ``settings`` (a ``QSettings``; the user's by default) and
    ``secret_store`` (where remembered passwords live; the OS keyring in :func:`run`). The window's live panel
    shows the :class:`~twinviewer.sources.live.LiveController` built here; it builds none itself."""
    from PySide6.QtCore import QSettings

    from twinviewer.io.recordings_folder import RecordingsFolder
    from twinviewer.sources.live import LiveController
    from twinviewer.ui.main_window import MainWindow

    settings = settings if settings is not None else QSettings("TwinViewer", "TwinViewer")
    recordings = RecordingsFolder(settings)
    live = LiveController(recordings.path, secret_store=secret_store)
    return MainWindow(settings=settings, secret_store=secret_store, live=live, recordings=recordings)


def run(target: str | None = None, quit_after: float | None = None) -> int:
    """Open the window with ``target`` (project or mesh) or the demo twin, and run until it closes (or
    ``quit_after`` seconds after the first frame showing the model, see :mod:`twinviewer.ui.autoquit`)."""
    app, window = launch(target, quit_after)
    return app.exec()


def launch(target: str | None = None, quit_after: float | None = None, size: tuple[int, int] | None = None,
           settings=None):
    """Everything ``run`` does before the event loop: (QApplication, shown main window opening ``target``).
    The start-up benchmark calls it too, so that it measures exactly what a user waits for. ``settings``: a
    ``QSettings`` (the user's by default)."""
    app = create_application()
    from twinviewer.paths import demo_project_path
    from twinviewer.ui.tasks import stop_all_tasks

    app.aboutToQuit.connect(stop_all_tasks)  # whichever way the app quits, no worker thread is left running

    from PySide6.QtCore import QSettings

    from twinviewer.io.keyring_store import SystemKeyring

    settings = settings if settings is not None else QSettings("TwinViewer", "TwinViewer")
    first = Path(target) if target else demo_project_path()
    early = start_reading(first, settings)  # overlaps with building the window (about 0.6 s)
    window = build_window(settings, secret_store=SystemKeyring())  # the keyring remembers live passwords
    window.early_open = early
    from twinviewer.ui.file_open import FileOpenHandler, open_file

    file_open = FileOpenHandler(window, app)  # macOS: documents double-clicked in Finder
    app.installEventFilter(file_open)
    window._file_open_handler = file_open  # kept alive with the window
    if quit_after is not None:
        from twinviewer.ui.autoquit import quit_after_first_frame

        quit_after_first_frame(window, quit_after)
    if size is not None:
        window.resize(*size)
    window.show()
    open_file(window, first)  # an incident bundle opens at its saved state, anything else as a twin
    return app, window


def start_reading(path: Path, settings):
    """Start reading the mesh the window will open first (an ``EarlyOpen``), or None for what the window
    reads itself (projects, bundles, formats whose readers import on demand)."""
    from twinviewer.ui.twin_loading import EarlyOpen

    if not EarlyOpen.suits(path):
        return None
    from twinviewer.ui.units import remembered_units

    return EarlyOpen(path, split_bodies=False, units=remembered_units(settings, path))
