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

THRESHOLD_MAP = "thresholds"
"""The threshold-aware map: calm blues in the normal band, amber from the warning limit, red from the alarm
limit, of each sensor's own limits (see :func:`threshold_units`). The default for every quantity."""
COLORMAP_NAMES: tuple[str, ...] = (THRESHOLD_MAP, *COLORMAP_HEX)

QUANTITY_COLORMAPS: dict[str, str] = {}
"""Default map per quantity (the ``quantity`` of a sensor in the project); anything else gets the default.
Perceptual maps (viridis, cividis, inferno, …) stay available through ``[view.colormaps]`` and the panel."""

DEFAULT_COLORMAP = THRESHOLD_MAP
THRESHOLD_SPAN = (-3.0, 3.0)
"""Range of threshold units: |u| <= 1 normal band, 1..2 warning band, >= 2 beyond the alarm limit."""
CALM_RGB = ((40, 70, 130), (90, 150, 200), (170, 215, 235))
WARNING_RGB = ((245, 190, 40), (235, 140, 0))
ALARM_RGB = ((214, 40, 40), (150, 10, 20))


class ColormapError(TwinViewerError):
    """A colour-map name (for example in ``[view.colormaps]`` of the project) that TwinViewer does not
    have."""


def _check_name(name: str) -> str:
    base = name.removesuffix("_r")
    if base not in COLORMAP_HEX and base != THRESHOLD_MAP:
        choices = ", ".join(COLORMAP_NAMES)
        raise ColormapError(f"unknown colour map {name!r}; use one of {choices} (add _r to reverse)")
    return base


@lru_cache(maxsize=32)
def _table(name: str) -> np.ndarray:
    base = _check_name(name)
    if base == THRESHOLD_MAP:
        table = _threshold_table()
    else:
        table = np.frombuffer(bytes.fromhex("".join(COLORMAP_HEX[base])), dtype=np.uint8).reshape(TABLE_SIZE, 3)
    if name.endswith("_r"):
        table = table[::-1]
    table = np.ascontiguousarray(table)
    table.flags.writeable = False
    return table


def _ramp(colours, t: np.ndarray) -> np.ndarray:
    stops = np.linspace(0.0, 1.0, len(colours))
    return np.stack([np.interp(t, stops, [c[i] for c in colours]) for i in range(3)], axis=1)


def _threshold_table() -> np.ndarray:
    """256 colours over threshold units -3..3 (see :func:`threshold_units`)."""
    lo, hi = THRESHOLD_SPAN
    u = lo + (np.arange(TABLE_SIZE) + 0.5) * (hi - lo) / TABLE_SIZE
    a = np.abs(u)
    out = np.empty((TABLE_SIZE, 3))
    calm = a < 1.0
    out[calm] = _ramp(CALM_RGB, (u[calm] + 1.0) / 2.0)
    warn = (a >= 1.0) & (a < 2.0)
    out[warn] = _ramp(WARNING_RGB, a[warn] - 1.0)
    alarm = a >= 2.0
    out[alarm] = _ramp(ALARM_RGB, np.clip(a[alarm] - 2.0, 0.0, 1.0))
    return np.round(out).astype(np.uint8)


def _limits_of(thresholds: Any) -> dict[str, float]:
    if hasattr(thresholds, "model_dump"):
        thresholds = thresholds.model_dump()
    return {k: float(v) for k, v in (thresholds or {}).items() if v is not None and k in
            ("alarm_low", "warning_low", "warning_high", "alarm_high")}


def threshold_knots(thresholds: Any, value_range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (values, threshold units) of one sensor's scale: the normal band maps to -1..1, each
    warning band to 1..2 (or -2..-1), beyond an alarm limit to 2..3. A side without limits stays inside the
    normal band (that side can never turn amber or red); ``value_range`` (the sensor's declared range, or
    the span the colour bar shows) places the band's ends where limits are missing."""
    lim = _limits_of(thresholds)
    given = [lim[k] for k in ("alarm_low", "warning_low", "warning_high", "alarm_high") if k in lim]
    span_lo, span_hi = value_range if value_range is not None else (min(given, default=0.0), max(given, default=1.0))
    width = max(span_hi - span_lo, max((abs(x) for x in given), default=1.0) * 0.1, 1e-9)
    wh = lim.get("warning_high", lim.get("alarm_high"))
    ah = lim.get("alarm_high")
    wl = lim.get("warning_low", lim.get("alarm_low"))
    al = lim.get("alarm_low")
    top = wh if wh is not None else max(span_hi, max(given, default=span_hi))
    bottom = wl if wl is not None else min(span_lo, min(given, default=span_lo))
    if top <= bottom:
        bottom = top - width
    xs: list[float] = []
    us: list[float] = []
    if wl is not None:
        alarm_low = al if al is not None and al < wl else wl
        step = (wl - alarm_low) or (top - bottom) * 0.25
        xs += [alarm_low - step, alarm_low] if al is not None and al < wl else [wl - step]
        us += [-3.0, -2.0] if al is not None and al < wl else [-2.0]
    xs += [bottom, top]
    us += [-1.0, 1.0]
    if wh is not None:
        alarm_high = ah if ah is not None and ah > wh else wh
        step = (alarm_high - wh) or (top - bottom) * 0.25
        if ah is not None and ah > wh:
            xs += [ah, ah + step]
            us += [2.0, 3.0]
        else:
            xs += [wh + step]
            us += [2.0]
    order = np.argsort(xs, kind="stable")
    return np.asarray(xs, dtype=np.float64)[order], np.asarray(us, dtype=np.float64)[order]


def threshold_units(values: np.ndarray, thresholds: Any, value_range: tuple[float, float] | None = None
                    ) -> np.ndarray:
    """Values of one sensor (or sensors sharing limits) in threshold units (NaN stays NaN): beyond the
    alarm limit is >= 2 (red), beyond the warning limit >= 1 (amber), otherwise calm."""
    xs, us = threshold_knots(thresholds, value_range)
    v = np.asarray(values, dtype=np.float64)
    out = np.interp(v, xs, us, left=us[0], right=us[-1])
    lim = _limits_of(thresholds)
    # The band decides the colour ("beyond" is strict, as for statuses); within its band a value keeps at
    # least one table bin from the band's edges, so a 256-entry lookup table never puts it in a bin it
    # shares with the next band.
    bump = 1.01 * (THRESHOLD_SPAN[1] - THRESHOLD_SPAN[0]) / TABLE_SIZE
    band = np.zeros(v.shape)
    with np.errstate(invalid="ignore"):
        for key, level, sign in (("warning_high", 1, 1.0), ("warning_low", 1, -1.0),
                                 ("alarm_high", 2, 1.0), ("alarm_low", 2, -1.0)):
            if key in lim:
                beyond = (v > lim[key]) if sign > 0 else (v < lim[key])
                band = np.where(beyond, np.maximum(band, level), band)
                out = np.where(beyond & (level >= np.abs(band)), sign * np.abs(out), out)
    magnitude = np.clip(np.abs(out), np.where(band > 0, band + bump, 0.0), np.where(band < 2, band + 1 - bump, 3.0))
    out = np.where(out < 0, -magnitude, magnitude)
    out[np.isnan(v)] = np.nan
    return out


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
    gradient = _table(cmap).copy()
    if cmap.removesuffix("_r") == THRESHOLD_MAP and limits:
        # The bar in real units: each of its values coloured as the threshold map colours it.
        values = vmin + (np.arange(TABLE_SIZE) + 0.5) * (vmax - vmin) / TABLE_SIZE
        gradient = map_values(threshold_units(values, thresholds, (vmin, vmax)), *THRESHOLD_SPAN, THRESHOLD_MAP)
    elif cmap.removesuffix("_r") == THRESHOLD_MAP:
        # Sensors with different limits: the bar shows the bands (normal, warning, alarm) in order; the
        # markers say where each sensor's limits are.
        gradient = np.ascontiguousarray(gradient[TABLE_SIZE // 2:].repeat(2, axis=0))
    return Legend(title=title, unit=unit, vmin=float(vmin), vmax=float(vmax), cmap=cmap,
                  ticks=tuple(float(t) for t in ticks), labels=labels, markers=markers,
                  gradient=gradient)
