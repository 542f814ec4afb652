"""Multivariate anomaly detection: learn "normal" from a training window, score each new timestamp online.

Method (documented with its benchmark in docs/anomaly-detection.md):

- **Drift-aware scaling.** Each sensor is centred on its training mean and scaled by its *held-out*
  deviation: the training window is split in two halves and every sample is compared with the mean of
  the other half. A slowly drifting sensor (a temperature warming up) therefore gets a wider scale than
  its short-term noise alone would give, which is what it will show after training.
- **Trending sensors get room.** A sensor that trended during training (a temperature still warming up)
  may keep trending: at ``a`` seconds from the training window its scale becomes
  ``sqrt(scale² + (trend · a)²)``, with ``trend`` its least-squares slope in training and ``a`` capped at
  twice the training duration (a line is not extrapolated further). A sensor without a trend keeps its
  full sensitivity.
- **Correlation structure, shrunk.** The covariance of the scaled held-out deviations, shrunk towards the
  identity by the Ledoit–Wolf intensity (estimated from the data: more shrinkage for fewer or noisier
  training rows, so the inverse does not over-trust tiny eigenvalues), gives a precision matrix ``P``. The raw score of a sample ``z`` is ``z·P·z / m`` (a regularised Mahalanobis
  distance per sensor): it rises for a step, a drift, more variance, and for a broken correlation.
- **Contributions.** ``z_i (P z)_i / m`` sums to the score; its positive part, smoothed like the
  score, says which sensors explain an anomaly.
- **Smoothing.** An exponentially weighted mean over ``span`` samples (30 by default), so single spikes
  do not flag and sustained departures do.
- **Limit.** Peaks-over-threshold on the smoothed held-out training scores: an exponential tail is fitted
  to the scores above their 90 % quantile and the limit is set where that tail has probability ``risk``
  (1e-4). The limit follows from the training data; nothing is tuned per file.

Missing values (NaN) are replaced by their expectation given the other sensors of the row, so a gap neither
raises nor hides an anomaly on the other sensors. Sensors constant in training carry no information and are ignored (weight 0).
Scoring is O(m²) per timestamp (m sensors): a few microseconds for 12 sensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.errors import TwinViewerError

MODEL_FORMAT = "twinviewer-anomaly-model"
MODEL_VERSION = 1
DEFAULT_SPAN = 30
DEFAULT_RISK = 1e-4
TAIL_QUANTILE = 0.9
TREND_HORIZON = 2.0  # a training trend is extrapolated at most this many training durations
MIN_TRAIN_ROWS = 20


class AnomalyModelError(TwinViewerError):
    """A detector that cannot be trained, or a model file that is not valid."""


@dataclass
class DetectorModel:
    """What the detector learned. Arrays are float64; ``precision`` is m×m in scaled units."""

    sensors: list[str]
    center: np.ndarray
    scale: np.ndarray
    weight: np.ndarray  # 1 for a sensor used, 0 for one constant in training
    precision: np.ndarray
    limit: float
    initial_score: float = 0.0  # typical training score: where smoothing starts, so a first odd row does not linger
    span: int = DEFAULT_SPAN
    shrink: float = 0.0
    risk: float = DEFAULT_RISK
    train_start: float | None = None
    train_end: float | None = None
    train_rows: int = 0
    trend: np.ndarray | None = None  # |slope| per second of each sensor in training (units/s)

    def _scale_at(self, times: np.ndarray | float | None) -> np.ndarray:
        """Scale per sensor (1-D) or per row and sensor (2-D) for timestamps at ``times``."""
        if times is None or self.trend is None or not self.trend.any() or self.train_end is None:
            return self.scale
        t = np.asarray(times, dtype=np.float64)
        start = self.train_start if self.train_start is not None else self.train_end
        age = np.where(t > self.train_end, t - self.train_end, np.where(t < start, start - t, 0.0))
        age = np.minimum(age, TREND_HORIZON * (self.train_end - start))
        age = age[..., None] if age.ndim else age
        return np.sqrt(self.scale ** 2 + (self.trend * age) ** 2)

    @property
    def alpha(self) -> float:
        return 2.0 / (self.span + 1.0)

    def scaled(self, values: np.ndarray, times: np.ndarray | float | None = None) -> np.ndarray:
        """``(values - center) / scale`` (1-D or 2-D, the scale widened by wander at ``times``), unused
        sensors 0, missing values imputed.

        A missing value (NaN) gets its expectation given the other sensors of that row (the Gaussian
        conditional mean ``-P_mm⁻¹ P_mo z_o``): the score is then that of the observed sensors alone, so
        a gap neither raises nor hides an anomaly.
        """
        z = (np.asarray(values, dtype=np.float64) - self.center) / self._scale_at(times)
        missing = ~np.isfinite(z)
        z = np.where(missing, 0.0, z) * self.weight
        if missing.any():
            rows = z.reshape(-1, z.shape[-1])
            gaps = missing.reshape(rows.shape) & (self.weight > 0)
            for i in np.flatnonzero(gaps.any(axis=1)):
                m = gaps[i]
                p_mm = self.precision[np.ix_(m, m)]
                if p_mm.size and np.linalg.cond(p_mm) < 1e12:
                    rows[i, m] = -np.linalg.solve(p_mm, self.precision[np.ix_(m, ~m)] @ rows[i, ~m])
            z = rows.reshape(z.shape)
        return z

    def raw_scores(self, values: np.ndarray, times: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Unsmoothed ``(score per row, contribution per row and sensor)`` for a 2-D block."""
        z = self.scaled(values, times)
        pz = z @ self.precision
        contributions = z * pz / len(self.sensors)
        return contributions.sum(axis=1), contributions

    def to_json(self) -> dict:
        return {
            "format": MODEL_FORMAT, "version": MODEL_VERSION,
            "method": "split-half scaled with room for training trends, Ledoit-Wolf shrunk Mahalanobis, "
                      "EWMA smoothing, peaks-over-threshold limit",
            "sensors": list(self.sensors), "center": self.center.tolist(), "scale": self.scale.tolist(),
            "weight": self.weight.tolist(), "precision": self.precision.tolist(), "limit": self.limit,
            "initial_score": self.initial_score,
            "span": self.span, "shrink": self.shrink, "risk": self.risk,
            "trend": (self.trend if self.trend is not None else np.zeros(len(self.sensors))).tolist(),
            "training": {"start": self.train_start, "end": self.train_end, "rows": self.train_rows},
        }


def _ewma(values: np.ndarray, alpha: float, initial: np.ndarray | float | None = None) -> np.ndarray:
    """Exponentially weighted mean along axis 0 (started at ``initial``, or at the first row)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    if len(values) == 0:
        return out
    state = values[0].copy() if initial is None else np.array(initial, dtype=np.float64, copy=True)
    if np.ndim(state) == 0:
        state = float(state)
    keep = 1.0 - alpha
    for i in range(len(values)):
        state = alpha * values[i] + keep * state
        out[i] = state
    return out


def fit_detector(values: np.ndarray, sensors: Sequence[str], times: np.ndarray | None = None, *,
                 span: int = DEFAULT_SPAN, shrink: float | None = None, risk: float = DEFAULT_RISK) -> DetectorModel:
    """Learn normal behaviour from ``values`` (rows = timestamps, columns = ``sensors``) of a normal period."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(sensors):
        raise AnomalyModelError(f"training data must be rows × {len(sensors)} sensors, got shape {x.shape}")
    if not 0 < risk < 1 - TAIL_QUANTILE or span < 1 or (shrink is not None and not 0 <= shrink <= 1):
        raise AnomalyModelError("risk must be in (0, 0.1), span >= 1 and shrink in [0, 1]")
    rows = x[np.isfinite(x).any(axis=1)]
    if len(rows) < MIN_TRAIN_ROWS:
        raise AnomalyModelError(f"training needs at least {MIN_TRAIN_ROWS} timestamps with data, got {len(rows)}")
    center = np.nanmean(rows, axis=0)
    center = np.where(np.isfinite(center), center, 0.0)
    half = len(rows) // 2
    first, second = rows[:half], rows[half:]
    mean_first = np.nan_to_num(np.nanmean(first, axis=0))
    mean_second = np.nan_to_num(np.nanmean(second, axis=0))
    held_out = np.vstack([first - mean_second, second - mean_first])  # each half against the other's mean
    held_out = np.where(np.isfinite(held_out), held_out, 0.0)
    scale = np.sqrt(np.mean(held_out ** 2, axis=0))
    spread = np.nanmax(rows, axis=0) - np.nanmin(rows, axis=0)
    weight = (np.isfinite(spread) & (spread > 0) & (scale > 0)).astype(np.float64)
    scale = np.where(weight > 0, scale, 1.0)
    z = held_out / scale * weight
    m = len(sensors)
    covariance = (z.T @ z) / len(z)
    if shrink is None:
        shrink = ledoit_wolf_shrinkage(z[:, weight > 0])
    covariance = (1.0 - shrink) * covariance + shrink * np.diag(weight)
    covariance += np.diag(1.0 - weight)  # unused sensors: identity, then zeroed below
    precision = np.linalg.inv(covariance) * np.outer(weight, weight)
    precision = (precision + precision.T) / 2.0
    model = DetectorModel(sensors=list(sensors), center=center, scale=scale, weight=weight, precision=precision,
                          limit=math.inf, span=int(span), shrink=float(shrink), risk=float(risk),
                          train_rows=len(rows))
    if times is not None and len(times):
        t = np.asarray(times, dtype=np.float64)
        model.train_start, model.train_end = float(np.nanmin(t)), float(np.nanmax(t))
        model.trend = training_trend(t, x) * weight
    # held-out scores of the training rows, smoothed as online, give the limit (peaks over threshold)
    raw = np.einsum("ij,jk,ik->i", z, precision, z) / m
    model.initial_score = float(np.median(raw))
    smooth = _ewma(raw, model.alpha, initial=model.initial_score)
    model.limit = pot_limit(smooth, risk)
    return model


def training_trend(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """|least-squares slope| per second of each column over the rows with a finite time (NaN ignored)."""
    ok = np.isfinite(times)
    t, x = times[ok], values[ok]
    slopes = np.zeros(values.shape[1])
    for j in range(values.shape[1]):
        good = np.isfinite(x[:, j])
        if good.sum() < 3:
            continue
        tc = t[good] - t[good].mean()
        denominator = float(tc @ tc)
        if denominator > 0:
            slopes[j] = abs(float(tc @ (x[good, j] - x[good, j].mean())) / denominator)
    return slopes


def ledoit_wolf_shrinkage(x: np.ndarray) -> float:
    """Ledoit–Wolf intensity for shrinking the covariance of centred rows ``x`` towards a scaled identity."""
    n, p = x.shape
    if n < 2 or p == 0:
        return 1.0
    sample = x.T @ x / n
    mu = np.trace(sample) / p
    delta = np.sum((sample - mu * np.eye(p)) ** 2) / p
    if delta <= 0:
        return 1.0
    squares = x ** 2
    beta = (np.sum(squares.T @ squares) / n - np.sum(sample ** 2)) / (n * p)
    return float(min(max(beta, 0.0), delta) / delta)


def pot_limit(scores: np.ndarray, risk: float, tail_quantile: float = TAIL_QUANTILE) -> float:
    """Score exceeded with probability ``risk``: an exponential tail fitted above the ``tail_quantile``."""
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[np.isfinite(scores)]
    u = float(np.quantile(scores, tail_quantile))
    excess = scores[scores > u] - u
    beta = float(excess.mean()) if excess.size else max(abs(u), 1e-9) * 0.1
    limit = u + beta * math.log((1.0 - tail_quantile) / risk)
    return max(limit, 1e-12)


@dataclass
class ScoreResult:
    """Scores of a block of timestamps: smoothed score, 0/1 flag and smoothed contributions per sensor."""

    times: np.ndarray
    score: np.ndarray
    anomaly: np.ndarray
    contributions: np.ndarray
    sensors: list[str]
    limit: float
    span: int = DEFAULT_SPAN


class OnlineScorer:
    """Scores one timestamp at a time (live and replay) and remembers only the smoothing state."""

    def __init__(self, model: DetectorModel):
        self.model = model
        self.reset()

    def reset(self) -> None:
        self._score = self.model.initial_score
        self._contrib = np.zeros(len(self.model.sensors))

    def step(self, values: np.ndarray, t: float | None = None) -> tuple[float, bool, np.ndarray]:
        """``(smoothed score, anomalous, smoothed contributions)`` after one row of sensor values at ``t``."""
        model = self.model
        z = model.scaled(values, t)
        pz = model.precision @ z
        contributions = z * pz / len(z)
        raw = float(contributions.sum())
        a = model.alpha
        self._score = a * raw + (1.0 - a) * self._score
        self._contrib = a * contributions + (1.0 - a) * self._contrib
        return self._score, self._score > model.limit, self._contrib

    def step_block(self, values: np.ndarray, times: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`step` for each row of ``values``: ``(scores, 0/1 flags, contributions)``, state carried on."""
        model = self.model
        raw, contributions = model.raw_scores(values, times)
        score = _ewma(raw, model.alpha, initial=self._score)
        smooth = _ewma(contributions, model.alpha, initial=self._contrib)
        if len(score):
            self._score, self._contrib = float(score[-1]), smooth[-1].copy()
        return score, (score > model.limit).astype(np.int8), smooth


def score_block(model: DetectorModel, times: np.ndarray, values: np.ndarray) -> ScoreResult:
    """Score every row of ``values`` in order, exactly as :class:`OnlineScorer` would one by one."""
    raw, contributions = model.raw_scores(values, times)
    score = _ewma(raw, model.alpha, initial=model.initial_score)
    smooth_contrib = _ewma(contributions, model.alpha, initial=np.zeros(len(model.sensors)))
    return ScoreResult(times=np.asarray(times, dtype=np.float64), score=score,
                       anomaly=(score > model.limit).astype(np.int8), contributions=smooth_contrib,
                       sensors=list(model.sensors), limit=model.limit, span=model.span)


@dataclass(frozen=True)
class AnomalyEpisode:
    """A run of anomalous timestamps ``[start, end]`` with its peak score and the sensors that explain it."""

    start: float
    end: float
    peak: float
    top_sensors: tuple[str, ...]
    shares: tuple[float, ...] = field(default=())

    def describe(self, limit: int = 3) -> str:
        names = ", ".join(f"{s} {100 * w:.0f} %" for s, w in zip(self.top_sensors[:limit], self.shares[:limit],
                                                                strict=False))
        return f"anomaly (peak {self.peak:.2f}): {names}" if names else f"anomaly (peak {self.peak:.2f})"


def top_contributors(contributions: np.ndarray, sensors: Sequence[str], count: int = 3) -> list[tuple[str, float]]:
    """The sensors with the largest positive contribution and their share of the positive total."""
    c = np.clip(np.nan_to_num(np.asarray(contributions, dtype=np.float64)), 0.0, None)
    total = c.sum()
    if total <= 0:
        return []
    order = np.argsort(c)[::-1][:count]
    return [(sensors[i], float(c[i] / total)) for i in order if c[i] > 0]


def episodes(result: ScoreResult, top: int = 3) -> list[AnomalyEpisode]:
    """Runs of anomalous timestamps, each with the sensors contributing most at its onset.

    The onset (the first ``span`` timestamps) is where behaviour left normal: later the consequences of the
    fault (a pump slowing down after a bearing seized) can outweigh its cause.
    Runs separated by fewer normal timestamps than the smoothing span are one episode (a score hovering
    at the limit is one event, not many).
    """
    flags = np.asarray(result.anomaly, dtype=bool)
    if not flags.any():
        return []
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs: list[list[int]] = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if runs and start - runs[-1][1] < result.span:
            runs[-1][1] = stop
        else:
            runs.append([start, stop])
    found = []
    for start, stop in runs:
        window = result.contributions[start:min(stop, start + result.span)]  # where it left normal
        ranked = top_contributors(window.mean(axis=0), result.sensors, top)
        found.append(AnomalyEpisode(start=float(result.times[start]), end=float(result.times[stop - 1]),
                                    peak=float(result.score[start:stop].max()),
                                    top_sensors=tuple(s for s, _ in ranked), shares=tuple(w for _, w in ranked)))
    return found


def store_matrix(store, sensors: Sequence[str], t0: float | None = None,
                 t1: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(times, values (n, m))`` of a :class:`~twinviewer.core.store.TimeSeriesStore` in ``[t0, t1]``.

    One row per distinct timestamp of any of the sensors; each sensor holds its latest sample until it
    goes stale (``store.stale_factor`` × its expected period), then NaN. A recording on one time grid
    comes back unchanged.
    """
    lo = -np.inf if t0 is None else t0
    hi = np.inf if t1 is None else t1
    aligned = store.aligned_samples(list(sensors))
    if aligned is not None:
        times, matrix = aligned
        inside = (times >= lo) & (times <= hi)
        return times[inside], matrix[inside].astype(np.float64)
    series = [store.samples(s) for s in sensors]
    stamps = [t[(t >= lo) & (t <= hi)] for t, _ in series]
    times = np.unique(np.concatenate(stamps)) if stamps else np.empty(0)
    matrix = np.full((times.size, len(sensors)), np.nan)
    for j, (sensor, (t, v)) in enumerate(zip(sensors, series, strict=True)):
        if t.size == 0:
            continue
        index = np.searchsorted(t, times, side="right") - 1
        ok = index >= 0
        held = np.where(ok, index, 0)
        fresh = ok & (times - t[held] <= store.stale_factor * store.expected_period(sensor))
        matrix[fresh, j] = v[held[fresh]]
    return times, matrix


def detector_sensors(store, project_sensors: Sequence[str] = ()) -> list[str]:
    """The sensors to model: the project's sensors that have samples (every sensor of the store if none)."""
    names = [s for s in project_sensors if store.has(s)] if project_sensors else list(store.sensor_ids)
    return [s for s in names if store.samples(s)[0].size]
