"""Long work off the GUI thread, with a progress dialog and a cancel button.

``run_task(parent, title, work, on_done, on_error)`` runs ``work(progress, cancelled)`` on a QThread.
``progress(fraction, message)`` may be called from the worker; ``cancelled()`` returns True once the user
pressed Cancel, and the worker should then raise :class:`twinviewer.core.errors.CancelledError`.
The callbacks run on the GUI thread. ``stop_all_tasks()`` cancels and waits for every task still running
(the window calls it when it closes: Qt aborts the process if a QThread is destroyed while it runs).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget
from shiboken6 import isValid

from twinviewer.core.errors import CancelledError

Work = Callable[[Callable[[float, str], None], Callable[[], bool]], Any]
_RUNNING: set[Task] = set()


class _Worker(QThread):
    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object, str)

    def __init__(self, work: Work, parent: QObject | None = None):
        super().__init__(parent)
        self._work = work
        self.cancel_event = threading.Event()

    def run(self) -> None:  # runs on the worker thread
        try:
            result = self._work(lambda f, m="": self.progressed.emit(float(f), str(m)),
                                self.cancel_event.is_set)
        except BaseException as exc:  # reported to the GUI thread, never raised into Qt
            self.failed.emit(exc, traceback.format_exc())
            return
        if self.cancel_event.is_set():
            self.failed.emit(CancelledError("cancelled"), "")
        else:
            self.succeeded.emit(result)


class Task(QObject):
    """One running piece of work and its progress dialog; keep a reference until it finishes."""

    finished = Signal()

    def __init__(self, parent: QWidget, title: str, work: Work, on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException, str], None], show_dialog: bool = True):
        super().__init__(parent)
        self.title = title
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False  # True once the result or error has been handed to the callbacks
        self._on_done, self._on_error = on_done, on_error
        self.dialog: QProgressDialog | None = None
        if show_dialog:
            self.dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
            self.dialog.setWindowTitle("TwinViewer")
            self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.dialog.setMinimumDuration(400)
            self.dialog.setAutoClose(False)
            self.dialog.setAutoReset(False)
            self.dialog.setValue(0)
            self.dialog.canceled.connect(self.cancel)
        self.worker = _Worker(work)
        self.worker.progressed.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_succeeded)
        self.worker.failed.connect(self._on_failed)
        _RUNNING.add(self)
        self.worker.finished.connect(lambda: _RUNNING.discard(self))
        self.worker.start()

    @property
    def running(self) -> bool:
        return self.worker.isRunning()

    def cancel(self) -> None:
        self.worker.cancel_event.set()
        if self.dialog is not None:
            self.dialog.setLabelText(f"{self.title}\nCancelling…")

    def _on_progress(self, fraction: float, message: str) -> None:
        dialog = self.dialog
        # The dialog may already be gone on the C++ side (its window closed while the work ran).
        if dialog is None or not isValid(dialog) or self.worker.cancel_event.is_set():
            return
        if message:
            dialog.setLabelText(f"{self.title}\n{message}")
        # setValue() of a modal progress dialog processes events, which may finish the task and close it.
        dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _close(self) -> None:
        self.worker.wait()
        dialog, self.dialog = self.dialog, None
        if dialog is not None and isValid(dialog):
            dialog.reset()
            dialog.hide()
            dialog.deleteLater()

    def _on_succeeded(self, result: Any) -> None:
        self._close()
        self.result = result
        try:
            self._on_done(result)
        finally:
            self.done = True
            self.finished.emit()

    def _on_failed(self, exc: BaseException, details: str) -> None:
        self._close()
        self.error = exc
        try:
            self._on_error(exc, details)
        finally:
            self.done = True
            self.finished.emit()


def stop_all_tasks(timeout_s: float = 10.0) -> None:
    """Ask every running task to cancel, then wait for each one's thread."""
    running = [task for task in _RUNNING if task.running]
    for task in running:
        task.cancel()
    for task in running:
        task.worker.wait(int(timeout_s * 1000))


def run_task(parent: QWidget, title: str, work: Work, on_done: Callable[[Any], None],
             on_error: Callable[[BaseException, str], None], show_dialog: bool = True) -> Task:
    return Task(parent, title, work, on_done, on_error, show_dialog)
