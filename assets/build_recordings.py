"""Generate the demo twin's bundled recordings with the failure simulator.

    .venv/bin/python assets/build_recordings.py

writes ``assets/demo/recordings/normal_operation.parquet`` (2 h at 1 Hz of healthy running at the duty
point: what the demo opens with) and ``assets/demo/recordings/incident.parquet`` (4 h 30 min at 1 Hz: half
an hour of healthy running, then a drive-end bearing wears, fails, and the motor protection trips the
pump).

The demo's anomaly model (``assets/demo/demo.twin.anomaly.json``) learns normal from the normal-operation
recording; after rebuilding the recordings, retrain it with

    .venv/bin/twinviewer detect assets/demo/demo.twin.toml --recording assets/demo/recordings/incident.parquet \
        --train assets/demo/recordings/normal_operation.parquet --out /tmp/scores.csv --save-model

Both recordings are deterministic (fixed seeds) and stay well under 1 MB each; the script refuses to leave
a larger file behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

from twinviewer.core.project import load_project
from twinviewer.core.scenario import Scenario
from twinviewer.core.simulation import simulate, thresholds_of
from twinviewer.io.simulated import write_simulation
from twinviewer.paths import demo_project_path

OUT = Path(__file__).resolve().parent / "demo" / "recordings"
MAX_BYTES = 1_000_000

NORMAL_OPERATION = {
    "title": "Normal operation",
    "summary": "The pump runs at its duty point for two hours.",
    "seed": 11,
    "duration": "2h",
    "sample_period": "1s",
    "start": "2024-06-03T06:00:00Z",
    "operating_point": {"speed_rpm": 1480, "discharge_valve_pct": 70, "suction_valve_pct": 100,
                        "fluid_temperature_c": 24, "ambient_temperature_c": 24},
    "steps": [
        {"at": 0, "title": "Steady running at the duty point"},
    ],
}

INCIDENT = {
    "title": "Drive-end bearing failure and trip",
    "summary": "An already worn DE bearing deteriorates over four hours until the pump trips.",
    "seed": 12,
    "duration": "4h30min",
    "sample_period": "1s",
    "start": "2024-06-17T01:30:00Z",
    "operating_point": {"speed_rpm": 1480, "discharge_valve_pct": 70, "suction_valve_pct": 100,
                        "fluid_temperature_c": 24, "ambient_temperature_c": 24},
    "steps": [
        {"at": 0, "title": "Healthy running",
         "faults": [{"component": "bearing_de", "kind": "bearing_wear", "severity": 0.15}]},
        {"at": "30min", "title": "The DE bearing wears: vibration warning",
         "faults": [{"component": "bearing_de", "kind": "bearing_wear", "severity": 0.74, "ramp": "15min"}]},
        {"at": "1h", "title": "Damage spreads",
         "faults": [{"component": "bearing_de", "kind": "bearing_wear", "severity": 1.0, "ramp": "2h30min"}]},
        {"at": "4h10min", "title": "Motor protection trips",
         "operating_point": {"speed_rpm": 0, "ramp": "8s"}},
    ],
}


def build(definition: dict, name: str, project) -> Path:
    scenario = Scenario.model_validate(definition)
    result = simulate(scenario, project)
    path = write_simulation(result, OUT / name)
    size = path.stat().st_size
    onsets = ", ".join(f"{o.sensor} {o.level} +{(o.t - scenario.start_time) / 60:.0f} min"
                       for o in result.alarm_onsets(thresholds_of(project))) or "none"
    print(f"{path.relative_to(OUT.parents[2])}: {len(result.times)} samples × {len(result.sensor_ids)} "
          f"sensors, {size / 1000:.0f} kB; alarms: {onsets}")
    if size > MAX_BYTES:
        path.unlink()
        raise SystemExit(f"{name} would be {size} bytes, over the {MAX_BYTES} byte budget for the repository")
    return path


def main() -> int:
    project = load_project(demo_project_path(), check_files=False)
    build(NORMAL_OPERATION, "normal_operation.parquet", project)
    build(INCIDENT, "incident.parquet", project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
