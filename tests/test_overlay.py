"""Sensor statuses, part worst-status, colour maps and legends, label decluttering, the per-frame engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from twinviewer.core.colormaps import (
    COLORMAP_NAMES,
    NAN_RGB,
    ColormapError,
    colormap_for,
    colormap_rgba_float,
    colormap_table,
    legend_for,
    map_values,
    nice_ticks,
)
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.events import classify
from twinviewer.core.overlay import (
    NEUTRAL,
    STATUS_RGBA,
    Status,
    StatusEvaluator,
    declutter_labels,
    label_priority,
    part_status,
    sensor_part_indices,
    severity,
    status_colors,
    status_name,
    worst_status,
)
from twinviewer.core.overlay_engine import OverlayEngine
from twinviewer.core.project import Sensor, Thresholds

N, W, A, S, X = Status.NORMAL, Status.WARNING, Status.ALARM, Status.STALE, Status.NO_DATA


def sensor(sid: str, part: str = "motor", quantity: str = "temperature", **limits) -> Sensor:
    return Sensor(id=sid, quantity=quantity, unit="°C", part=part, position=(0.0, 0.0, 0.0),
                  thresholds=Thresholds(**limits))


# The demo skid's limits: high-only, low-only, both sides, and none.
HIGH = sensor("TT-102", warning_high=80, alarm_high=95)
LOW = sensor("FT-101", quantity="flow", alarm_low=20, warning_low=40)
BOTH = sensor("PT-102", quantity="pressure", warning_low=2.0, warning_high=9.0, alarm_high=10.0)
FULL = sensor("XT-1", alarm_low=-10, warning_low=0, warning_high=50, alarm_high=60)
NONE = sensor("ZT-1")
WARN_ONLY = sensor("ST-9", quantity="speed", warning_high=1520)


@pytest.mark.parametrize(("s", "value", "expected"), [
    (HIGH, 55.0, N), (HIGH, 80.0, N), (HIGH, 80.1, W), (HIGH, 95.0, W), (HIGH, 95.5, A), (HIGH, -300.0, N),
    (LOW, 100.0, N), (LOW, 40.0, N), (LOW, 39.9, W), (LOW, 20.0, W), (LOW, 19.0, A), (LOW, 1e9, N),
    (BOTH, 5.5, N), (BOTH, 1.9, W), (BOTH, -50.0, W), (BOTH, 9.5, W), (BOTH, 10.5, A),
    (FULL, 25.0, N), (FULL, -5.0, W), (FULL, -11.0, A), (FULL, 55.0, W), (FULL, 61.0, A),
    (NONE, 1e12, N), (NONE, -1e12, N),
    (WARN_ONLY, 1600.0, W), (WARN_ONLY, 1e9, W),
])
def test_status_on_every_threshold_combination(s, value, expected):
    status = StatusEvaluator([s]).evaluate(np.array([value]), np.array([0]))
    assert status.dtype == np.int8
    assert status[0] == expected
    # Same "beyond is strict" rule as the timeline's threshold crossings.
    assert classify(np.array([value]), s.thresholds)[0] == min(int(expected), 2)


def test_vectorised_statuses_with_nan_stale_and_no_data():
    sensors = [HIGH, LOW, BOTH, FULL, NONE, HIGH.model_copy(update={"id": "TT-103"})]
    ev = StatusEvaluator(sensors)
    assert np.isinf(ev.alarm_low[0]) and ev.alarm_low[0] < 0 and np.isinf(ev.alarm_high[1])
    values = np.array([99.0, 100.0, np.nan, 25.0, 3.0, 99.0])
    state = np.array([0, 1, 0, 2, 0, 0])
    assert ev.evaluate(values, state).tolist() == [A, S, X, X, N, A]
    # Stale wins over the threshold level (an old value is not judged); NaN is no data whatever the state.
    assert ev.evaluate(np.array([99.0, np.nan, 1.0, 25, 3, 50]), np.array([1, 1, 0, 0, 0, 0])).tolist() == \
        [S, X, W, N, N, N]
    assert ev.evaluate(values).tolist() == [A, N, X, N, N, A]
    with pytest.raises(ValueError):
        ev.evaluate(np.zeros(3))


def test_deadband_holds_a_raised_status_until_clearly_back():
    ev = StatusEvaluator([HIGH, LOW], deadband={"TT-102": 2.0, "FT-101": 5.0})
    prev = ev.evaluate(np.array([96.0, 18.0]))
    assert prev.tolist() == [A, A]
    # Just back inside the alarm limits but within the deadband: still alarm.
    held = ev.evaluate(np.array([94.0, 22.0]), previous=prev)
    assert held.tolist() == [A, A]
    # Beyond the deadband: drops to the level the value itself is at.
    assert ev.evaluate(np.array([92.9, 25.1]), previous=held).tolist() == [W, W]
    assert ev.evaluate(np.array([78.5, 44.0]), previous=np.array([W, W], np.int8)).tolist() == [W, W]
    assert ev.evaluate(np.array([77.9, 45.1]), previous=np.array([W, W], np.int8)).tolist() == [N, N]
    # Deterministic: no previous → plain thresholds; a normal previous never holds.
    assert ev.evaluate(np.array([94.0, 22.0])).tolist() == [W, W]
    assert ev.evaluate(np.array([94.0, 22.0]), previous=np.array([N, N], np.int8)).tolist() == [W, W]
    with pytest.raises(ValueError):
        StatusEvaluator([HIGH], deadband=-1.0)


def test_part_worst_status_ordering_and_neutral_parts():
    # parts: 0 alarm+warning, 1 stale+normal, 2 normal+no data, 3 all no data, 4 no sensors, 5 warning+stale
    statuses = np.array([A, W, S, N, N, X, X, X, W, S, N], dtype=np.int8)
    parts = np.array([0, 0, 1, 1, 2, 2, 3, 3, 5, 5, -1])
    result = part_status(statuses, parts, 6)
    assert result.dtype == np.int8
    assert result.tolist() == [A, S, N, X, NEUTRAL, W]
    assert part_status(np.array([], np.int8), np.array([], np.intp), 2).tolist() == [NEUTRAL, NEUTRAL]


def test_severity_helpers_and_status_colours():
    assert [Status(s).display_name for s in range(5)] == ["Normal", "Warning", "Alarm", "Stale", "No data"]
    assert severity(A) > severity(W) > severity(S) > severity(N) > severity(X) > severity(NEUTRAL)
    assert severity(np.array([A, N])).tolist() == [5, 1]
    assert Status.ALARM.severity == 5
    assert worst_status([N, X, W]) == W and worst_status([X, X]) == X and worst_status([]) == NEUTRAL
    assert status_name(NEUTRAL) == "No sensor" and status_name(2) == "Alarm"
    colors = status_colors(np.array([NEUTRAL, N, W, A, S, X]))
    assert colors.shape == (6, 4) and colors.dtype == np.uint8
    red, green, amber = Status.ALARM.rgb, Status.NORMAL.rgb, Status.WARNING.rgb
    assert red[0] > 180 and red[1] < 80 and green[1] > green[0] and amber[0] > 200 and amber[2] < 60
    assert STATUS_RGBA[X + 1, 3] < 255  # no data is see-through
    with pytest.raises(ValueError):
        STATUS_RGBA[0, 0] = 1


def test_sensor_part_indices_mark_parts_missing_from_the_model():
    idx = sensor_part_indices([HIGH, sensor("Q", part="ghost")], ["base_frame", "motor"])
    assert idx.tolist() == [1, -1]


# ------------------------------------------------------------------------------------- colour maps
def test_colormap_tables_are_perceptual_and_never_import_matplotlib():
    for name in COLORMAP_NAMES:
        table = colormap_table(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
    viridis = colormap_table("viridis")
    assert viridis[0].tolist() == [68, 1, 84] and viridis[-1].tolist() == [253, 231, 37]
    luminance = colormap_table("inferno").astype(float) @ [0.2126, 0.7152, 0.0722]
    assert np.all(np.diff(luminance) >= -0.5)  # dark → bright, monotone
    assert colormap_table("viridis_r")[0].tolist() == [253, 231, 37]
    rgba = colormap_rgba_float("turbo", alpha=0.5)
    assert rgba.shape == (256, 4) and rgba.max() <= 1.0 and np.all(rgba[:, 3] == 0.5)
    code = "import sys, twinviewer.core.overlay; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_colormap_for_quantities_and_overrides():
    # Threshold-aware by default for every quantity; perceptual maps by override.
    assert colormap_for("temperature") == "thresholds" and colormap_for("Vibration") == "thresholds"
    assert colormap_for("humidity") == "thresholds" and colormap_for(None) == "thresholds"
    assert colormap_for("temperature", {"temperature": "coolwarm"}) == "coolwarm"
    assert colormap_for("bearing temperature", {"temperature": "inferno"}) == "inferno"
    assert colormap_for("pressure", {"temperature": "coolwarm"}) == "thresholds"
    with pytest.raises(ColormapError, match="unknown colour map 'jet'") as info:
        colormap_for("temperature", {"temperature": "jet"})
    assert isinstance(info.value, TwinViewerError)


def test_map_values_nan_clamping_and_ends_of_the_map():
    table = colormap_table("inferno")
    rgb = map_values(np.array([0.0, 100.0, -50.0, 1e9, np.nan, 50.0, 99.99]), 0.0, 100.0, "inferno")
    assert rgb.shape == (7, 3) and rgb.dtype == np.uint8
    assert rgb[0].tolist() == table[0].tolist() and rgb[2].tolist() == table[0].tolist()
    assert rgb[1].tolist() == table[255].tolist() and rgb[3].tolist() == table[255].tolist()
    assert rgb[4].tolist() == list(NAN_RGB)
    assert rgb[5].tolist() == table[128].tolist()
    assert rgb[6].tolist() == table[255].tolist()
    assert map_values(np.array([np.nan]), 0, 1, nan_rgb=(1, 2, 3)).tolist() == [[1, 2, 3]]
    assert map_values(np.array([3.0, 7.0]), 5.0, 5.0,
                      "viridis").tolist() == [colormap_table("viridis")[128].tolist()] * 2
    with pytest.raises(ValueError):
        map_values(np.array([1.0]), 2.0, 1.0)


def test_legend_has_round_ticks_units_and_threshold_markers():
    legend = legend_for("temperature", "°C", 20.0, 100.0, "inferno",
                        thresholds={"warning_high": 80.0, "alarm_high": 95.0, "alarm_low": None})
    assert legend.title == "Temperature (°C)"
    assert legend.ticks == (20.0, 40.0, 60.0, 80.0, 100.0)
    assert legend.labels[0] == "20 °C" and legend.labels[-1] == "100 °C"
    assert legend.markers == ((80.0, "warning high"), (95.0, "alarm high"))
    assert legend.gradient.shape == (256, 3)
    assert legend.position(60.0) == 0.5 and legend.position(500) == 1.0
    small = legend_for("pressure", "bar(g)", 0.0, 1.2, "viridis")
    assert small.labels[:3] == ("0.0 bar(g)", "0.5 bar(g)", "1.0 bar(g)")
    assert nice_ticks(0.0, 1.0).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(1400, 1560).tolist() == [1400, 1450, 1500, 1550]


# ---------------------------------------------------------------------------------------- labels
def test_declutter_keeps_alarms_and_never_overlaps():
    xy = np.array([[100, 100], [110, 105], [300, 300], [305, 302], [100, 130], [np.nan, 5]], dtype=float)
    statuses = np.array([N, A, N, W, N, A])
    keep = declutter_labels(xy, label_priority(statuses), (60, 20))
    assert keep.tolist() == [False, True, False, True, True, False]


def test_declutter_many_random_labels_no_kept_pair_overlaps():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 800, size=(400, 2))
    priority = rng.integers(0, 5, size=400)
    w, h = 80.0, 18.0
    keep = declutter_labels(xy, priority, (w, h))
    kept = xy[keep]
    dx = np.abs(kept[:, None, 0] - kept[None, :, 0])
    dy = np.abs(kept[:, None, 1] - kept[None, :, 1])
    overlap = (dx < w) & (dy < h)
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    # Every dropped label overlaps a kept label of at least its priority (greedy, nothing dropped needlessly).
    for i in np.flatnonzero(~keep):
        clash = (np.abs(xy[keep, 0] - xy[i, 0]) < w) & (np.abs(xy[keep, 1] - xy[i, 1]) < h)
        assert clash.any() and priority[keep][clash].max() >= priority[i]
    selected = np.zeros(400, bool)
    selected[int(np.flatnonzero(~keep)[0])] = True
    assert declutter_labels(xy, label_priority(np.zeros(400, int), selected), (w, h))[selected].all()


# ------------------------------------------------------------------------------------ the engine
def _engine_fixture(**kwargs):
    from twinviewer.core.project import ViewSettings

    parts = ["motor", "bearing_housing_de", "base_frame"]
    sensors = [
        Sensor(id="TT-101", quantity="temperature", unit="°C", part="motor", position=(0, 0, 0),
               thresholds=Thresholds(warning_high=130, alarm_high=155)),
        Sensor(id="VT-102", quantity="vibration", unit="mm/s", part="bearing_housing_de", position=(1, 0, 0),
               thresholds=Thresholds(warning_high=4.5, alarm_high=7.1)),
        Sensor(id="TT-102", quantity="temperature", unit="°C", part="bearing_housing_de", position=(1, 0, 0),
               thresholds=Thresholds(warning_high=80, alarm_high=95)),
    ]
    engine = OverlayEngine(sensors, parts, view=kwargs.pop("view", ViewSettings()), **kwargs)
    engine.set_geometry([np.array([[0, 0, 0], [0.1, 0, 0]], float), np.array([[1, 0, 0], [1.1, 0, 0]], float),
                         np.array([[5, 5, 5]], float)])
    return engine


def test_overlay_engine_frame_statuses_parts_and_field():
    from twinviewer.core.project import ViewSettings

    # A perceptual map colours in values (the default threshold map colours in threshold units).
    engine = _engine_fixture(view=ViewSettings(colormaps={"temperature": "inferno"}))
    engine.set_mode("field:temperature")
    frame = engine.compute(np.array([90.0, 8.0, 55.0]), np.array([0, 0, 0]))
    assert frame.sensor_status.tolist() == [N, A, N]
    assert frame.part_status.tolist() == [N, A, NEUTRAL]
    assert frame.field_scalars.dtype == np.float32
    np.testing.assert_allclose(frame.field_scalars[:4], [90, 90, 55, 55])
    assert np.isnan(frame.field_scalars[4])
    assert frame.colormap == "inferno" and frame.field_table.shape == (256, 3)
    assert frame.field_range == (55.0, 155.0)  # values and limits of the temperature sensors
    # The legend bar has the same range and only the temperature sensors' limits, named by sensor.
    [bar] = frame.legend.bars
    assert (bar.vmin, bar.vmax) == frame.field_range
    assert bar.markers == ((80.0, "TT-102 warning high"), (95.0, "TT-102 alarm high"),
                           (130.0, "TT-101 warning high"), (155.0, "TT-101 alarm high"))
    # A stale winding sensor drops out of the field (its part is NaN there, status STALE) AND out of the
    # colour range: the field, the markers and the legend agree (they used to disagree on stale sensors).
    frame = engine.compute(np.array([20.0, 8.0, 55.0]), np.array([1, 0, 0]))
    assert frame.sensor_status[0] == S and np.isnan(frame.field_scalars[:2]).all()
    assert frame.field_range == (55.0, 155.0) == (frame.legend.bars[0].vmin, frame.legend.bars[0].vmax)
    assert engine.value_range("temperature", np.array([20.0, 8.0, 55.0]), np.array([1, 0, 0])) == (55.0, 155.0)
    from twinviewer.core.project import ViewSettings

    engine = _engine_fixture(stale_in_field=True,
                             view=ViewSettings(ranges={"temperature": (0.0, 200.0)},
                                               colormaps={"temperature": "coolwarm"}))
    engine.set_mode("field:temperature")
    frame = engine.compute(np.array([90.0, 8.0, 55.0]), np.array([1, 0, 0]))
    assert (
        frame.field_scalars[0] == 90.0 and frame.field_range == (0.0, 200.0) and frame.colormap == "coolwarm"
    )
    with pytest.raises(ValueError):
        engine.set_mode("field:humidity")


def test_engine_frame_has_every_array_render_writes():
    engine = _engine_fixture()
    values, state = np.array([140.0, 2.0, 50.0]), np.array([0, 0, 0])
    frame = engine.compute(values, state, wall_time=0.0)
    assert frame.kind == "status" and frame.field_scalars is None
    assert frame.marker_rgba.shape == (3, 4) and frame.marker_rgba[0, :3].tolist() == list(Status.WARNING.rgb)
    assert frame.alert_parts.tolist() == [True, False, False] and not frame.animating
    from twinviewer.core.overlay_engine import NEUTRAL_TINT

    assert np.allclose(frame.part_tint[2], NEUTRAL_TINT), "a part without sensors is neutral grey"
    assert frame.legend.kind == "status" and frame.legend.rows[0].name == "Alarm (blinking)"
    engine.set_mode("value")
    frame = engine.compute(values, state)
    assert [b.title for b in frame.legend.bars] == ["Temperature (°C)", "Vibration (mm/s)"]
    assert np.allclose(frame.part_tint, NEUTRAL_TINT) and frame.marker_rgba[:, 3].tolist() == [255] * 3
    engine.set_mode("off")
    assert engine.compute(values, state).legend.kind == "none"
    # Labels: laid out by the engine from screen positions; overlapping ones are dropped.
    engine.set_mode("status")
    engine.set_labels("all")
    frame = engine.compute(values, state)
    layout = engine.layout_labels(frame, np.array([[100, 100], [300, 100], [305, 102]]), (640, 400),
                                  {"motor", "bearing_housing_de"}, None)
    # The two close markers both get a label: the second takes another place around its marker.
    assert layout.keep.all() and layout.texts[0].startswith("TT-101  140")
    assert abs(layout.xy[1, 0] - layout.xy[2, 0]) >= 150 or abs(layout.xy[1, 1] - layout.xy[2, 1]) >= 22

