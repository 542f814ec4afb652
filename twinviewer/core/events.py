"""Things that happen on the timeline: labelled windows from recordings and threshold crossings.

``Event`` is what importers attach to a recording (SKAB anomaly labels, NAB failure windows, hydraulic-rig
cycle conditions) and what the timeline draws as markers or spans. ``classify`` turns values into the
threshold statuses "normal" / "warning" / "alarm"; ``crossings_in`` finds where that status changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

STATUS_LABELS = ("normal", "warning", "alarm")
_LIMIT_KEYS = ("alarm_low", "warning_low", "warning_high", "alarm_high")


@dataclass(frozen=True)
class Event:
    """A marker (``t_end`` is None or equal to ``t``) or a span on the timeline, in epoch seconds (UTC).

    ``kind`` groups events for colouring and filtering ("anomaly", "changepoint", "label", "condition",
    "crossing"); ``label`` is the text shown; ``sensor`` names the sensor it concerns, if any.
    """

    t: float
    t_end: float | None
    kind: str
    label: str
    sensor: str | None = None

    @property
    def is_span(self) -> bool:
        return self.t_end is not None and self.t_end > self.t

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        t_end = data.get("t_end")
        return cls(t=float(data["t"]), t_end=None if t_end is None else float(t_end), kind=str(data["kind"]),
                   label=str(data.get("label", "")), sensor=data.get("sensor"))


def _limits(thresholds: Any) -> dict[str, float | None]:
    """Threshold limits from a project ``Thresholds`` model, a dict, or anything with those attributes."""
    if thresholds is None:
        return dict.fromkeys(_LIMIT_KEYS)
    if isinstance(thresholds, Mapping):
        return {k: thresholds.get(k) for k in _LIMIT_KEYS}
    return {k: getattr(thresholds, k, None) for k in _LIMIT_KEYS}


def classify(values: np.ndarray, thresholds: Any) -> np.ndarray:
    """Status code per value: 0 normal, 1 warning (beyond a warning limit), 2 alarm (beyond an alarm limit).

    "Beyond" is strict: a value equal to ``warning_high`` is still normal. NaN values get -1 (no value).
    """
    values = np.asarray(values, dtype=np.float64)
    limits = _limits(thresholds)
    status = np.zeros(values.shape, dtype=np.int8)
    if limits["warning_high"] is not None:
        status[values > limits["warning_high"]] = 1
    if limits["warning_low"] is not None:
        status[values < limits["warning_low"]] = 1
    if limits["alarm_high"] is not None:
        status[values > limits["alarm_high"]] = 2
    if limits["alarm_low"] is not None:
        status[values < limits["alarm_low"]] = 2
    status[np.isnan(values)] = -1
    return status


def crossings_in(times: np.ndarray, values: np.ndarray, thresholds: Any,
                 initial_status: int | None = None) -> list[tuple[float, str, str]]:
    """``(t, from_status, to_status)`` at each sample whose status differs from the previous valued sample.

    NaN samples carry the previous status (a gap is not a crossing). ``initial_status`` is the status
    before the first sample (e.g. from the sample preceding a window); None means the first sample only
    sets the starting status.
    """
    status = classify(values, thresholds)
    valued = status >= 0
    t = np.asarray(times, dtype=np.float64)[valued]
    s = status[valued]
    if s.size == 0:
        return []
    if initial_status is not None and initial_status >= 0:
        s = np.concatenate(([np.int8(initial_status)], s))
        t = np.concatenate(([np.nan], t))
    change = np.flatnonzero(s[1:] != s[:-1]) + 1
    return [(float(t[i]), STATUS_LABELS[s[i - 1]], STATUS_LABELS[s[i]]) for i in change]
