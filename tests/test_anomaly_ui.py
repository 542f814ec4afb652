"""Anomaly detection in the window: train from the Analysis menu's dialog, the score lane, the Events list
navigation, the "Anomalous" part colour, time to threshold in the properties; checked in screenshots."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window, open_and_wait
from twinviewer.core.anomaly_track import EVENT_KIND
from twinviewer.core.overlay import Status
from twinviewer.io.anomaly_model import model_path

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path, size=(1500, 950))
    yield win
    win.close()


def image_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * image.height())
    rows = data.reshape(image.height(), image.bytesPerLine())[:, :image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).astype(int)


def purple_pixels(image: np.ndarray) -> int:
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return int(((r - g > 40) & (b - g > 60) & (r > 90)).sum())


def load_incident(qtbot, window, tmp_path: Path) -> Path:
    folder = shutil.copytree(DEMO_PROJECT.parent, tmp_path / "demo")
    project = folder / DEMO_PROJECT.name
    open_and_wait(qtbot, window, project)
    recordings = window.panels["recording_panel"]
    qtbot.waitUntil(lambda: window.session.has_data and (recordings.task is None or recordings.task.done),
                    timeout=30000)
    recordings.open_recording([folder / "recordings" / "incident.parquet"])
    qtbot.waitUntil(lambda: recordings.task.done and window.session.recording_name == "incident.parquet",
                    timeout=30000)
    return project


def train_first_half_hour(qtbot, window):
    panel = window.panels["anomaly_panel"]
    clock = window.session.clock
    clock.seek(clock.start + 1800)
    assert panel.train_action.isEnabled()
    dialog = panel.train_dialog(key="cursor", accept=True)  # Analysis → Train anomaly detector…, "start → cursor"
    assert dialog.span() == (clock.start, clock.start + 1800)
    qtbot.waitUntil(lambda: panel.task is not None and panel.task.done, timeout=30000)
    assert window.session.anomaly is not None
    return panel


def test_training_colours_the_part_and_draws_the_lane(qtbot, window, tmp_path):
    project = load_incident(qtbot, window, tmp_path)
    panel = train_first_half_hour(qtbot, window)
    session = window.session
    assert model_path(project).is_file(), "the model is saved beside the project"
    episode = max(session.anomaly.episodes, key=lambda e: e.end - e.start)
    assert "VT-102" in episode.top_sensors  # the worn DE bearing's vibration explains it
    # Step through the episode until a part that is within its limits turns "Anomalous".
    anomalous = None
    for t in np.arange(episode.start, episode.end, 20.0):
        session.clock.seek(float(t))
        frame = window.refresh_now()
        hit = np.flatnonzero(frame.overlay.part_status == Status.ANOMALOUS)
        if hit.size:
            anomalous = session.part_names[hit[0]]
            break
    assert anomalous is not None
    window.select_part(anomalous)
    window.refresh_now()
    qtbot.wait(50)
    tint = np.array(window.scene.tint[anomalous])
    assert tint[2] > tint[1] + 0.15 and tint[0] > tint[1] + 0.1, "the anomalous part is tinted purple"
    shot = tmp_path / "anomalous.png"
    window.save_screenshot(shot)
    view = image_array(QImage(str(shot)))
    from twinviewer.render.legend_layer import MARGIN

    width, height = window.overlay.legend.size  # the legend (it has a purple swatch) is in the scene
    view[view.shape[0] - MARGIN - height:, :MARGIN + width] = 255
    assert purple_pixels(view) > 300, "the anomalous part shows purple in the 3D view, even when selected"
    timeline = window.panels["recording_panel"].timeline.track
    lane = image_array(timeline.grab().toImage())[58:72]
    assert purple_pixels(lane) > 100, "the anomaly lane is purple where the score is over its limit"
    assert "anomaly (peak" in panel.lane.tooltip(episode.start + 60)
    text = window.properties.text.toPlainText()
    assert "Anomaly detector" in text and "anomalous" in text
    assert "Time to threshold" in text and "80 % band" in text
    window.grab().save(str(tmp_path / "window.png"))


def test_events_list_navigates_and_a_saved_model_is_used_again(qtbot, window, tmp_path):
    project = load_incident(qtbot, window, tmp_path)
    train_first_half_hour(qtbot, window)
    events = window.panels["events_panel"]
    window.refresh_now()
    kinds = {e.kind for e in events.events}
    assert {EVENT_KIND, "warning", "scenario_step"} <= kinds
    assert [e.t for e in events.events] == sorted(e.t for e in events.events)
    assert events.list.topLevelItemCount() == len(events.events)
    clock = window.session.clock
    clock.seek(clock.start)
    window.refresh_now()
    events.next()
    first_after = next(e for e in events.events if e.t > clock.start)
    assert clock.t == first_after.t
    events.next()
    second = clock.t
    assert second > first_after.t
    events.previous()
    assert clock.t == first_after.t
    detected = next(i for i, e in enumerate(events.events) if e.kind == EVENT_KIND and e.t > clock.start + 1800)
    events.go_to(detected)
    assert clock.t == events.events[detected].t
    assert events.list.topLevelItem(detected).isSelected()
    events.dock.grab().save(str(tmp_path / "events.png"))
    # Reopen: the saved model scores the project's own recording without asking.
    open_and_wait(qtbot, window, project)
    panel = window.panels["anomaly_panel"]
    qtbot.waitUntil(lambda: window.session.anomaly is not None, timeout=30000)
    assert panel.model is not None and panel.score_action.isEnabled()


def test_an_attached_rul_model_shows_in_the_properties(qtbot, window, tmp_path):
    from tests.test_rul import wear_unit
    from twinviewer.core.rul import fit_rul
    from twinviewer.io.rul_files import rul_model_path, save_rul_model

    project = load_incident(qtbot, window, tmp_path)
    rng = np.random.default_rng(3)
    model = fit_rul([wear_unit(rng, int(rng.integers(150, 260))) for _ in range(12)], ["VT-102", "TT-102", "c"])
    save_rul_model(tmp_path / "pump.rul.json", model)
    panel = window.panels["anomaly_panel"]
    assert panel.rul_action.isEnabled()
    assert panel.attach_rul(tmp_path / "pump.rul.json")
    assert rul_model_path(project).is_file()
    window.select_part("bearing_housing_de")
    window.session.clock.seek(window.session.clock.end)
    window.refresh_now()
    rul = panel.rul_at(window.session.clock.t)
    assert rul is not None and 0 <= rul <= model.cap
    window.properties.show_part(window.twin.project, window.twin.model.part("bearing_housing_de"), 1.0)
    assert "Remaining useful life of" in window.properties.text.toPlainText()


def test_the_train_dialog_offers_the_adaptive_baseline_off_by_default(qtbot, tmp_path):
    from twinviewer.ui.anomaly_panel import TrainDialog

    dialog = TrainDialog(None, 0.0, 7200.0, 1800.0, None)
    qtbot.addWidget(dialog)
    assert not dialog.adapt_box.isChecked() and "slow drift" in dialog.adapt_box.text()
    dialog.grab().save(str(tmp_path / "train.png"))
