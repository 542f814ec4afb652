"""Compare two moments: the largest change (as a share of each sensor's scale) comes first, in real units."""

from __future__ import annotations

import math

import numpy as np

from twinviewer.core.compare import compare_moments, relative_changes
from twinviewer.core.project import Sensor
from twinviewer.core.store import TimeSeriesStore

T0 = 1_700_000_000.0


def sensors() -> list[Sensor]:
    return [Sensor(id="TT-1", quantity="temperature", unit="°C", part="a", position=(0, 0, 0), range=(0, 200)),
            Sensor(id="VT-1", quantity="vibration", unit="mm/s", part="b", position=(1, 0, 0), range=(0, 10)),
            Sensor(id="ST-1", quantity="speed", unit="rpm", part="b", position=(2, 0, 0), range=(0, 3000)),
            Sensor(id="PT-1", quantity="pressure", unit="bar", part="c", position=(3, 0, 0))]


def store_with(values: dict[str, list[float]]) -> TimeSeriesStore:
    store = TimeSeriesStore()
    for sensor_id, series in values.items():
        store.add_sensor(sensor_id, 1.0)
        store.append_many(sensor_id, T0 + np.arange(len(series), dtype=float), np.asarray(series, float))
    return store


def test_known_change_comes_first_in_one_recording():
    # Vibration doubles from 2 to 6 mm/s (40 % of its 0–10 scale); the temperature rises 20 °C (10 %) and the
    # speed 60 rpm (2 %): in raw numbers the speed moved most, but the vibration changed most.
    store = store_with({"TT-1": [50, 60, 70], "VT-1": [2, 4, 6], "ST-1": [1440, 1470, 1500], "PT-1": [5, 5, math.nan]})
    rows = compare_moments(sensors(), store, T0, store, T0 + 2)
    assert [r.sensor_id for r in rows] == ["VT-1", "TT-1", "ST-1", "PT-1"]
    assert rows[0].a == 2 and rows[0].b == 6 and rows[0].delta == 4 and rows[0].unit == "mm/s"
    assert math.isclose(rows[0].relative, 0.4)
    assert math.isnan(rows[-1].delta)  # no value at B: last, not a change
    assert np.allclose(relative_changes(sensors(), rows)[:3], [0.1, 0.4, 0.02])


def test_across_two_recordings_before_and_after_a_repair():
    before = store_with({"TT-1": [90, 92], "VT-1": [7.5, 7.6], "ST-1": [1480, 1480], "PT-1": [5, 5]})
    after = store_with({"TT-1": [60, 61], "VT-1": [1.8, 1.9], "ST-1": [1480, 1481], "PT-1": [5, 5.2]})
    rows = compare_moments(sensors(), before, T0 + 1, after, T0 + 1)
    assert rows[0].sensor_id == "VT-1" and rows[0].delta < 0
    assert rows[1].sensor_id == "TT-1" and math.isclose(rows[1].delta, -31.0)


def test_compare_command_on_the_demo_before_and_after(capsys):
    """The demo's normal run against its bearing failure: the drive-end bearing changed most."""
    import json

    from tests.conftest import DEMO_PROJECT
    from twinviewer.cli import main

    recordings = DEMO_PROJECT.parent / "recordings"
    assert main(["compare", str(DEMO_PROJECT), "--recording", str(recordings / "normal_operation.parquet"),
                 "--recording-b", str(recordings / "incident.parquet"), "--a", "+1h", "--b", "+3h", "--top", "2",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["sensor"] for r in rows] == ["VT-102", "TT-102"]
    assert all(r["part"] == "bearing_housing_de" and r["delta"] > 0 for r in rows)
    assert main(["compare", str(DEMO_PROJECT), "--a", "+1h", "--b", "+9h"]) == 2
    assert "outside the recording" in capsys.readouterr().err
