"""Live data in the window: MQTT / OPC UA sources, their status-bar indicators, the Live menu, the journal.

``install(window)`` (listed in ``PANEL_MODULES``) builds a :class:`LivePanel` that

- when a twin with ``[[sources]]`` of kind ``mqtt`` or ``opcua`` opens, creates each source on the session's
  store (``twinviewer.sources.create_source``), records every sample to a crash-safe journal
  (``io.journal``; ``<recording folder>/<asset>-<UTC time>.journal``) and starts them through
  ``Session.add_source`` (the clock follows the newest data). Sources stop and the journal closes when
  another twin opens or the window closes;
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

import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.errors import CancelledError, TwinViewerError
from twinviewer.core.formatting import format_duration, format_time
from twinviewer.core.secrets import PromptAnswer
from twinviewer.io.keyring_store import SystemKeyring, keyring_available

JOURNAL_SUFFIX = ".journal"  # the extension `twinviewer record` gives its journals
REFRESH_INTERVAL_MS = 250
RATE_WINDOW_S = 3.0
SETTINGS_FOLDER_KEY = "live/recordings_dir"
SETTINGS_PENDING_KEY = "live/pending_recovery"

STATE_COLOURS = {
    "connected": "#2e8b57", "connecting": "#d4a000", "reconnecting": "#e67e22",
    "disconnected": "#8c8c8c", "error": "#c0392b",
}


# ----- files ------------------------------------------------------------------------------------------------
def default_recordings_dir() -> Path:
    """``<user data dir>/TwinViewer/recordings`` (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("TwinViewer")) / "recordings"


def journal_file_name(asset: str, when: float) -> str:
    """``<asset>-<UTC time>.journal``, e.g. ``Pump_skid_P-101-20240521T081500Z.journal``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", asset).strip("_.") or "twin"
    stamp = datetime.fromtimestamp(when, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{slug}-{stamp}{JOURNAL_SUFFIX}"


def journal_in_use(path: Path) -> bool:
    """True when another process has the journal open (SQLite holds a lock on its ``-shm`` file).

    Every open WAL connection keeps a shared lock on byte 128 of the ``-shm`` file (SQLite's unix VFS), so
    a journal whose writer crashed has no such lock. POSIX locks belong to a process: never ask about a
    journal this process has open itself (closing the probe would drop SQLite's own locks).
    """
    shm = Path(str(path) + "-shm")
    if not shm.exists():
        return False
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's files cannot be probed this way; assume nobody else writes
        return False
    try:
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return True
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 128)
        return False
    finally:
        os.close(fd)


def unfinished_journals(folder: Path, exclude: set[Path] | None = None) -> list[Path]:
    """Journals in ``folder`` that were not closed (a ``-wal`` beside them) and that no process writes."""
    exclude = {p.resolve() for p in (exclude or set())}
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{JOURNAL_SUFFIX}")):
        if path.resolve() in exclude or not Path(str(path) + "-wal").exists():
            continue
        if not journal_in_use(path):
            found.append(path)
    return found


# ----- what an indicator shows ------------------------------------------------------------------------------
def display_state(source: Any) -> str:
    """connecting / connected / reconnecting / disconnected / error, from a live source's status."""
    from twinviewer.sources.base import SourceState

    if source is None:
        return "error"
    status = source.status()
    state = status.state
    if state is SourceState.CONNECTED:
        return "connected"
    if state is SourceState.STOPPED:
        return "disconnected"
    ever_connected = source.stats().connects > 0
    if state is SourceState.CONNECTING:
        return "reconnecting" if ever_connected else "connecting"
    if state is SourceState.DISCONNECTED:
        return "reconnecting"
    # ERROR: a lost connection that is being retried reads as reconnecting; a refusal is an error.
    if ever_connected and status.last_error.endswith("retrying"):
        return "reconnecting"
    return "error"


class RateMeter:
    """Samples per second over the last few seconds, from counter readings."""

    def __init__(self, window_s: float = RATE_WINDOW_S):
        self.window_s = window_s
        self.readings: deque[tuple[float, int]] = deque()

    def add(self, wall: float, samples: int) -> None:
        self.readings.append((wall, samples))
        while len(self.readings) > 2 and wall - self.readings[0][0] > self.window_s:
            self.readings.popleft()

    @property
    def rate(self) -> float:
        if len(self.readings) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.readings[0], self.readings[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


@dataclass
class LiveEntry:
    """One live ``[[sources]]`` entry: its place in the project, its settings, the running source."""

    index: int
    config: Any
    source: Any = None
    error: str = ""
    rate: RateMeter = field(default_factory=RateMeter)

    @property
    def name(self) -> str:
        config = self.config
        return config.name or (f"{config.host}:{config.port}" if config.kind == "mqtt" else config.endpoint)

    @property
    def endpoint(self) -> str:
        config = self.config
        return f"{config.host}:{config.port}" if config.kind == "mqtt" else config.endpoint

    def state(self) -> str:
        if self.source is None:
            return "error" if self.error else "disconnected"
        state = display_state(self.source)
        return "error" if self.error and state == "disconnected" else state


def source_tooltip(entry: LiveEntry) -> str:
    """Rich text: state, counters, rate, rejected payloads per kind with the last examples, gaps, error."""
    lines = [f"<b>{escape(entry.name)}</b> ({entry.config.kind}, {escape(entry.endpoint)}) — {entry.state()}"]
    source = entry.source
    if source is None:
        if entry.error:
            lines.append(f"<span style='color:#c0392b'>{escape(entry.error)}</span>")
        return "<br>".join(lines)
    status, stats = source.status(), source.stats()
    lines.append(f"{entry.state()} for {format_duration(time.time() - status.since)}")
    lines.append(f"Messages: {stats.messages:,} · samples: {stats.samples:,} · rate: {entry.rate.rate:,.1f} "
                 "samples/s")
    if stats.last_message_time is not None:
        lines.append(f"Last message: {format_time(stats.last_message_time)} "
                     f"({format_duration(time.time() - stats.last_message_time)} ago)")
    lines.append(f"Connects: {stats.connects:,} · reconnects: {stats.reconnects:,}")
    gaps = f"Sequence gaps (messages lost): {stats.seq_gaps:,}"
    if stats.duplicates or stats.out_of_order:
        gaps += f" · duplicates: {stats.duplicates:,} · out of order: {stats.out_of_order:,}"
    lines.append(gaps)
    if stats.malformed:
        kinds = ", ".join(f"{kind}: {count:,}" for kind, count in sorted(stats.malformed.items()))
        lines.append(f"<b>Rejected: {stats.malformed_total:,}</b> ({escape(kinds)})")
        for example in stats.examples[-4:]:
            lines.append(f"&nbsp;&nbsp;{format_time(example.time, with_date=False)} {escape(example.kind)} "
                         f"at {escape(example.where)}: {escape(example.message[:120])}")
    else:
        lines.append("Rejected payloads: none")
    error = status.last_error or entry.error
    if error:
        lines.append(f"Last error: <span style='color:#c0392b'>{escape(error)}</span>")
    return "<br>".join(f"<nobr>{line}</nobr>" for line in lines)


class SourceIndicator(QLabel):
    """A coloured dot, the source's short name and its state, for the status bar."""

    def __init__(self, entry: LiveEntry, parent: QWidget | None = None):
        super().__init__(parent)
        self.entry = entry
        self.state = ""
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(6, 0, 6, 0)
        self.refresh()

    def refresh(self) -> None:
        state = self.entry.state()
        if state != self.state:
            self.state = state
            colour = STATE_COLOURS[state]
            self.setText(f"<span style='color:{colour}; font-size:14px'>●</span> "
                         f"<b>{escape(self.entry.name)}</b> <span style='color:{colour}'>{state}</span>")
        self.setToolTip(source_tooltip(self.entry))


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


class PasswordDialog(QDialog):
    """A source's password: typed hidden, optionally remembered in the system keyring."""

    def __init__(self, text: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Password")
        layout = QVBoxLayout(self)
        self.label = QLabel(text)
        layout.addWidget(self.label)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.password)
        self.remember = QCheckBox("Remember in the system keyring")
        available = keyring_available()
        self.remember.setEnabled(available)
        self.remember.setToolTip("Next time the password is taken from the keyring without asking."
                                 if available
                                 else "No system keyring is available (install the optional 'keyring' "
                                      "package, "
                                 "or set the source's password variable).")
        layout.addWidget(self.remember)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


# ----- the panel ------------------------------------------------------------------------------------------
class LivePanel(QObject):
    """The window's live-data features; see the module docstring."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.entries: list[LiveEntry] = []
        self.journal = None
        self.live_store = None
        self.task = None
        self.password_dialog: PasswordDialog | None = None
        self.sources_dialog = None
        self.browse_dialog = None
        self.recordings_dialog: JournalsDialog | None = None
        self._checked_crashes = False
        self._swapping = False  # True while this panel swaps a fresh store in (its own recording_loaded)
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
        window.recording_loaded.connect(self._recording_loaded)
        window.installEventFilter(self)

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
        has_twin = self.window.twin is not None
        running = self.running_sources()
        self.connect_action.setEnabled(bool(self.entries) and len(running) < len(self.entries))
        self.disconnect_action.setEnabled(bool(running))
        self.sources_action.setEnabled(has_twin)
        self.browse_action.setEnabled(has_twin)
        self.go_live_action.setEnabled(bool(running))

    # ----- settings --------------------------------------------------------------------------------------
    @property
    def recordings_dir(self) -> Path:
        value = self.window.settings.value(SETTINGS_FOLDER_KEY, "")
        return Path(value) if value else default_recordings_dir()

    @recordings_dir.setter
    def recordings_dir(self, folder: Path | str) -> None:
        self.window.settings.setValue(SETTINGS_FOLDER_KEY, str(folder))

    def choose_recordings_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Folder for live recordings (journals)",
                                                  str(self.recordings_dir))
        if folder:
            self.recordings_dir = folder
            self.window.show_status(f"Live sessions are recorded to {folder} (from the next connection)")

    def _pending(self) -> list[str]:
        value = self.window.settings.value(SETTINGS_PENDING_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v and Path(v).is_file()]

    def _set_pending(self, paths: list[str]) -> None:
        self.window.settings.setValue(SETTINGS_PENDING_KEY, sorted(set(paths)))
        self.window.settings.sync()  # a crash right after must not forget which journals to offer

    def resolve_pending(self, path: Path) -> None:
        """A recovered journal was loaded or exported (or dismissed): stop offering it."""
        self._set_pending([p for p in self._pending() if Path(p) != Path(path)])

    # ----- window signals -----------------------------------------------------------------------------
    def _twin_opened(self, twin) -> None:
        self.stop_live()
        if not self._checked_crashes:
            self._checked_crashes = True
            self.offer_recovery()
        self.entries = [LiveEntry(i, config) for i, config in enumerate(twin.project.sources)
                        if config.kind in ("mqtt", "opcua")]
        self._rebuild_strip()
        if self.entries:
            self.connect_all()

    def _recording_loaded(self, session) -> None:
        if self._swapping:
            return
        if self.journal is not None and not session.sources:
            self.window.show_status("A recording was loaded: the live sources are stopped (Live → Connect "
                                    "all resumes live data).")
        self.refresh_indicators()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.stop_live()
        return False

    # ----- starting and stopping ---------------------------------------------------------------------------
    def running_sources(self) -> list[Any]:
        session = self.window.session
        if session is None:
            return []
        return [e.source for e in self.entries if e.source is not None and e.source in session.sources]

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

    def _ensure_journal(self) -> None:
        if self.journal is not None:
            return
        from twinviewer.io.journal import Journal

        twin = self.window.twin
        project = twin.project
        path = self.recordings_dir / journal_file_name(project.asset.name, time.time())
        meta = {"project": project.asset.name, "project_file": str(twin.path),
                "sources": [{"kind": e.config.kind, "name": e.config.name, "endpoint": e.endpoint}
                            for e in self.entries]}
        self.journal = Journal.open(path, meta=meta)

    def _ensure_live_store(self) -> None:
        """Live data goes into a store of its own: after a recording was viewed, swap a fresh one in."""
        from twinviewer.core.session import LoadedRecording
        from twinviewer.core.store import TimeSeriesStore

        session = self.window.session
        if self.live_store is None:
            self.live_store = session.store
        if session.store is not self.live_store:
            self._swapping = True
            try:
                session.set_recording(LoadedRecording(TimeSeriesStore(), name="live"))
                self.window.recording_loaded.emit(session)
            finally:
                self._swapping = False
            self.live_store = session.store

    def start_entry(self, entry: LiveEntry) -> bool:
        """Create (once) and start one source; errors are kept on the entry and shown by its indicator."""
        from twinviewer.sources import create_source

        window = self.window
        session = window.session
        if entry.source is not None and entry.source in session.sources:
            return True
        try:
            self._ensure_journal()
            self._ensure_live_store()
            if entry.source is None or entry.source.store is not session.store:
                entry.source = create_source(entry.config, session.store, window.twin.project, self.journal,
                                             password_prompt=self.ask_password, secret_store=SystemKeyring())
            entry.source.start()  # resolves the password here, on the GUI thread
        except (TwinViewerError, OSError) as exc:
            entry.error = str(exc)
            if entry.source is not None:
                entry.source.stop()
            window.show_status(f"Live source {entry.name}: {exc}")
            return False
        entry.error = ""
        session.add_source(entry.source)  # start() is a no-op now; the clock goes live
        return True

    def connect_all(self) -> int:
        """Start every live source that is not running; returns how many run now."""
        if self.window.session is None:
            return 0
        for entry in self.entries:
            self.start_entry(entry)
        running = self.running_sources()
        self.refresh_indicators()
        if self.entries:
            self.window.show_status(f"Live: {len(running)} of {len(self.entries)} source(s) started, "
                                    f"recording to {self.journal.path if self.journal else '—'}")
        return len(running)

    def disconnect_all(self) -> None:
        """Stop every source; what was received stays in the store and the journal (which stays open)."""
        session = self.window.session
        if session is not None:
            session.stop_sources()
        self.refresh_indicators()
        self.window.show_status("Live sources disconnected; the data received so far stays on the timeline")

    def stop_live(self) -> None:
        """Stop the sources and close the journal cleanly (another twin opens, the window closes)."""
        session = self.window.session
        for entry in self.entries:
            if entry.source is not None:
                try:
                    entry.source.stop()
                except Exception as exc:  # one failing source must not keep the journal open
                    entry.error = f"{type(exc).__name__}: {exc}"
                if session is not None and entry.source in session.sources:
                    session.sources.remove(entry.source)
        if self.journal is not None:
            journal, self.journal = self.journal, None
            journal.close()
            if journal.error:
                self.window.show_status(journal.error)
        self.live_store = None

    def add_live_source(self, config, *, password: str | None = None) -> LiveEntry:
        """Add a source to the running session (e.g. from the browse dialog) and start it."""
        entry = LiveEntry(-1, config)
        if password is not None:
            from twinviewer.sources import create_source

            self._ensure_journal()
            self._ensure_live_store()
            entry.source = create_source(config, self.window.session.store, self.window.twin.project,
                                         self.journal,
                                         password_prompt=lambda _text: password,
                                         secret_store=SystemKeyring())
        self.entries.append(entry)
        self._rebuild_strip()
        self.start_entry(entry)
        self.refresh_indicators()
        return entry

    def replace_config(self, entry: LiveEntry, config) -> None:
        """New settings for one source (Sources dialog): stop it, rebuild it, start it again."""
        session = self.window.session
        if entry.source is not None:
            entry.source.stop()
            if session is not None and entry.source in session.sources:
                session.sources.remove(entry.source)
        entry.config = config
        entry.source = None
        entry.error = ""
        entry.rate = RateMeter()
        if entry.index >= 0 and self.window.twin is not None:
            self.window.twin.project.sources[entry.index] = config
        self._rebuild_strip()
        self.start_entry(entry)

    def go_live(self) -> None:
        session = self.window.session
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
        wall = time.monotonic()
        for entry in self.entries:
            if entry.source is not None:
                entry.rate.add(wall, entry.source.stats().samples)
        for indicator in self.indicators:
            indicator.refresh()
        journal = self.journal
        if journal is not None and self.running_sources():
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

        if self.window.twin is None:
            return
        dialog = SourcesDialog(self, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "sources_dialog", None))
        self.sources_dialog = dialog
        dialog.open()

    def show_browse_dialog(self) -> None:
        from twinviewer.ui.source_dialogs import BrowseDialog

        if self.window.twin is None:
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
        current = {self.journal.path} if self.journal is not None else set()
        found = unfinished_journals(self.recordings_dir, current)
        pending = [Path(p) for p in self._pending() if Path(p) not in current]
        return sorted(set(found) | set(pending))

    def show_recover_dialog(self) -> JournalsDialog | None:
        paths = self.crashed_journals()
        if not paths:
            path, _ = QFileDialog.getOpenFileName(self.window, "Recover a journal", str(self.recordings_dir),
                                                  f"TwinViewer journal (*{JOURNAL_SUFFIX});;All files (*)")
            if not path:
                return None
            paths = [Path(path)]
        return self._open_journals_dialog(paths, "Recover recording", _RECOVER_INTRO, recovering=True)

    def offer_recovery(self) -> JournalsDialog | None:
        """On start-up: journals a crash left behind are checked and offered for loading or export."""
        paths = self.crashed_journals()
        if not paths:
            return None
        self._set_pending([*self._pending(), *map(str, paths)])
        return self._open_journals_dialog(paths, "Recover recording", _RECOVER_INTRO, recovering=True)

    # ----- journals: load and export --------------------------------------------------------------------
    def load_journal(self, path: Path) -> int:
        """Show a journal on the timeline (live sources stop); returns the number of samples."""
        from twinviewer.core.session import LoadedRecording
        from twinviewer.core.store import TimeSeriesStore
        from twinviewer.io.journal import load_into

        window = self.window
        if window.session is None:
            raise TwinViewerError("open a twin first: a journal is shown on a twin's sensors")
        if self.journal is not None and Path(path) == self.journal.path:
            self.journal.flush()
        store = TimeSeriesStore()
        count = load_into(path, store)
        window.session.set_recording(LoadedRecording(store, [], Path(path).name, f"{count:,} samples"))
        window.recording_loaded.emit(window.session)
        window.refresh_now()
        span = store.time_range()
        when = f" from {format_time(span[0])} to {format_time(span[1])}" if span else ""
        window.show_status(f"Showing {Path(path).name}: {count:,} samples{when}")
        self.resolve_pending(Path(path))
        return count

    def export_journal(self, path: Path, out: Path, kind: str | None = None):
        """Export a journal to native Parquet or CSV off the GUI thread (a task with progress)."""
        from twinviewer.io.journal import export_csv, export_parquet
        from twinviewer.ui.tasks import run_task

        out = Path(out)
        kind = kind or ("csv" if out.suffix.lower() == ".csv" else "parquet")
        if kind == "parquet" and out.suffix.lower() != ".parquet":
            out = out.with_suffix(".parquet")
        if self.journal is not None and Path(path) == self.journal.path:
            self.journal.flush()
        window = self.window

        def work(progress, cancelled):
            progress(0.1, f"Writing {out.name}")
            return (export_csv if kind == "csv" else export_parquet)(path, out)

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


_RECOVER_INTRO = ("These live recordings were not closed cleanly (TwinViewer or the computer stopped while "
                  "recording). Their samples were checked and kept: view one on the timeline or export it to "
                  "a Parquet recording.")


class JournalsDialog(QDialog):
    """Journals with their sample count and time range; view one, or export it to Parquet / CSV."""

    COLUMNS = ("File", "State", "Samples", "Sensors", "From", "To", "Length")

    def __init__(self, panel: LivePanel, paths: list[Path], title: str, intro: str, recovering: bool,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.paths = list(paths)
        self.recovering = recovering
        self.reports: dict[Path, Any] = {}
        self.setWindowTitle(title)
        self.resize(900, 360)
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(text)
        self.table = QTableWidget(len(self.paths), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        layout.addWidget(self.details)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("View on the timeline")
        self.parquet_button = QPushButton("Export to Parquet…")
        self.csv_button = QPushButton("Export to CSV…")
        self.folder_button = QPushButton("Open folder")
        for button in (self.load_button, self.parquet_button, self.csv_button, self.folder_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        if recovering:
            self.dismiss_button = QPushButton("Don't offer again")
            self.dismiss_button.setToolTip("Keep the file but stop offering it at start-up")
            self.dismiss_button.clicked.connect(self.dismiss_selected)
            buttons.addWidget(self.dismiss_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.load_button.clicked.connect(self.load_selected)
        self.parquet_button.clicked.connect(lambda: self.export_selected("parquet"))
        self.csv_button.clicked.connect(lambda: self.export_selected("csv"))
        self.folder_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(panel.recordings_dir))))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._fill()
        if self.paths:
            self.table.selectRow(0)
        self._selection_changed()

    def _state(self, path: Path) -> str:
        journal = self.panel.journal
        if journal is not None and path == journal.path:
            return "recording now"
        if Path(str(path) + "-wal").exists():
            return "in use" if journal_in_use(path) else "not closed (crash)"
        if str(path) in self.panel._pending():
            return "recovered"
        return "closed"

    def _fill(self) -> None:
        for row, path in enumerate(self.paths):
            state = self._state(path)
            for col, text in enumerate([path.name, state, "", "", "", "", ""]):
                self.table.setItem(row, col, QTableWidgetItem(text))
            if state == "recording now":
                self.table.setItem(row, 2, QTableWidgetItem(f"{self.panel.journal.written:,}"))
            elif self.recovering or state in ("not closed (crash)", "recovered"):
                self._report_row(row, path)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def selected_path(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        return self.paths[rows[0].row()] if rows else None

    def _report_row(self, row: int, path: Path) -> None:
        """Check one journal and show its samples and time range in its row."""
        from twinviewer.io.journal import JournalError, recover

        try:
            report = recover(path)  # replays a crash's WAL into the file and checks its integrity
        except JournalError as exc:
            self.table.setItem(row, 1, QTableWidgetItem(f"unreadable: {exc}"))
            return
        self.reports[path] = report
        cells = {2: f"{report.samples:,}", 3: str(len(report.sensors))}
        if self.recovering or self._state(path) == "recovered":
            cells[1] = "recovered" if report.ok else f"damaged ({report.integrity})"
        if report.time_range:
            t0, t1 = report.time_range
            cells.update({4: format_time(t0), 5: format_time(t1), 6: format_duration(t1 - t0)})
        for col, text in cells.items():
            self.table.setItem(row, col, QTableWidgetItem(text))

    def _selection_changed(self) -> None:
        path = self.selected_path()
        for button in (self.load_button, self.parquet_button, self.csv_button):
            button.setEnabled(path is not None)
        if path is not None and path not in self.reports and self._state(path) == "closed":
            self._report_row(self.paths.index(path), path)
        report = self.reports.get(path) if path else None
        if report is not None:
            span = (f", {format_time(report.time_range[0])} – {format_time(report.time_range[1])}"
                    if report.time_range else "")
            sensors = f"{len(report.sensors)} sensor{'' if len(report.sensors) == 1 else 's'}"
            self.details.setText(f"{path}\n{report.samples:,} samples of {sensors}{span}; "
                                 f"integrity {report.integrity}")
        else:
            self.details.setText(str(path) if path else "No journal here yet.")

    def load_selected(self) -> None:
        path = self.selected_path()
        if path is None:
            return
        try:
            self.panel.load_journal(path)
        except TwinViewerError as exc:
            self.panel.window.show_error("Cannot view the recording", str(exc))
            return
        self.accept()

    def export_selected(self, kind: str) -> None:
        path = self.selected_path()
        if path is None:
            return
        suffix = ".csv" if kind == "csv" else ".parquet"
        start = str(Path(self.panel.window.settings.value("last_recording_dir", str(Path.home())))
                    / (path.name.removesuffix(JOURNAL_SUFFIX) + suffix))
        file_filter = (
            "CSV, one row per sample (*.csv)" if kind == "csv" else "TwinViewer recording (*.parquet)"
        )
        out, _ = QFileDialog.getSaveFileName(self, "Export recording", start, file_filter)
        if out:
            self.panel.window.settings.setValue("last_recording_dir", str(Path(out).parent))
            self.panel.export_journal(path, Path(out), kind)

    def dismiss_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.panel.resolve_pending(path)
            self.table.item(self.paths.index(path), 1).setText("not offered again")


def install(window) -> LivePanel:
    """The Live menu, the status-bar indicators, and the live sources of every twin that opens."""
    return LivePanel(window)
