"""Multivariate anomaly detection: learn "normal" from a training window, score each new timestamp online.

Method (documented with its benchmark in docs/anomaly-detection.md):

- **Level or movement, decided per sensor from the training data.** A sensor whose level varies much more
  over the training window than its sample-to-sample noise explains (variance of the level > ``WANDER_RATIO``
  × half the variance of its first differences: a temperature wandering with the thermal state) is judged
  by its *movement*, its first difference scaled by the training RMS step; every other sensor by its
  *level*, centred on the training mean and scaled by its held-out deviation (each half of the window
  against the other half's mean). A wandering level is not a fault; a sudden or unusually fast movement is.
- **Room for a training trend.** A level sensor that trended during training may keep trending: at ``a``
  seconds from the training window its scale becomes ``sqrt(scale² + (trend·a)²)``, ``trend`` its
  least-squares slope in training, ``a`` capped at ``TREND_HORIZON`` training durations.
- **Two charts on the features, as in statistical process control.** The *shift* chart (MEWMA): the
  feature vector smoothed by an exponentially weighted mean over ``span`` samples, scored ``w·P·w / m``
  with ``P`` the inverse covariance of the smoothed held-out training features. Smoothing before squaring
  makes a small sustained shift of one sensor (a flow one noise-width lower) stand out while single spikes
  do not. The *spread* chart: the squared distance ``f·Q·f / m`` of each feature vector (``Q`` the inverse
  covariance of the unsmoothed features), smoothed the same way: more variance and broken correlations.
  Both covariances are correlation matrices shrunk to the identity with the Ledoit–Wolf intensity.
- **Limits.** Each chart's limit is the larger of a peaks-over-threshold estimate on its held-out training
  scores (an exponential tail above their 90 % quantile, at tail probability ``risk``) and its Gaussian
  reference at the same ``risk`` (χ²; for the spread chart a gamma matched to an EWMA of χ²): a short
  training window cannot claim a lighter tail than Gaussian noise. The score is the larger of the two
  charts, each as a multiple of its limit: above 1 is anomalous.
- **Optional guarded baseline** (``adapt``): after a timestamp scored normal, each level sensor's centre
  moves towards its value with a time constant of ``ADAPT_SPANS`` smoothing spans; it stays put while the
  score is over the limit (unless the departure outlasts the training window). Off by default: a fault
  that grows slowly (a bearing warming over hours) would be learned as normal.
- **Contributions.** Per chart, ``w_i (P w)_i / m`` (or the smoothed ``f_i (Q f)_i / m``) sums to the
  score; the positive part of the charting chart's contributions says which sensors explain an anomaly.

Missing values (NaN) are replaced by their expectation given the other sensors of the row, so a gap neither
raises nor hides an anomaly on the other sensors. Sensors constant in training carry no information and are
ignored (weight 0). Scoring is O(m²) per timestamp (m sensors): microseconds for 12 sensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.errors import TwinViewerError

MODEL_FORMAT = "twinviewer-anomaly-model"
MODEL_VERSION = 2
DEFAULT_SPAN = 20
DEFAULT_RISK = 1e-4
TAIL_QUANTILE = 0.9
TREND_HORIZON = 2.0  # a training trend is extrapolated at most this many training durations
WANDER_RATIO = 3.0  # level variance / white-noise variance above which a sensor is judged by its movement
ADAPT_SPANS = 5  # the guarded baseline's time constant in smoothing spans
MIN_TRAIN_ROWS = 20
SCORE_LIMIT = 1.0  # scores are multiples of their chart's limit


class AnomalyModelError(TwinViewerError):
    """A detector that cannot be trained, or a model file that is not valid."""


def _empty() -> np.ndarray:
    return np.zeros(0)


@dataclass
class DetectorModel:
    """What the detector learned. Arrays are float64, one entry per sensor; ``precision`` is m×m."""

    sensors: list[str]
    center: np.ndarray
    scale: np.ndarray
    weight: np.ndarray  # 1 for a sensor used, 0 for one constant in training
    precision: np.ndarray  # shift chart: inverse covariance of the smoothed features
    limit: float  # shift chart limit
    # Arrays left empty are filled with their neutral defaults for the model's sensors (__post_init__).
    spread_precision: np.ndarray = field(default_factory=_empty)  # spread chart: inverse covariance
    spread_limit: float = math.inf
    spread_initial: float = 1.0  # median training spread score: where its smoothing starts
    span: int = DEFAULT_SPAN
    shrink: float = 0.0
    risk: float = DEFAULT_RISK
    train_start: float | None = None
    train_end: float | None = None
    train_rows: int = 0
    trend: np.ndarray = field(default_factory=_empty)  # |slope| per second in training (units/s), level sensors
    wander: np.ndarray = field(default_factory=_empty)  # 1 = judged by movement (first differences), 0 = level
    step_scale: np.ndarray = field(default_factory=_empty)  # RMS first difference in training (units)
    adapt: float = 0.0  # time constant (timestamps) of the guarded baseline of level sensors; 0 = fixed

    def __post_init__(self) -> None:
        m = len(self.sensors)
        for name in ("trend", "wander"):
            if getattr(self, name) is None or np.size(getattr(self, name)) == 0:
                setattr(self, name, np.zeros(m))
        if self.step_scale is None or self.step_scale.size == 0:
            self.step_scale = np.ones(m)
        if self.spread_precision is None or self.spread_precision.size == 0:
            self.spread_precision = np.zeros((m, m))

    @property
    def alpha(self) -> float:
        return 2.0 / (self.span + 1.0)

    @property
    def used(self) -> int:
        return max(int(self.weight.sum()), 1)

    def _scale_at(self, times: np.ndarray | float | None) -> np.ndarray:
        """Level scale per sensor (1-D) or per row and sensor (2-D) for timestamps at ``times``."""
        if times is None or self.train_end is None or not self.trend.any():
            return self.scale
        t = np.asarray(times, dtype=np.float64)
        start = self.train_start if self.train_start is not None else self.train_end
        age = np.where(t > self.train_end, t - self.train_end, np.where(t < start, start - t, 0.0))
        age = np.nan_to_num(np.minimum(age, TREND_HORIZON * (self.train_end - start)))
        age = age[..., None] if age.ndim else age
        return np.sqrt(self.scale ** 2 + (self.trend * age) ** 2)

    def features(self, values: np.ndarray, previous: np.ndarray, times: np.ndarray | float | None = None
                 ) -> np.ndarray:
        """Scaled features of a 2-D block: level deviations, or steps from ``previous`` (the row before
        each row, NaN where unknown) for wandering sensors; unused sensors 0, missing values imputed.

        A missing feature gets its expectation given the other sensors of that row (the Gaussian
        conditional mean ``-P_mm⁻¹ P_mo f_o``): the score is then that of the observed sensors alone.
        """
        values = np.asarray(values, dtype=np.float64)
        level = (values - self.center) / self._scale_at(times)
        step = (values - previous) / self.step_scale
        f = np.where(self.wander > 0, step, level)
        return self.complete(f)

    def complete(self, f: np.ndarray) -> np.ndarray:
        """Features (1-D or 2-D) with unused sensors 0 and missing values imputed from the others."""
        missing = ~np.isfinite(f)
        f = np.where(missing, 0.0, f) * self.weight
        gaps = missing & (self.weight > 0)
        if not gaps.any():
            return f
        rows, gap_rows = f.reshape(-1, f.shape[-1]), gaps.reshape(-1, f.shape[-1])
        for i in np.flatnonzero(gap_rows.any(axis=1)):
            m = gap_rows[i]
            p_mm = self.spread_precision[np.ix_(m, m)]
            if p_mm.size and np.linalg.cond(p_mm) < 1e12:
                rows[i, m] = -np.linalg.solve(p_mm, self.spread_precision[np.ix_(m, ~m)] @ rows[i, ~m])
        return rows.reshape(f.shape)

    def to_json(self) -> dict:
        return {
            "format": MODEL_FORMAT, "version": MODEL_VERSION,
            "method": "per-sensor level (held-out scale, room for a training trend) or movement "
                      "(first differences); MEWMA shift chart and EWMA spread chart with Ledoit-Wolf shrunk precisions; "
                      "peaks-over-threshold limits",
            "sensors": list(self.sensors), "center": self.center.tolist(), "scale": self.scale.tolist(),
            "weight": self.weight.tolist(), "wander": self.wander.tolist(),
            "step_scale": self.step_scale.tolist(), "trend": self.trend.tolist(),
            "precision": self.precision.tolist(), "limit": self.limit,
            "spread_precision": self.spread_precision.tolist(), "spread_limit": self.spread_limit,
            "spread_initial": self.spread_initial,
            "span": self.span, "adapt": self.adapt, "shrink": self.shrink, "risk": self.risk,
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


def _previous_rows(values: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the last finite value of each column before it (``previous`` before the first row);
    and the last finite values after the block (the next block's ``previous``)."""
    stacked = np.vstack([previous[None, :], values])
    finite = np.isfinite(stacked)
    index = np.where(finite, np.arange(len(stacked))[:, None], 0)
    np.maximum.accumulate(index, axis=0, out=index)
    filled = np.take_along_axis(stacked, index, axis=0)
    filled[~np.isfinite(filled)] = np.nan
    return filled[:-1], filled[-1].copy()


def fit_detector(values: np.ndarray, sensors: Sequence[str], times: np.ndarray | None = None, *,
                 span: int = DEFAULT_SPAN, shrink: float | None = None, risk: float = DEFAULT_RISK,
                 adapt: bool = False) -> DetectorModel:
    """Learn normal behaviour from ``values`` (rows = timestamps, columns = ``sensors``) of a normal period.

    ``adapt``: let the level sensors' baseline follow slow drift while the score is normal (time constant
    ``ADAPT_SPANS`` × ``span`` timestamps). Fewer false alarms when the process wanders further than the
    training window showed, but a fault that grows as slowly as that is learned as normal too.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(sensors):
        raise AnomalyModelError(f"training data must be rows × {len(sensors)} sensors, got shape {x.shape}")
    if not 0 < risk < 1 - TAIL_QUANTILE or span < 1 or (shrink is not None and not 0 <= shrink <= 1):
        raise AnomalyModelError("risk must be in (0, 0.1), span >= 1 and shrink in [0, 1]")
    keep = np.isfinite(x).any(axis=1)
    rows = x[keep]
    if len(rows) < MIN_TRAIN_ROWS:
        raise AnomalyModelError(f"training needs at least {MIN_TRAIN_ROWS} timestamps with data, got {len(rows)}")
    m = len(sensors)
    center = np.nan_to_num(np.nanmean(rows, axis=0))
    half = len(rows) // 2
    first, second = rows[:half], rows[half:]
    mean_first = np.nan_to_num(np.nanmean(first, axis=0))
    mean_second = np.nan_to_num(np.nanmean(second, axis=0))
    held_out = np.vstack([first - mean_second, second - mean_first])  # each half against the other's mean
    scale = np.sqrt(np.nanmean(held_out ** 2, axis=0))
    steps = np.diff(rows, axis=0)
    step_scale = np.sqrt(np.nanmean(steps ** 2, axis=0))
    spread = np.nanmax(rows, axis=0) - np.nanmin(rows, axis=0)
    weight = (np.isfinite(spread) & (spread > 0) & (scale > 0) & (step_scale > 0)).astype(np.float64)
    scale = np.where(weight > 0, scale, 1.0)
    step_scale = np.where(weight > 0, step_scale, 1.0)
    white = np.nanvar(steps, axis=0) / 2.0  # the variance sample-to-sample noise alone would give the level
    wander = ((np.nanvar(rows, axis=0) > WANDER_RATIO * white) & (weight > 0)).astype(np.float64)
    model = DetectorModel(sensors=list(sensors), center=center, scale=scale, weight=weight,
                          precision=np.eye(m), limit=math.inf, span=int(span), risk=float(risk),
                          train_rows=len(rows), wander=wander, step_scale=step_scale,
                          adapt=float(ADAPT_SPANS * span) if adapt else 0.0)
    if times is not None and len(times):
        t = np.asarray(times, dtype=np.float64)[keep]
        model.train_start, model.train_end = float(np.nanmin(t)), float(np.nanmax(t))
        level = weight * (1.0 - wander)
        model.trend = training_trend(t, rows) * level
    # held-out features of each half (against the other half's mean), smoothed as online for the shift
    # chart: their covariances give the precisions, their smoothed scores the limits
    raw, smoothed = [], []
    for part, other_mean in ((first, mean_second), (second, mean_first)):
        previous = np.vstack([np.full((1, m), np.nan), part[:-1]])
        model.center = other_mean
        features = model.features(part, previous)
        raw.append(features)
        smoothed.append(_ewma(features, model.alpha, initial=np.zeros(m)))
    model.center = center
    f, w = np.vstack(raw), np.vstack(smoothed)
    model.precision, model.shrink = _shrunk_precision(w, weight, shrink)
    model.spread_precision, _ = _shrunk_precision(f, weight, shrink)
    model.weight = weight * (np.diag(model.precision) > 0) * (np.diag(model.spread_precision) > 0)
    from scipy import stats  # here, not at import: scipy.stats costs 0.6 s of the window's start-up

    k, a = model.used, model.alpha
    model.limit = max(pot_limit(np.einsum("ij,jk,ik->i", w, model.precision, w) / k, risk),
                      float(stats.chi2.isf(risk, k)) / k)
    spread = np.einsum("ij,jk,ik->i", f, model.spread_precision, f) / k
    model.spread_initial = float(np.median(spread))
    variance = 2.0 * a / (k * (2.0 - a))  # of an EWMA of chi²_k / k (Gaussian reference)
    model.spread_limit = max(pot_limit(_ewma(spread, a, initial=model.spread_initial), risk),
                             float(stats.gamma.isf(risk, 1.0 / variance, scale=variance)))
    return model


def _shrunk_precision(x: np.ndarray, weight: np.ndarray, shrink: float | None) -> tuple[np.ndarray, float]:
    """Inverse of the covariance of the rows ``x`` (about 0), its correlation shrunk to the identity by the
    Ledoit–Wolf intensity (or ``shrink``); zero rows and columns for unused or constant columns."""
    sd = np.sqrt(np.mean(x ** 2, axis=0))
    used = (weight > 0) & (sd > 0)
    sd = np.where(used, sd, 1.0)
    u = x / sd * used
    correlation = (u.T @ u) / len(u)
    if shrink is None:
        shrink = ledoit_wolf_shrinkage(u[:, used])
    correlation = (1.0 - shrink) * correlation + shrink * np.diag(used * 1.0) + np.diag(1.0 - used)
    precision = np.linalg.inv(correlation) / np.outer(sd, sd) * np.outer(used, used)
    return (precision + precision.T) / 2.0, float(shrink)


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
    """Scores one timestamp at a time (live and replay); remembers the smoothing state, the last values and
    the guarded baseline.

    The score is the larger of the shift chart (MEWMA) and the spread chart (smoothed squared distance),
    each as a multiple of its limit: above 1 is anomalous. Contributions are those of that chart. After a
    timestamp scored normal, the centre of each level sensor moves towards its value by ``1 / adapt``; while
    the score is over the limit it stays put, unless the departure has lasted longer than the training
    window (``train_rows`` timestamps): then it is learned as the new normal at the same pace.
    """

    def __init__(self, model: DetectorModel):
        self.model = model
        self.reset()

    def reset(self) -> None:
        m = len(self.model.sensors)
        self._shift = np.zeros(m)
        self._spread_parts = np.full(m, self.model.spread_initial / max(m, 1))
        self._previous = np.full(m, np.nan)
        self._center = self.model.center.copy()
        self._run = 0

    @property
    def center(self) -> np.ndarray:
        """The current (adapted) centre of each sensor."""
        return self._center.copy()

    def step(self, values: np.ndarray, t: float | None = None) -> tuple[float, bool, np.ndarray]:
        """``(score, anomalous, contributions per sensor)`` after one row of sensor values at ``t``."""
        score, flag, contributions = self.step_block(np.asarray(values, dtype=np.float64)[None, :],
                                                     None if t is None else np.array([t], dtype=np.float64))
        return float(score[0]), bool(flag[0]), contributions[0]

    def step_block(self, values: np.ndarray, times: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`step` for each row of ``values``: ``(scores, 0/1 flags, contributions)``, state carried on."""
        model = self.model
        values = np.asarray(values, dtype=np.float64).reshape(-1, len(model.sensors))
        n, m = values.shape
        previous, self._previous = _previous_rows(values, self._previous)
        scale = np.broadcast_to(model._scale_at(None if times is None else np.asarray(times, dtype=np.float64)),
                                values.shape)
        steps = (values - previous) / model.step_scale
        wander = model.wander > 0
        learn = (~wander) & (model.weight > 0)
        a, k = model.alpha, model.used
        rate = 1.0 / model.adapt if model.adapt > 0 else 0.0
        p, q, shift_limit, spread_limit = model.precision, model.spread_precision, model.limit, model.spread_limit
        w, spread_parts, center, run = self._shift, self._spread_parts, self._center, self._run
        if not rate:  # a fixed baseline: the features do not depend on the state, compute them at once
            f = model.complete(np.where(wander, steps, (values - center) / scale))
            smoothed = _ewma(f, a, initial=w)
            spread_all = _ewma(f * (f @ q) / k, a, initial=spread_parts)
            if n:
                self._shift, self._spread_parts = smoothed[-1].copy(), spread_all[-1].copy()
            shift_all = smoothed * (smoothed @ p) / (k * shift_limit)
            spread_all = spread_all / spread_limit
            shift, spread = shift_all.sum(axis=1), spread_all.sum(axis=1)
            scores = np.maximum(shift, spread)
            flags = (scores > 1.0).astype(np.int8)
            if n:
                tail = np.flatnonzero(flags == 0)
                self._run = n - 1 - int(tail[-1]) if tail.size else run + n
            return scores, flags, np.where((shift >= spread)[:, None], shift_all, spread_all)
        scores = np.empty(n)
        contributions = np.empty((n, m))
        for i in range(n):
            row = values[i]
            f = model.complete(np.where(wander, steps[i], (row - center) / scale[i]))
            w = a * f + (1.0 - a) * w
            spread_parts = a * f * (q @ f) / k + (1.0 - a) * spread_parts
            shift_now = w * (p @ w) / (k * shift_limit)
            spread_now = spread_parts / spread_limit
            shift, spread = float(shift_now.sum()), float(spread_now.sum())
            scores[i] = score = max(shift, spread)
            contributions[i] = shift_now if shift >= spread else spread_now
            run = run + 1 if score > 1.0 else 0
            if rate and (score <= 1.0 or run > model.train_rows):
                ok = learn & np.isfinite(row)
                center = np.where(ok, center + rate * (row - center), center)
        self._shift, self._spread_parts, self._center, self._run = w, spread_parts, center, run
        return scores, (scores > 1.0).astype(np.int8), contributions


def score_block(model: DetectorModel, times: np.ndarray, values: np.ndarray) -> ScoreResult:
    """Score every row of ``values`` in order, exactly as :class:`OnlineScorer` would one by one."""
    score, flags, contributions = OnlineScorer(model).step_block(values, times)
    return ScoreResult(times=np.asarray(times, dtype=np.float64), score=score, anomaly=flags,
                       contributions=contributions, sensors=list(model.sensors), limit=SCORE_LIMIT,
                       span=model.span)


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
