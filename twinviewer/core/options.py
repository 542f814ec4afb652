"""Every choice the user makes by name, declared once: the project model (pydantic), the CLI's argparse
``choices``, the window's menus and the render layer's checks all derive from these.

- ``LabelMode``: floating sensor labels: none, the selected part's, every sensor's;
- ``OverlayKind``: what the overlay colours by (a project's ``[view] overlay``; ``field`` goes with
  ``field_quantity``, written ``field:QUANTITY`` on the CLI and in the window);
- ``ViewName``: the standard camera views;
- ``RenderStyle``: how surfaces are drawn.
"""

from __future__ import annotations

from typing import Literal, get_args

LabelMode = Literal["off", "selected", "all"]
OverlayKind = Literal["off", "status", "value", "field"]
ViewName = Literal["iso", "front", "back", "left", "right", "top", "bottom"]
RenderStyle = Literal["surface", "edges", "wireframe"]

LABEL_MODES: tuple[str, ...] = get_args(LabelMode)
OVERLAY_KINDS: tuple[str, ...] = get_args(OverlayKind)
SIMPLE_OVERLAY_MODES: tuple[str, ...] = tuple(k for k in OVERLAY_KINDS if k != "field")  # no quantity needed
VIEW_NAMES: tuple[str, ...] = get_args(ViewName)
RENDER_STYLES: tuple[str, ...] = get_args(RenderStyle)
