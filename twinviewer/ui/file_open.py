"""Files handed to the running app by the desktop (macOS Finder's "open document" events) open in the window.

On macOS a double-clicked ``*.twin.toml`` or ``*.twinbundle`` reaches the app as a ``QFileOpenEvent``, both
at launch and while it runs, not as a command-line argument. Elsewhere the event never comes and this
filter costs nothing. :func:`open_file` is also how ``twinviewer FILE`` opens its file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer


def open_file(window, path: Path) -> None:
    """A file handed over by the command line or the desktop: an incident bundle (``*.twinbundle``) opens as
    one (through the window's drop handlers, which know bundles), anything else as a twin."""
    if path.suffix.lower() == ".twinbundle":
        window.open_dropped([path])
    else:
        window.open_path(path)


class FileOpenHandler(QObject):
    """Installed on the QApplication: opens each file the desktop hands over in ``window``. A file that
    arrives while another is loading (the demo twin, at a launch by double-click) opens right after it."""

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.pending: Path | None = None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.FileOpen and event.file():
            self.open(Path(event.file()))
            return True
        return False

    def open(self, path: Path) -> None:
        task = getattr(self.window, "task", None)
        if task is not None and task.running:
            if self.pending is None:
                task.finished.connect(lambda: QTimer.singleShot(0, self._open_pending))
            self.pending = path  # the latest file wins
            return
        open_file(self.window, path)

    def _open_pending(self) -> None:
        path, self.pending = self.pending, None
        if path is not None:
            self.open(path)
