"""The history-source interface every view reads through, and what all implementations share.

A *history source* answers two kinds of question for a set of sensors and a time range:

- ``values_at(t, sensor_ids)``: each sensor's last sample at or before ``t`` (a :class:`Snapshot`), the
  overlay and the sensor list;
- ``window(sensor_id, t0, t1, max_points)`` and ``summary(sensor_id, t0, t1, resolution_s)``: raw samples
  when few enough, else min / max / mean / count per time bucket, for the charts and the timeline.

Implementations: :class:`~twinviewer.core.store.TimeSeriesStore` (everything in memory, live sources append
to it), ``twinviewer.io.dataset.ParquetDataset`` (a folder of day files read lazily, with a cached
multi-resolution summary), ``twinviewer.sources.postgres.PostgresHistory`` (a historian database, queried
off the GUI thread) and :class:`CombinedHistory` (live values in memory in front of an older history).

A lazy source never holds more than what the visible range needs: ``in_memory`` is False for it, and
``window`` with a huge ``max_points`` still returns buckets once the range is too long to read raw.
``status`` is "" while all is well, else one sentence for the status bar (server unreachable, …).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinviewer.core.events import crossings_in

FRESH, STALE, NO_DATA = 0, 1, 2
STATE_NAMES = ("fresh", "stale", "no data")
RESOLUTION_LADDER_S = (1.0, 10.0, 60.0, 600.0, 3600.0, 6 * 3600.0, 86400.0)
"""Bucket sizes a summary may be kept at; a source keeps the ones at or above its finest useful level."""
LAZY_MAX_POINTS = 8192
"""A lazy source's ``window`` returns at most this many points, whatever ``max_points`` asks for."""


@dataclass(frozen=True)
class Snapshot:
    """Every requested sensor's last-known value at time ``t`` (arrays in the order of ``sensor_ids``)."""

    t: float
    sensor_ids: tuple[str, ...]
    values: np.ndarray  # float64 (n,), NaN when state is NO_DATA
    times: np.ndarray  # float64 (n,), time of the sample used, NaN if none
    state: np.ndarray  # int8 (n,): 0 fresh, 1 stale, 2 no data

    def index(self, sensor_id: str) -> int:
        return self.sensor_ids.index(sensor_id)

    def value(self, sensor_id: str) -> float:
        return float(self.values[self.index(sensor_id)])

    def state_of(self, sensor_id: str) -> int:
        return int(self.state[self.index(sensor_id)])

    def as_dict(self) -> dict[str, tuple[float, int]]:
        """``{sensor_id: (value, state)}`` — convenient for tests and small views, not for the hot path."""
        return {s: (float(v), int(st)) for s, v,
                st in zip(self.sensor_ids, self.values, self.state, strict=True)}


@dataclass(frozen=True)
class Summary:
    """Per-bucket statistics of one sensor: bucket start times and min, max, mean, count (float64 arrays).

    Buckets are ``resolution_s`` wide and aligned to multiples of it since the epoch. A bucket with no
    finite sample has count 0 and NaN statistics.
    """

    resolution_s: float
    times: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    mean: np.ndarray
    count: np.ndarray

    @classmethod
    def empty(cls, resolution_s: float) -> Summary:
        e = np.empty(0)
        return cls(float(resolution_s), e, e, e, e, e)

    def __len__(self) -> int:
        return int(self.times.size)


def join_samples(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """One sensor's samples read over several time spans, as one sorted series: a sample that two
    overlapping spans both returned appears once."""
    if not parts:
        return np.empty(0), np.empty(0)
    times = np.concatenate([np.asarray(t, dtype=np.float64) for t, _v in parts])
    values = np.concatenate([np.asarray(v, dtype=np.float64) for _t, v in parts])
    if times.size > 1 and np.any(np.diff(times) <= 0):
        times, index = np.unique(times, return_index=True)
        values = values[index]
    return times, values


def summarize(times: np.ndarray, values: np.ndarray, resolution_s: float) -> Summary:
    """Bucket sorted raw samples into a :class:`Summary` (only buckets holding samples are returned)."""
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if times.size == 0:
        return Summary.empty(resolution_s)
    keys = np.floor(times / resolution_s)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    count = np.add.reduceat(finite.astype(np.float64), starts)
    total = np.add.reduceat(filled, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        vmin = np.fmin.reduceat(np.where(finite, values, np.nan), starts)
        vmax = np.fmax.reduceat(np.where(finite, values, np.nan), starts)
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return Summary(float(resolution_s), keys[starts] * resolution_s, vmin, vmax, mean, count)


def decimate(times: np.ndarray, values: np.ndarray,
             max_points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted samples for a chart: ``(times, vmin, vmax)`` float64.

    Up to ``max_points`` samples come back raw (``vmin == vmax``). More are cut into ``max_points`` equal
    time buckets, each giving its centre time and the min and max of its samples, so a one-sample spike
    always survives. A bucket with no samples, or only NaN samples, is NaN: gaps stay gaps.
    """
    count = int(times.size)
    max_points = max(int(max_points), 1)
    if count <= max_points:
        raw = np.array(values, dtype=np.float64)
        return np.array(times, dtype=np.float64), raw, raw.copy()
    edges = np.linspace(times[0], times[-1], max_points + 1)
    starts = np.searchsorted(times, edges[:-1], side="left")
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = count
    filled = ends > starts
    safe_starts = np.minimum(starts, count - 1)
    with np.errstate(invalid="ignore"):
        vmin = np.fmin.reduceat(values, safe_starts).astype(np.float64)
        vmax = np.fmax.reduceat(values, safe_starts).astype(np.float64)
    vmin[~filled] = np.nan
    vmax[~filled] = np.nan
    centres = (edges[:-1] + edges[1:]) * 0.5
    return centres, vmin, vmax


def window_from_summary(summary: Summary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A summary as a chart ``window`` answer: bucket centres, min and max (empty buckets stay gaps)."""
    if not len(summary):
        e = np.empty(0)
        return e, e, e
    return summary.times + 0.5 * summary.resolution_s, summary.vmin.copy(), summary.vmax.copy()


def pick_resolution(levels: Sequence[float], span_s: float, max_points: int) -> float:
    """The finest of ``levels`` that gives at most ``max_points`` buckets over ``span_s`` (else the coarsest)."""
    for level in sorted(levels):
        if span_s / level + 1 <= max_points:  # +1: the range need not start on a bucket edge
            return float(level)
    return float(max(levels))


def crossings_from_summary(summary: Summary, thresholds: Any) -> list[tuple[float, str, str]]:
    """Threshold crossings at bucket resolution: each bucket counts as its worse extreme (min or max)."""
    if not len(summary):
        return []
    from twinviewer.core.events import classify

    low_status = classify(summary.vmin, thresholds)
    high_status = classify(summary.vmax, thresholds)
    worse = np.where(high_status >= low_status, summary.vmax, summary.vmin)
    return crossings_in(summary.times, worse, thresholds)


def crossings_of_buckets(times: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
                         thresholds: Sequence[Any]) -> list[list[tuple[float, str, str]]]:
    """:func:`crossings_from_summary` for many sensors at once: ``vmin``/``vmax`` are ``(n, buckets)``, one
    thresholds object per row. Empty buckets carry the previous status, as gaps do in ``crossings_in``."""
    from twinviewer.core.events import STATUS_LABELS, _limits

    n = len(thresholds)
    if n == 0 or times.size == 0:
        return [[] for _ in range(n)]
    table = [_limits(t) for t in thresholds]
    status = np.zeros(vmin.shape, dtype=np.int8)
    for level, (low_key, high_key) in ((1, ("warning_low", "warning_high")), (2, ("alarm_low", "alarm_high"))):
        for key, data, beyond in ((high_key, vmax, np.greater), (low_key, vmin, np.less)):
            limit = np.array([[np.nan if row[key] is None else row[key]] for row in table], dtype=vmin.dtype)
            if np.isnan(limit).all():
                continue  # no sensor has this limit
            with np.errstate(invalid="ignore"):
                status[beyond(data, limit)] = level
    valued = ~(np.isnan(vmin) | np.isnan(vmax))
    index = np.where(valued, np.arange(times.size, dtype=np.int32), np.int32(0))
    np.maximum.accumulate(index, axis=1, out=index)
    carried = np.take_along_axis(status, index, axis=1)
    carried[~np.logical_or.accumulate(valued, axis=1)] = -1
    change = (carried[:, 1:] != carried[:, :-1]) & (carried[:, :-1] >= 0) & valued[:, 1:]
    out: list[list[tuple[float, str, str]]] = [[] for _ in range(n)]
    rows, cols = np.nonzero(change)
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        out[row].append((float(times[col + 1]), STATUS_LABELS[carried[row, col]],
                         STATUS_LABELS[carried[row, col + 1]]))
    return out


class HistorySource(ABC):
    """What the timeline, the charts and the overlay read; see the module docstring."""

    in_memory = False
    status = ""

    # ----- sensors
    @property
    @abstractmethod
    def sensor_ids(self) -> list[str]: ...

    @abstractmethod
    def has(self, sensor_id: str) -> bool: ...

    @abstractmethod
    def add_sensor(self, sensor_id: str, expected_period_s: float | None = None) -> None:
        """Register a sensor the project knows (and its expected period, used for the stale state)."""

    @abstractmethod
    def expected_period(self, sensor_id: str) -> float: ...

    @property
    @abstractmethod
    def version(self) -> int:
        """Changes whenever what the source would answer changed (new samples, a query finished)."""

    # ----- time
    @abstractmethod
    def time_range(self) -> tuple[float, float] | None: ...

    def sensor_time_range(self, sensor_id: str) -> tuple[float, float] | None:
        return self.time_range() if self.has(sensor_id) else None

    # ----- values
    @abstractmethod
    def values_at(self, t: float, sensor_ids: Sequence[str] | None = None) -> Snapshot: ...

    @abstractmethod
    def summary(self, sensor_id: str, t0: float, t1: float, resolution_s: float) -> Summary: ...

    @abstractmethod
    def window(self, sensor_id: str, t0: float, t1: float,
               max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def value_range(self, sensor_id: str, t0: float | None = None,
                    t1: float | None = None) -> tuple[float, float] | None:
        span = self.time_range()
        if span is None:
            return None
        _, vmin, vmax = self.window(sensor_id, span[0] if t0 is None else t0, span[1] if t1 is None else t1,
                                    max_points=2048)
        if not np.isfinite(vmin).any():
            return None
        return float(np.nanmin(vmin)), float(np.nanmax(vmax))

    def threshold_crossings(self, sensor_id: str, thresholds: Any, t0: float | None = None,
                            t1: float | None = None) -> list[tuple[float, str, str]]:
        """Crossings from a summary of about 4,000 buckets over the range (exact when raw samples are fewer)."""
        span = self.time_range()
        if span is None or not self.has(sensor_id):
            return []
        lo = span[0] if t0 is None else t0
        hi = span[1] if t1 is None else t1
        times, vmin, vmax = self.window(sensor_id, lo, hi, max_points=4096)
        if times.size == 0:
            return []
        if np.array_equal(vmin, vmax, equal_nan=True):
            return crossings_in(times, vmin, thresholds)
        resolution = float(np.median(np.diff(times))) if times.size > 1 else 1.0
        return crossings_from_summary(Summary(resolution, times - 0.5 * resolution, vmin, vmax,
                                              (vmin + vmax) * 0.5, np.isfinite(vmin).astype(float)), thresholds)

    def threshold_crossings_many(self, limits: Mapping[str, Any], t0: float | None = None,
                                 t1: float | None = None) -> dict[str, list[tuple[float, str, str]]]:
        """``threshold_crossings`` of several sensors (``{sensor_id: thresholds}``) in one call; lazy sources
        answer it in one pass over their summary (the timeline asks for every sensor at once)."""
        if self.time_range() is None:  # no data yet (a project just opened): nothing to classify
            return {sensor_id: [] for sensor_id in limits}
        return {sensor_id: self.threshold_crossings(sensor_id, thresholds, t0, t1)
                for sensor_id, thresholds in limits.items()}

    def samples(self, sensor_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Every sample of one sensor (exporters, detectors). A lazy source loads them only when few enough."""
        from twinviewer.core.errors import RecordingError

        raise RecordingError(f"{sensor_id}: this history is read lazily and cannot be loaded whole; "
                             "export a range with `twinviewer query` first")

    def aligned_samples(self, sensor_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """``(times, values (n, k))`` when the sensors share one time index, else None (see TimeSeriesStore)."""
        return None

    @property
    def sample_count(self) -> int:
        return 0

    def close(self) -> None:
        """Release files, connections and threads (the session calls it when the source is replaced)."""
        return None


class CombinedHistory(HistorySource):
    """Live samples (a :class:`TimeSeriesStore` sources append to) in front of an older history.

    For each sensor the newer of the two answers wins: at ``t`` the live store's last sample if it has one
    at or before ``t``, else the history's. Charts join the history's part before the first live sample
    with the live part after it. Appends go to the live store, so live sources take this in its place.
    """

    in_memory = False

    def __init__(self, live, history: HistorySource):
        self.live = live
        self.history = history

    @property
    def status(self) -> str:  # type: ignore[override]
        return self.history.status

    @property
    def sensor_ids(self) -> list[str]:
        ids = list(self.history.sensor_ids)
        seen = set(ids)
        return ids + [s for s in self.live.sensor_ids if s not in seen]

    def has(self, sensor_id: str) -> bool:
        return self.live.has(sensor_id) or self.history.has(sensor_id)

    def add_sensor(self, sensor_id: str, expected_period_s: float | None = None) -> None:
        self.live.add_sensor(sensor_id, expected_period_s)
        self.history.add_sensor(sensor_id, expected_period_s)

    def expected_period(self, sensor_id: str) -> float:
        return (self.live if self.live.has(sensor_id) else self.history).expected_period(sensor_id)

    @property
    def stale_factor(self) -> float:
        return self.live.stale_factor

    @property
    def version(self) -> int:
        return self.live.version * 1_000_003 + self.history.version

    def time_range(self) -> tuple[float, float] | None:
        spans = [s for s in (self.live.time_range(), self.history.time_range()) if s is not None]
        if not spans:
            return None
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def sensor_time_range(self, sensor_id: str) -> tuple[float, float] | None:
        spans = [s for s in (self.live.sensor_time_range(sensor_id), self.history.sensor_time_range(sensor_id))
                 if s is not None]
        if not spans:
            return None
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def values_at(self, t: float, sensor_ids: Sequence[str] | None = None) -> Snapshot:
        live = self.live.values_at(t, sensor_ids)
        if not (live.state == NO_DATA).any():
            return live
        old = self.history.values_at(t, live.sensor_ids)
        use_old = np.isnan(live.times) | ((old.times > live.times) & (old.state != NO_DATA))
        return Snapshot(live.t, live.sensor_ids, np.where(use_old, old.values, live.values),
                        np.where(use_old, old.times, live.times), np.where(use_old, old.state, live.state))

    def _live_start(self, sensor_id: str) -> float:
        span = self.live.sensor_time_range(sensor_id)
        return np.inf if span is None else span[0]

    def window(self, sensor_id: str, t0: float, t1: float,
               max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        span = self.time_range()
        if span is None or not t1 >= t0:
            e = np.empty(0)
            return e, e, e
        t0, t1 = max(t0, span[0]), min(t1, span[1])
        cut = self._live_start(sensor_id)
        parts = []
        if t0 < cut:
            share = (min(t1, cut) - t0) / max(t1 - t0, 1e-9)
            parts.append(self.history.window(sensor_id, t0, min(t1, np.nextafter(cut, -np.inf)),
                                             max(int(max_points * share), 1)))
        if t1 >= cut:
            share = (t1 - max(t0, cut)) / max(t1 - t0, 1e-9)
            parts.append(self.live.window(sensor_id, max(t0, cut), t1, max(int(max_points * share), 1)))
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]

    def summary(self, sensor_id: str, t0: float, t1: float, resolution_s: float) -> Summary:
        cut = self._live_start(sensor_id)
        old = self.history.summary(sensor_id, t0, min(t1, cut), resolution_s) if t0 < cut else None
        new = self.live.summary(sensor_id, max(t0, cut), t1, resolution_s) if t1 >= cut else None
        parts = [p for p in (old, new) if p is not None and len(p)]
        if len(parts) < 2:
            return parts[0] if parts else Summary.empty(resolution_s)
        return Summary(resolution_s, *(np.concatenate([getattr(p, f) for p in parts])
                                       for f in ("times", "vmin", "vmax", "mean", "count")))

    @property
    def sample_count(self) -> int:
        return self.live.sample_count + self.history.sample_count

    # live sources append here
    def append(self, sensor_id: str, t: float, value: float) -> None:
        self.live.append(sensor_id, t, value)

    def append_many(self, sensor_id: str, times, values) -> None:
        self.live.append_many(sensor_id, times, values)

    def append_block(self, times, sensor_ids, values2d, **kwargs) -> None:
        self.live.append_block(times, sensor_ids, values2d, **kwargs)

    def close(self) -> None:
        self.history.close()
