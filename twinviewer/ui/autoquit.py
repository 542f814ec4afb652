"""``twinviewer --quit-after SECONDS``: close the window SECONDS after its first frame showing the model.

For smoke tests of an installation and for start-up timing: the app prints one line on stdout when the
first frame with the model has been drawn, then closes the window normally (exit status 0). If no model is
shown within ``FIRST_FRAME_DEADLINE_S`` (the file failed to open), it says so on stderr and exits 1.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

FIRST_FRAME_DEADLINE_S = 120.0


def quit_after_first_frame(window, seconds: float) -> None:
    """Close ``window`` (a MainWindow) ``seconds`` after the first render that shows its twin."""
    state = {"shown": False}

    def on_render_end(*_args) -> None:
        if window.twin is None or state["shown"]:
            return
        state["shown"] = True
        print(f"twinviewer: first frame shown; closing in {seconds:g} s", flush=True)
        QTimer.singleShot(int(seconds * 1000), window.close)

    def on_deadline() -> None:
        if not state["shown"]:
            print(f"twinviewer: error: no model shown within {FIRST_FRAME_DEADLINE_S:g} s (--quit-after)",
                  file=sys.stderr, flush=True)
            QApplication.instance().exit(1)

    window.scene.render_window.AddObserver("EndEvent", on_render_end)
    QTimer.singleShot(int(FIRST_FRAME_DEADLINE_S * 1000), on_deadline)
