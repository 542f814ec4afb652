"""Alarm records derived from sensor samples, their acknowledgements, and the acknowledgement log.

Policy (what the alarm list shows, live and in replay)

- **Deadband and delays (ISA-18.2).** Per sensor (:func:`alarm_settings`: the sensor's ``[sensors.alarm]``
  keys, else defaults): the value must stay beyond the limit for ``on_delay`` before the alarm raises, and
  back inside by more than ``deadband`` for ``off_delay`` before it clears. A noisy value hovering at a
  limit is one alarm whose ``count`` says how often it went beyond, not one alarm per crossing.
- **One alarm per limit episode.** Each limit of a sensor (``warning_high``, ``alarm_high``,
  ``warning_low``, ``alarm_low``) raises its own :class:`Alarm` when a sample goes beyond it (strictly, as
  the status colours do) and clears it at the first later sample back inside by more than the deadband
  (0 unless given). A value climbing past 80 then 95 °C on a sensor with ``warning_high = 80``,
  ``alarm_high = 95`` therefore has a warning and an alarm active together; falling to 90 clears the alarm,
  falling below 80 clears the warning.
- **Times are sample times.** Onset is the time of the first sample beyond the limit, cleared the time of
  the first sample back inside; the frame rate and the playback speed do not matter. A lazy history (a
  dataset, a historian) answers a long range in buckets; the tracker then reads the raw samples of the
  buckets where a limit may be crossed (and the delays after them): those spans nearest the clock first, up
  to ``RAW_REFINE_ROWS`` decoded rows per pass, so alarms start and clear at real sample times. The other
  spans are placed at bucket resolution (their sensors are listed in ``AlarmTracker.approximate``) until the
  clock comes to them: each frame refines the spans at its time (:meth:`AlarmTracker.refine_near`), so
  what is on screen is exact and opening a year of a thousand sensors reads little.
- **Gaps do not clear.** A NaN sample (or no sample) neither raises nor clears: an alarm stays active
  through a data gap or while the sensor is stale, until a real value says otherwise.
- **Derived from the data, so replay is right.** Records are built from the samples in time order (each
  sample once: a sensor's samples at or before the last one already seen are ignored, so feeding the same
  frame twice or replaying after a backward seek adds nothing). "Active at t" is computed from the onsets
  and clears at or before t, never from the latest incremental state, so after a seek backward
  :meth:`AlarmTracker.active_at` is exactly what it was the first time the clock was at t. Scanning a whole
  recording up front (``catch_up(store)``) gives the full alarm timeline; live, call ``catch_up(store, t)``
  each frame (cheap: only new samples are read).
- **Stable ids.** An alarm's id is ``"<sensor>/<limit>@<onset time>"``: scanning the same data again gives the
  same ids, so acknowledgements saved in the project's sidecar file re-attach when the project and its
  recording are opened again (:func:`sidecar_path`; ``io.alarm_log`` reads and writes the file).
- **Shelving** hides a sensor limit's alarms from the counts for a time (ISA-18.2): who, why (required),
  from and until which clock time. A shelved alarm stays in the list, marked, and its part keeps its status
  colour (shelving hides the annunciation, never the state). Shelves are saved in the sidecar file and
  are the shelving log.
- **Acknowledgements** carry who, the clock time ``t`` (replay time when reviewing a recording), an optional
  comment and the wall-clock time it was recorded. An alarm counts as acknowledged at times ``>= t``. An
  alarm is acknowledged once; acknowledging before its onset is refused.

Not thread-safe: use it from the thread that runs the session step (the UI thread).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.history import join_samples
from twinviewer.core.project import Sensor

LIMITS: tuple[tuple[str, str, str], ...] = (
    ("alarm_high", "alarm", "high"),
    ("warning_high", "warning", "high"),
    ("warning_low", "warning", "low"),
    ("alarm_low", "alarm", "low"),
)
"""(limit name, level, direction) of every limit a sensor may have."""

SIDECAR_FORMAT = "twinviewer-acknowledgements"
SIDECAR_VERSION = 1
_ACK_FIELDS = ("alarm_id", "sensor_id", "part", "level", "direction", "limit", "threshold", "onset_t",
               "user", "t", "comment", "recorded_at")


class AlarmLogError(TwinViewerError):
    """An acknowledgement file that cannot be read or written."""


def iso_utc(t: float | None) -> str:
    """'2024-05-01T12:00:00.000Z' for an epoch time; '' for None/NaN."""
    if t is None or not math.isfinite(t):
        return ""
    return (
        datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def alarm_id(sensor_id: str, limit: str, onset_t: float) -> str:
    return f"{sensor_id}/{limit}@{onset_t:.6f}"


def sidecar_path(project_path: Path | str) -> Path:
    """Where a project's acknowledgements live: ``pump.twin.toml`` → ``pump.twin.acks.json`` beside it."""
    path = Path(project_path)
    stem = path.name[: -len(".toml")] if path.name.endswith(".toml") else path.name
    return path.with_name(f"{stem}.acks.json")


@dataclass(frozen=True)
class Acknowledgement:
    alarm_id: str
    user: str
    t: float  # clock time of the acknowledgement (epoch seconds)
    comment: str = ""
    recorded_at: float = 0.0  # wall-clock time it was made (epoch seconds)


@dataclass(frozen=True)
class Shelf:
    """An operator's "hide this limit's alarms for a while", with the reason, kept as the shelving log."""

    sensor_id: str
    limit: str
    user: str
    reason: str
    t: float  # clock time it starts (epoch seconds)
    until: float  # clock time it ends
    recorded_at: float = 0.0

    def covers(self, alarm: Alarm, t: float) -> bool:
        return alarm.sensor_id == self.sensor_id and alarm.limit == self.limit and self.t <= t < self.until


@dataclass
class Alarm:
    """One episode of a sensor beyond one limit."""

    alarm_id: str
    sensor_id: str
    part: str
    level: str  # "warning" | "alarm"
    direction: str  # "high" | "low"
    limit: str  # "warning_high", ...
    threshold: float
    onset_t: float
    onset_value: float
    cleared_t: float | None = None
    extreme_value: float = math.nan  # highest (high limits) or lowest (low limits) value while active
    acknowledgement: Acknowledgement | None = None
    count: int = 1  # how many times the value went beyond the limit during the episode (chattering)

    def active_at(self, t: float) -> bool:
        return self.onset_t <= t and (self.cleared_t is None or t < self.cleared_t)

    def acknowledged_at(self, t: float) -> bool:
        return self.acknowledgement is not None and self.acknowledgement.t <= t

    @property
    def is_alarm(self) -> bool:
        return self.level == "alarm"

    def describe(self, unit: str = "") -> str:
        """'TT-102 alarm high: 96.2 °C > 95 °C'."""
        sign = ">" if self.direction == "high" else "<"
        u = f" {unit}" if unit else ""
        return (f"{self.sensor_id} {self.level} {self.direction}: "
                f"{self.onset_value:g}{u} {sign} {self.threshold:g}{u}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["acknowledgement"] = asdict(self.acknowledgement) if self.acknowledgement else None
        return out


@dataclass
class _LimitTrack:
    """Per sensor and limit: the episode currently open at the sensor's horizon, if any."""

    limit: str
    level: str
    direction: str
    threshold: float
    open_alarm: Alarm | None = None
    raw: int = 0  # beyond (1) or inside (0) after the last sample, deadband applied, delays not
    raw_since: float = -math.inf  # when that raw state began


@dataclass
class _SensorTrack:
    sensor: Sensor
    deadband: float
    limits: list[_LimitTrack] = field(default_factory=list)
    horizon: float = -math.inf  # time of the last sample seen
    on_delay: float = 0.0
    off_delay: float = 0.0


@dataclass(frozen=True)
class AlarmSettings:
    """How one sensor's limits raise and clear alarms (in the sensor's unit, seconds)."""

    deadband: float = 0.0
    on_delay: float = 0.0
    off_delay: float = 0.0


DEFAULT_DEADBAND_FRACTION = 0.02
"""Default deadband: 2 % of the sensor's span (its declared range, else the span of its limits)."""
DEFAULT_ON_DELAY_S = 0.0
DEFAULT_OFF_DELAY_S = 60.0
"""Default off-delay: 60 s (at least three of the sensor's sample periods): a value chattering at a limit
stays one alarm (its ``count`` says how often it went beyond) instead of one alarm per crossing."""


def alarm_settings(sensors: Sequence[Sensor]) -> dict[str, AlarmSettings]:
    """Every sensor's alarm settings: its ``alarm`` keys where given, else the defaults above."""
    out = {}
    for s in sensors:
        given = getattr(s, "alarm", None)
        if s.range is not None:
            span = s.range[1] - s.range[0]
        else:
            limits = [v for v in s.thresholds.model_dump().values() if v is not None]
            span = (max(limits) - min(limits)) if len(limits) > 1 else abs(limits[0]) if limits else 0.0
        deadband = DEFAULT_DEADBAND_FRACTION * span
        on_delay = DEFAULT_ON_DELAY_S
        off_delay = max(DEFAULT_OFF_DELAY_S, 3.0 * s.expected_period_s)
        if given is not None:
            deadband = given.deadband if given.deadband is not None else deadband
            on_delay = given.on_delay if given.on_delay is not None else on_delay
            off_delay = given.off_delay if given.off_delay is not None else off_delay
        out[s.id] = AlarmSettings(float(deadband), float(on_delay), float(off_delay))
    return out


RAW_REFINE_ROWS = 8_000_000
"""Raw rows a lazy history may decode in one ``catch_up`` to place alarm edges at sample times (a dataset
decodes whole row groups, all sensors at once: about 0.1 s here). The spans nearest the clock go first."""
RAW_REFINE_ROWS_PER_FRAME = 600_000
"""What :meth:`AlarmTracker.refine_near` may decode for one frame (about two row groups, 10 ms)."""


def _inside(times: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Which ``times`` lie in one of the sorted, disjoint ``spans`` (ends included)."""
    if not spans:
        return np.zeros(times.shape, dtype=bool)
    starts = np.array([a for a, _b in spans])
    ends = np.array([b for _a, b in spans])
    k = np.searchsorted(starts, times, side="right") - 1
    return (k >= 0) & (times <= ends[np.maximum(k, 0)])


class _ReadCost:
    """Rows a store decodes to answer raw spans. A dataset (``raw_read_unit``: cell seconds, rows a cell
    costs) decodes row groups of every sensor, so spans of many sensors at one time share the cost; any
    other history reads one sensor's samples per span."""

    def __init__(self, store: Any):
        unit = getattr(store, "raw_read_unit", None)
        self.unit: tuple[float, float] | None = unit() if unit is not None else None
        self.cells: set[int] = set()

    def of(self, span: tuple[float, float], period: float) -> tuple[float, list[int]]:
        a, b = span
        if self.unit is None:
            return ((b - a) / period if period > 0 else 0.0), []
        cell_s, rows = self.unit
        new = [c for c in range(int(a // cell_s), int(b // cell_s) + 1) if c not in self.cells]
        return len(new) * rows, new


def _worse_extreme(track: _SensorTrack, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per point of a chart-style window, the value an alarm would see: raw samples come with low == high;
    a lazy history's buckets (min, max) count as their extreme beyond a limit, so a one-bucket excursion
    above a high limit is not hidden behind the bucket's minimum."""
    if not track.limits or low is high or np.array_equal(low, high, equal_nan=True):
        return low
    directions = {limit.direction for limit in track.limits}
    if directions == {"high"}:
        return high
    if directions == {"low"}:
        return low
    highs = [limit.threshold for limit in track.limits if limit.direction == "high"]
    lows = [limit.threshold for limit in track.limits if limit.direction == "low"]
    with np.errstate(invalid="ignore"):
        above = high - min(highs)
        below = max(lows) - low
        return np.where(above >= below, high, low)


class AlarmTracker:
    """Alarm timeline of a project's sensors; see the module docstring for the policy.

    ``deadband`` is one number for all sensors or ``sensor id → deadband`` (in the sensor's unit);
    ``settings`` (``sensor id → AlarmSettings``, see :func:`alarm_settings`) gives deadband and delays and
    wins over ``deadband``.
    """

    def __init__(self, sensors: Sequence[Sensor], deadband: float | dict[str, float] = 0.0,
                 settings: dict[str, AlarmSettings] | None = None):
        self._tracks: dict[str, _SensorTrack] = {}
        self.sensor_ids = [s.id for s in sensors]
        self._levels_cache: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        for s in sensors:
            db = float(deadband.get(s.id, 0.0)) if isinstance(deadband, dict) else float(deadband)
            on_delay = off_delay = 0.0
            if settings is not None and s.id in settings:
                db, on_delay, off_delay = settings[s.id].deadband, settings[s.id].on_delay, settings[s.id].off_delay
            if db < 0 or on_delay < 0 or off_delay < 0:
                raise ValueError("deadband and delays must be >= 0")
            track = _SensorTrack(s, db, on_delay=float(on_delay), off_delay=float(off_delay))
            for limit, level, direction in LIMITS:
                value = getattr(s.thresholds, limit)
                if value is not None:
                    track.limits.append(_LimitTrack(limit, level, direction, float(value)))
            self._tracks[s.id] = track
        self._alarms: list[Alarm] = []
        self._by_id: dict[str, Alarm] = {}
        self._acks: dict[str, Acknowledgement] = {}
        self.shelves: list[Shelf] = []
        self.late_samples = 0  # samples ignored because they were older than what was already seen
        self._pending: dict[str, list[tuple[float, float]]] = {}  # sensor → spans not read raw yet (never [])
        self._replaced: dict[str, str] = {}  # bucketed alarm id → the exact alarm's id that replaced it
        self.version = 0  # bumps whenever records or acknowledgements change

    # ------------------------------------------------------------------------------------ feeding
    def ingest(self, sensor_id: str, times: np.ndarray, values: np.ndarray) -> int:
        """Feed one sensor's samples (sorted by time). Returns how many were new. Unknown sensors: 0."""
        track = self._tracks.get(sensor_id)
        if track is None:
            return 0
        t = np.asarray(times, dtype=np.float64).ravel()
        v = np.asarray(values, dtype=np.float64).ravel()
        new = t > track.horizon
        if not new.all():
            self.late_samples += int((~new & (t < track.horizon)).sum())
            t, v = t[new], v[new]
        if t.size == 0:
            return 0
        if t.size > 1 and np.any(np.diff(t) < 0):
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        for limit in track.limits:
            self._scan_limit(track, limit, t, v)
        track.horizon = float(t[-1])
        return int(t.size)

    def update(self, snapshot: Any) -> int:
        """Feed a store snapshot (``sensor_ids``, ``values``, ``times``): each sensor's latest sample, once.

        Enough live when every sample is seen; a replay that skips samples should use :meth:`catch_up`.
        """
        total = 0
        for i, sid in enumerate(snapshot.sensor_ids):
            ts = snapshot.times[i]
            if math.isfinite(ts):
                total += self.ingest(sid, np.array([ts]), np.array([snapshot.values[i]]))
        return total

    def catch_up(self, store: Any, t: float | None = None, focus: float | None = None) -> int:
        """Read from a ``TimeSeriesStore`` every sample after the ones already seen, up to ``t`` (all if
        None). From a lazy history, the raw spans nearest ``focus`` (default: the earliest) are read first
        (see the module docstring)."""
        total = 0
        end = math.inf if t is None else float(t)
        quiet = self._quiet_sensors(store, end)
        lazy = not getattr(store, "in_memory", True) and hasattr(store, "samples_between")
        bucketed: dict[str, tuple[float, np.ndarray, np.ndarray, list[tuple[float, float]]]] = {}
        for sid, track in self._tracks.items():
            start = track.horizon if math.isfinite(track.horizon) else -math.inf
            if start >= end:
                continue
            if sid in quiet:  # never beyond a limit and no open alarm: nothing to derive, move on
                self._skip_to_end(store, sid, track, end)
                continue
            times, low, high = store.window(sid, start, end, max_points=2**62)
            if not times.size:
                continue
            if lazy:
                spans = self._spans_where_limits_may_cross(store, sid, track, times, low, high, start, end)
                bucketed[sid] = (start, times, _worse_extreme(track, low, high), spans)
                continue
            total += self.ingest(sid, times, _worse_extreme(track, low, high))
        if bucketed:
            total += self._ingest_spans(store, bucketed, end, focus)
        return total

    def _ingest_spans(self, store: Any, bucketed: dict, end: float, focus: float | None) -> int:
        """Each sensor's spans where a limit may be crossed: raw samples for those chosen (nearest ``focus``
        first, within RAW_REFINE_ROWS), bucket extremes for the others (kept pending)."""
        if focus is None or not math.isfinite(focus):  # from the first span on
            focus = min((a for *_rest, spans in bucketed.values() for a, _b in spans), default=0.0)
        order = sorted((max(a - focus, focus - b, 0.0), sid, k) for sid, (*_rest, spans) in bucketed.items()
                       for k, (a, b) in enumerate(spans))
        cost, budget = _ReadCost(store), float(RAW_REFINE_ROWS)
        smallest = cost.unit[1] if cost.unit is not None else 1.0  # the least a span not yet covered costs
        chosen: dict[str, set[int]] = {}
        slack = cost.unit[0] if cost.unit is not None else 0.0
        reach = 0.0  # how far from the focus the chosen spans (and the row groups they read) go
        for distance, sid, k in order:
            if budget < smallest and distance > reach:
                break  # nothing new fits, and spans this far cannot lie in the row groups already read
            a, b = bucketed[sid][3][k]
            rows, cells = cost.of((a, b), self._period(store, sid))
            if rows <= budget:
                budget -= rows
                cost.cells.update(cells)
                chosen.setdefault(sid, set()).add(k)
                reach = max(reach, abs(a - focus) + slack, abs(b - focus) + slack)
        raw = self._read_raw(store, {sid: [bucketed[sid][3][k] for k in sorted(ks)] for sid, ks in chosen.items()})
        total = 0
        for sid, (start, times, worse, spans) in bucketed.items():
            # Raw samples inside the chosen spans, bucket extremes everywhere else (as before this pass read
            # anything raw: a bucketed alarm clears at the first bucket back inside, in a span or not).
            read = [spans[k] for k in sorted(chosen.get(sid, ()))]
            unread = [span for k, span in enumerate(spans) if k not in chosen.get(sid, ())]
            if unread:
                self._pending.setdefault(sid, []).extend(unread)
            if spans:
                raw_t, raw_v = raw.get(sid, (np.empty(0), np.empty(0)))
                keep_raw = _inside(raw_t, read) & (raw_t > start) & (raw_t <= end)
                keep_buckets = ~_inside(times, read)
                merged_t = np.concatenate((times[keep_buckets], raw_t[keep_raw]))
                merged_v = np.concatenate((worse[keep_buckets], raw_v[keep_raw]))
                by_time = np.argsort(merged_t, kind="stable")
                total += self.ingest(sid, merged_t[by_time], merged_v[by_time])
            self._skip_to_end(store, sid, self._tracks[sid], end)
        return total

    def refine_near(self, store: Any, t: float, max_rows: float = RAW_REFINE_ROWS_PER_FRAME) -> bool:
        """Read the raw samples of the pending spans that contain ``t`` (within ``max_rows`` decoded rows) and
        derive their alarms again at sample times. True when the records changed. Cheap when nothing is
        pending (most stores, most frames)."""
        return self.refine_between(store, t, t, max_rows)

    def refine_between(self, store: Any, t0: float, t1: float, max_rows: float = math.inf,
                       at_least_one: bool = False) -> bool:
        """:meth:`refine_near` for every pending span that meets ``[t0, t1]`` (a report's interval);
        ``at_least_one``: read one span even if it alone is over ``max_rows`` (a loop that must progress)."""
        if not self._pending:
            return False
        cost, budget = _ReadCost(store), float(max_rows)
        wanted: dict[str, list[tuple[float, float]]] = {}
        first_met: tuple[str, tuple[float, float]] | None = None
        for sid, spans in self._pending.items():  # each sensor's spans are disjoint, in time order
            first = bisect.bisect_left(spans, t0, key=lambda span: span[1])
            for span in itertools.takewhile(lambda span: span[0] <= t1, itertools.islice(spans, first, None)):
                first_met = first_met or (sid, span)
                rows, cells = cost.of(span, self._period(store, sid))
                if rows <= budget:
                    budget -= rows
                    cost.cells.update(cells)
                    wanted.setdefault(sid, []).append(span)
        if not wanted and at_least_one and first_met is not None:
            wanted[first_met[0]] = [first_met[1]]
        if not wanted:
            return False
        raw = self._read_raw(store, wanted)
        for sid, spans in wanted.items():
            raw_t, raw_v = raw.get(sid, (np.empty(0), np.empty(0)))
            for a, b in spans:
                keep = (raw_t >= a) & (raw_t <= b)
                self._derive_span_again(self._tracks[sid], a, b, raw_t[keep], raw_v[keep])
                self._pending[sid].remove((a, b))
            if not self._pending[sid]:
                del self._pending[sid]
        return True

    def _derive_span_again(self, track: _SensorTrack, a: float, b: float, raw_t: np.ndarray,
                           raw_v: np.ndarray) -> None:
        """Replace one sensor's alarms that began in the span ``[a, b]`` with those of its raw samples. A span
        starts and ends inside every limit (it runs from a bucket certainly inside to the delays after the
        last bucket that may not be), so it is derived on its own, from a clean state."""
        sid = track.sensor.id
        removed = [alarm for alarm in self._alarms if alarm.sensor_id == sid and a <= alarm.onset_t <= b]
        gone = {id(alarm) for alarm in removed}
        if removed:
            self._alarms = [alarm for alarm in self._alarms if id(alarm) not in gone]
            for alarm in removed:
                self._by_id.pop(alarm.alarm_id, None)
        saved = [(limit.open_alarm, limit.raw, limit.raw_since) for limit in track.limits]
        horizon, late = track.horizon, self.late_samples
        for limit in track.limits:
            limit.open_alarm, limit.raw, limit.raw_since = None, 0, -math.inf
        track.horizon = math.nextafter(a, -math.inf)
        self.ingest(sid, raw_t, raw_v)
        if b < horizon:  # the span ended inside every limit: after it, the state seen before holds
            for limit, (open_alarm, raw, since) in zip(track.limits, saved, strict=True):
                if open_alarm is None or id(open_alarm) not in gone:
                    limit.open_alarm = open_alarm
                limit.raw, limit.raw_since = raw, since
        track.horizon, self.late_samples = horizon, late
        fresh = [alarm for alarm in self._alarms if alarm.sensor_id == sid and a <= alarm.onset_t <= b]
        for old in removed:  # each bucketed alarm is followed by the exact one of its limit nearest in time
            same = [alarm for alarm in fresh if alarm.limit == old.limit]
            if not same:
                continue
            exact = min(same, key=lambda alarm: abs(alarm.onset_t - old.onset_t))
            self._replaced[old.alarm_id] = exact.alarm_id
            if old.acknowledgement is not None and exact.acknowledgement is None:
                # (no sooner than the exact onset: a bucket time can come before the first sample beyond)
                moved = replace(old.acknowledgement, alarm_id=exact.alarm_id,
                                t=max(old.acknowledgement.t, exact.onset_t))
                exact.acknowledgement = self._acks[exact.alarm_id] = moved
                self._acks.pop(old.alarm_id, None)
        self.version += 1

    @property
    def approximate(self) -> set[str]:
        """Sensors with spans whose alarms are still at bucket times (see :meth:`refine_near`)."""
        return set(self._pending)

    @property
    def pending_spans(self) -> int:
        """How many spans are still at bucket times."""
        return sum(len(spans) for spans in self._pending.values())

    def _period(self, store: Any, sid: str) -> float:
        period = self._tracks[sid].sensor.expected_period_s
        return float(period) if period and period > 0 else float(
            getattr(store, "expected_period", lambda _s: 0.0)(sid) or 0.0)

    @staticmethod
    def _read_raw(store: Any, wanted: dict[str, list[tuple[float, float]]]
                  ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        wanted = {sid: spans for sid, spans in wanted.items() if spans}
        if not wanted:
            return {}
        if hasattr(store, "samples_in_spans"):
            raw = store.samples_in_spans(wanted)
        else:
            raw = {sid: join_samples([store.samples_between(sid, a, b) for a, b in spans])
                   for sid, spans in wanted.items()}
        return {sid: (np.asarray(t, dtype=np.float64), np.asarray(v, dtype=np.float64))
                for sid, (t, v) in raw.items()}

    @staticmethod
    def _skip_to_end(store: Any, sid: str, track: _SensorTrack, end: float) -> None:
        span = store.sensor_time_range(sid)
        if span is not None:
            track.horizon = max(track.horizon, min(span[1], end))

    @staticmethod
    def _spans_where_limits_may_cross(store: Any, sid: str, track: _SensorTrack, times: np.ndarray,
                                      low: np.ndarray, high: np.ndarray, start: float,
                                      end: float) -> list[tuple[float, float]]:
        """The time spans whose raw samples decide this sensor's alarms: the buckets of a bucketed window
        where a limit may be crossed or an alarm may clear, each with the on/off delays after it."""
        maybe = np.zeros(times.size, dtype=bool)
        with np.errstate(invalid="ignore"):
            for limit in track.limits:
                if limit.direction == "high":
                    maybe |= high > limit.threshold - track.deadband
                else:
                    maybe |= low < limit.threshold + track.deadband
        if any(limit.raw or limit.open_alarm is not None for limit in track.limits):
            maybe[0] = True
        if not maybe.any():
            return []
        known = store.sensor_time_range(sid)
        first_t, last_t = known if known is not None else (float(times[0]), float(times[-1]))
        # A point stands for a bucket around it (a chart window gives bucket centres, a summary bucket
        # starts): the neighbours' times bound it on both sides.
        edges = np.concatenate(([max(start, first_t)], times, [min(end, last_t)]))
        after = max(track.on_delay, track.off_delay)
        flips = np.flatnonzero(np.diff(np.concatenate(([0], maybe.astype(np.int8), [0]))))
        spans: list[tuple[float, float]] = []
        for first, last in zip(flips[::2], flips[1::2] - 1, strict=True):
            a = float(edges[first])  # the point before the run (or the start)
            b = float(edges[last + 2])  # the point after the run (or the end)
            b = min(b + after + (b - float(edges[last + 1])), end, last_t)
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
        return spans

    def _quiet_sensors(self, store: Any, end: float) -> set[str]:
        """Sensors inside every limit (no alarm open or pending) whose values up to ``end`` stay so, from a
        store that bounds many sensors at once (``value_ranges``: a lazy dataset answers from its coarsest
        summary level), so catching up a thousand sensors over a year reads only those that can alarm."""
        bounds = getattr(store, "value_ranges", None)
        idle = [sid for sid, track in self._tracks.items()
                if track.horizon < end
                and all(limit.open_alarm is None and limit.raw == 0 for limit in track.limits)]
        if bounds is None or not idle:
            return set()
        lows, highs = bounds(idle, min(self._tracks[sid].horizon for sid in idle), end)
        quiet = set()
        for sid, low, high in zip(idle, lows, highs, strict=True):
            limits = self._tracks[sid].limits
            if all((high <= limit.threshold) if limit.direction == "high" else (low >= limit.threshold)
                   for limit in limits):  # NaN bounds (unknown) compare False: such sensors are read
                quiet.add(sid)
        return quiet

    def rescan(self, store: Any, t: float | None = None, focus: float | None = None) -> None:
        """Forget every derived record (acknowledgements are kept) and rebuild from the store up to ``t``.

        Use when the data changed under the tracker (another recording imported, late samples).
        """
        self._alarms.clear()
        self._by_id.clear()
        for track in self._tracks.values():
            track.horizon = -math.inf
            for limit in track.limits:
                limit.open_alarm = None
                limit.raw, limit.raw_since = 0, -math.inf
        self.late_samples = 0
        self._pending.clear()
        self._replaced.clear()
        self.version += 1
        self.catch_up(store, t, focus)

    def _scan_limit(self, track: _SensorTrack, limit: _LimitTrack, t: np.ndarray, v: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):
            if limit.direction == "high":
                beyond = v > limit.threshold
                inside = v <= limit.threshold - track.deadband
            else:
                beyond = v < limit.threshold
                inside = v >= limit.threshold + track.deadband
        if limit.raw == 0 and limit.open_alarm is None and not beyond.any():
            return  # inside the limit before and throughout: nothing starts, nothing is open (most sensors)
        # Raw state after each sample: 1 beyond, 0 inside, unchanged on NaN or inside the deadband band.
        decided = beyond | inside
        last_decided = np.maximum.accumulate(np.where(decided, np.arange(t.size), -1))
        state = np.where(last_decided >= 0, beyond[np.maximum(last_decided, 0)], limit.raw).astype(np.int8)
        previous = np.concatenate(([limit.raw], state[:-1]))
        starts = np.flatnonzero(state != previous).tolist()
        rises = set(starts)
        bounds = starts if starts and starts[0] == 0 else [0, *starts]
        pick = np.fmax if limit.direction == "high" else np.fmin
        since = limit.raw_since
        for n, a in enumerate(bounds):
            b = bounds[n + 1] if n + 1 < len(bounds) else t.size
            rising = a in rises
            if rising:
                since = float(t[a])
            if state[a] == 1:
                alarm = limit.open_alarm
                if alarm is None:
                    # Raise once the value has stayed beyond the limit for the on-delay.
                    k = a + int(np.searchsorted(t[a:b], since + track.on_delay, side="left"))
                    if k < b:
                        onset_t = float(t[k])
                        alarm = Alarm(
                            alarm_id=alarm_id(track.sensor.id, limit.limit, onset_t), sensor_id=track.sensor.id,
                            part=track.sensor.part, level=limit.level, direction=limit.direction,
                            limit=limit.limit, threshold=limit.threshold, onset_t=onset_t,
                            onset_value=float(v[k]), extreme_value=float(pick.reduce(v[k:b])),
                            acknowledgement=self._acks.get(alarm_id(track.sensor.id, limit.limit, onset_t)),
                        )
                        self._add(alarm)
                        limit.open_alarm = alarm
                else:
                    if rising:
                        alarm.count += 1  # back beyond before the off-delay ran out: the same episode
                    alarm.extreme_value = float(pick(alarm.extreme_value, pick.reduce(v[a:b])))
                    self.version += 1
            elif limit.open_alarm is not None:
                # Clear once the value has stayed back inside (by the deadband) for the off-delay.
                k = a + int(np.searchsorted(t[a:b], since + track.off_delay, side="left"))
                if k < b:
                    limit.open_alarm.cleared_t = float(t[k])
                    limit.open_alarm = None
                    self.version += 1
        limit.raw = int(state[-1])
        limit.raw_since = since

    def _add(self, alarm: Alarm) -> None:
        if alarm.alarm_id in self._by_id:  # same sensor, limit and onset: already known
            return
        self._by_id[alarm.alarm_id] = alarm
        if self._alarms and self._alarms[-1].onset_t > alarm.onset_t:  # in place: a rescan adds thousands
            bisect.insort(self._alarms, alarm, key=lambda a: (a.onset_t, a.sensor_id, a.limit))
        else:
            self._alarms.append(alarm)
        self.version += 1

    # ------------------------------------------------------------------------------------ queries
    @property
    def alarms(self) -> list[Alarm]:
        """Every record, by onset time (including ones after the clock, if the data has them)."""
        return list(self._alarms)

    def get(self, alarm_id_: str) -> Alarm:
        """The alarm with this id, or the exact alarm that replaced it once its samples were read."""
        return self._by_id[self.current_id(alarm_id_)]

    def current_id(self, alarm_id_: str) -> str:
        """``alarm_id_``, or the id of the alarm that replaced it (a list row or a menu made before a frame
        read the samples of its span still finds its alarm)."""
        seen = 0
        while alarm_id_ not in self._by_id and alarm_id_ in self._replaced and seen < 64:
            alarm_id_, seen = self._replaced[alarm_id_], seen + 1
        return alarm_id_

    def exact(self, alarm_id_: str, store: Any) -> Alarm:
        """The alarm at its samples' times: the span it began in is read now if it is still at bucket times
        (Go to onset, a bookmark from the list)."""
        alarm = self.get(alarm_id_)
        self.refine_near(store, alarm.onset_t, max_rows=math.inf)
        return self.get(alarm.alarm_id)

    def active_at(self, t: float) -> list[Alarm]:
        """Alarms active at ``t``: alarms before warnings, then unacknowledged first, then newest first."""
        active = [a for a in self._alarms if a.active_at(t)]
        active.sort(key=lambda a: (not a.is_alarm, a.acknowledged_at(t), -a.onset_t))
        return active

    def history(self, t: float | None = None) -> list[Alarm]:
        """Alarms already cleared at ``t`` (all cleared ones if None), newest first."""
        end = math.inf if t is None else t
        done = [a for a in self._alarms if a.cleared_t is not None and a.cleared_t <= end]
        return sorted(done, key=lambda a: -a.onset_t)

    def between(self, t0: float, t1: float) -> list[Alarm]:
        """Alarms active at some time in ``[t0, t1]``, by onset."""
        return [a for a in self._alarms if a.onset_t <= t1 and (a.cleared_t is None or a.cleared_t > t0)]

    def unacknowledged_at(self, t: float) -> list[Alarm]:
        return [a for a in self.active_at(t) if not a.acknowledged_at(t) and self.shelf_of(a, t) is None]

    def shelf_of(self, alarm: Alarm, t: float) -> Shelf | None:
        """The shelf hiding ``alarm`` at ``t``, if any."""
        return next((s for s in self.shelves if s.covers(alarm, t)), None)

    def shelve(self, alarm_id_: str, user: str, reason: str, t: float, duration_s: float) -> Shelf:
        """Shelve the alarm's sensor limit from ``t`` for ``duration_s``; a reason is required (it is logged)."""
        alarm = self.get(alarm_id_)
        if not user.strip():
            raise ValueError("shelving needs the name of who shelves")
        if not reason.strip():
            raise ValueError("shelving needs a reason (it goes into the shelving log)")
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise ValueError("shelving needs a duration longer than 0 s")
        shelf = Shelf(alarm.sensor_id, alarm.limit, user.strip(), reason.strip(), float(t), float(t) + duration_s,
                      time.time())
        self.shelves.append(shelf)
        self.version += 1
        return shelf

    def levels_at(self, t: float) -> np.ndarray:
        """Alarm level (0 normal, 1 warning, 2 alarm) of every sensor (constructor order) at ``t``: the
        state the alarm list shows, and the one rule the part colours and the status bar follow."""
        cache = self._levels_cache
        if cache is None or cache[0] != self.version:
            index = {sid: i for i, sid in enumerate(self.sensor_ids)}
            alarms = self._alarms
            onset = np.array([a.onset_t for a in alarms], dtype=np.float64)
            cleared = np.array([math.inf if a.cleared_t is None else a.cleared_t for a in alarms], dtype=np.float64)
            level = np.array([2 if a.is_alarm else 1 for a in alarms], dtype=np.int8)
            sensor = np.array([index[a.sensor_id] for a in alarms], dtype=np.intp)
            cache = self._levels_cache = (self.version, onset, cleared, level, sensor)
        _, onset, cleared, level, sensor = cache
        out = np.zeros(len(self.sensor_ids), dtype=np.int8)
        active = (onset <= t) & (t < cleared)
        np.maximum.at(out, sensor[active], level[active])
        return out

    def counts_at(self, t: float) -> dict[str, int]:
        """For a status bar: active alarms, active warnings, how many of those are unacknowledged (shelved
        ones not counted), and how many are shelved."""
        active = self.active_at(t)
        shown = [a for a in active if self.shelf_of(a, t) is None]
        return {
            "alarm": sum(a.is_alarm for a in shown),
            "warning": sum(not a.is_alarm for a in shown),
            "unacknowledged": sum(not a.acknowledged_at(t) for a in shown),
            "shelved": len(active) - len(shown),
        }

    # ----------------------------------------------------------------------------- acknowledging
    def acknowledge(self, alarm_id_: str, user: str, t: float, comment: str = "") -> Acknowledgement:
        """Record that ``user`` acknowledged the alarm at clock time ``t``."""
        alarm = self.get(alarm_id_)
        alarm_id_ = alarm.alarm_id
        if not user.strip():
            raise ValueError("an acknowledgement needs the name of who acknowledges")
        if alarm.acknowledgement is not None:
            ack = alarm.acknowledgement
            raise ValueError(f"{alarm_id_} was already acknowledged by {ack.user} at {iso_utc(ack.t)}")
        if t < alarm.onset_t:
            raise ValueError(f"{alarm_id_} starts at {iso_utc(alarm.onset_t)}, after {iso_utc(t)}")
        ack = Acknowledgement(alarm_id_, user.strip(), float(t), comment, time.time())
        alarm.acknowledgement = ack
        self._acks[alarm_id_] = ack
        self.version += 1
        return ack

    @property
    def acknowledgements(self) -> list[Acknowledgement]:
        """The acknowledgement log, oldest first (including ones loaded for alarms not seen yet)."""
        return sorted(self._acks.values(), key=lambda a: (a.t, a.alarm_id))

    def _log_rows(self) -> list[dict[str, Any]]:
        rows = []
        for ack in self.acknowledgements:
            alarm = self._by_id.get(ack.alarm_id)
            sensor_id, _, rest = ack.alarm_id.partition("/")
            limit, _, onset = rest.partition("@")
            level, direction = next(((lv, d) for name, lv, d in LIMITS if name == limit), ("", ""))
            rows.append({
                "alarm_id": ack.alarm_id, "sensor_id": sensor_id,
                "part": alarm.part if alarm else self._tracks[sensor_id].sensor.part
                         if sensor_id in self._tracks else "",
                "level": level, "direction": direction, "limit": limit,
                "threshold": alarm.threshold if alarm else None,
                "onset_t": alarm.onset_t if alarm else float(onset) if onset else None,
                "user": ack.user, "t": ack.t, "comment": ack.comment, "recorded_at": ack.recorded_at,
            })
        return rows

    def log_csv_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The acknowledgement log as CSV columns and rows, epoch times and readable UTC times side by side
        (``io.alarm_log.export_csv`` writes them)."""
        columns = [*_ACK_FIELDS, "onset_utc", "t_utc", "recorded_at_utc"]
        rows = [{**row, "onset_utc": iso_utc(row["onset_t"]), "t_utc": iso_utc(row["t"]),
                 "recorded_at_utc": iso_utc(row["recorded_at"])} for row in self._log_rows()]
        return columns, rows

    def acknowledgement_document(self) -> dict[str, Any]:
        """The acknowledgement sidecar's JSON document (``io.alarm_log.save_acknowledgements`` writes it)."""
        return {"format": SIDECAR_FORMAT, "version": SIDECAR_VERSION,
                "acknowledgements": self._log_rows(), "shelves": [asdict(s) for s in self.shelves]}

    def merge_acknowledgements(self, text: str, path: Path | str) -> int:
        """Merge the acknowledgements of a sidecar file's text (``path`` names it in errors); returns how
        many were added (``io.alarm_log.load_acknowledgements`` reads the file).

        Entries for alarms not seen yet attach when the data raising them is scanned. An alarm already
        acknowledged in memory keeps that one.
        """
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AlarmLogError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise AlarmLogError(f"{path}: not an acknowledgement file: its JSON is nested too deeply") from None
        if not isinstance(document, dict) or document.get("format") != SIDECAR_FORMAT:
            raise AlarmLogError(f"{path}: not a TwinViewer acknowledgement file (format is not "
                                f"{SIDECAR_FORMAT!r})")
        if document.get("version") != SIDECAR_VERSION:
            raise AlarmLogError(f"{path}: acknowledgement file version {document.get('version')!r} is not "
                                "supported")
        entries = document.get("acknowledgements")
        if not isinstance(entries, list):
            raise AlarmLogError(f"{path}: 'acknowledgements' must be a list")
        parsed = []
        for n, entry in enumerate(entries):
            try:
                ack = Acknowledgement(alarm_id=str(entry["alarm_id"]), user=str(entry["user"]),
                                      t=float(entry["t"]),
                                      comment=str(entry.get("comment", "")),
                                      recorded_at=float(entry.get("recorded_at", 0.0)))
            except (KeyError, TypeError, ValueError) as exc:
                raise AlarmLogError(f"{path}: acknowledgements[{n}]: missing or invalid {exc}") from None
            if "/" not in ack.alarm_id or "@" not in ack.alarm_id or not math.isfinite(ack.t):
                raise AlarmLogError(f"{path}: acknowledgements[{n}]: {ack.alarm_id!r} is not an alarm id")
            parsed.append(ack)
        shelves = []
        for n, entry in enumerate(document.get("shelves") or []):
            try:
                shelf = Shelf(sensor_id=str(entry["sensor_id"]), limit=str(entry["limit"]), user=str(entry["user"]),
                              reason=str(entry["reason"]), t=float(entry["t"]), until=float(entry["until"]),
                              recorded_at=float(entry.get("recorded_at", 0.0)))
            except (KeyError, TypeError, ValueError) as exc:
                raise AlarmLogError(f"{path}: shelves[{n}]: missing or invalid {exc}") from None
            if not (math.isfinite(shelf.t) and math.isfinite(shelf.until)):
                raise AlarmLogError(f"{path}: shelves[{n}]: t and until must be finite times")
            shelves.append(shelf)
        known = set(self.shelves)
        self.shelves.extend(s for s in shelves if s not in known)
        added = 0
        for ack in parsed:
            if ack.alarm_id in self._acks:
                continue
            self._acks[ack.alarm_id] = ack
            alarm = self._by_id.get(ack.alarm_id)
            if alarm is not None:
                alarm.acknowledgement = ack
            added += 1
        if added:
            self.version += 1
        return added
