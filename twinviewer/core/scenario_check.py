"""Does a scenario show what it says? The checks behind ``twinviewer validate SCENARIO --seeds 1-20``.

For each seed the scenario is simulated as the player does (``simulate_for_playback``) and every step is
checked at its shown moment (:mod:`twinviewer.core.step_moments`): each status the step names (its
``expect`` and what its text, question prompts and correct choices state) must hold there. The camera
check (the step's part, and the answer of a "click the part" question, must be visible in the step's
view) needs rendering and lives in ``render.step_camera``; the CLI adds it.

Problems are lines ``scenario:step: what does not hold`` with 1-based step numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from twinviewer.core.scenario import Scenario


@dataclass(frozen=True)
class StepProblem:
    scenario: str   # file name
    step: int       # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.scenario}:{self.step}: {self.message}"


def parse_seeds(text: str) -> list[int]:
    """Seeds from "1-20", "3", "1,4,7-9"; raises ValueError naming what is wrong."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            a = int(low)
            b = int(high) if sep else a
        except ValueError:
            raise ValueError(f"--seeds {text!r}: {part!r} is not a seed or a range like 1-20") from None
        if b < a:
            raise ValueError(f"--seeds {text!r}: the range {part!r} runs backwards")
        if b - a > 10_000:
            raise ValueError(f"--seeds {text!r}: at most 10000 seeds at once")
        seeds.extend(range(a, b + 1))
    if not seeds:
        raise ValueError(f"--seeds {text!r}: no seed given")
    return list(dict.fromkeys(seeds))


def check_moments(scenario: Scenario, project, seeds: Iterable[int | None],
                  progress: Callable[[int | None], None] | None = None) -> list[StepProblem]:
    """Simulate each seed and report every named status that does not hold at its step's shown moment."""
    from twinviewer.core.scenario_playback import simulate_for_playback

    name = scenario.path.name if scenario.path else scenario.title
    problems: list[StepProblem] = []
    for seed in seeds:
        if progress is not None:
            progress(seed)
        run = simulate_for_playback(scenario, project, seed=seed)
        for moment in run.moments(project):
            if moment.holds:
                continue
            offset = moment.t - scenario.step_time(moment.index)
            wrong = ", ".join(f"{sensor} is {shown}, the step says {moment.named[sensor]}"
                              for sensor, shown in moment.wrong.items())
            when = "at its show_at" if moment.explicit else "at any time in the step"
            problems.append(StepProblem(name, moment.number, f"seed {run.result.seed}: {wrong} "
                                        f"({when}; checked at +{offset:.0f} s)"))
    return problems
