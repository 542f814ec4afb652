"""Live data in the window: MQTT / OPC UA sources, their status-bar indicators, the Live menu, the journal.

``install(window)`` (listed in ``PANEL_MODULES``) builds a :class:`LivePanel` that shows the window's
:class:`~twinviewer.sources.live.LiveController` and its :class:`~twinviewer.io.recordings_folder.
RecordingsFolder`, both built by ``app.build_window`` (a window built without them has no Live menu). It

- when a twin opens, hands it to the controller (Qt-free: the sources,
  the journal ``<recording folder>/<asset>-<UTC time>.journal``, recovery, rates), which starts its
  ``mqtt`` and ``opcua`` sources. Sources stop and the journal closes when another twin opens or the window
  closes;
- asks for passwords (environment → keyring → a password dialog on the GUI thread) and never shows them;
- shows one indicator per source in the status bar (coloured dot, name, state), refreshed four times a
  second from ``status()``/``stats()``, with the counters, rate, rejected payloads and last error in its
  tooltip, plus a REC badge for the journal;
- keeps the live clock running on wall time while no data comes in, so the last values stay on screen and
  turn stale by the store's own rule (``expected_period_s`` × stale factor);
- adds the Live menu: Connect / Disconnect all, Sources…, Browse OPC UA server…, Go live (End),
  Recordings… (export a journal to Parquet or CSV, load it on the timeline), Recover recording…, and the
  recording folder;
- on the first twin opened, looks for journals a crash left behind (a ``-wal`` file that no running
  process holds) and offers to load or export them.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QWidget

from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import CancelledError, TwinViewerError
from twinviewer.core.formatting import format_time
from twinviewer.core.secrets import PromptAnswer
from twinviewer.io.journal_files import JOURNAL_SUFFIX
from twinviewer.io.recordings_folder import RecordingsFolder
from twinviewer.sources.live import LiveController, LiveEntry
from twinviewer.ui.live_dialogs import RECOVER_INTRO, JournalsDialog, PasswordDialog
from twinviewer.ui.live_status import SourceIndicator

REFRESH_INTERVAL_MS = 250


class _GuiThreadCall(QObject):
    """Runs a function on the GUI thread and waits for its result (sources may ask from their thread)."""

    request = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.request.connect(self._run, Qt.ConnectionType.BlockingQueuedConnection)

    @staticmethod
    def _run(job) -> None:
        job()

    def __call__(self, function, *args):
        if QThread.currentThread() is self.thread():
            return function(*args)
        result: list[Any] = []
        self.request.emit(lambda: result.append(function(*args)))
        return result[0] if result else None


# ----- the panel ------------------------------------------------------------------------------------------
class LivePanel(QObject):
    """The window's live-data features; see the module docstring."""

    def __init__(self, window, current: CurrentSession, live: LiveController, recordings: RecordingsFolder):
        super().__init__(window)
        self.window = window
        self.current = current
        self.live = live
        self.recordings = recordings
        live.password_prompt = self.ask_password  # the controller asks; the panel shows the dialog
        self.live.status.connect(lambda text: self.window.show_status(text))  # looked up when emitted
        self.task = None
        self.password_dialog: PasswordDialog | None = None
        self.sources_dialog = None
        self.browse_dialog = None
        self.recordings_dialog: JournalsDialog | None = None
        self._checked_crashes = False
        self._gui_call = _GuiThreadCall()

        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self.strip_layout.setSpacing(2)
        self.rec_label = QLabel()
        self.rec_label.setTextFormat(Qt.TextFormat.RichText)
        self.strip_layout.addWidget(self.rec_label)
        self.indicators: list[SourceIndicator] = []
        self.strip.setVisible(False)
        window.statusBar().addPermanentWidget(self.strip)

        self._build_menu()
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh_indicators)
        self.timer.start()
        window.twin_opened.connect(self._twin_opened)
        current.recording_changed.connect(self._recording_loaded)
        window.installEventFilter(self)

    @property
    def entries(self) -> list[LiveEntry]:
        return self.live.entries

    @property
    def journal(self) -> Any:
        return self.live.journal

    # ----- menu ----------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.window.menu("&Live")
        self.menu = menu
        self.connect_action = menu.addAction("&Connect all", self.connect_all)
        self.connect_action.setStatusTip("Start every live source of the project (MQTT, OPC UA)")
        self.disconnect_action = menu.addAction("&Disconnect all", self.disconnect_all)
        self.disconnect_action.setStatusTip("Stop every live source; the data received so far stays")
        menu.addSeparator()
        self.sources_action = menu.addAction("&Sources…", self.show_sources_dialog)
        self.sources_action.setStatusTip("The project's live sources: settings and statistics")
        self.browse_action = menu.addAction("&Browse OPC UA server…", self.show_browse_dialog)
        self.browse_action.setStatusTip("Pick variables of an OPC UA server and map them to sensors")
        menu.addSeparator()
        self.go_live_action = menu.addAction("&Go live", self.go_live)
        self.go_live_action.setShortcut(QKeySequence("End"))
        self.go_live_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.go_live_action.setStatusTip("Show the newest data and follow it (End)")
        self.window.addAction(self.go_live_action)
        menu.addSeparator()
        self.recordings_action = menu.addAction("&Recordings…", self.show_recordings_dialog)
        self.recordings_action.setStatusTip("Journals of live sessions: export to Parquet or CSV, view them")
        self.recover_action = menu.addAction("Recover &recording…", self.show_recover_dialog)
        self.recover_action.setStatusTip("Journals a crash left behind: load or export them")
        self.folder_action = menu.addAction("Recording &folder…", self.choose_recordings_dir)
        menu.aboutToShow.connect(self._update_menu)
        self._update_menu()

    def _update_menu(self) -> None:
        has_twin = self.current.twin is not None
        running = self.running_sources()
        self.connect_action.setEnabled(bool(self.entries) and len(running) < len(self.entries))
        self.disconnect_action.setEnabled(bool(running))
        self.sources_action.setEnabled(has_twin)
        self.browse_action.setEnabled(has_twin)
        self.go_live_action.setEnabled(bool(running))

    # ----- settings --------------------------------------------------------------------------------------
    @property
    def recordings_dir(self) -> Path:
        return self.recordings.path()

    @recordings_dir.setter
    def recordings_dir(self, folder: Path | str) -> None:
        self.recordings.set(folder)

    def choose_recordings_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Folder for live recordings (journals)",
                                                  str(self.recordings_dir))
        if folder:
            self.recordings_dir = folder
            self.window.show_status(f"Live sessions are recorded to {folder} (from the next connection)")

    def _pending(self) -> list[str]:
        return self.recordings.pending()

    def _set_pending(self, paths: list[str]) -> None:
        self.recordings.set_pending(paths)

    def resolve_pending(self, path: Path) -> None:
        """A recovered journal was loaded or exported (or dismissed): stop offering it."""
        self._set_pending([p for p in self._pending() if Path(p) != Path(path)])

    # ----- window signals -----------------------------------------------------------------------------
    def _twin_opened(self, twin) -> None:
        self.live.stop_live()
        if not self._checked_crashes:
            self._checked_crashes = True
            self.offer_recovery()
        self.live.open_twin(twin, self.current.session)
        self._rebuild_strip()
        if self.entries:
            self.connect_all()

    def _recording_loaded(self, session) -> None:
        if self.live.swapping:
            return
        if self.journal is not None and not session.sources:
            self.window.show_status("A recording was loaded: the live sources are stopped (Live → Connect "
                                    "all resumes live data).")
        self.refresh_indicators()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.stop_live()
        return False

    # ----- starting and stopping (the controller does the work) ---------------------------------------
    def running_sources(self) -> list[Any]:
        return self.live.running_sources()

    def ask_password(self, text: str) -> PromptAnswer | None:
        """The password dialog (GUI thread). The text typed goes to the source, and to the system keyring
        only if the user ticks "Remember"; it is never written anywhere else."""
        def ask() -> PromptAnswer | None:
            dialog = PasswordDialog(text, self.window)
            self.password_dialog = dialog
            try:
                if dialog.exec() != QDialog.DialogCode.Accepted:
                    return None
                return PromptAnswer(dialog.password.text(), dialog.remember.isChecked())
            finally:
                self.password_dialog = None
                dialog.deleteLater()

        return self._gui_call(ask)

    def start_entry(self, entry: LiveEntry) -> bool:
        return self.live.start_entry(entry)

    def connect_all(self) -> int:
        """Start every live source that is not running; returns how many run now."""
        count = self.live.connect_all()
        self.refresh_indicators()
        return count

    def disconnect_all(self) -> None:
        self.live.disconnect_all()
        self.refresh_indicators()

    def stop_live(self) -> None:
        self.live.stop_live()

    def add_live_source(self, config, *, password: str | None = None) -> LiveEntry:
        """Add a source to the running session (e.g. from the browse dialog) and start it."""
        entry = self.live.add_live_source(config, password=password)
        self._rebuild_strip()
        self.refresh_indicators()
        return entry

    def replace_config(self, entry: LiveEntry, config) -> None:
        """New settings for one source (Sources dialog): stop it, rebuild it, start it again."""
        self.live.replace_config(entry, config)
        self._rebuild_strip()

    def go_live(self) -> None:
        session = self.current.session
        if session is None or not session.sources:
            self.window.show_status("No live source is connected (Live → Connect all).")
            return
        session.clock.go_live()
        self.window.refresh_now()

    # ----- indicators ------------------------------------------------------------------------------------
    def _rebuild_strip(self) -> None:
        for indicator in self.indicators:
            self.strip_layout.removeWidget(indicator)
            indicator.deleteLater()
        self.indicators = [SourceIndicator(entry, self.strip) for entry in self.entries]
        for indicator in self.indicators:
            self.strip_layout.addWidget(indicator)
        self.strip.setVisible(bool(self.entries))

    def refresh_indicators(self) -> None:
        self._update_menu()  # keeps the End shortcut working without opening the menu
        if not self.entries:
            return
        self.live.measure_rates()
        for indicator in self.indicators:
            indicator.refresh()
        journal = self.journal
        if journal is not None and journal.error:
            # a write failure (disk full, permission, I/O) is said loudly, once, and stays on the label
            self.rec_label.setText("<span style='color:#c0392b; font-size:14px'>●</span> "
                                   "<b style='color:#c0392b'>REC FAILED</b>")
            self.rec_label.setToolTip(f"{escape(journal.error)}<br>{journal.written:,} samples are safe in "
                                      f"{escape(str(journal.path))}")
            if getattr(self, "_reported_journal_error", "") != journal.error:
                self._reported_journal_error = journal.error
                self.window.show_error("Recording failed", f"{journal.error}.\n\n{journal.written:,} samples "
                                       f"are safe in {journal.path}; newer samples are not being recorded.")
        elif journal is not None and self.running_sources():
            self.rec_label.setText("<span style='color:#c0392b; font-size:14px'>●</span> <b>REC</b>")
            tip = (f"Recording the live session to<br>{escape(str(journal.path))}<br>"
                   f"{journal.written:,} samples on disk")
            if journal.error:
                tip += f"<br><span style='color:#c0392b'>{escape(journal.error)}</span>"
            self.rec_label.setToolTip(tip)
        else:
            self.rec_label.setText("<span style='color:#8c8c8c'>REC off</span>")
            self.rec_label.setToolTip("Not recording: no live source is running")

    def indicator(self, name: str) -> SourceIndicator | None:
        return next((i for i in self.indicators if i.entry.name == name), None)

    # ----- dialogs ----------------------------------------------------------------------------------------
    def show_sources_dialog(self) -> None:
        from twinviewer.ui.source_dialogs import SourcesDialog

        if self.current.twin is None:
            return
        dialog = SourcesDialog(self, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "sources_dialog", None))
        self.sources_dialog = dialog
        dialog.open()

    def show_browse_dialog(self) -> None:
        from twinviewer.ui.source_dialogs import BrowseDialog

        if self.current.twin is None:
            return
        dialog = BrowseDialog(self, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "browse_dialog", None))
        self.browse_dialog = dialog
        dialog.open()

    def _open_journals_dialog(self, paths: list[Path], title: str, intro: str,
                              recovering: bool) -> JournalsDialog:
        if self.recordings_dialog is not None:
            self.recordings_dialog.close()
        dialog = JournalsDialog(self, paths, title, intro, recovering, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "recordings_dialog", None))
        self.recordings_dialog = dialog
        dialog.open()
        return dialog

    def show_recordings_dialog(self) -> JournalsDialog:
        folder = self.recordings_dir
        paths = sorted(folder.glob(f"*{JOURNAL_SUFFIX}"), reverse=True) if folder.is_dir() else []
        if self.journal is not None and self.journal.path not in paths:
            paths.insert(0, self.journal.path)
        intro = (f"Live sessions are recorded to <b>{escape(str(folder))}</b>. Export one to a native "
                 "Parquet recording or a CSV, or view it on the timeline.")
        return self._open_journals_dialog(paths, "Recordings", intro, recovering=False)

    def crashed_journals(self) -> list[Path]:
        return self.live.crashed_journals(self._pending())

    def show_recover_dialog(self) -> JournalsDialog | None:
        paths = self.crashed_journals()
        if not paths:
            path, _ = QFileDialog.getOpenFileName(self.window, "Recover a journal", str(self.recordings_dir),
                                                  f"TwinViewer journal (*{JOURNAL_SUFFIX});;All files (*)")
            if not path:
                return None
            paths = [Path(path)]
        return self._open_journals_dialog(paths, "Recover recording", RECOVER_INTRO, recovering=True)

    def offer_recovery(self) -> JournalsDialog | None:
        """On start-up: journals a crash left behind are checked and offered for loading or export."""
        paths = self.crashed_journals()
        if not paths:
            return None
        self._set_pending([*self._pending(), *map(str, paths)])
        return self._open_journals_dialog(paths, "Recover recording", RECOVER_INTRO, recovering=True)

    # ----- journals: load and export --------------------------------------------------------------------
    def load_journal(self, path: Path) -> int:
        """Show a journal on the timeline (live sources stop); returns the number of samples."""
        window = self.window
        count = self.live.load_journal(path)
        window.refresh_now()
        span = self.current.session.store.time_range()
        when = f" from {format_time(span[0])} to {format_time(span[1])}" if span else ""
        window.show_status(f"Showing {Path(path).name}: {count:,} samples{when}")
        self.resolve_pending(Path(path))
        return count

    def export_journal(self, path: Path, out: Path, kind: str | None = None):
        """Export a journal to native Parquet or CSV off the GUI thread (a task with progress)."""
        from twinviewer.ui.tasks import run_task

        out, kind = self.live.export_target(path, out, kind)
        window = self.window

        def work(progress, cancelled):
            progress(0.1, f"Writing {out.name}")
            return self.live.export_journal(path, out, kind)

        def done(rows: int) -> None:
            window.show_status(f"Exported {rows:,} samples of {Path(path).name} to {out}")
            self.resolve_pending(Path(path))

        def failed(exc: BaseException, details: str) -> None:
            if not isinstance(exc, CancelledError):
                window.show_error("Cannot export the recording",
                                  str(exc) if isinstance(exc, TwinViewerError)
                                  else f"{type(exc).__name__}: {exc}")

        self.task = run_task(window, f"Exporting {out.name}", work, done, failed)
        return self.task


def install(window) -> LivePanel | None:
    """The Live menu, the status-bar indicators, and the live sources of every twin that opens: shows the
    window's live controller (none: no Live menu)."""
    if window.live is None or window.recordings is None:
        return None
    return LivePanel(window, window.current, window.live, window.recordings)
