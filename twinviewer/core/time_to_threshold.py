"""Time to threshold: when will a trending sensor cross its warning and alarm limits?

Method: an ordinary least-squares line through the sensor's recent history (the samples of the last
``window_s`` seconds before ``t_now``; by default the most recent half of its history, at least 20
samples). The slope's standard error is widened for autocorrelated residuals (effective sample size
``n (1 - r1) / (1 + r1)`` with ``r1`` the lag-1 autocorrelation), so slow wander is not mistaken for a
trend. A trend counts only when the slope is significant (|slope| > 3 standard errors) **and** heads
towards a limit; otherwise there is no estimate and the reason says why ("no trend", "moving away").

The crossing time of a limit ``L`` is ``(L - level_now) / slope``. Its 80 % band is where the 80 %
confidence band of the fitted line (level and slope uncertainty together, ±1.2816 standard errors) meets
the limit: the early end where the band's leading edge reaches it, the late end where its trailing edge
does. When the trailing edge never reaches the limit the band is open ("or later").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Z80 = 1.2815515655446004  # two-sided 80 % normal quantile
SIGNIFICANCE = 3.0
MIN_SAMPLES = 20
HISTORY_SHARE = 0.5
LIMITS = (("alarm_high", "alarm", 1), ("warning_high", "warning", 1), ("warning_low", "warning", -1),
          ("alarm_low", "alarm", -1))


@dataclass(frozen=True)
class Crossing:
    """Projected crossing of one limit, in seconds from ``t_now`` (``late_s`` None: open-ended band)."""

    limit_name: str
    level: str
    limit: float
    eta_s: float
    early_s: float
    late_s: float | None

    def describe(self) -> str:
        late = f"{format_duration(self.late_s)}" if self.late_s is not None else "later"
        return (f"{self.level} in about {format_duration(self.eta_s)}, 80 % band "
                f"{format_duration(self.early_s)}–{late}")


@dataclass
class TrendEstimate:
    """The trend of one sensor at ``t_now`` and its projected crossings (empty when there is no estimate)."""

    t_now: float
    level_now: float
    slope: float  # per second
    slope_se: float
    samples: int
    t_centre: float = math.nan  # mean time of the fitted samples
    level_se_centre: float = 0.0  # standard error of the fitted level there
    crossings: list[Crossing] = field(default_factory=list)
    reason: str = ""  # why there is no estimate ("" when there are crossings)
    beyond: str = ""  # "warning"/"alarm" when the fitted level is already beyond that limit

    def describe(self) -> str:
        if self.crossings:
            return "; ".join(c.describe() for c in self.crossings)
        return self.reason

    def projection(self, horizon_s: float, points: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                      np.ndarray]:
        """``(times, centre, low, high)`` of the projected line and its 80 % band from ``t_now``."""
        dt = np.linspace(0.0, max(horizon_s, 0.0), points)
        centre = self.level_now + self.slope * dt
        d = self.t_now + dt - self.t_centre
        spread = Z80 * np.sqrt(self.level_se_centre ** 2 + (self.slope_se * d) ** 2)
        return self.t_now + dt, centre, centre - spread, centre + spread


def format_duration(seconds: float) -> str:
    """'3 d 4 h', '5 h 10 min', '12 min', '40 s' (two units at most)."""
    seconds = max(float(seconds), 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours, minute = divmod(int(round(minutes)), 60)
    if hours < 24:
        return f"{hours} h {minute} min" if minute else f"{hours} h"
    days, hour = divmod(int(round(seconds / 3600)), 24)
    return f"{days} d {hour} h" if hour else f"{days} d"


def _limits(thresholds) -> dict[str, float]:
    found = {}
    for name, _, _ in LIMITS:
        value = thresholds.get(name) if isinstance(thresholds, dict) else getattr(thresholds, name, None)
        if value is not None and math.isfinite(float(value)):
            found[name] = float(value)
    return found


def estimate_trend(times: np.ndarray, values: np.ndarray, thresholds, t_now: float | None = None,
                   window_s: float | None = None) -> TrendEstimate:
    """Fit the recent trend of one sensor and project it to its limits (see the module docstring)."""
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(v)
    if t_now is not None:
        ok &= t <= t_now
    t, v = t[ok], v[ok]
    now = float(t_now) if t_now is not None else (float(t[-1]) if t.size else math.nan)
    if t.size < MIN_SAMPLES:
        return TrendEstimate(now, math.nan, 0.0, math.inf, int(t.size),
                             reason=f"no estimate: fewer than {MIN_SAMPLES} samples")
    if window_s is None:
        window_s = max((t[-1] - t[0]) * HISTORY_SHARE, 0.0)
    recent = t >= now - window_s
    if recent.sum() < MIN_SAMPLES:
        recent = np.zeros(t.size, dtype=bool)
        recent[-MIN_SAMPLES:] = True
    t, v = t[recent], v[recent]
    tc = t - t.mean()
    sxx = float(np.sum(tc ** 2))
    if sxx <= 0:
        return TrendEstimate(now, float(v[-1]), 0.0, math.inf, int(t.size), reason="no estimate: no time spread")
    slope = float(np.sum(tc * (v - v.mean())) / sxx)
    intercept = float(v.mean())
    residual = v - (intercept + slope * tc)
    n = t.size
    sigma2 = float(np.sum(residual ** 2) / max(n - 2, 1))
    r1 = 0.0
    if n > 3 and np.var(residual) > 0:
        r1 = float(np.clip(np.corrcoef(residual[:-1], residual[1:])[0, 1], -0.99, 0.99))
    inflation = math.sqrt(max((1 + r1) / (1 - r1), 1.0))
    slope_se = math.sqrt(sigma2 / sxx) * inflation
    level_now = intercept + slope * (now - t.mean())
    estimate = TrendEstimate(now, level_now, slope, slope_se, int(n), t_centre=float(t.mean()),
                             level_se_centre=math.sqrt(sigma2 / n) * inflation)
    limits = _limits(thresholds)
    for name, level, direction in LIMITS:
        if name in limits and (limits[name] - level_now) * direction <= 0:
            if not estimate.beyond or level == "alarm":
                estimate.beyond = level
    if not limits:
        estimate.reason = "no estimate: the sensor has no warning or alarm limits"
        return estimate
    if abs(slope) <= SIGNIFICANCE * slope_se:
        estimate.reason = "no estimate: no significant trend (the recent values are flat within their noise)"
        return estimate
    direction = 1 if slope > 0 else -1
    ahead = [(name, level) for name, level, d in LIMITS
             if d == direction and name in limits and (limits[name] - level_now) * direction > 0]
    if not ahead:
        estimate.reason = "no estimate: the trend moves away from the limits" + (
            f" (already in {estimate.beyond})" if estimate.beyond else "")
        return estimate
    for name, level in sorted(ahead, key=lambda item: abs(limits[item[0]] - level_now)):
        early, late = _band(limits[name], estimate)
        estimate.crossings.append(Crossing(name, level, limits[name], (limits[name] - level_now) / slope, early, late))
    return estimate


def _band(limit: float, e: TrendEstimate) -> tuple[float, float | None]:
    """Times (s from now) where the 80 % band of the fitted line meets ``limit``: the roots of
    ``(level(d) - limit)² = Z80² se(d)²`` with ``se(d)² = s²/n + slope_se² d²`` (d from the fit's centre)."""
    c = e.t_now - e.t_centre  # now, seen from the centre of the fitted window
    a = e.level_now - e.slope * c - limit  # the line's gap to the limit at the centre
    q = Z80 ** 2
    A = e.slope ** 2 - q * e.slope_se ** 2
    B = 2 * e.slope * a
    C = a ** 2 - q * e.level_se_centre ** 2
    disc = B * B - 4 * A * C
    if A <= 0 or disc < 0:
        eta = -a / e.slope - c
        return max(eta * 0.5, 0.0), None
    roots = sorted(((-B - math.sqrt(disc)) / (2 * A) - c, (-B + math.sqrt(disc)) / (2 * A) - c))
    return max(roots[0], 0.0), max(roots[1], 0.0)
