"""Playing a failure scenario in the viewer: find a project's scenarios, simulate one for playback, keep
the trainer's logs.

The window and ``twinviewer render --scenario`` share these steps, so both show the same data:

- ``simulate_for_playback(scenario, project)``: simulate at the scenario's own sample period, or at a
  coarser one for long scenarios (at most ``MAX_PLAYBACK_SAMPLES`` per sensor, e.g. every 15 s for 30 days)
  so loading stays quick; ``PlaybackRun.recording()`` gives the ``LoadedRecording`` a session swaps in,
  with the steps as ``scenario_step`` events on the timeline.
- ``training_log_stem(session)``: the file name of a trainee's log.

Finding scenario files and writing training logs is :mod:`twinviewer.io.scenario_files`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from twinviewer.core.errors import CancelledError
from twinviewer.core.events import Event
from twinviewer.core.scenario import Scenario, TrainingSession
from twinviewer.core.session import LoadedRecording
from twinviewer.core.simulation import SimulationResult, simulate
from twinviewer.core.step_moments import StepMoment, status_matrix, step_moments
from twinviewer.core.store import TimeSeriesStore

MAX_PLAYBACK_SAMPLES = 200_000
"""Samples per sensor the window simulates at most; longer scenarios are simulated at a coarser period."""
_NICE_PERIODS_S = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)
STALE_FACTOR = 3.0


def playback_sample_period(scenario: Scenario, max_samples: int = MAX_PLAYBACK_SAMPLES) -> float:
    """The scenario's own sample period, or the smallest round period giving at most ``max_samples``."""
    own = float(scenario.sample_period)
    if scenario.duration / own + 1 <= max_samples:
        return own
    needed = scenario.duration / max(max_samples - 1, 1)
    for period in _NICE_PERIODS_S:
        if period >= needed and period >= own:
            return float(period)
    return float(math.ceil(needed / 3600.0) * 3600.0)


def with_sample_period(scenario: Scenario, period: float) -> Scenario:
    """A copy of ``scenario`` sampled every ``period`` seconds (same steps, seed, file and line numbers)."""
    if period == scenario.sample_period:
        return scenario
    copy = scenario.model_copy(update={"sample_period": float(period)})
    copy._text = scenario._text
    return copy


@dataclass
class PlaybackRun:
    """A simulated scenario ready to play: the scenario as written, and the data simulated from it."""

    scenario: Scenario
    result: SimulationResult
    sample_period: float
    _moments: list[StepMoment] | None = None

    def moments(self, project) -> list[StepMoment]:
        """When each step is shown (see :mod:`twinviewer.core.step_moments`), on the data simulated here."""
        if self._moments is None:
            by_id = {s.id: s for s in project.sensors}
            statuses = status_matrix(self.result.times, self.result.values,
                                     [by_id[s] for s in self.result.sensor_ids])
            self._moments = step_moments(self.scenario, self.result.times, self.result.sensor_ids, statuses,
                                         list(by_id))
        return self._moments

    def shown_times(self, project) -> list[float]:
        return [m.t for m in self.moments(project)]

    @property
    def coarsened(self) -> bool:
        return self.sample_period > self.scenario.sample_period

    @property
    def sampling_note(self) -> str:
        """One sentence for the panel about how the data was sampled."""
        from twinviewer.core.formatting import format_duration

        if not self.coarsened:
            return f"Simulated every {format_duration(self.sample_period)}."
        return (f"Simulated every {format_duration(self.sample_period)} (the file asks for "
                f"{format_duration(self.scenario.sample_period)}) to keep "
                f"{format_duration(self.scenario.duration)} "
                "quick to load; `twinviewer simulate` writes the full-rate recording.")

    def events(self) -> list[Event]:
        return [Event.from_json(e) for e in self.scenario.events()]

    def recording(self, project=None) -> LoadedRecording:
        """The simulated data as a recording for ``Session.set_recording``.

        A session resets each sensor's expected period to the project's; the store's stale factor is
        widened so samples ``sample_period`` apart never show as stale.
        """
        store = TimeSeriesStore()
        for sensor_id in self.result.sensor_ids:
            store.add_sensor(sensor_id, self.sample_period)
        store.append_block(self.result.times, self.result.sensor_ids, self.result.values)
        periods = [s.expected_period_s for s in project.sensors] if project is not None else []
        shortest = min(periods) if periods else self.sample_period
        store.stale_factor = max(STALE_FACTOR, STALE_FACTOR * self.sample_period / shortest)
        return LoadedRecording(store=store, events=self.events(), name=self.scenario.title,
                               report=self.sampling_note)


def simulate_for_playback(scenario: Scenario, project, *, max_samples: int = MAX_PLAYBACK_SAMPLES,
                          seed: int | None = None, progress: Callable[[float, str], None] | None = None,
                          cancelled: Callable[[], bool] | None = None) -> PlaybackRun:
    """Simulate ``scenario`` on ``project`` at ``playback_sample_period``; raises ScenarioError for names
    the project does not have and CancelledError when ``cancelled()`` turns true between stages."""
    def report(fraction: float, message: str) -> None:
        if cancelled is not None and cancelled():
            raise CancelledError("cancelled")
        if progress is not None:
            progress(fraction, message)

    period = playback_sample_period(scenario, max_samples)
    samples = int(math.floor(scenario.duration / period + 1e-9)) + 1
    report(0.05, f"Simulating {samples:,} samples of {len(project.sensors)} sensors")
    result = simulate(with_sample_period(scenario, period), project, seed=seed)
    report(0.9, "Simulation done")
    result.scenario = scenario
    return PlaybackRun(scenario=scenario, result=result, sample_period=period)


# ---- which scenarios a project has ------------------------------------------------------------------
def project_folder(project) -> Path | None:
    return Path(project.path).parent if getattr(project, "path", None) else None


# ---- training logs ----------------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "x"


def training_log_stem(session: TrainingSession) -> str:
    """File name (no suffix) of a session log: start time, trainee, scenario — sorts by date in a folder."""
    started = datetime.fromtimestamp(session.started_at).strftime("%Y%m%d-%H%M%S")
    scenario = session.scenario.path.stem if session.scenario.path else _slug(session.scenario.title)
    return f"{started}_{_slug(session.trainee)}_{_slug(scenario)}"
