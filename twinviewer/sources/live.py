"""The live sources of one open twin, without Qt: their life cycle, the journal, crash recovery, rates.

:class:`LiveController` is what the window's Live menu and status-bar indicators (``ui/live_panel.py``) and
tests drive. For a twin whose project has ``[[sources]]`` of kind ``mqtt`` or ``opcua`` it

- creates each source on the session's store (``create_source``), records every sample to a crash-safe
  journal (``io.journal``; ``<recordings_dir>/<asset>-<UTC time>.journal``) and starts them through
  ``Session.add_source`` (the clock follows the newest data);
- keeps live data in a store of its own: after a recording was viewed, a fresh store is swapped in;
- stops the sources and closes the journal when another twin opens (or the window closes);
- lists journals a crash left behind (``io.journal_files.unfinished_journals``), loads a journal into the
  session and exports one to Parquet or CSV;
- measures each source's sample rate (:class:`RateMeter`).

Passwords come from the ``password_prompt`` and the ``secret_store`` (the keyring) it is given. What the
user should read goes to ``status`` (a :class:`~twinviewer.core.signals.Signal` of one text).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.formatting import counted
from twinviewer.core.history import HistorySource
from twinviewer.core.secrets import PasswordPrompt, SecretStore
from twinviewer.core.session import LoadedRecording, Session
from twinviewer.core.signals import Signal
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.journal_files import journal_file_name, unfinished_journals
from twinviewer.sources import LIVE_KINDS, create_source
from twinviewer.sources.base import SourceState
from twinviewer.sources.warnings import clear_text_warnings

RATE_WINDOW_S = 3.0


def display_state(source: Any) -> str:
    """connecting / connected / reconnecting / disconnected / error, from a live source's status."""
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


class LiveController:
    """Live sources, journal and recovery of the open twin; see the module docstring."""

    def __init__(self, recordings_dir: Callable[[], Path], *, password_prompt: PasswordPrompt | None = None,
                 secret_store: SecretStore | None = None):
        self.recordings_dir = recordings_dir
        self.password_prompt = password_prompt
        self.secret_store = secret_store
        self.status = Signal("status")
        self.entries: list[LiveEntry] = []
        self.journal: Any = None
        self.live_store: HistorySource | None = None
        self.twin: Any = None
        self.session: Session | None = None
        self.swapping = False  # True while a fresh live store is swapped in (its own recording change)

    # ----- the twin --------------------------------------------------------------------------------------
    def open_twin(self, twin: Any, session: Session) -> None:
        """A twin opened: stop what ran for the previous one and list this one's live sources."""
        self.stop_live()
        self.twin, self.session = twin, session
        self.entries = [LiveEntry(i, config) for i, config in enumerate(twin.project.sources)
                        if config.kind in LIVE_KINDS]

    def running_sources(self) -> list[Any]:
        session = self.session
        if session is None:
            return []
        return [e.source for e in self.entries if e.source is not None and e.source in session.sources]

    # ----- journal and store ---------------------------------------------------------------------------
    def ensure_journal(self) -> None:
        if self.journal is not None:
            return
        from twinviewer.io.journal import Journal

        project = self.twin.project
        path = self.recordings_dir() / journal_file_name(project.asset.name, time.time())
        meta = {"project": project.asset.name, "project_file": str(self.twin.path),
                "sources": [{"kind": e.config.kind, "name": e.config.name, "endpoint": e.endpoint}
                            for e in self.entries]}
        self.journal = Journal.open(path, meta=meta)

    def ensure_live_store(self) -> None:
        """Live data goes into a store of its own: after a recording was viewed, swap a fresh one in."""
        session = self.session
        assert session is not None
        if self.live_store is None:
            self.live_store = session.store
        # A combined history (live values in front of a historian) holds the live store as its .live.
        if session.store is not self.live_store and getattr(session.store, "live", None) is not self.live_store:
            self.swapping = True
            try:
                session.set_recording(LoadedRecording(TimeSeriesStore(), name="live"))
            finally:
                self.swapping = False
            self.live_store = session.store

    def _create(self, config: Any, password_prompt: PasswordPrompt | None) -> Any:
        assert self.session is not None
        return create_source(config, self.session.store, self.twin.project, self.journal,
                             password_prompt=password_prompt, secret_store=self.secret_store)

    # ----- starting and stopping -----------------------------------------------------------------------
    def start_entry(self, entry: LiveEntry) -> bool:
        """Create (once) and start one source; errors are kept on the entry and told on ``status``."""
        session = self.session
        if session is None:
            return False
        if entry.source is not None and entry.source in session.sources:
            return True
        try:
            self.ensure_journal()
            self.ensure_live_store()
            if entry.source is None or entry.source.store is not session.store:
                entry.source = self._create(entry.config, self.password_prompt)
            entry.source.start()  # resolves the password here (the prompt may ask the user)
        except (TwinViewerError, OSError) as exc:
            entry.error = str(exc)
            if entry.source is not None:
                entry.source.stop()
            self.status.emit(f"Live source {entry.name}: {exc}")
            return False
        entry.error = ""
        session.add_source(entry.source)  # start() is a no-op now; the clock goes live
        return True

    def connect_all(self) -> int:
        """Start every live source that is not running; returns how many run now."""
        if self.session is None:
            return 0
        for entry in self.entries:
            self.start_entry(entry)
        running = self.running_sources()
        if self.entries:
            warnings = clear_text_warnings(entry.config for entry in self.entries)
            started = (f"Live: {len(running)} of {counted(len(self.entries), 'source')} started, "
                       f"recording to {self.journal.path if self.journal else '—'}")
            # a clear-text password comes first, where the status bar cannot cut it off
            self.status.emit(" · ".join([*(f"Warning: {w}" for w in warnings), started]))
        return len(running)

    def disconnect_all(self) -> None:
        """Stop every source; what was received stays in the store and the journal (which stays open)."""
        if self.session is not None:
            self.session.stop_sources()
        self.status.emit("Live sources disconnected; the data received so far stays on the timeline")

    def stop_live(self) -> None:
        """Stop the sources and close the journal cleanly (another twin opens, the window closes)."""
        session = self.session
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
                self.status.emit(journal.error)
        self.live_store = None

    def add_live_source(self, config: Any, *, password: str | None = None) -> LiveEntry:
        """Add a source to the running session (e.g. from the browse dialog) and start it."""
        entry = LiveEntry(-1, config)
        if password is not None:
            self.ensure_journal()
            self.ensure_live_store()
            entry.source = self._create(config, lambda _text: password)
        self.entries.append(entry)
        self.start_entry(entry)
        return entry

    def replace_config(self, entry: LiveEntry, config: Any) -> None:
        """New settings for one source: stop it, rebuild it, start it again."""
        session = self.session
        if entry.source is not None:
            entry.source.stop()
            if session is not None and entry.source in session.sources:
                session.sources.remove(entry.source)
        entry.config = config
        entry.source = None
        entry.error = ""
        entry.rate = RateMeter()
        if entry.index >= 0 and self.twin is not None:
            self.twin.project.sources[entry.index] = config
        self.start_entry(entry)

    def measure_rates(self, wall: float | None = None) -> None:
        """Read each source's sample counter (the indicators call this a few times a second)."""
        wall = time.monotonic() if wall is None else wall
        for entry in self.entries:
            if entry.source is not None:
                entry.rate.add(wall, entry.source.stats().samples)

    # ----- journals: recovery, load, export ------------------------------------------------------------
    def crashed_journals(self, pending: list[str] | None = None) -> list[Path]:
        """Journals a crash left behind in the recordings folder, plus ``pending`` ones still offered."""
        current = {self.journal.path} if self.journal is not None else set()
        found = unfinished_journals(self.recordings_dir(), current)
        offered = [Path(p) for p in (pending or []) if Path(p) not in current]
        return sorted(set(found) | set(offered))

    def load_journal(self, path: Path) -> int:
        """Show a journal in the session (live sources stop); returns the number of samples."""
        from twinviewer.io.journal import load_into

        if self.session is None:
            raise TwinViewerError("open a twin first: a journal is shown on a twin's sensors")
        if self.journal is not None and Path(path) == self.journal.path:
            self.journal.flush()
        store = TimeSeriesStore()
        count = load_into(path, store)
        self.session.set_recording(LoadedRecording(store, [], Path(path).name, f"{count:,} samples"))
        return count

    def export_target(self, path: Path, out: Path, kind: str | None = None) -> tuple[Path, str]:
        """Where and how :meth:`export_journal` writes: ``.parquet`` is added to a Parquet target; the
        journal being recorded is flushed first."""
        out = Path(out)
        kind = kind or ("csv" if out.suffix.lower() == ".csv" else "parquet")
        if kind == "parquet" and out.suffix.lower() != ".parquet":
            out = out.with_suffix(".parquet")
        if self.journal is not None and Path(path) == self.journal.path:
            self.journal.flush()
        return out, kind

    @staticmethod
    def export_journal(path: Path, out: Path, kind: str) -> int:
        """Write the journal as native Parquet or CSV; returns the number of samples."""
        from twinviewer.io.journal import export_csv, export_parquet

        return (export_csv if kind == "csv" else export_parquet)(path, out)
