"""Hostile files through the CLI, each case with a time limit and the whole run under a memory limit:
bad input gets one clear line naming the file and the rule and exit 2, fast, in bounded memory; a partial
load warns with counts; nothing else (VTK's log, numpy's warnings, tracebacks) reaches the terminal.

The cases live in tests/hostile/cases.py; tests/hostile/runner.py runs them in one child process (a
fresh interpreter per case would cost a second each).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_PROJECT, REPO
from tests.hostile.cases import Case, mesh_cases, project_cases, recording_cases

MEMORY_LIMIT = 3 * 1024**3  # the whole run, every case included
FORBIDDEN = ("Traceback", "unexpected error", "RuntimeWarning", "UserWarning", "Warning: ", "vtkOutputWindow")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run(cases: list[Case], folder: Path) -> dict[str, dict]:
    spec = folder / "cases.json"
    spec.write_text(json.dumps([{"name": c.name, "argv": c.argv, "timeout": c.seconds * 3} for c in cases]))
    out = folder / "results.json"
    env = {**os.environ, "TWINVIEWER_MAX_PARTS": "6000"}
    subprocess.run([sys.executable, "-m", "tests.hostile.runner", str(spec), str(out)], cwd=REPO, check=True,
                   preexec_fn=_limit_memory, timeout=300, env=env)
    return json.loads(out.read_text())


def _check(cases: list[Case], results: dict[str, dict]) -> None:
    failures = []
    for case in cases:
        result = results[case.name]
        text = result["stdout"] + result["stderr"]
        problems = []
        if result["code"] != case.code:
            problems.append(f"exit {result['code']!r}, expected {case.code}")
        problems += [f"missing {m!r}" for m in case.must if m not in text]
        problems += [f"has {m!r}" for m in (*FORBIDDEN, *case.must_not) if m in text]
        if case.code == 2:
            errors = [line for line in result["stderr"].splitlines() if line.strip()]
            if len(errors) != 1 or not errors[0].startswith("twinviewer: error: "):
                problems.append("stderr is not exactly one 'twinviewer: error:' line")
        if result["seconds"] > case.seconds:
            problems.append(f"took {result['seconds']:.1f} s (limit {case.seconds} s)")
        if problems:
            failures.append(f"{case.name}: {'; '.join(problems)}\n    {text.strip()[:400]}")
    assert not failures, "\n".join(failures)


@pytest.mark.vtk
def test_hostile_model_files_are_refused_or_warned_fast_in_bounded_memory(tmp_path):
    cases = mesh_cases(tmp_path / "models")
    _check(cases, _run(cases, tmp_path))


def test_hostile_recordings_count_non_finite_values_and_out_of_range_times(tmp_path):
    cases = recording_cases(tmp_path / "recordings")
    _check(cases, _run(cases, tmp_path))


def test_non_finite_numbers_in_a_project_are_refused_with_file_line_and_key(tmp_path):
    folder = REPO / "assets" / "demo"
    cases = project_cases(tmp_path, DEMO_PROJECT.read_text())
    for case in cases:  # validate beside the demo so its model file is found
        if "deep" in case.argv[1]:
            continue
        target = folder / f"_hostile_{Path(case.argv[1]).name}"
        target.write_text(Path(case.argv[1]).read_text())
        case.argv[1] = str(target)
        case.must.append(target.name)
    try:
        _check(cases, _run(cases, tmp_path))
    finally:
        for case in cases:
            if Path(case.argv[1]).name.startswith("_hostile_"):
                Path(case.argv[1]).unlink()


@pytest.mark.parametrize("period", ["0.00001", "0.000001"])
def test_simulate_refuses_a_sample_period_that_would_exhaust_memory_before_working(period, capsys):
    import time

    from twinviewer.cli import main

    started = time.perf_counter()
    assert main(["simulate", str(REPO / "assets/demo/scenarios/bearing_wear_de.toml"), "--out", "/nonexistent/x.parquet",
                 "--sample-period", period]) == 2
    err = capsys.readouterr().err
    assert "TWINVIEWER_MAX_SIM_SAMPLES" in err and "bearing_wear_de.toml" in err
    assert time.perf_counter() - started < 5
