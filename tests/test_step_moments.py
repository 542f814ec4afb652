"""Scenario steps are shown at the moment what they say holds; ``validate SCENARIO --seeds`` checks it."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_PROJECT
from twinviewer.cli import main
from twinviewer.core.project import load_project
from twinviewer.core.scenario import ScenarioError, load_scenario, parse_scenario
from twinviewer.core.scenario_playback import simulate_for_playback
from twinviewer.core.step_moments import statuses_in_text

SCENARIOS = DEMO_PROJECT.parent / "scenarios"
IDS = ["TT-101", "IT-101", "TT-102", "VT-102", "TT-103", "VT-101"]


@pytest.fixture(scope="module")
def project():
    return load_project(DEMO_PROJECT, check_files=False)


def test_text_names_statuses_in_plain_sentences():
    assert statuses_in_text("TT-101 is in warning but IT-101 is normal. What is the most likely cause?", IDS) == {
        "TT-101": "warning", "IT-101": "normal"}
    assert statuses_in_text("TT-102 warns, but VT-102, TT-103 and IT-101 are normal.", IDS) == {
        "TT-102": "warning", "VT-102": "normal", "TT-103": "normal", "IT-101": "normal"}
    # Questions, negations and comparisons name nothing.
    assert statuses_in_text("At what winding temperature does TT-101 warn?", IDS) == {}
    assert statuses_in_text("VT-101 reads twice its usual value, still below the warning.", IDS) == {}
    assert statuses_in_text("TT-101 is not in alarm yet.", IDS) == {}


def test_motor_overheating_warning_step_is_shown_when_tt101_warns(project):
    scenario = load_scenario(SCENARIOS / "motor_overheating.toml", project)
    run = simulate_for_playback(scenario, project)
    moment = run.moments(project)[2]  # step 3: "Winding temperature warning"
    assert moment.number == 3 and moment.holds
    assert moment.named == {"TT-101": "warning", "IT-101": "normal"}
    start, end = scenario.step_window(2)
    assert start < moment.t < end, "the warning comes minutes after the step starts"
    j = run.result.sensor_ids.index("TT-101")
    k = list(run.result.times).index(moment.t)
    assert run.result.values[k, j] > 130.0  # TT-101 warns above 130 °C
    assert run.result.values[:k][run.result.times[:k] >= start, j].max() <= 130.0, "the first such moment"


def test_show_at_is_used_and_checked(project):
    text = (SCENARIOS / "motor_overheating.toml").read_text(encoding="utf-8")
    pinned = text.replace('title = "Something covers the fan"', 'title = "Something covers the fan"\nshow_at = "2min"')
    scenario = parse_scenario(pinned, "pinned.toml")
    run = simulate_for_playback(scenario, project)
    moment = run.moments(project)[1]
    assert moment.explicit and moment.t == scenario.step_time(1) + 120.0
    too_late = text.replace('title = "Something covers the fan"', 'title = "Something covers the fan"\nshow_at = "20min"')
    with pytest.raises(ScenarioError) as err:
        parse_scenario(too_late, "late.toml")
    assert "late.toml" in str(err.value) and "steps[1].show_at" in str(err.value)


@pytest.mark.slow
def test_every_bundled_scenario_validates_over_20_seeds(capsys):
    for path in sorted(SCENARIOS.glob("*.toml")):
        assert main(["validate", str(path), "--seeds", "1-20"]) == 0, capsys.readouterr().out
        assert ": ok: " in capsys.readouterr().out


def test_validate_names_scenario_step_and_what_does_not_hold(tmp_path, capsys):
    text = (SCENARIOS / "motor_overheating.toml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('expect = { "TT-101" = "alarm" }', 'expect = { "TT-101" = "alarm", '
                                   '"IT-101" = "alarm" }'), encoding="utf-8")
    assert main(["validate", str(broken), "--seeds", "1-2", "--no-camera"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("broken.toml:4: seed ") for line in lines)
    assert "IT-101 is normal, the step says alarm" in lines[0]
    assert main(["validate", str(broken), "--seeds", "5-1"]) == 2
    assert "runs backwards" in capsys.readouterr().err


def test_render_data_dir_replaces_an_unset_folder_variable(tmp_path, capsys, monkeypatch, shared_data):
    skab = shared_data / "sensors" / "skab"
    if not (skab / "valve1").is_dir():
        pytest.skip("SKAB data not available")
    monkeypatch.delenv("SKAB_DIR", raising=False)
    project = DEMO_PROJECT.parent.parent / "examples" / "skab-pump.twin.toml"
    out = tmp_path / "skab.png"
    args = ["render", str(project), "--time", "+60s", "--size", "320x200", "--out", str(out)]
    assert main(args) == 2
    assert "--data-dir" in capsys.readouterr().err
    assert main([*args, "--data-dir", str(skab)]) == 0 and out.is_file()
