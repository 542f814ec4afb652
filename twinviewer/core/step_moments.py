"""When a scenario step is shown: the first moment within the step at which what it says is true.

A step's text ("TT-101 is in warning but IT-101 is normal") and its ``expect`` name sensor statuses. Shown
at its start, a step would often contradict itself (the warning comes minutes later), so every place that
shows a step (the player, Play to next step, trainee mode, ``render --scenario S --step N``, ``validate``)
shows it at its *shown moment*:

- ``show_at`` (an offset from the step's start) when the file gives one;
- otherwise the first sample time within the step at which every named status holds;
- a step that names no status is shown at its start.

Named statuses (:func:`named_statuses`): the step's ``expect``, plus what its title, narrative, question
prompts and correct choices say in plain sentences. A clause naming sensors and exactly one status word
(normal, warning/warns, alarm/alarms) names that status for those sensors; a clause with a negation or a
comparison ("below the warning", "not yet", "before the alarm") names nothing, and so does a question
sentence (ending in "?") unless it is a prompt statement before the question. ``expect`` wins over text.

Statuses come from the same rule the window uses: the alarm tracker (:mod:`twinviewer.core.alarms`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.alarms import AlarmTracker, alarm_settings
from twinviewer.core.overlay import Status

STATUS_WORDS = {
    "normal": "normal", "normally": None, "warning": "warning", "warnings": "warning", "warns": "warning",
    "warn": "warning", "alarm": "alarm", "alarms": "alarm", "alarming": "alarm",
}
_NEGATIONS = re.compile(r"\b(not|no|never|nothing|below|under|above|before|until|yet|still|without|"
                        r"back|limit|limits|would|could|should|if|when|whether|soon)\b", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"[;:]|,?\s+\bbut\b|,?\s+\bwhile\b|,?\s+\bwhereas\b", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
CODE_OF = {"normal": int(Status.NORMAL), "warning": int(Status.WARNING), "alarm": int(Status.ALARM)}


def _sensor_pattern(sensor_ids: Sequence[str]) -> re.Pattern | None:
    if not sensor_ids:
        return None
    names = sorted(sensor_ids, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(s) for s in names) + r")(?![\w-])")


def statuses_in_text(text: str, sensor_ids: Sequence[str]) -> dict[str, str]:
    """Sensor → status that plain sentences of ``text`` state ("TT-102 warns, but VT-102 is normal")."""
    pattern = _sensor_pattern(sensor_ids)
    out: dict[str, str] = {}
    if pattern is None or not text:
        return out
    for sentence in _SENTENCE_SPLIT.split(text.strip()):
        if sentence.rstrip().endswith("?"):
            continue
        for clause in _CLAUSE_SPLIT.split(sentence):
            sensors = pattern.findall(clause)
            if not sensors or _NEGATIONS.search(pattern.sub(" ", clause)):
                continue
            words: set[str] = set()
            for word in re.findall(r"[A-Za-z]+", pattern.sub(" ", clause)):
                named = STATUS_WORDS.get(word.lower())
                if named is not None:
                    words.add(named)
            if len(words) == 1:
                status = words.pop()
                for sensor in sensors:
                    out.setdefault(sensor, status)
    return out


def step_texts(step) -> list[str]:
    """The texts of a step that may state statuses: title, narrative, question prompts, correct choices."""
    texts = [step.title, step.narrative]
    for question in step.questions:
        texts.append(question.prompt)
        if getattr(question, "kind", "") == "choice":
            texts.append(question.correct_text)
    return texts


def named_statuses(step, sensor_ids: Sequence[str]) -> dict[str, str]:
    """Every sensor status a step names: its ``expect`` over what its texts state."""
    named: dict[str, str] = {}
    for text in step_texts(step):
        for sensor, status in statuses_in_text(text, sensor_ids).items():
            named.setdefault(sensor, status)
    named.update(step.expect)
    return named


@dataclass
class StepMoment:
    """The moment a step is shown and what was checked there."""

    index: int                      # 0-based step index
    t: float                        # absolute time (epoch s) the step is shown at
    named: dict[str, str]           # sensor → status the step names
    explicit: bool = False          # from show_at
    holds: bool = True              # every named status holds at t
    wrong: dict[str, str] = field(default_factory=dict)  # sensor → status actually shown where it differs

    @property
    def number(self) -> int:
        return self.index + 1


def status_matrix(times: np.ndarray, values: np.ndarray, sensors) -> np.ndarray:
    """(n, m) status codes of sampled values by the window's one rule: the alarm tracker (limits, deadband,
    on/off delays) decides warning and alarm; NaN without a raised level is NO_DATA."""
    sensors = list(sensors)
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    tracker = AlarmTracker(sensors, settings=alarm_settings(sensors))
    for j, sensor in enumerate(sensors):
        tracker.ingest(sensor.id, times, values[:, j])
    status = np.zeros(values.shape, dtype=np.int8)
    column = {s.id: j for j, s in enumerate(sensors)}
    for alarm in tracker.alarms:
        lo = int(np.searchsorted(times, alarm.onset_t, side="left"))
        hi = len(times) if alarm.cleared_t is None else int(np.searchsorted(times, alarm.cleared_t, side="left"))
        j = column[alarm.sensor_id]
        level = Status.ALARM if alarm.is_alarm else Status.WARNING
        np.maximum(status[lo:hi, j], level, out=status[lo:hi, j])
    status[np.isnan(values) & (status == 0)] = Status.NO_DATA
    return status


def _status_text(code: int) -> str:
    return {0: "normal", 1: "warning", 2: "alarm", 3: "stale", 4: "no data"}.get(int(code), str(code))


def step_moments(scenario, times: np.ndarray, sensor_ids: Sequence[str], statuses: np.ndarray,
                 all_sensor_ids: Sequence[str] | None = None) -> list[StepMoment]:
    """The shown moment of every step of ``scenario`` on sampled statuses ((n, m), columns ``sensor_ids``).

    ``all_sensor_ids`` are the ids the texts are searched for (default ``sensor_ids``); a named sensor
    that was not simulated counts as not holding.
    """
    times = np.asarray(times, dtype=np.float64)
    column = {s: j for j, s in enumerate(sensor_ids)}
    moments: list[StepMoment] = []
    for i, step in enumerate(scenario.steps):
        t0, t1 = scenario.step_window(i)
        named = named_statuses(step, list(all_sensor_ids or sensor_ids))
        lo = int(np.searchsorted(times, t0 - 1e-6, side="left"))
        hi = max(int(np.searchsorted(times, t1 - 1e-6, side="left")), min(lo + 1, len(times)))
        explicit = getattr(step, "show_at", None) is not None
        if explicit:
            k = min(int(np.searchsorted(times, t0 + step.show_at - 1e-6, side="left")), len(times) - 1)
        elif not named or hi <= lo:
            k = min(lo, len(times) - 1)
        else:
            score = np.zeros(hi - lo, dtype=np.int32)
            for sensor, status in named.items():
                if sensor in column:
                    score += statuses[lo:hi, column[sensor]] == CODE_OF[status]
            full = np.flatnonzero(score == len(named))
            # Nowhere does everything hold: show the first moment where the most of it does.
            k = lo + int(full[0] if full.size else np.argmax(score))
        wrong = {}
        for sensor, status in named.items():
            shown = _status_text(statuses[k, column[sensor]]) if sensor in column else "not simulated"
            if shown != status:
                wrong[sensor] = shown
        moments.append(StepMoment(i, float(times[k]) if len(times) else t0, named, explicit, not wrong, wrong))
    return moments
