"""The scenario player in the window, driven as a trainer and a trainee would: load a bundled scenario, step
through it, watch the camera and highlights follow, answer questions (choice and click-the-part), and
collect the training log."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window, open_and_wait

pytestmark = pytest.mark.gui

MOTOR = "motor_overheating"
CAVITATION = "cavitation_suction_throttled"


@pytest.fixture
def demo_copy(tmp_path):
    """The demo twin in a writable folder, so training logs land next to it (and not in the checkout)."""
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_PROJECT.parent, folder, ignore=shutil.ignore_patterns("training-logs"))
    return folder / DEMO_PROJECT.name


@pytest.fixture
def window(qtbot, tmp_path, demo_copy):
    win = new_window(qtbot, tmp_path)
    open_and_wait(qtbot, win, demo_copy)
    yield win
    win.close()


@pytest.fixture
def player(window):
    player = window.panels["scenario_panel"]
    player.max_samples = 3000  # coarse playback sampling keeps the tests fast
    return player


def load(qtbot, player, name: str):
    path = player.window.twin.path.parent / "scenarios" / f"{name}.toml"
    player.load(path)
    qtbot.waitUntil(lambda: player.scenario is not None and player.scenario.path == path.resolve()
                    or player.window.last_error is not None, timeout=20000)
    assert player.window.last_error is None, player.window.last_error
    return player.scenario


def visible_pixel_of(window, name: str) -> tuple[int, int]:
    """A display pixel (VTK coordinates) where ``name`` is the front-most part, away from sensor markers
    (a click on a marker selects the marker's sensor)."""
    window.viewer.render_now()
    points = window.scene.parts[name].points
    b = np.array(window.scene.parts[name].mesh.GetBounds())
    centre = (b[0::2] + b[1::2]) / 2
    rng = np.random.default_rng(0)
    for point in [centre, *points[rng.choice(len(points), min(300, len(points)), replace=False)]]:
        x, y = window.viewer.display_point_of(point)
        for dx, dy in ((0, 0), (3, 3), (-3, -3)):
            if window.scene.pick(x + dx, y + dy)[0] == name and \
                    window.overlay.marker_at(x + dx, y + dy, 16.0) is None:
                return x + dx, y + dy
    raise AssertionError(f"{name} is not visible")


def view_direction(window) -> np.ndarray:
    camera = window.scene.camera
    d = np.subtract(camera.GetPosition(), camera.GetFocalPoint())
    return d / np.linalg.norm(d)


# ---- menu and loading --------------------------------------------------------------------------------
def test_menu_lists_the_projects_scenarios_and_loads_one(qtbot, window, player):
    player.fill_menu()
    titles = [a.text() for a in player.scenario_actions()]
    assert "Motor overheating: blocked cooling" in titles and len(titles) == 5
    action = next(a for a in player.scenario_actions() if a.text().startswith("Cavitation"))
    action.trigger()
    qtbot.waitUntil(lambda: player.scenario is not None, timeout=20000)
    session = window.session
    scenario = player.scenario
    assert session.recording_name == scenario.title
    # The steps are on the timeline as scenario_step events, and the data spans the scenario.
    steps = [e for e in session.events if e.kind == "scenario_step"]
    assert [e.label for e in steps] == [s.title for s in scenario.steps]
    assert session.store.time_range() == pytest.approx((scenario.start_time, scenario.end_time))
    assert player.dock.isVisible()
    assert player.panel.title.text() == scenario.title
    assert player.panel.step_list.count() == len(scenario.steps)


def test_long_scenario_is_simulated_coarser_and_says_so(qtbot, window, player):
    player.max_samples = 20_000
    scenario = load(qtbot, player, "bearing_wear_de")
    assert player.run.coarsened and player.run.sample_period >= scenario.duration / 20_000
    assert "Simulated every" in player.panel.facts.text()
    # Coarse samples still read as fresh, not stale, between two samples.
    t = scenario.step_time(2) + player.run.sample_period / 2
    snapshot = window.session.store.values_at(t, window.session.sensor_ids)
    assert (snapshot.state == 0).all()


def test_broken_scenario_reports_file_line_and_key(qtbot, window, player, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "Broken"\nduration = "1h"\nstart = "2024-01-01T00:00:00Z"\n\n[[steps]]\nat = '
                      '0\n'
                      'title = "Start"\n\n[[steps.faults]]\ncomponent = "motor"\nkind = '
                      '"corrosion"\nseverity = 0.5\n',
                      encoding="utf-8")
    before = window.session.store
    player.load(broken)
    assert window.last_error is not None
    assert "broken.toml:11: steps[0].faults[0].kind: unknown fault kind 'corrosion'" in window.last_error
    assert window.session.store is before and player.scenario is None


# ---- stepping ----------------------------------------------------------------------------------------
def test_next_previous_and_jump_move_the_clock_and_the_list(qtbot, window, player):
    scenario = load(qtbot, player, MOTOR)
    clock = window.session.clock
    assert player.index == 0 and clock.t == pytest.approx(scenario.step_time(0))
    player.panel.next_button.click()
    assert player.index == 1 and clock.t == pytest.approx(scenario.step_time(1))
    assert player.panel.step_list.currentRow() == 1
    assert player.panel.step_list.currentItem().font().bold()
    assert "Something covers the fan" in player.panel.step_text.text()
    player.panel.previous_button.click()
    assert player.index == 0 and clock.t == pytest.approx(scenario.step_time(0))
    assert not player.panel.previous_button.isEnabled()
    # Click the fourth step in the list.
    rect = player.panel.step_list.visualItemRect(player.panel.step_list.item(3))
    qtbot.mouseClick(player.panel.step_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert player.index == 3 and clock.t == pytest.approx(scenario.step_time(3))
    assert player.panel.step_list.currentRow() == 3
    player.jump(4)
    assert not player.panel.next_button.isEnabled()
    assert player.panel.play_button.text().endswith("Play to the end")


def test_scrubbing_the_timeline_moves_the_current_step(qtbot, window, player):
    scenario = load(qtbot, player, MOTOR)
    window.session.clock.seek(scenario.step_time(2) + 120.0)
    window.refresh_now()
    assert player.index == 2 and player.panel.step_list.currentRow() == 2
    assert "Winding temperature warning" in player.panel.step_text.text()
    window.session.clock.seek(scenario.start_time + 5.0)
    window.refresh_now()
    assert player.index == 0


def test_play_to_next_step_runs_the_clock_and_stops_at_the_next_step(qtbot, window, player, monkeypatch):
    import twinviewer.ui.scenario_panel as panel_module

    monkeypatch.setattr(panel_module, "PLAY_WALL_MIN_S", 1.5)  # a few frames even when loaded
    monkeypatch.setattr(panel_module, "PLAY_WALL_MAX_S", 1.5)
    scenario = load(qtbot, player, CAVITATION)
    clock = window.session.clock
    seen = []
    window.frame_shown.connect(lambda frame: seen.append(frame.t))
    player.panel.play_button.click()
    assert player.playing and "Pause" in player.panel.play_button.text()
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    assert player.index == 1
    # It stops at the next step's shown moment: PT-101 warns 57 s into step 2 ("closed to 35 %").
    shown = player.cursor.shown_time(1)
    assert shown > scenario.step_time(1) and clock.t == pytest.approx(shown, abs=1e-3)
    pt101 = [s.id for s in window.twin.project.sensors].index("PT-101")
    assert window.session.frame_at(clock.t).statuses[pt101] == 1  # warning, as the step says
    between = [t for t in seen if scenario.step_time(0) < t < scenario.step_time(1)]
    assert len(between) >= 3, "the clock ran through the step rather than jumping"
    assert not clock.playing


def test_entering_a_step_moves_the_camera_and_highlights_its_parts(qtbot, window, player):
    scenario = load(qtbot, player, "misalignment_after_maintenance")
    assert scenario.steps[0].camera == "top" and scenario.steps[2].camera == "front"
    assert view_direction(window) == pytest.approx([0.0, 0.0, 1.0], abs=1e-6)
    assert window.scene.selected == scenario.steps[0].highlight[0]
    player.jump(2)
    assert view_direction(window) == pytest.approx([0.0, -1.0, 0.0], abs=1e-6)
    highlighted = scenario.steps[2].highlight
    assert len(highlighted) == 3
    assert window.scene.selected == highlighted[0]
    assert player.highlight.parts == highlighted
    assert all(actor.GetVisibility() for actor in player.highlight._actors)
    # The selected part keeps its status colour (no orange fill); the step's parts are outlined (magenta,
    # over the selection's cyan outline where they coincide).
    from twinviewer.core.overlay import LOOK_AT_OUTLINE_RGB

    x, y = visible_pixel_of(window, highlighted[0])
    window.viewer.render_now()
    image = np.asarray(window.viewer.image()).astype(int)[..., :3]
    h = image.shape[0]
    r, g, b = image[h - y - 2:h - y + 2, x - 2:x + 2].reshape(-1, 3).mean(axis=0)
    assert not (r > 200 and 100 < g < 190 and b < 80), (r, g, b)
    assert (np.abs(image - np.array(LOOK_AT_OUTLINE_RGB)).sum(axis=2) < 60).sum() > 30


def test_explicit_camera_pose_is_applied(qtbot, window, player, tmp_path):
    source = (window.twin.path.parent / "scenarios" / f"{MOTOR}.toml").read_text(encoding="utf-8")
    pose = 'camera = { position = [-3.0, 0.5, 1.2], focal_point = [-0.6, 0.0, 0.5] }'
    custom = window.twin.path.parent / "scenarios" / "posed.toml"
    shows_cover = source.replace('camera = "left"', pose, 1).replace(
        'highlight = ["motor", "motor_fan_cover"]', 'highlight = ["motor_fan_cover"]', 1)
    custom.write_text(shows_cover, encoding="utf-8")
    load(qtbot, player, "posed")
    camera = window.scene.camera
    assert camera.GetPosition() == pytest.approx((-3.0, 0.5, 1.2))
    assert camera.GetFocalPoint() == pytest.approx((-0.6, 0.0, 0.5))


def test_a_step_camera_that_hides_its_part_is_corrected(qtbot, window, player):
    from twinviewer.render.step_camera import MIN_PART_SHARE, part_shares

    scenario = load(qtbot, player, "bearing_wear_de")
    player.jump(2)  # "Vibration warning at the DE bearing": camera "right", where the motor hides the bearing
    assert scenario.steps[2].camera == "right"
    assert part_shares(window.scene, ["bearing_housing_de"])["bearing_housing_de"] >= MIN_PART_SHARE


# ---- trainee mode ------------------------------------------------------------------------------------
def submit_choice(player, question: int, choice: int):
    card = player.panel.cards[question]
    card.choose(choice)
    assert card.submit_button.isEnabled()
    card.submit_button.click()
    return player.training.answers[(player.index, question)]


def test_multiple_choice_right_and_wrong(qtbot, window, player):
    scenario = load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ana Ruiz")
    assert player.training is not None and player.training.trainee == "Ana Ruiz"
    card = player.panel.cards[0]
    assert card.submit_button is not None and not card.submit_button.isEnabled()
    assert card.result.isHidden(), "the answer is hidden until the trainee answers"
    record = submit_choice(player, 0, scenario.steps[0].questions[0].answer)
    assert record.correct and player.training.score == 1
    card = player.panel.cards[0]
    assert "Correct" in card.result.text() and "155" in card.result.text()
    assert card.submit_button.isHidden()
    player.next()
    player.next()
    assert player.index == 2
    # What the step should show is hidden until its question is answered.
    assert "shown once you have answered" in player.panel.step_text.text()
    assert "WHAT YOU SEE NOW" not in player.panel.step_text.text()
    record = submit_choice(player, 0, 0)  # "The pump is overloaded": wrong
    assert not record.correct and record.given == "The pump is overloaded"
    assert player.training.score == 1 and len(player.training.answers) == 2
    text = player.panel.cards[0].result.text()
    assert (
        "Not quite" in text and "cooling is impaired" in text and "overload would raise the current" in text
    )
    assert "WHAT YOU SEE NOW" in player.panel.step_text.text()
    assert "1</b>/4 correct" in player.panel.trainee_label.text()
    assert player.panel.step_list.item(2).text().endswith("✘ 0/1")


def test_click_the_failing_part_in_3d(qtbot, window, player):
    scenario = load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ana Ruiz")
    player.jump(3)
    question = scenario.steps[3].questions[0]
    assert question.kind == "click_part" and question.answer == ["motor_fan_cover"]
    # While the trainee has to find the part, the step's parts are not pointed out.
    assert player.highlight.parts == [] and window.scene.selected is None
    card = player.panel.cards[0]
    assert "Click the part in the 3D view" in card.waiting_label.text()
    window.viewer.click_at(2, 2)  # the background: not an answer
    assert not player.training.is_answered(3, 0)
    x, y = visible_pixel_of(window, "motor_fan_cover")
    window.viewer.click_at(x, y)
    record = player.training.answers[(3, 0)]
    assert record.correct and record.given == "motor_fan_cover"
    assert window.scene.selected == "motor"  # the step's highlight shows once answered
    assert "Correct" in player.panel.cards[0].result.text()
    # The next click is not taken as another answer.
    window.viewer.click_at(x, y)
    assert len(player.training.answers) == 1


def test_only_a_click_in_3d_answers_a_part_question(qtbot, window, player):
    load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ana Ruiz")
    player.jump(3)
    window.part_tree.setCurrentItem(window.part_tree.item_for("motor_fan_cover"))  # browsing the tree
    window.activate_sensor("TT-101")                                             # a sensor in the table
    assert not player.training.is_answered(3, 0)
    # A click on a sensor marker in 3D selects the sensor's part: that part is the answer.
    window.set_view("iso")
    window.refresh_now()
    x, y = window.viewer.display_point_of(window.twin.project.sensor("TT-101").position)
    window.viewer.click_at(x, y)
    record = player.training.answers[(3, 0)]
    assert record.given == "motor" and not record.correct


def test_wrong_part_click_scores_zero(qtbot, window, player):
    load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ben Okafor")
    player.jump(3)
    window.set_view("iso")
    x, y = visible_pixel_of(window, "base_frame")
    window.viewer.click_at(x, y)
    record = player.training.answers[(3, 0)]
    assert not record.correct and record.given == "base_frame"
    assert "Motor fan cover" in player.panel.cards[0].result.text()
    # The status bar names parts by their labels, never by internal ids.
    assert "Motor fan cover" in window.status_label.text() and "motor_fan_cover" not in window.status_label.text()


def test_trainee_questions_are_asked_at_the_steps_shown_moment(qtbot, window, player):
    scenario = load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ana Ruiz")
    player.jump(2)  # "TT-101 is in warning but IT-101 is normal": shown when TT-101 warns
    clock = window.session.clock
    assert clock.t == pytest.approx(player.cursor.shown_time(2), abs=1e-3)
    assert clock.t > scenario.step_time(2)
    assert len(player.panel.cards) == 1
    tt101 = [s.id for s in window.twin.project.sensors].index("TT-101")
    assert window.frame.statuses[tt101] == 1, "the question is asked while TT-101 is in warning"
    # Scrubbing back into the step, before that moment: the question waits.
    clock.seek(scenario.step_time(2) + 60)
    window.refresh_now()
    assert player.index == 2 and player.panel.cards == []
    clock.seek(player.cursor.shown_time(2))
    window.refresh_now()
    assert len(player.panel.cards) == 1


def test_finishing_the_quiz_writes_the_log_and_shows_the_score(qtbot, window, player):
    scenario = load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ana Ruiz")
    submit_choice(player, 0, 2)                     # right
    player.jump(2)
    submit_choice(player, 0, 3)                     # wrong
    player.jump(3)
    x, y = visible_pixel_of(window, "motor_fan_cover")
    window.viewer.click_at(x, y)                    # right
    assert player.summary_dialog is None
    submit_choice(player, 1, 1)                     # right: the last question ends the session
    training = player.training
    assert training.complete and training.score == 3 and training.max_score == 4
    dialog = player.summary_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.table.rowCount() == 4
    json_path, csv_path = player.saved_log
    assert json_path.parent == window.twin.path.parent / "training-logs"
    log = json.loads(json_path.read_text(encoding="utf-8"))
    assert log["trainee"] == "Ana Ruiz" and log["scenario"] == scenario.title
    assert log["score"] == 3 and log["max_score"] == 4 and log["finished_at"]
    assert [a["correct"] for a in log["answers"]] == [True, False, True, True]
    assert log["answers"][2]["given"] == "motor_fan_cover" and log["answers"][2]["time_taken_s"] >= 0
    rows = list(csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["correct"] for r in rows] == ["yes", "no", "yes", "yes"]
    assert {r["trainee"] for r in rows} == {"Ana Ruiz"} and rows[-1]["score"] == "3"
    # On demand, to a folder the trainer chose.
    json_copy, _csv_copy = player.save_log(window.twin.path.parent / "collected")
    assert json.loads(json_copy.read_text(encoding="utf-8"))["score"] == 3


def test_leaving_trainee_mode_keeps_the_answers_given(qtbot, window, player):
    load(qtbot, player, MOTOR)
    player.set_trainee_mode(True, "Ana Ruiz")
    submit_choice(player, 0, 1)
    player.set_trainee_mode(False)
    assert player.training is None
    logs = list((window.twin.path.parent / "training-logs").glob("*.json"))
    assert len(logs) == 1
    log = json.loads(logs[0].read_text(encoding="utf-8"))
    assert log["score"] == 0 and log["unanswered"] == 3
    # Back in trainer view, the answers are shown again.
    assert "Answer:" in player.panel.cards[0].result.text()


def test_another_recording_closes_the_scenario(qtbot, window, player):
    load(qtbot, player, MOTOR)
    from twinviewer.core.session import LoadedRecording
    from twinviewer.core.store import TimeSeriesStore

    window.session.set_recording(LoadedRecording(store=TimeSeriesStore()))
    assert player.scenario is None and player.highlight.parts == []
    assert player.panel.title.text() == "No scenario loaded"
