"""Perceptual colour maps for sensor values, with per-quantity defaults and a legend the UI can draw.

No matplotlib at run time (importing it costs ~0.6 s): the tables live in :mod:`colormap_data` as 256 RGB
entries each. Append ``_r`` to any name for the reversed map.

- :func:`colormap_table` → ``(256, 3) uint8`` (for a VTK lookup table use :func:`colormap_rgba_float`).
- :func:`colormap_for` → the map name for a quantity, honouring the project's ``[view.colormaps]``.
- :func:`map_values` → ``(n, 3) uint8`` colours, NaN → :data:`NAN_RGB` grey, values clamped to the range.
  It bins values exactly like a 256-entry ``vtkLookupTable`` over ``(vmin, vmax)``, so glyphs coloured
  here match a mesh coloured by the render layer's lookup table.
- :func:`legend_for` → a :class:`Legend` (title, ticks, labels with units, threshold markers, gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from twinviewer.core.colormap_data import COLORMAP_HEX
from twinviewer.core.errors import TwinViewerError

TABLE_SIZE = 256
NAN_RGB = (128, 128, 128)
"""Colour of a value that is missing (NaN): a mid grey that no perceptual map here ends on."""

COLORMAP_NAMES: tuple[str, ...] = tuple(COLORMAP_HEX)

QUANTITY_COLORMAPS: dict[str, str] = {
    "temperature": "inferno",
    "vibration": "turbo",
    "pressure": "viridis",
    "flow": "cividis",
    "current": "plasma",
    "speed": "magma",
    "voltage": "plasma",
    "level": "cividis",
}
"""Default map per quantity (the ``quantity`` of a sensor in the project); anything else gets viridis."""

DEFAULT_COLORMAP = "viridis"


class ColormapError(TwinViewerError):
    """A colour-map name (for example in ``[view.colormaps]`` of the project) that TwinViewer does not
    have."""


def _check_name(name: str) -> str:
    base = name.removesuffix("_r")
    if base not in COLORMAP_HEX:
        choices = ", ".join(COLORMAP_NAMES)
        raise ColormapError(f"unknown colour map {name!r}; use one of {choices} (add _r to reverse)")
    return base


@lru_cache(maxsize=32)
def _table(name: str) -> np.ndarray:
    base = _check_name(name)
    table = np.frombuffer(bytes.fromhex("".join(COLORMAP_HEX[base])), dtype=np.uint8).reshape(TABLE_SIZE, 3)
    if name.endswith("_r"):
        table = table[::-1]
    table = np.ascontiguousarray(table)
    table.flags.writeable = False
    return table


def colormap_table(name: str) -> np.ndarray:
    """The map as a read-only ``(256, 3) uint8`` table, low end first."""
    return _table(name)


def colormap_rgba_float(name: str, alpha: float = 1.0) -> np.ndarray:
    """The map as ``(256, 4) float64`` in 0..1, the layout ``vtkLookupTable.SetTable`` users expect."""
    rgba = np.empty((TABLE_SIZE, 4))
    rgba[:, :3] = _table(name) / 255.0
    rgba[:, 3] = alpha
    return rgba


def colormap_for(quantity: str | None, overrides: dict[str, str] | None = None) -> str:
    """The map for a quantity: the project's override if any, else the quantity's default, else viridis.

    Matching is case-insensitive and also by word ("bearing temperature" → temperature). An override naming
    an unknown map raises :class:`ColormapError`.
    """
    key = (quantity or "").strip().lower()
    for table in (overrides or {}, QUANTITY_COLORMAPS):
        lowered = {k.lower(): v for k, v in table.items()}
        name = lowered.get(key)
        if name is None:
            name = next((v for k, v in lowered.items() if k and k in key.split()), None)
        if name is not None:
            _check_name(name)
            return name
    return DEFAULT_COLORMAP


def color_indices(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Table index (0..255, intp) of each value; NaN gets -1. ``vmin == vmax`` puts every value mid-map."""
    v = np.asarray(values, dtype=np.float64)
    if not (math.isfinite(vmin) and math.isfinite(vmax)) or vmin > vmax:
        raise ValueError(f"colour range ({vmin}, {vmax}) must be finite with vmin <= vmax")
    missing = np.isnan(v)
    if vmax == vmin:
        idx = np.full(v.shape, TABLE_SIZE // 2, dtype=np.intp)
    else:
        scaled = (v - vmin) * (TABLE_SIZE / (vmax - vmin))
        scaled[missing] = 0.0
        np.clip(scaled, 0, TABLE_SIZE - 1, out=scaled)
        idx = scaled.astype(np.intp)
    idx[missing] = -1
    return idx


def map_values(values: np.ndarray, vmin: float, vmax: float, cmap: str = DEFAULT_COLORMAP,
               nan_rgb: tuple[int, int, int] = NAN_RGB) -> np.ndarray:
    """Colours ``(n, 3) uint8`` for values over ``[vmin, vmax]`` (clamped); NaN → ``nan_rgb``."""
    table = _table(cmap)
    idx = color_indices(values, vmin, vmax)
    out = table[np.maximum(idx, 0)]
    out[idx < 0] = nan_rgb
    return out


def nice_ticks(vmin: float, vmax: float, target: int = 5) -> np.ndarray:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) inside ``[vmin, vmax]``, about ``target`` of
    them."""
    if not vmax > vmin:
        return np.array([vmin])
    raw = (vmax - vmin) / max(target - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw * 0.999)
    first = math.ceil(vmin / step - 1e-9) * step
    ticks = np.arange(first, vmax + step * 1e-6, step)
    return np.round(ticks, 12)


def _decimals(step: float) -> int:
    if step <= 0 or not math.isfinite(step):
        return 1
    decimals = max(0, -math.floor(math.log10(step)))
    while decimals < 6 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return decimals


def format_value(value: float, unit: str = "", decimals: int = 1) -> str:
    """'82.5 °C'; NaN → 'no data'."""
    if value is None or not math.isfinite(value):
        return "no data"
    text = f"{value:.{decimals}f}"
    return f"{text} {unit}".strip()


@dataclass(frozen=True)
class Legend:
    """Everything a colour bar needs: draw ``gradient`` from ``vmin`` (bottom) to ``vmax`` (top)."""

    title: str
    unit: str
    vmin: float
    vmax: float
    cmap: str
    ticks: tuple[float, ...]
    labels: tuple[str, ...]
    markers: tuple[tuple[float, str], ...] = ()  # (value, name) of each threshold inside the range
    gradient: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8), compare=False)
    nan_rgb: tuple[int, int, int] = NAN_RGB
    nan_label: str = "no data"

    def position(self, value: float) -> float:
        """Where a value sits along the bar, 0 (vmin) … 1 (vmax), clamped."""
        if self.vmax == self.vmin:
            return 0.5
        return float(min(1.0, max(0.0, (value - self.vmin) / (self.vmax - self.vmin))))


def legend_for(quantity: str, unit: str, vmin: float, vmax: float, cmap: str,
               thresholds: dict[str, float | None] | Any = None, n_ticks: int = 5) -> Legend:
    """A legend for a colour bar: 'Temperature (°C)', round ticks labelled '80 °C', threshold markers.

    ``thresholds`` is a dict of limit name → value or a project ``Thresholds``; limits inside the range
    become markers.
    """
    if hasattr(thresholds, "model_dump"):
        thresholds = thresholds.model_dump()
    limits = {k: float(v) for k, v in (thresholds or {}).items() if v is not None}
    ticks = nice_ticks(vmin, vmax, n_ticks)
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(vmax - vmin) or 1.0
    decimals = _decimals(step)
    labels = tuple(format_value(float(t), unit, decimals) for t in ticks)
    markers = tuple(
        (float(v), name.replace("_", " "))
        for name, v in sorted(limits.items(), key=lambda kv: kv[1])
        if vmin <= v <= vmax
    )
    title = (quantity or "value").replace("_", " ").capitalize() + (f" ({unit})" if unit else "")
    return Legend(title=title, unit=unit, vmin=float(vmin), vmax=float(vmax), cmap=cmap,
                  ticks=tuple(float(t) for t in ticks), labels=labels, markers=markers,
                  gradient=_table(cmap).copy())
