"""The composition root: builds the QApplication and the main window (with the adapters the core is handed:
the OS keyring for live sources' passwords) and opens the first twin."""

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


def run(target: str | None = None, quit_after: float | None = None) -> int:
    """Open the window with ``target`` (project or mesh) or the demo twin, and run until it closes (or
    ``quit_after`` seconds after the first frame showing the model, see :mod:`twinviewer.ui.autoquit`)."""
    app = create_application()
    from twinviewer.paths import demo_project_path
    from twinviewer.ui.main_window import MainWindow
    from twinviewer.ui.tasks import stop_all_tasks

    app.aboutToQuit.connect(stop_all_tasks)  # whichever way the app quits, no worker thread is left running

    from twinviewer.io.keyring_store import SystemKeyring

    window = MainWindow(secret_store=SystemKeyring())  # the OS keyring remembers live sources' passwords
    from twinviewer.ui.file_open import FileOpenHandler, open_file

    file_open = FileOpenHandler(window, app)  # macOS: documents double-clicked in Finder
    app.installEventFilter(file_open)
    if quit_after is not None:
        from twinviewer.ui.autoquit import quit_after_first_frame

        quit_after_first_frame(window, quit_after)
    window.show()
    if target:
        open_file(window, Path(target))  # an incident bundle opens at its saved state, anything else as a twin
    else:
        window.open_path(demo_project_path())
    return app.exec()
