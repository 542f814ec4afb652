"""The twin's state at one instant of a recording, rendered offscreen (``twinviewer render --recording
--time``, whose reading of the recording and of ``--time`` is ``cli/_render_state.py``).

``show_state(view, store, t)`` puts the status overlay at ``t`` on an
:class:`~twinviewer.render.offscreen.OffscreenView` the same way the window does (Session → frame →
OverlayLayer, one overlay frame), so a PNG shows the same picture as the app.
"""

from __future__ import annotations

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.session import Frame, Session
from twinviewer.core.store import TimeSeriesStore


def show_state(view, store: TimeSeriesStore, t: float, overlay: str = "status",
               labels: str | None = None) -> Frame:
    """Put the overlay (off, status, value, field:QUANTITY) for time ``t`` of ``store`` on an offscreen view,
    with ``labels`` (off, selected, all; None = the project's); returns the frame shown."""
    from twinviewer.render.overlay_layer import OverlayLayer

    twin = view.twin
    session = Session(twin.project, twin.model.part_names, store)
    layer = OverlayLayer(view.scene, session.overlay)
    try:
        layer.set_mode(overlay)
    except ValueError as exc:
        raise TwinViewerError(f"--overlay {overlay}: {exc}") from None
    layer.set_labels(labels or twin.project.view.labels)
    frame = session.frame_at(t)
    layer.apply(frame.overlay)
    view.state_layer = layer  # keep the actors' owner alive as long as the view
    view.state_session = session  # later instants go through the same engine (MomentRenderer)
    return frame
