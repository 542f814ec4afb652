"""Which length unit a raw mesh's numbers are probably in.

Mesh formats like STL, OBJ and PLY carry no units. TwinViewer reads them as metres; a part drawn in
millimetres (the CAD default) then comes out a thousand times too big. ``suggested_units(extent_m)`` says
when the size suggests another unit: a model more than ``MM_SUSPECT_EXTENT_M`` across read as metres is
almost always millimetres (a 20 m bracket is rarer than a 20 mm one). The window offers the choice in the
status bar and remembers it per file.
"""

from __future__ import annotations

UNIT_CHOICES = (("mm", "millimetres"), ("cm", "centimetres"), ("m", "metres"), ("in", "inches"))
MM_SUSPECT_EXTENT_M = 20.0


def suggested_units(extent_m: float, units: str = "m") -> str | None:
    """The unit to suggest for a model ``extent_m`` metres across as read with ``units`` (None: fine)."""
    if units == "m" and extent_m > MM_SUSPECT_EXTENT_M:
        return "mm"
    return None
