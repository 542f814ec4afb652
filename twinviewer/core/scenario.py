"""Failure scenario files (``*.toml``): what happens to the machine, step by step, and what to ask trainees.

A scenario has a title, summary, learning goals, seed, duration, sample period, start time, an initial
operating point and ordered steps. Each step starts at an offset from the start and may change the
operating point, start or change faults (on components or sensors), highlight parts, move the camera and
ask questions. ``expect`` lists the sensor statuses a step should produce by its end (used by tests and
shown by the player as "what you should see"). The format is documented in docs/scenario-format.md.

``load_scenario(path, project=None)`` validates the file (and, given a project, that parts, sensors and
components exist) and raises :class:`ScenarioError` listing every problem as ``file:line: key: message``.
``StepCursor`` and ``TrainingSession`` are the Qt-free state a scenario player panel drives.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from twinviewer.core.budgets import MAX_SIMULATION_SAMPLES
from twinviewer.core.durations import parse_duration
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.options import VIEW_NAMES
from twinviewer.core.project import (
    FileProblemsError,
    ProjectProblem,
    locate_key,
    parse_toml,
    validation_message,
)
from twinviewer.core.sim_plant import COMPONENT_FAULTS, FAULT_KINDS, SENSOR_FAULTS, Plant, SimulationError
from twinviewer.core.timerange import RANGE_TEXT, time_ok

NAMED_VIEWS = VIEW_NAMES
_QUESTION_TAGS = ("choice", "click_part")




Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class OperatingPoint(_Strict):
    """Where the machine runs: speed, valve openings (0–100 %) and temperatures."""

    speed_rpm: float = Field(1480.0, ge=0, le=6000)
    discharge_valve_pct: float = Field(70.0, ge=0, le=100)
    suction_valve_pct: float = Field(100.0, ge=0, le=100)
    fluid_temperature_c: float = Field(25.0, ge=-20, le=150)
    ambient_temperature_c: float = Field(25.0, ge=-40, le=60)


OPERATING_FIELDS = tuple(OperatingPoint.model_fields)


class OperatingChange(_Strict):
    """A change of some operating-point values at a step, reached linearly over ``ramp``."""

    speed_rpm: float | None = Field(None, ge=0, le=6000)
    discharge_valve_pct: float | None = Field(None, ge=0, le=100)
    suction_valve_pct: float | None = Field(None, ge=0, le=100)
    fluid_temperature_c: float | None = Field(None, ge=-20, le=150)
    ambient_temperature_c: float | None = Field(None, ge=-40, le=60)
    ramp: Duration = 0.0

    def changes(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in OPERATING_FIELDS if getattr(self, k) is not None}


class FaultChange(_Strict):
    """A fault that starts or changes at a step: ``severity`` is reached linearly over ``ramp``.

    Component faults (``component``): bearing_wear, imbalance, misalignment (0–1), blocked_cooling (share
    of cooling lost, 0–0.95), valve_closing (share of the opening lost, 0–1), leak (0–1, 1 = the
    component's ``leak_flow_m3h`` at 5 bar). Sensor faults (``sensor``): drift (offset in the sensor's
    unit), stuck (any severity > 0 freezes the reading), dropout (share of samples missing, 0–1), spikes
    (share of samples spiking, 0–1, of ``amplitude`` in the sensor's unit), noise (extra noise, in
    multiples of the sensor's normal noise). Severity 0 ends a fault.
    """

    component: str | None = None
    sensor: str | None = None
    kind: str
    severity: float
    ramp: Duration = 0.0
    amplitude: float | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {value!r}; use one of {', '.join(sorted(FAULT_KINDS))}")
        return value

    @model_validator(mode="after")
    def _target_and_range(self) -> FaultChange:
        if self.kind in SENSOR_FAULTS:
            if self.sensor is None or self.component is not None:
                raise ValueError(f"a {self.kind} fault is a sensor fault: give sensor = \"ID\" (and no "
                                 "component)")
        elif self.component is None or self.sensor is not None:
            raise ValueError(f"a {self.kind} fault acts on a component: give component = \"NAME\" (and no "
                             "sensor)")
        if not math.isfinite(self.severity):
            raise ValueError("severity must be a finite number")
        limits = {"blocked_cooling": (0.0, 0.95), "noise": (0.0, 1000.0), "drift": (-math.inf, math.inf)}
        low, high = limits.get(self.kind, (0.0, 1.0))
        if not low <= self.severity <= high:
            raise ValueError(f"severity {self.severity} of a {self.kind} fault must be within {low}..{high}")
        if self.amplitude is not None and self.kind != "spikes":
            raise ValueError("amplitude applies to spikes faults only")
        return self

    @property
    def target(self) -> str:
        return self.component if self.component is not None else self.sensor  # type: ignore[return-value]


class CameraPose(_Strict):
    """An explicit camera in the scene frame (metres, Z up)."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float] = (0.0, 0.0, 1.0)


def _named_view(value: Any) -> Any:
    if isinstance(value, str) and value not in NAMED_VIEWS:
        raise ValueError(f"camera view {value!r} is not one of {', '.join(NAMED_VIEWS)} "
                         "(or give {position = [x, y, z], focal_point = [x, y, z]})")
    return value


Camera = Annotated[str | CameraPose, BeforeValidator(_named_view)]


class ChoiceQuestion(_Strict):
    kind: Literal["choice"]
    prompt: str = Field(min_length=1)
    choices: list[str] = Field(min_length=2)
    answer: int
    explanation: str = ""

    @model_validator(mode="after")
    def _answer_in_range(self) -> ChoiceQuestion:
        if not 0 <= self.answer < len(self.choices):
            raise ValueError(f"answer {self.answer} is not an index of the {len(self.choices)} choices "
                             f"(0..{len(self.choices) - 1})")
        return self

    def is_correct(self, given: Any) -> bool:
        if isinstance(given, str) and not given.strip().lstrip("-").isdigit():
            return given.strip() == self.choices[self.answer]
        return int(given) == self.answer

    def describe(self, given: Any) -> str:
        if isinstance(given, str) and not given.strip().lstrip("-").isdigit():
            return given
        index = int(given)
        return self.choices[index] if 0 <= index < len(self.choices) else f"#{index}"

    @property
    def correct_text(self) -> str:
        return self.choices[self.answer]


class PartQuestion(_Strict):
    """"Click the failing part": a click on any of the ``answer`` parts is correct."""

    kind: Literal["click_part"]
    prompt: str = Field(min_length=1)
    answer: list[str] = Field(min_length=1)
    explanation: str = ""

    @field_validator("answer", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def is_correct(self, given: Any) -> bool:
        clicked = [given] if isinstance(given, str) else list(given)
        return bool(clicked) and all(part in self.answer for part in clicked)

    def describe(self, given: Any) -> str:
        return given if isinstance(given, str) else ", ".join(given)

    @property
    def correct_text(self) -> str:
        return " or ".join(self.answer)


Question = Annotated[ChoiceQuestion | PartQuestion, Field(discriminator="kind")]
StatusName = Literal["normal", "warning", "alarm"]


class Step(_Strict):
    at: Duration
    title: str = Field(min_length=1)
    narrative: str = ""
    operating_point: OperatingChange | None = None
    faults: list[FaultChange] = Field(default_factory=list)
    highlight: list[str] = Field(default_factory=list)
    camera: Camera | None = None
    questions: list[Question] = Field(default_factory=list)
    expect: dict[str, StatusName] = Field(default_factory=dict)
    show_at: Duration | None = None


class Scenario(_Strict):
    format_version: int = Field(1, ge=1, le=1)
    title: str = Field(min_length=1)
    summary: str = ""
    learning_goals: list[str] = Field(default_factory=list)
    seed: int = 0
    duration: Duration
    sample_period: Duration = 1.0
    start: datetime
    operating_point: OperatingPoint = Field(default_factory=OperatingPoint)
    steps: list[Step] = Field(min_length=1)

    path: Path | None = Field(default=None, exclude=True)
    _text: str = PrivateAttr(default="")

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value

    @model_validator(mode="after")
    def _timing(self) -> Scenario:
        if self.duration <= 0:
            raise ValueError("duration must be longer than 0 s")
        if self.sample_period <= 0:
            raise ValueError("sample_period must be longer than 0 s")
        steps = self.duration / self.sample_period
        limit = MAX_SIMULATION_SAMPLES.value
        if steps > limit:
            raise ValueError(f"duration / sample_period gives {steps:.3g} samples per sensor, more than the limit "
                             f"of {limit:,} (set {MAX_SIMULATION_SAMPLES.env} to raise it)")
        start = self.start.timestamp()
        if not (time_ok(start) and time_ok(start + self.duration)):
            raise ValueError(f"start and start + duration must lie within {RANGE_TEXT}")
        return self

    # ---- time ------------------------------------------------------------------------------------
    @property
    def start_time(self) -> float:
        return self.start.timestamp()

    @property
    def end_time(self) -> float:
        return self.start_time + self.duration

    @property
    def n_samples(self) -> int:
        return int(math.floor(self.duration / self.sample_period + 1e-9)) + 1

    def step_time(self, index: int) -> float:
        """Absolute start (epoch s) of step ``index``."""
        return self.start_time + self.steps[index].at

    def step_window(self, index: int) -> tuple[float, float]:
        """Absolute [start, end) of step ``index``; the last step ends with the scenario."""
        end = self.step_time(index + 1) if index + 1 < len(self.steps) else self.end_time
        return self.step_time(index), end

    def step_index_at(self, t: float) -> int:
        """Index of the step running at absolute time ``t`` (0 before the first step starts)."""
        offset = t - self.start_time
        index = 0
        for i, step in enumerate(self.steps):
            if step.at <= offset + 1e-9:
                index = i
        return index

    def events(self) -> list[dict[str, Any]]:
        """The steps as timeline events (recording metadata)."""
        return [{"t": self.step_time(i), "t_end": None, "kind": "scenario_step", "label": step.title}
                for i, step in enumerate(self.steps)]


class ScenarioError(FileProblemsError):
    """A scenario file that cannot be used; ``problems`` lists each one with file, line and key."""


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union tags (question kinds, str|CameraPose branches) from an error location."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if part in _QUESTION_TAGS and i and isinstance(loc[i - 1], int):
            continue
        if isinstance(part, str) and (part in ("str", "CameraPose") or part.startswith("function-")):
            continue
        out.append(part)
    return tuple(out)


def _key_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Line of a key path. ``locate_key`` counts ``[[a.b]]`` headers from the top of the file, so for a
    key inside a step, the search runs on that step's own lines ([[steps]] header to the next one)."""
    if len(loc) >= 2 and isinstance(loc[-1], int) and isinstance(loc[-2], str) \
            and f".{loc[-2]}]]" not in text and f"[[{loc[-2]}]]" not in text:
        loc = loc[:-1]  # an item of an inline list (highlight = [...]): point at the list's line
    if len(loc) >= 3 and loc[0] == "steps" and isinstance(loc[1], int):
        step_line = locate_key(text, ("steps", loc[1]))
        if step_line is None:
            return None
        lines = text.splitlines()
        end = next((n for n in range(step_line, len(lines)) if lines[n].strip().startswith("[[steps]]")),
                   len(lines))
        inner = locate_key("\n".join(lines[step_line - 1:end]), ("steps", 0, *loc[2:]))
        return step_line + inner - 1 if inner else step_line
    return locate_key(text, loc)


def parse_scenario(text: str, path: Path | str = "<memory>") -> Scenario:
    """Parse and validate scenario text; raises ScenarioError listing every problem."""
    name = str(path)
    data = parse_toml(text, name, ScenarioError)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = _clean_loc(tuple(err["loc"]))
            msg = validation_message(err)
            if err["type"] == "union_tag_invalid":
                msg = f"unknown question kind; use kind = \"choice\" or \"click_part\" ({msg})"
            elif err["type"] == "union_tag_not_found":
                msg = "a question needs kind = \"choice\" or \"click_part\""
            problems.append(ProjectProblem(file=name, line=_line_of(text, loc), key=_key_text(loc),
                                           message=msg))
        raise ScenarioError(problems) from None
    problems = []
    for i, step in enumerate(scenario.steps):
        loc = ("steps", i, "at")
        if step.at >= scenario.duration:
            problems.append(ProjectProblem(file=name, line=_line_of(text, loc), key=_key_text(loc),
                                           message=f"step starts at {step.at:g} s, not within the duration "
                                                   f"({scenario.duration:g} s)"))
        end = scenario.steps[i + 1].at if i + 1 < len(scenario.steps) else scenario.duration
        if step.show_at is not None and step.at + step.show_at >= end:
            show_loc = ("steps", i, "show_at")
            problems.append(ProjectProblem(file=name, line=_line_of(text, show_loc), key=_key_text(show_loc),
                                           message=f"show_at {step.show_at:g} s is not within the step "
                                                   f"({end - step.at:g} s long)"))
        if i and step.at <= scenario.steps[i - 1].at:
            problems.append(ProjectProblem(file=name, line=_line_of(text, loc), key=_key_text(loc),
                                           message=f"steps must be in time order: {step.at:g} s is not after "
                                                   f"step {i} at {scenario.steps[i - 1].at:g} s"))
    if problems:
        raise ScenarioError(problems)
    scenario.path = Path(path).resolve() if name != "<memory>" else None
    scenario._text = text
    return scenario


def check_scenario(scenario: Scenario, project=None, plant: Plant | None = None) -> list[ProjectProblem]:
    """Problems of a valid scenario against a project: parts, sensors and components it names must exist."""
    name = str(scenario.path) if scenario.path else "<memory>"
    text = scenario._text
    problems: list[ProjectProblem] = []

    def problem(loc: tuple[Any, ...], message: str) -> None:
        problems.append(ProjectProblem(file=name, line=_line_of(text, loc) if text else None,
                                       key=_key_text(loc), message=message))

    if plant is None and project is not None:
        try:
            plant = Plant.from_project(project)
        except SimulationError as exc:
            problem(("steps",), f"the project's components cannot be simulated: {exc}")
    part_names = {p.name for p in project.parts} if project is not None else None
    sensor_ids = {s.id for s in project.sensors} if project is not None else None
    for i, step in enumerate(scenario.steps):
        if part_names:
            for j, part in enumerate(step.highlight):
                if part not in part_names:
                    problem(("steps", i, "highlight", j), f"part {part!r} is not in the project")
            for j, question in enumerate(step.questions):
                if isinstance(question, PartQuestion):
                    for part in question.answer:
                        if part not in part_names:
                            problem(("steps", i, "questions", j, "answer"),
                                    f"part {part!r} is not in the project")
        if sensor_ids is not None:
            for sensor in step.expect:
                if sensor not in sensor_ids:
                    problem(("steps", i, "expect"), f"sensor {sensor!r} is not in the project")
        for j, fault in enumerate(step.faults):
            if fault.kind in SENSOR_FAULTS:
                if sensor_ids is not None and fault.sensor not in sensor_ids:
                    problem(("steps", i, "faults", j, "sensor"),
                            f"sensor {fault.sensor!r} is not in the project")
            elif plant is not None:
                why = plant.check_fault(fault.component or "", fault.kind)
                if why:
                    problem(("steps", i, "faults", j, "component"), why)
    return problems


def load_scenario(path: Path | str, project=None) -> Scenario:
    """Read and validate a scenario file; with a project, also check the names it uses."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([ProjectProblem(file=str(path), line=None, key="(file)",
                                            message="no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([ProjectProblem(file=str(path), line=None, key="(file)",
                                            message=f"cannot read: {exc}")]) from None
    scenario = parse_scenario(text, path)
    if project is not None:
        problems = check_scenario(scenario, project)
        if problems:
            raise ScenarioError(problems)
    return scenario


# ---- driving a scenario from a player panel ----------------------------------------------------------
class StepCursor:
    """The current step of a scenario being played: next / previous / jump, or follow the clock."""

    def __init__(self, scenario: Scenario, shown_times: list[float] | None = None):
        self.scenario = scenario
        self.index = 0
        self.shown_times = shown_times

    @property
    def step(self) -> Step:
        return self.scenario.steps[self.index]

    @property
    def time(self) -> float:
        """Where the clock seeks to: the step's shown moment (see core.step_moments), else its start."""
        return self.shown_time(self.index)

    def shown_time(self, index: int) -> float:
        if self.shown_times is not None and index < len(self.shown_times):
            return self.shown_times[index]
        return self.scenario.step_time(index)

    @property
    def is_first(self) -> bool:
        return self.index == 0

    @property
    def is_last(self) -> bool:
        return self.index == len(self.scenario.steps) - 1

    def jump(self, index: int) -> Step:
        if not 0 <= index < len(self.scenario.steps):
            raise IndexError(f"step {index + 1} is not in 1..{len(self.scenario.steps)}")
        self.index = index
        return self.step

    def next(self) -> bool:
        """Move to the next step; False when already at the last."""
        if self.is_last:
            return False
        self.index += 1
        return True

    def previous(self) -> bool:
        if self.is_first:
            return False
        self.index -= 1
        return True

    def follow(self, t: float) -> bool:
        """Set the step from the clock time ``t``; True when the step changed."""
        index = self.scenario.step_index_at(t)
        changed = index != self.index
        self.index = index
        return changed


@dataclass
class AnswerRecord:
    step: int
    question: int
    kind: str
    prompt: str
    given: str
    expected: str
    correct: bool
    shown_at: float
    answered_at: float

    @property
    def time_taken_s(self) -> float:
        return max(0.0, self.answered_at - self.shown_at)


def _iso(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="seconds")


class TrainingSession:
    """One trainee going through one scenario: answers, score and timing, exportable for the trainer.

    ``present(step, question)`` marks when a question was shown (time taken counts from there; an
    unpresented question counts from the previous answer or the session start). ``answer`` takes a
    choice index (or the choice's text) or, for "click the failing part", the clicked part name.
    """

    CSV_COLUMNS = ("trainee", "scenario", "session_started", "step", "step_title", "question", "kind",
                   "prompt",
                   "given", "expected", "correct", "time_taken_s", "answered_at", "score", "max_score")

    def __init__(self, scenario: Scenario, trainee_name: str, *, clock: Callable[[], float] = time.time):
        if not trainee_name.strip():
            raise TwinViewerError("a training session needs the trainee's name")
        self.scenario = scenario
        self.trainee = trainee_name.strip()
        self._clock = clock
        self.started_at = clock()
        self.finished_at: float | None = None
        self.answers: dict[tuple[int, int], AnswerRecord] = {}
        self._shown: dict[tuple[int, int], float] = {}
        self._last_answer_at = self.started_at

    @property
    def questions(self) -> list[tuple[int, int, ChoiceQuestion | PartQuestion]]:
        return [(i, j, q) for i, step in enumerate(self.scenario.steps) for j, q in enumerate(step.questions)]

    def question(self, step: int, question: int) -> ChoiceQuestion | PartQuestion:
        try:
            return self.scenario.steps[step].questions[question]
        except IndexError:
            raise TwinViewerError(f"step {step + 1} has no question {question + 1}") from None

    def present(self, step: int, question: int) -> None:
        self.question(step, question)
        self._shown.setdefault((step, question), self._clock())

    def pending(self, step: int) -> list[int]:
        """Questions of ``step`` not answered yet."""
        return [j for j in range(len(self.scenario.steps[step].questions)) if (step, j) not in self.answers]

    def is_answered(self, step: int, question: int) -> bool:
        return (step, question) in self.answers

    def answer(self, step: int, question: int, given: int | str | list[str]) -> AnswerRecord:
        """Record the trainee's (first) answer; a second answer to the same question is refused."""
        q = self.question(step, question)
        if (step, question) in self.answers:
            raise TwinViewerError(f"step {step + 1}, question {question + 1} is already answered")
        if self.finished_at is not None:
            raise TwinViewerError("the session is finished; start a new one to answer again")
        try:
            correct = q.is_correct(given)
        except (TypeError, ValueError):
            raise TwinViewerError(f"answer {given!r} does not fit a {q.kind} question") from None
        now = self._clock()
        record = AnswerRecord(step=step, question=question, kind=q.kind, prompt=q.prompt,
                              given=q.describe(given),
                              expected=q.correct_text, correct=correct,
                              shown_at=self._shown.get((step, question), self._last_answer_at),
                              answered_at=now)
        self.answers[(step, question)] = record
        self._last_answer_at = now
        return record

    @property
    def score(self) -> int:
        return sum(1 for r in self.answers.values() if r.correct)

    @property
    def max_score(self) -> int:
        return len(self.questions)

    @property
    def complete(self) -> bool:
        return len(self.answers) == self.max_score

    def finish(self) -> None:
        if self.finished_at is None:
            self.finished_at = self._clock()

    def to_dict(self) -> dict[str, Any]:
        ordered = [self.answers[k] for k in sorted(self.answers)]
        return {
            "trainee": self.trainee,
            "scenario": self.scenario.title,
            "scenario_file": str(self.scenario.path) if self.scenario.path else None,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_s": None if self.finished_at is None else round(self.finished_at - self.started_at, 3),
            "score": self.score,
            "max_score": self.max_score,
            "unanswered": self.max_score - len(self.answers),
            "answers": [{**asdict(r), "step": r.step + 1, "question": r.question + 1, "time_taken_s": round(r.time_taken_s, 3), "shown_at": _iso(r.shown_at),
                         "answered_at": _iso(r.answered_at)} for r in ordered],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_csv(self) -> str:
        """One row per question (unanswered ones too, with empty answer), for a trainer's spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.CSV_COLUMNS)
        for i, j, q in self.questions:
            record = self.answers.get((i, j))
            writer.writerow([
                self.trainee, self.scenario.title, _iso(self.started_at), i + 1, self.scenario.steps[i].title,
                j + 1, q.kind,
                q.prompt, record.given if record else "", q.correct_text,
                "" if record is None else ("yes" if record.correct else "no"),
                "" if record is None else f"{record.time_taken_s:.1f}",
                "" if record is None else _iso(record.answered_at), self.score, self.max_score,
            ])
        return out.getvalue()


__all__ = ["COMPONENT_FAULTS", "Scenario", "ScenarioError", "Step", "StepCursor", "TrainingSession",
           "load_scenario", "parse_scenario", "check_scenario", "parse_duration"]
