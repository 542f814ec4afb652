"""The charts dock: which sensors it shows, seeking by clicking a chart, envelopes that keep spikes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.blocks import build_blocks_project
from tests.test_timeline_ui import (
    DURATION,
    SOURCE,
    T0,
    left_value,
    new_window,
    open_with_recording,
    write_ramp_recording,
)
from twinviewer.core.formatting import format_number
from twinviewer.core.session import LoadedRecording
from twinviewer.core.store import TimeSeriesStore

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path)
    yield win
    win.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_ramp_recording(tmp_path)
    return build_blocks_project(tmp_path, SOURCE)


def chart_pixel(row, t: float, value: float) -> QPoint:
    """Widget pixel of data point (t, value) in a chart row's plot (the plot's own view mapping)."""
    scene_point = row.view_box.mapViewToScene(QPointF(t, value))
    return row.plot_widget.mapFromScene(scene_point)


def test_part_selection_and_sensor_activation_choose_the_charts(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    charts = panel.charts
    assert charts.sensor_ids == [] and charts.placeholder.isVisibleTo(charts)
    window.select_part("left")
    assert charts.sensor_ids == ["T-L"]
    window.sensor_table.sensor_activated.emit("T-R")  # a double-click in the sensor list
    assert window.scene.selected == "right" and charts.sensor_ids == ["T-R"]
    window.select_part("left")
    assert charts.sensor_ids == ["T-R", "T-L"], "the activated sensor stays pinned on top"
    charts.rows["T-R"].close_button.click()
    assert charts.sensor_ids == ["T-L"]
    window.select_part(None)
    assert charts.sensor_ids == [] and "T-L" not in charts.rows


def test_click_on_a_chart_seeks_and_the_sensor_list_shows_that_time(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    window.select_part("left")
    row = panel.charts.rows["T-L"]
    qtbot.waitUntil(lambda: row.data_range is not None, timeout=3000)
    target = T0 + 420.0
    pos = chart_pixel(row, target, left_value(target))
    qtbot.mouseClick(row.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    clock = window.session.clock
    x0, x1 = row.view_box.viewRange()[0]
    seconds_per_pixel = (x1 - x0) / row.view_box.width()
    assert clock.t == pytest.approx(target, abs=2 * seconds_per_pixel)
    window.refresh_now()
    sample_time = np.floor(clock.t - T0) + T0
    assert window.sensor_table.value_text("T-L") == format_number(left_value(sample_time))
    assert window.sensor_table.status_text("T-L") == "warning"
    assert row.cursor.value() == pytest.approx(clock.t)
    assert row.value_label.text().startswith(format_number(left_value(sample_time)))


def test_follow_keeps_the_cursor_in_a_one_minute_window(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    window.select_part("left")
    charts = panel.charts
    charts.span_combo.setCurrentIndex([label for label, _ in charts_spans()].index("1 min"))
    clock = window.session.clock
    clock.seek(T0 + 300)
    clock.speed = 30
    clock.play()
    qtbot.waitUntil(lambda: clock.t > T0 + 330, timeout=5000)
    qtbot.wait(100)
    x0, x1 = charts.visible_range()
    assert x1 - x0 == pytest.approx(60.0)
    assert x0 <= clock.t <= x1 + 2.0
    # zooming by hand stops following
    charts.rows["T-L"].view_box.scaleBy(x=0.5)
    charts.rows["T-L"].view_box.sigRangeChangedManually.emit([True, False])
    assert not charts.follow and not charts.follow_button.isChecked()


def charts_spans():
    from twinviewer.ui.charts import SPANS

    return SPANS


def test_envelope_keeps_a_one_sample_spike_and_requeries_only_on_change(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    n = 200_000
    times = T0 + np.arange(n) * 0.1
    values = np.full(n, 30.0)
    values[123_457] = 99.0  # one sample in 200 000
    store = TimeSeriesStore()
    store.append_block(times, ["T-L"], values.reshape(-1, 1))
    session = window.session
    session.set_recording(LoadedRecording(store, [], "spike"))
    window.refresh_now()
    window.select_part("left")
    row = panel.charts.rows["T-L"]
    qtbot.waitUntil(lambda: row.data_range is not None, timeout=3000)
    assert row.data_range == (30.0, 99.0), "the spike survives decimation to the plot width"
    ys = row.envelope.getData()[1]
    assert ys.size <= 4 * max(int(row.view_box.width()), 50) + 2 and np.nanmax(ys) == 99.0
    last = row.last_query
    for _ in range(5):
        window.refresh_now()
    assert row.last_query == last, "nothing changed: no new query"
    session.store.append("T-L", times[-1] + 0.1, 50.0)
    window.refresh_now()
    assert row.last_query > last, "new data: queried again"


def test_threshold_bands_and_event_spans_are_drawn(qtbot, window, project):
    panel = open_with_recording(qtbot, window, project)
    window.select_part("left")
    row = panel.charts.rows["T-L"]
    qtbot.waitUntil(lambda: row.data_range is not None, timeout=3000)
    y0, y1 = row.view_box.viewRange()[1]
    assert y0 < 20.0 and y1 > 100.0
    regions = [region.getRegion() for region, _, _ in row._bands]
    assert (60.0, 80.0) in [tuple(r) for r in regions], "the warning band between the limits"
    alarm = next(r for r in regions if r[0] == 80.0)
    assert alarm[1] > y1 and np.isfinite(alarm[1]), "the alarm band runs past the top of the view"
    spans = [item.getRegion() for item in row._event_items if hasattr(item, "getRegion")]
    assert (T0 + 100, T0 + 200) in [tuple(s) for s in spans]
    assert DURATION == 600
