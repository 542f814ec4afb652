"""Scenario files: the bundled demo scenarios play out as written, broken files are reported with their
line, and the step cursor and training session behave as a player panel needs."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import pytest

from twinviewer.core.scenario import (
    ScenarioError,
    StepCursor,
    TrainingSession,
    parse_duration,
    parse_scenario,
)
from twinviewer.core.simulation import simulate, thresholds_of
from twinviewer.io.project_files import load_project
from twinviewer.io.scenario_files import load_scenario
from twinviewer.paths import demo_project_path

SCENARIOS = Path(__file__).resolve().parents[1] / "assets" / "demo" / "scenarios"
BUNDLED = sorted(p.name for p in SCENARIOS.glob("*.toml"))
LEVEL = {"normal": 0, "warning": 1, "alarm": 2}


@pytest.fixture(scope="module")
def project():
    return load_project(demo_project_path(), check_files=False)


def check_plays_as_written(scenario, result, thresholds) -> None:
    """Each step ends with exactly the statuses its ``expect`` lists (unlisted sensors normal), and every
    warning/alarm first fires during the step that first expects it, never before."""
    ends = result.status_at_step_ends(thresholds)
    first_expected: dict[tuple[str, int], int] = {}
    for i, step in enumerate(scenario.steps):
        wanted = {s: "normal" for s in result.sensor_ids} | dict(step.expect)
        assert ends[i] == wanted, f"step {i} ({step.title!r}) ends with {ends[i]}, expected {wanted}"
        for sensor, status in step.expect.items():
            for level in range(1, LEVEL[status] + 1):
                first_expected.setdefault((sensor, level), i)
    for onset in result.alarm_onsets(thresholds):
        key = (onset.sensor, LEVEL[onset.level])
        assert key in first_expected, (
            f"{onset.sensor} {onset.level} fired in step {onset.step}; no step expects it"
        )
        assert onset.step == first_expected[key], (
            f"{onset.sensor} {onset.level} fired in step {onset.step}, expected in step {first_expected[key]}"
        )


def test_five_bundled_scenarios_with_four_to_seven_steps_and_questions(project):
    assert len(BUNDLED) == 5 and "bearing_wear_de.toml" in BUNDLED
    for name in BUNDLED:
        scenario = load_scenario(SCENARIOS / name, project)
        assert 4 <= len(scenario.steps) <= 7, name
        assert scenario.summary and scenario.learning_goals, name
        assert sum(len(s.questions) for s in scenario.steps) >= 3, name
        assert all(s.narrative.strip() and s.camera for s in scenario.steps), name
        assert any(s.highlight for s in scenario.steps), name


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_alarms_fire_at_their_steps(project, name):
    scenario = load_scenario(SCENARIOS / name, project)
    coarse = scenario.model_copy(
        update={"sample_period": max(scenario.sample_period, scenario.duration / 20000)}
    )
    check_plays_as_written(coarse, simulate(coarse, project), thresholds_of(project))


@pytest.mark.parametrize("seed", [1, 2])
def test_other_seeds_fire_the_same_alarms_at_the_same_steps(project, seed):
    scenario = load_scenario(SCENARIOS / "cavitation_suction_throttled.toml", project)
    thresholds = thresholds_of(project)
    a = simulate(scenario, project)
    b = simulate(scenario, project, seed=seed)
    assert {(o.sensor, o.level, o.step) for o in a.alarm_onsets(thresholds)} == \
        {(o.sensor, o.level, o.step) for o in b.alarm_onsets(thresholds)}


def test_sensor_drift_alarms_only_the_drifting_sensor(project):
    scenario = load_scenario(SCENARIOS / "sensor_drift_false_alarm.toml", project)
    result = simulate(scenario, project)
    onsets = result.alarm_onsets(thresholds_of(project))
    assert {(o.sensor, o.level) for o in onsets} == {("TT-102", "warning"), ("TT-102", "alarm")}
    # The bearing itself never warmed: its true temperature stayed at the baseline.
    assert result.column("TT-102", physical=True).max() < 56
    for linked in ("VT-102", "TT-103", "IT-101"):
        column = result.column(linked, physical=True)
        assert column.max() - column.min() < 0.01, linked


@pytest.mark.slow
def test_thirty_day_bearing_wear_at_one_hertz_plays_as_written(project):
    scenario = load_scenario(SCENARIOS / "bearing_wear_de.toml", project)
    result = simulate(scenario, project)
    assert result.values.shape == (30 * 86400 + 1, 12)
    check_plays_as_written(scenario, result, thresholds_of(project))


# ---- validation ------------------------------------------------------------------------------------
GOOD = """\
title = "t"
duration = "1h"
start = "2024-01-01T00:00:00Z"

[[steps]]
at = 0
title = "first"

[[steps]]
at = "10min"
title = "second"
highlight = ["bearing_housing_de"]

[[steps.faults]]
component = "bearing_de"
kind = "bearing_wear"
severity = 0.5

[[steps.questions]]
kind = "choice"
prompt = "Which?"
choices = ["a", "b"]
answer = 1
"""


def problems_of(text: str, project=None, tmp_path: Path | None = None) -> list[str]:
    path = (tmp_path or Path("/nonexistent")) / "broken.toml"
    with pytest.raises(ScenarioError) as info:
        if project is None:
            parse_scenario(text, path)
        else:
            path.write_text(text, encoding="utf-8")
            load_scenario(path, project)
    return [str(p) for p in info.value.problems]


def test_a_good_file_loads(project, tmp_path):
    (tmp_path / "good.toml").write_text(GOOD)
    scenario = load_scenario(tmp_path / "good.toml", project)
    assert scenario.duration == 3600 and scenario.steps[1].at == 600 and scenario.sample_period == 1.0
    assert scenario.n_samples == 3601


@pytest.mark.parametrize("old, new, line, key, message", [
    ('kind = "bearing_wear"', 'kind = "corrosion"', 16, "steps[1].faults[0].kind",
     "unknown fault kind 'corrosion'"),
    ("severity = 0.5", "severity = 3", 14, "steps[1].faults[0]", "within 0.0..1.0"),
    ("severity = 0.5", "severity = 0.5\nseverty = 1", 18, "steps[1].faults[0].severty", "unknown key"),
    ("answer = 1", "answer = 2", 19, "steps[1].questions[0]", "not an index of the 2 choices"),
    ('at = "10min"', 'at = "2h"', 10, "steps[1].at", "not within the duration"),
    ('at = "10min"', "at = 0", 10, "steps[1].at", "time order"),
    ('duration = "1h"', 'duration = "one hour"', 2, "duration", "is not seconds or text like"),
    ('title = "second"', 'title = "second"\ncamera = "sideways"', 12, "steps[1].camera", "not one of iso"),
    ('component = "bearing_de"', 'sensor = "TT-102"', 14, "steps[1].faults[0]", "acts on a component"),
])
def test_broken_files_name_line_key_and_problem(old, new, line, key, message):
    problems = problems_of(GOOD.replace(old, new, 1))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"/nonexistent/broken.toml:{line}: {key}: "), problems[0]
    assert message in problems[0]


def test_names_are_checked_against_the_project(project, tmp_path):
    text = (GOOD.replace('highlight = ["bearing_housing_de"]', 'highlight = ["bearing_housing_xx"]')
            .replace('component = "bearing_de"', 'component = "coupling"'))
    problems = problems_of(text, project, tmp_path)
    assert any(":12: steps[1].highlight[0]: part 'bearing_housing_xx' is not in the project" in p
               for p in problems)
    assert any(":15: steps[1].faults[0].component: a bearing_wear fault applies to bearing" in p
               for p in problems)


def test_invalid_toml_and_missing_file(tmp_path):
    assert problems_of("title = \n")[0].startswith("/nonexistent/broken.toml:1: (toml): invalid TOML")
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")


def test_durations():
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("1h30min") == 5400
    assert parse_duration("29d8h") == 29 * 86400 + 8 * 3600
    assert parse_duration(" 250ms ") == 0.25
    assert parse_duration(90) == 90.0
    for bad in ("", "3 parsecs", "-5s", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


# ---- player state -----------------------------------------------------------------------------------
def test_step_cursor_next_previous_jump_and_follow_the_clock():
    scenario = parse_scenario(GOOD)
    cursor = StepCursor(scenario)
    assert cursor.is_first and cursor.step.title == "first" and cursor.time == scenario.start_time
    assert cursor.next() and cursor.is_last and not cursor.next()
    assert cursor.time == scenario.start_time + 600
    assert cursor.previous() and not cursor.previous()
    assert cursor.follow(scenario.start_time + 601) and cursor.index == 1
    assert not cursor.follow(scenario.start_time + 3000)
    assert cursor.follow(scenario.start_time + 5) and cursor.index == 0
    with pytest.raises(IndexError):
        cursor.jump(2)
    assert scenario.step_window(1) == (scenario.start_time + 600, scenario.end_time)


class FakeClock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_training_session_scores_times_and_exports(project):
    scenario = load_scenario(SCENARIOS / "motor_overheating.toml", project)
    clock = FakeClock()
    session = TrainingSession(scenario, "  Ana Ruiz ", clock=clock)
    questions = session.questions
    assert session.max_score == len(questions) == 4
    (s0, q0, _), (s1, q1, _), (s2, q2, part_q), (s3, q3, _) = questions
    clock.t += 30
    first = session.answer(s0, q0, 2)                        # 130 °C: right
    assert first.correct and first.time_taken_s == 30
    session.present(s1, q1)
    clock.t += 12
    second = session.answer(s1, q1, "The pump is overloaded")  # by choice text: wrong
    assert not second.correct and second.time_taken_s == 12
    assert part_q.kind == "click_part"
    assert session.answer(s2, q2, "motor_fan_cover").correct   # clicking the failing part
    with pytest.raises(Exception, match="already answered"):
        session.answer(s2, q2, "motor")
    assert session.pending(s3) == [q3] and not session.complete
    clock.t += 100
    session.finish()
    assert session.score == 2
    log = json.loads(session.to_json())
    assert (
        log["trainee"] == "Ana Ruiz"
        and log["score"] == 2
        and log["max_score"] == 4
        and log["unanswered"] == 1
    )
    assert log["duration_s"] == 142 and log["answers"][1]["given"] == "The pump is overloaded"
    assert log["answers"][0]["answered_at"].startswith("2023-11-14T22:13:50")
    rows = list(csv.DictReader(io.StringIO(session.to_csv())))
    assert len(rows) == 4 and [r["correct"] for r in rows] == ["yes", "no", "yes", ""]
    assert rows[1]["expected"] == "The motor's cooling is impaired" and rows[0]["time_taken_s"] == "30.0"
    with pytest.raises(Exception, match="finished"):
        session.answer(s3, q3, 1)


def test_a_wrong_part_click_is_wrong_and_a_session_needs_a_name():
    scenario = parse_scenario(textwrap.dedent("""
        title = "t"
        duration = 60
        start = "2024-01-01T00:00:00"
        [[steps]]
        at = 0
        title = "only"
        [[steps.questions]]
        kind = "click_part"
        prompt = "Click it"
        answer = "coupling"
    """))
    session = TrainingSession(scenario, "Bo")
    assert not session.answer(0, 0, "motor").correct
    assert scenario.start_time == 1704067200.0  # a start without a zone is UTC
    with pytest.raises(Exception, match="name"):
        TrainingSession(scenario, " ")
