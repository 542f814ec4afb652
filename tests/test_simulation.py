"""The failure simulator on the demo twin: determinism, normal point, fault propagation, recordings."""

from __future__ import annotations

import numpy as np
import pytest

from twinviewer.core.project import Component
from twinviewer.core.scenario import parse_scenario
from twinviewer.core.sim_plant import DEMO_COMPONENTS, Plant, SimulationError
from twinviewer.core.simulation import first_order, simulate, thresholds_of
from twinviewer.io.project_files import load_project
from twinviewer.paths import demo_project_path

ALL_SENSORS = ["TT-101", "IT-101", "VT-101", "TT-102", "TT-103", "VT-102", "VT-103", "PT-101", "PT-102",
               "FT-101", "TT-104", "ST-101"]


@pytest.fixture(scope="module")
def project():
    return load_project(demo_project_path(), check_files=False)


def scenario_text(faults: str = "", duration: str = "2h", period: float = 10.0, extra_steps: str = "",
                  seed: int = 1) -> str:
    return f"""
title = "test"
seed = {seed}
duration = "{duration}"
sample_period = {period}
start = "2024-01-01T00:00:00Z"

[[steps]]
at = 0
title = "normal"

[[steps]]
at = "10min"
title = "fault"
{faults}
{extra_steps}
"""


def run(project, faults: str = "", **kwargs):
    return simulate(parse_scenario(scenario_text(faults, **kwargs)), project)


def end_value(result, sensor: str) -> float:
    """Median of the last 10 minutes of a sensor (noise-free enough to compare)."""
    column = result.column(sensor)
    return float(np.nanmedian(column[-60:]))


def test_every_demo_sensor_is_simulated_and_the_normal_point_is_all_normal(project):
    result = run(project)
    assert result.sensor_ids == ALL_SENSORS and not result.unbound
    status = result.statuses(thresholds_of(project))
    assert (status == 0).all(), "a sensor left 'normal' at the normal operating point"
    expected = {"ST-101": 1480, "IT-101": 60, "FT-101": 100, "PT-101": 1.2, "PT-102": 5.5, "TT-104": 25,
                "TT-102": 55, "TT-103": 55, "TT-101": 90}
    for sensor, value in expected.items():
        assert end_value(result, sensor) == pytest.approx(value, rel=0.03), sensor
    for sensor in ("VT-101", "VT-102", "VT-103"):
        assert 1.4 <= end_value(result, sensor) <= 2.5


def test_same_seed_same_recording_other_seed_other_noise(project):
    text = scenario_text('[[steps.faults]]\ncomponent = "bearing_de"\nkind = "bearing_wear"\nseverity = '
                         '1\nramp = "1h"')
    a = simulate(parse_scenario(text), project)
    b = simulate(parse_scenario(text), project)
    c = simulate(parse_scenario(text), project, seed=99)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    np.testing.assert_array_equal(a.physical, c.physical)
    thresholds = thresholds_of(project)
    steps_a = {(o.sensor, o.level, o.step) for o in a.alarm_onsets(thresholds)}
    steps_c = {(o.sensor, o.level, o.step) for o in c.alarm_onsets(thresholds)}
    assert steps_a == steps_c and ("VT-102", "alarm", 1) in steps_a


def changed(project, faults: str, **kwargs) -> dict[str, float]:
    """Relative change of each sensor's physical end value against the fault-free run."""
    base = run(project, **kwargs)
    faulty = run(project, faults, **kwargs)
    out = {}
    for j, sensor in enumerate(base.sensor_ids):
        before, after = base.physical[-1, j], faulty.physical[-1, j]
        out[sensor] = (after - before) / max(abs(before), 1e-9)
    return out


def test_bearing_wear_propagates_vibration_then_temperature_then_current(project):
    delta = changed(project,
                    '[[steps.faults]]\ncomponent = "bearing_de"\nkind = "bearing_wear"\nseverity = 0.9')
    assert delta["VT-102"] > 2.0                      # the worn bearing shakes
    assert 0.3 < delta["TT-102"] < 1.5                 # friction heats it
    assert 0.005 < delta["IT-101"] < 0.05             # the motor feels the extra friction
    assert delta["VT-103"] > 0.2 and delta["VT-103"] < delta["VT-102"] / 3  # transmitted, attenuated
    for sensor in ("PT-101", "PT-102", "FT-101", "ST-101", "TT-104"):
        assert abs(delta[sensor]) < 1e-9, sensor


def test_imbalance_at_the_impeller_is_strongest_at_the_nearest_bearing(project):
    delta = changed(project, '[[steps.faults]]\ncomponent = "pump"\nkind = "imbalance"\nseverity = 0.8')
    assert delta["VT-103"] > delta["VT-102"] > delta["VT-101"] > 0


def test_misalignment_shakes_both_sides_of_the_coupling(project):
    delta = changed(project,
                    '[[steps.faults]]\ncomponent = "coupling"\nkind = "misalignment"\nseverity = 0.8')
    assert delta["VT-101"] > 1.0 and delta["VT-102"] > 1.0
    assert delta["VT-103"] < delta["VT-102"] / 2
    assert delta["TT-102"] > delta["TT-103"] > 0
    assert delta["IT-101"] > 0.01                     # misalignment losses


def test_blocked_cooling_heats_the_winding_only(project):
    delta = changed(project,
                    '[[steps.faults]]\ncomponent = "motor"\nkind = "blocked_cooling"\nseverity = 0.55')
    assert delta["TT-101"] > 0.5
    assert all(abs(v) < 1e-9 for k, v in delta.items() if k != "TT-101")


def test_closing_the_suction_valve_lowers_suction_pressure_then_cavitates(project):
    result = run(project, "[steps.operating_point]\nsuction_valve_pct = 9\nramp = 60", duration="40min")
    assert end_value(result, "PT-101") < 0.0
    assert result.internals["cavitation"][-1] > 0.5
    assert end_value(result, "VT-103") > 4.5 > end_value(result, "VT-102")
    assert end_value(result, "FT-101") < 40
    assert np.std(result.column("FT-101", physical=True)[-100:]) > 0.5  # unsteady flow
    assert end_value(result, "IT-101") < 55                              # less water, less power


def test_a_leak_before_the_meter_lowers_pressure_and_metered_flow(project):
    delta = changed(project, '[[steps.faults]]\ncomponent = "discharge_line"\nkind = "leak"\nseverity = 1')
    assert delta["PT-102"] < -0.05 and delta["FT-101"] < -0.05
    assert delta["IT-101"] > 0                        # the pump delivers more in total


def test_a_leak_after_the_meter_shows_as_more_flow(project):
    delta = changed(project, '[[steps.faults]]\ncomponent = "discharge_valve"\nkind = "leak"\nseverity = 1')
    assert delta["PT-102"] < -0.05 and delta["FT-101"] > 0.05


def test_sensor_faults_change_the_reading_not_the_physics(project):
    faults = """
[[steps.faults]]
sensor = "TT-102"
kind = "drift"
severity = 20
ramp = "30min"
[[steps.faults]]
sensor = "PT-102"
kind = "stuck"
severity = 1
[[steps.faults]]
sensor = "FT-101"
kind = "dropout"
severity = 0.5
[[steps.faults]]
sensor = "VT-101"
kind = "spikes"
severity = 0.05
amplitude = 10
[[steps.faults]]
sensor = "IT-101"
kind = "noise"
severity = 10
"""
    base, faulty = run(project), run(project, faults)
    np.testing.assert_array_equal(base.physical, faulty.physical)
    after = faulty.times > faulty.times[0] + 600
    assert end_value(faulty, "TT-102") - end_value(base, "TT-102") == pytest.approx(20, abs=0.5)
    assert len(np.unique(faulty.column("PT-102")[after])) == 1
    assert 0.35 < np.isnan(faulty.column("FT-101")[after]).mean() < 0.65
    assert not np.isnan(faulty.column("FT-101")[~after]).any()
    assert (faulty.column("VT-101")[after] > 8).mean() > 0.01
    assert np.std(faulty.column("IT-101")[after]) > 5 * np.std(base.column("IT-101")[after])
    untouched = [s for s in ALL_SENSORS if s not in ("TT-102", "PT-102", "FT-101", "VT-101", "IT-101")]
    for sensor in untouched:
        np.testing.assert_array_equal(base.column(sensor), faulty.column(sensor))


def test_start_up_from_standstill_warms_up_and_peaks_the_current(project):
    text = """
title = "start"
duration = "2h"
sample_period = 1
start = "2024-01-01T00:00:00Z"
[operating_point]
speed_rpm = 0
[[steps]]
at = 0
title = "stopped"
[[steps]]
at = 60
title = "start"
[steps.operating_point]
speed_rpm = 1480
ramp = 10
"""
    result = simulate(parse_scenario(text), project)
    current = result.column("IT-101", physical=True)
    assert (current[:60] == 0).all() and current[60:80].max() > current[-1] + 5  # soft-start peak
    winding = result.column("TT-101", physical=True)
    assert winding[0] == pytest.approx(25) and 80 < winding[-1] < 90   # two time constants into warm-up


def test_first_order_filter_matches_the_closed_form():
    t = np.arange(0, 3600.0, 1.0)
    u = np.where(t >= 100, 10.0, 0.0)
    y = first_order(u, 1.0, 600.0)
    expected = np.where(t >= 100, 10.0 * (1 - np.exp(-(t - 99) / 600.0)), 0.0)
    np.testing.assert_allclose(y, expected, atol=0.02)


def test_a_project_can_describe_its_own_components(project):
    # A skid without the flow meter and with a stiffer NDE bearing: the graph is data, not code.
    components = [c for c in DEMO_COMPONENTS if c.name not in ("flow_meter",)]
    components = [c.model_copy(update={"drives": ["discharge_valve"]}) if c.name == "discharge_line" else c
                  for c in components]
    components = [c.model_copy(update={"params": {"transmission": 0.05}}) if c.name == "bearing_nde" else c
                  for c in components]
    custom = project.model_copy(update={"components": components})
    plant = Plant.from_project(custom)
    assert "FT-101" in " ".join(plant.unbound)
    wear = parse_scenario(scenario_text('[[steps.faults]]\ncomponent = "bearing_de"\nkind = '
                                        '"bearing_wear"\nseverity = 1'))
    result, demo = simulate(wear, custom), simulate(wear, project)
    assert "FT-101" not in result.sensor_ids
    # Far less of the DE bearing's vibration gets through the stiff NDE bearing than on the demo skid.
    assert end_value(result, "VT-103") < 2.5 < 3.2 < end_value(demo, "VT-103")


def test_bad_component_graphs_are_refused_with_a_reason():
    with pytest.raises(SimulationError, match="drives 'nowhere'"):
        Plant.from_components([Component(name="m", kind="motor", drives=["nowhere"])])
    with pytest.raises(SimulationError, match="kind 'turbine'"):
        Plant.from_components([Component(name="t", kind="turbine")])
    with pytest.raises(SimulationError, match="unknown parameter"):
        Plant.from_components([Component(name="m", kind="motor", params={"colour": 1.0})])


def test_fault_on_the_wrong_component_kind_names_the_line(project):
    from twinviewer.core.scenario import ScenarioError

    bad = parse_scenario(scenario_text('[[steps.faults]]\ncomponent = "motor"\nkind = '
                                       '"bearing_wear"\nseverity = 1'))
    with pytest.raises(ScenarioError,
                       match=r"<memory>:\d+: steps\[1\].faults\[0\].component: a bearing_wear"):
        simulate(bad, project)


def test_recording_round_trip_keeps_values_and_step_events(project, tmp_path):
    from twinviewer.io.recording import read_metadata, read_recording
    from twinviewer.io.simulated import write_simulation

    result = run(project, '[[steps.faults]]\nsensor = "FT-101"\nkind = "dropout"\nseverity = 0.3')
    path = write_simulation(result, tmp_path / "run.parquet")
    meta = read_metadata(path)
    assert [e["label"] for e in meta["events"]] == ["normal", "fault"]
    assert meta["events"][1]["t"] == result.times[0] + 600 and meta["events"][1]["kind"] == "scenario_step"
    assert meta["units"]["PT-101"] and meta["seed"] == 1
    store, _report = read_recording(path)
    t_mid = float(result.times[100])
    snap = store.values_at(t_mid, ["TT-102", "PT-101"])
    np.testing.assert_allclose(snap.values, [result.column("TT-102")[100], result.column("PT-101")[100]])
