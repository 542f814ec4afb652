"""The twin and session that are open now, for views that outlive them (napari's viewer model, Slicer's
scene): panels take a :class:`CurrentSession` in their constructor and subscribe to its signals once; when
another twin opens, the window calls :meth:`CurrentSession.set` and the signals follow the new session.

Signals (Qt-free, :mod:`twinviewer.core.signals`, emitted on the GUI thread):

- ``session_changed(session)``: another twin was opened (``twin`` and ``session`` are the new ones);
- ``recording_changed(session)``, ``time_changed(t)``, ``selection_changed(part or None)``,
  ``overlay_changed(mode)``: relayed from the current :class:`~twinviewer.core.session.Session`.
"""

from __future__ import annotations

from typing import Any

from twinviewer.core.session import Session
from twinviewer.core.signals import Signal

RELAYED = ("recording_changed", "time_changed", "selection_changed", "overlay_changed")


class CurrentSession:
    """The open twin and its session, and the signals of whichever session is current."""

    def __init__(self) -> None:
        self.twin: Any = None
        self.session: Session | None = None
        self.session_changed = Signal("session_changed")
        self.recording_changed = Signal("recording_changed")
        self.time_changed = Signal("time_changed")
        self.selection_changed = Signal("selection_changed")
        self.overlay_changed = Signal("overlay_changed")

    def set(self, twin: Any, session: Session) -> None:
        """Make ``session`` (of ``twin``) the current one: its signals now reach the subscribers."""
        if self.session is not None:
            for name in RELAYED:
                getattr(self.session, name).disconnect(getattr(self, name).emit)
        self.twin = twin
        self.session = session
        for name in RELAYED:
            getattr(session, name).connect(getattr(self, name).emit)
        self.session_changed.emit(session)
