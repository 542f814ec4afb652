"""Remaining useful life from a unit's history: small neural networks on smoothed levels and trends.

A unit (an engine, a pump) is a sequence of cycles (or samples), each with the same sensors. The features at
cycle ``i`` use only cycles ``1..i``: each sensor's exponentially weighted mean (span 10), its least-squares
slope over the last 30 cycles, and the cycle number. Sensors with at most two distinct values in training
carry nothing and are dropped. The target is the remaining life capped at 125 cycles (the usual
piecewise-linear target: early in life nothing predicts the remaining time, so the model is not asked to).
The model is an average of three one-hidden-layer networks (16 tanh units, Adam, 40 epochs, seeds 0–2):
a few hundred numbers, milliseconds per unit on a laptop. docs/anomaly-detection.md has the C-MAPSS FD001
cross-validation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.errors import CancelledError, TwinViewerError

RUL_CAP = 125.0
SMOOTH_SPAN = 10
SLOPE_WINDOW = 30
HIDDEN = 16
EPOCHS = 40
MEMBERS = 3
BATCH = 256
LEARNING_RATE = 3e-3
L2 = 1e-4

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


class RulError(TwinViewerError):
    """Training data or a model that cannot be used."""


def unit_features(values: np.ndarray) -> np.ndarray:
    """Features of every cycle of one unit (rows = cycles in order, columns = sensors): see module docstring."""
    x = np.asarray(values, dtype=np.float64)
    n, m = x.shape
    x = _fill_gaps(x)
    alpha = 2.0 / (SMOOTH_SPAN + 1.0)
    smooth = np.empty_like(x)
    state = x[0].copy() if n else np.zeros(m)
    for i in range(n):
        state = alpha * x[i] + (1.0 - alpha) * state
        smooth[i] = state
    slope = np.zeros_like(x)
    # least-squares slope over the trailing window, from running sums
    idx = np.arange(n, dtype=np.float64)
    c_x = np.vstack([np.zeros((1, m)), np.cumsum(x, axis=0)])
    c_tx = np.vstack([np.zeros((1, m)), np.cumsum(x * idx[:, None], axis=0)])
    lo = np.maximum(idx - SLOPE_WINDOW + 1, 0).astype(int)
    hi = np.arange(1, n + 1)
    count = (hi - lo).astype(np.float64)
    sum_t = (lo + hi - 1) * count / 2.0
    def squares_below(k: np.ndarray) -> np.ndarray:  # 0² + 1² + … + (k-1)²
        return (k - 1) * k * (2 * k - 1) / 6.0

    sum_tt = squares_below(hi.astype(np.float64)) - squares_below(lo.astype(np.float64))
    sxx = sum_tt - sum_t ** 2 / np.maximum(count, 1)
    sum_xv = c_x[hi] - c_x[lo]
    sum_txv = c_tx[hi] - c_tx[lo]
    ok = sxx > 0
    slope[ok] = (sum_txv[ok] - (sum_t[ok] / count[ok])[:, None] * sum_xv[ok]) / sxx[ok][:, None]
    return np.hstack([smooth, slope, (idx + 1.0)[:, None]])


def _fill_gaps(x: np.ndarray) -> np.ndarray:
    """NaN → the previous value of that sensor (the first valid value at the start; 0 if none)."""
    x = x.copy()
    for j in range(x.shape[1]):
        column = x[:, j]
        bad = ~np.isfinite(column)
        if not bad.any():
            continue
        if bad.all():
            column[:] = 0.0
            continue
        index = np.where(~bad, np.arange(len(column)), 0)
        np.maximum.accumulate(index, out=index)
        first = int(np.argmax(~bad))
        column[:] = column[index]
        column[:first] = column[first]
    return x


@dataclass
class Network:
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z @ self.w1 + self.b1) @ self.w2 + self.b2


@dataclass
class RulModel:
    sensors: list[str]
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    target_mean: float
    target_scale: float
    networks: list[Network]
    cap: float = RUL_CAP
    meta: dict = field(default_factory=dict)

    def predict_unit(self, values: np.ndarray) -> np.ndarray:
        """Estimated remaining life at every cycle of one unit (columns in ``sensors`` order)."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(self.sensors):
            raise RulError(f"expected rows × {len(self.sensors)} sensors ({', '.join(self.sensors)}), "
                           f"got shape {values.shape}")
        if len(values) == 0:
            return np.empty(0)
        z = (unit_features(values) - self.feature_mean) / self.feature_scale
        raw = np.mean([net(z) for net in self.networks], axis=0) * self.target_scale + self.target_mean
        return np.clip(raw, 0.0, self.cap)

    def predict_last(self, values: np.ndarray) -> float:
        return float(self.predict_unit(values)[-1])

    def to_json(self) -> dict:
        return {
            "format": "twinviewer-rul-model", "version": 1,
            "method": "mean of one-hidden-layer tanh networks on EWMA levels, 30-cycle slopes and the cycle number",
            "sensors": list(self.sensors), "cap": self.cap, "smooth_span": SMOOTH_SPAN,
            "slope_window": SLOPE_WINDOW, "feature_mean": self.feature_mean.tolist(),
            "feature_scale": self.feature_scale.tolist(), "target_mean": self.target_mean,
            "target_scale": self.target_scale,
            "networks": [{"w1": n.w1.tolist(), "b1": n.b1.tolist(), "w2": n.w2.tolist(), "b2": n.b2}
                         for n in self.networks],
            "meta": self.meta,
        }


def informative_sensors(units: Sequence[np.ndarray], sensors: Sequence[str]) -> list[int]:
    """Indices of the sensors with more than two distinct values over all units."""
    stacked = np.vstack([np.asarray(u, dtype=np.float64) for u in units])
    return [j for j in range(stacked.shape[1]) if len(np.unique(stacked[np.isfinite(stacked[:, j]), j])) > 2]


def _train_network(z: np.ndarray, t: np.ndarray, seed: int, cancel: Cancel | None) -> Network:
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 1 / np.sqrt(z.shape[1]), (z.shape[1], HIDDEN))
    b1 = np.zeros(HIDDEN)
    w2 = rng.normal(0, 1 / np.sqrt(HIDDEN), HIDDEN)
    b2 = np.zeros(())
    params = [w1, b1, w2, b2]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(EPOCHS):
        if cancel is not None and cancel():
            raise CancelledError("training cancelled")
        order = rng.permutation(len(z))
        for start in range(0, len(z), BATCH):
            rows = order[start:start + BATCH]
            x = z[rows]
            hidden = np.tanh(x @ w1 + b1)
            error = (hidden @ w2 + b2 - t[rows]) / len(rows)
            d_hidden = np.outer(error, w2) * (1 - hidden ** 2)
            grads = [x.T @ d_hidden + L2 * w1, d_hidden.sum(axis=0), hidden.T @ error + L2 * w2,
                     np.array(error.sum())]
            step += 1
            for p, g, m, v in zip(params, grads, first, second, strict=True):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= LEARNING_RATE * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return Network(w1, b1, w2, float(b2))


def fit_rul(units: Sequence[np.ndarray], sensors: Sequence[str], *, members: int = MEMBERS,
            progress: Progress | None = None, cancel: Cancel | None = None) -> RulModel:
    """Fit on run-to-failure units (each a cycles × sensors array ending at failure)."""
    if len(units) < 2:
        raise RulError("training needs at least two run-to-failure units")
    keep = informative_sensors(units, sensors)
    if not keep:
        raise RulError("no sensor varies in the training data")
    features, targets = [], []
    for unit in units:
        unit = np.asarray(unit, dtype=np.float64)[:, keep]
        features.append(unit_features(unit))
        targets.append(np.minimum(np.arange(len(unit) - 1, -1, -1, dtype=np.float64), RUL_CAP))
    x = np.vstack(features)
    y = np.concatenate(targets)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    target_mean, target_scale = float(y.mean()), float(y.std() or 1.0)
    z = (x - mean) / scale
    t = (y - target_mean) / target_scale
    networks = []
    for seed in range(members):
        if progress is not None:
            progress(seed / members, f"Training network {seed + 1} of {members}")
        networks.append(_train_network(z, t, seed, cancel))
    return RulModel(sensors=[sensors[j] for j in keep], feature_mean=mean, feature_scale=scale,
                    target_mean=target_mean, target_scale=target_scale, networks=networks,
                    meta={"units": len(units), "rows": int(len(x))})


def nasa_score(predicted: np.ndarray, actual: np.ndarray) -> float:
    """NASA's asymmetric score: late estimates (d > 0) cost exp(d/10) - 1, early ones exp(-d/13) - 1."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))


def cross_validate(units: Sequence[np.ndarray], sensors: Sequence[str], folds: int = 5, seed: int = 0,
                   cuts_per_unit: int = 5, max_rul: int = 145) -> dict:
    """Cross-validation by unit: each fold's units are never seen in training.

    Two views: every cycle of the held-out units against the capped target (``rmse_all_capped``), and the
    C-MAPSS test protocol: each held-out unit cut at ``cuts_per_unit`` random points whose true remaining
    life is 1..``max_rul`` (the test set's range), the estimate at the cut against the true, uncapped life
    (``rmse_cut``, ``nasa_cut_per_100``: the NASA score per 100 units, the size of the test set).
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(units))
    all_err, cut_pred, cut_true = [], [], []
    for fold in np.array_split(order, folds):
        held = set(fold.tolist())
        model = fit_rul([u for i, u in enumerate(units) if i not in held], sensors)
        index = [sensors.index(s) for s in model.sensors]
        for i in fold:
            unit = np.asarray(units[i], dtype=np.float64)[:, index]
            predicted = model.predict_unit(unit)
            life = np.arange(len(unit) - 1, -1, -1, dtype=np.float64)
            all_err.append(predicted - np.minimum(life, RUL_CAP))
            for _ in range(cuts_per_unit):
                remaining = int(rng.integers(1, max_rul + 1))
                cut = max(len(unit) - 1 - remaining, 0)
                cut_pred.append(model.predict_last(unit[:cut + 1]))
                cut_true.append(life[cut])
    errors = np.concatenate(all_err)
    cut_pred_a, cut_true_a = np.array(cut_pred), np.array(cut_true)
    return {"units": len(units), "folds": folds,
            "rmse_all_capped": float(np.sqrt(np.mean(errors ** 2))),
            "rmse_cut": float(np.sqrt(np.mean((cut_pred_a - cut_true_a) ** 2))),
            "nasa_cut_per_100": nasa_score(cut_pred_a, cut_true_a) / len(cut_true_a) * 100}
