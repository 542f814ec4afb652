"""The anomaly detector applied to a session's data: a score per timestamp, episodes, and a per-sensor hint.

:class:`AnomalyTrack` holds a :class:`~twinviewer.core.anomaly.DetectorModel` and the scores of every
timestamp of the store it was built for (replay: the whole recording, scored once; live: new timestamps
are scored as they arrive with :meth:`AnomalyTrack.update`). Other parts of the app read it without Qt:
``episodes`` (also as timeline :class:`~twinviewer.core.events.Event` objects of kind ``"detected anomaly"``),
``at(t)`` for the score and flag at a time, and ``sensor_mask(t, sensor_ids)`` for the sensors that explain
the anomaly at ``t`` (the part-colour root-cause hint). Timestamps inside the training span are never
flagged: the user declared that span normal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from twinviewer.core.anomaly import (
    SCORE_LIMIT,
    AnomalyEpisode,
    DetectorModel,
    OnlineScorer,
    ScoreResult,
    episodes,
    fit_detector,
    store_matrix,
    top_contributors,
)
from twinviewer.core.errors import CancelledError
from twinviewer.core.events import Event

EVENT_KIND = "detected anomaly"
HINT_SHARE = 0.2
"""A sensor is named on the model when it carries at least this share of the anomaly score (max 3 sensors)."""
HINT_COUNT = 3
CHUNK_ROWS = 20_000

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


@dataclass
class ScoreAt:
    """The detector's view of one instant."""

    t: float
    score: float
    anomalous: bool
    top: list[tuple[str, float]]


class AnomalyTrack:
    def __init__(self, model: DetectorModel, result: ScoreResult):
        self.model = model
        self.result = result
        self._scorer = OnlineScorer(model)
        self._refresh()

    # ----- building ---------------------------------------------------------------------------------
    @classmethod
    def score_store(cls, model: DetectorModel, store, progress: Progress | None = None,
                    cancel: Cancel | None = None) -> AnomalyTrack:
        """Score every timestamp of ``store`` (in chunks, so progress shows and Cancel is honoured)."""
        times, values = store_matrix(store, model.sensors)
        scorer = OnlineScorer(model)
        score = np.empty(len(times))
        flags = np.zeros(len(times), dtype=np.int8)
        contributions = np.zeros((len(times), len(model.sensors)))
        for start in range(0, len(times), CHUNK_ROWS):
            if cancel is not None and cancel():
                raise CancelledError("scoring cancelled")
            stop = min(start + CHUNK_ROWS, len(times))
            score[start:stop], flags[start:stop], contributions[start:stop] = scorer.step_block(values[start:stop],
                                                                                    times[start:stop])
            if progress is not None:
                progress(stop / max(len(times), 1), f"Scored {stop:,} of {len(times):,} timestamps")
        if model.train_start is not None and model.train_end is not None:
            # the span the user declared normal is normal by definition (its own first rows can start odd)
            flags[(times >= model.train_start) & (times <= model.train_end)] = 0
        result = ScoreResult(times=times, score=score, anomaly=flags, contributions=contributions,
                             sensors=list(model.sensors), limit=SCORE_LIMIT, span=model.span)
        track = cls(model, result)
        track._scorer = scorer
        return track

    @classmethod
    def train(cls, store, sensors: Sequence[str], t0: float, t1: float, progress: Progress | None = None,
              cancel: Cancel | None = None, adapt: bool = False) -> AnomalyTrack:
        """Fit on ``[t0, t1]`` of ``store`` (``adapt``: a guarded baseline that follows slow drift), then
        score the whole store."""
        if progress is not None:
            progress(0.0, "Learning normal behaviour")
        times, values = store_matrix(store, sensors, t0, t1)
        model = fit_detector(values, sensors, times, adapt=adapt)
        return cls.score_store(model, store, progress, cancel)

    def update(self, store) -> int:
        """Score timestamps newer than the last one scored (live data); returns how many were added."""
        last = self.result.times[-1] if len(self.result.times) else -np.inf
        times, values = store_matrix(store, self.model.sensors, t0=last)
        new = times > last
        if not new.any():
            return 0
        times, values = times[new], values[new]
        n = len(times)
        score, flags, contributions = self._scorer.step_block(values, times)
        r = self.result
        self.result = ScoreResult(times=np.concatenate([r.times, times]), score=np.concatenate([r.score, score]),
                                  anomaly=np.concatenate([r.anomaly, flags]),
                                  contributions=np.vstack([r.contributions, contributions]), sensors=r.sensors,
                                  limit=r.limit, span=r.span)
        self._refresh()
        return n

    def _refresh(self) -> None:
        self.episodes: list[AnomalyEpisode] = episodes(self.result)

    # ----- reading ----------------------------------------------------------------------------------
    def index_at(self, t: float) -> int | None:
        """Index of the last scored timestamp at or before ``t`` (None before the first)."""
        i = int(np.searchsorted(self.result.times, t, side="right")) - 1
        return i if i >= 0 else None

    def at(self, t: float) -> ScoreAt | None:
        i = self.index_at(t)
        if i is None:
            return None
        r = self.result
        anomalous = bool(r.anomaly[i])
        top = top_contributors(r.contributions[i], r.sensors, HINT_COUNT) if anomalous else []
        return ScoreAt(float(r.times[i]), float(r.score[i]), anomalous, top)

    def sensor_mask(self, t: float, sensor_ids: Sequence[str]) -> np.ndarray:
        """True for the sensors (in ``sensor_ids`` order) that explain an anomaly at ``t``."""
        mask = np.zeros(len(sensor_ids), dtype=bool)
        now = self.at(t)
        if now is None or not now.anomalous:
            return mask
        if not now.top:
            return mask
        named = {name for name, share in now.top if share >= HINT_SHARE} or {now.top[0][0]}
        for j, sensor in enumerate(sensor_ids):
            mask[j] = sensor in named
        return mask

    def events(self) -> list[Event]:
        return [Event(e.start, e.end if e.end > e.start else None, EVENT_KIND, e.describe(),
                      e.top_sensors[0] if e.top_sensors else None) for e in self.episodes]

