"""Plant-scale history in the window: dataset folders and the project's ``[[history]]`` databases.

``install(window)`` (listed in ``PANEL_MODULES``) adds to the Data menu

- "Open dataset folder…": a folder written by ``twinviewer convert --out FOLDER`` (or any folder of
  ``date=YYYY-MM-DD/*.parquet`` partitions) opens lazily through the recording panel, like a dropped folder;
- "Connect the project's history": the project's first ``[[history]]`` entry (PostgreSQL) becomes the
  session's data, with a live store in front of it so MQTT/OPC UA values join the same timeline. It is
  connected by itself when a twin with a ``[[history]]`` entry opens.

While a lazy history is shown, its ``status`` (e.g. "History database unreachable …, retrying") is put in
the status bar whenever it changes, and "History: back online" once it recovers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import TwinViewerError


class HistoryPanel:
    def __init__(self, window, current: CurrentSession):
        self.window = window
        self.current = current  # the open twin and session, and their signals
        self.shown_status = ""
        menu = window.menu("&Data")
        self.open_folder_action = menu.addAction("Open &dataset folder…", self.open_folder_dialog)
        self.open_folder_action.setStatusTip("Open a folder of day-partitioned Parquet files (years of data, "
                                             "read lazily)")
        self.connect_action = menu.addAction("Connect the project's &history", self.connect_history)
        self.connect_action.setStatusTip("Read older values from the project's [[history]] database")
        menu.aboutToShow.connect(self._update_menu)
        window.twin_opened.connect(self._twin_opened)
        window.frame_shown.connect(self._frame_shown)
        self._update_menu()

    def _update_menu(self) -> None:
        twin = self.current.twin
        self.open_folder_action.setEnabled(twin is not None)
        self.connect_action.setEnabled(twin is not None and bool(getattr(twin.project, "history", None)))

    def open_folder_dialog(self) -> None:
        window = self.window
        start = window.settings.value("last_recording_dir", str(Path.home()))
        folder = QFileDialog.getExistingDirectory(window, "Open dataset folder", start)
        if folder:
            window.settings.setValue("last_recording_dir", str(Path(folder).parent))
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path):
        """Open a dataset folder as the session's recording (off the GUI thread, through the recording panel)."""
        from twinviewer.io.dataset import is_dataset_folder

        if not is_dataset_folder(folder):
            self.window.show_error("Not a dataset folder", f"{folder} holds no date=YYYY-MM-DD partitions of "
                                   "Parquet files (write one with `twinviewer convert … --out FOLDER`).")
            return None
        panel = self.window.panels.get("recording_panel")
        return panel.import_files([folder], {}, show_report=False) if panel is not None else None

    def _twin_opened(self, twin) -> None:
        self.shown_status = ""
        if getattr(twin.project, "history", None):
            self.connect_history()

    def connect_history(self) -> None:
        """Show the project's first ``[[history]]`` database behind a live store (queries run off the GUI
        thread; the timeline fills in as answers arrive)."""
        from twinviewer.sources.postgres import open_history

        window = self.window
        if self.current.twin is None or self.current.session is None or not self.current.twin.project.history:
            return
        config = self.current.twin.project.history[0]
        live = window.panels.get("live_panel")
        try:
            history = open_history(config, self.current.twin.project, getattr(live, "ask_password", None))
        except TwinViewerError as exc:
            window.show_error("Cannot connect the history", str(exc))
            return
        session = self.current.session
        session.attach_history(history, name=config.name or config.table)  # -> recording_changed
        window.show_status(f"History: connecting to {config.describe()}…")

    def _frame_shown(self, _frame) -> None:
        session = self.current.session
        if session is None:
            return
        status = getattr(session.store, "status", "") or ""
        if status != self.shown_status:
            was_connecting = self.shown_status.startswith("History: connecting")
            self.window.show_status(status or ("History: connected" if was_connecting else "History: back online"))
            self.shown_status = status


def install(window) -> HistoryPanel:
    return HistoryPanel(window, window.current)
