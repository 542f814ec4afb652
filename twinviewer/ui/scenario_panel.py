"""Failure scenarios in the window: the Scenario menu, the scenario player panel and trainee mode.

``install(window)`` adds a "Scenario" menu (open a scenario file, or one of the open project's) and a dock.
Loading a scenario validates it (problems shown as ``file:line: key: message``), simulates it off the GUI
thread (coarser sampling for long scenarios, see ``core.scenario_playback``), swaps the result into the
session as a recording whose steps show on the timeline, and opens the player:

- the steps with their time offsets; Previous / Next / click a step to jump: the clock seeks to the step's
  shown moment (the first time within the step at which what it says holds, see ``core.step_moments``),
  the camera moves to the step's view (corrected so the step's part shows, ``render.step_camera``) and the
  step's parts are selected (first) and outlined (all);
- the step's narrative with links to the parts and sensors it names, "what you should see" (the step's
  ``expect``) and, for a trainer, the faults the step injects;
- "Play to next step": the clock runs from the step to the next one's shown moment in 3–15 s of wall
  time and stops there; scrubbing the timeline moves the current step along (the camera stays where the user put it);
- trainee mode: the step's questions are asked at its shown moment (multiple choice, or the next click on a part in 3D),
  answers hidden until given, then scored and explained; the log (JSON and CSV) is written to a
  ``training-logs/`` folder next to the project when the session ends, and on demand.

Over 600 lines: the menu, the player and trainee mode share one state (the scenario run, the step cursor
and the training session); the question cards and summary are ``ui/trainer.py``.
"""

from __future__ import annotations

import re
import time
from html import escape
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.errors import CancelledError, TwinViewerError
from twinviewer.core.formatting import format_duration, format_time
from twinviewer.core.scenario import AnswerRecord, PartQuestion, Scenario, StepCursor, TrainingSession
from twinviewer.core.scenario_playback import (
    MAX_PLAYBACK_SAMPLES,
    PlaybackRun,
    project_folder,
    simulate_for_playback,
    training_log_stem,
)
from twinviewer.io.scenario_files import (
    load_scenario,
    project_scenarios,
    scenario_title,
    training_log_dir,
    write_training_log,
)
from twinviewer.render.scenario_render import StepHighlight
from twinviewer.render.step_camera import frame_step
from twinviewer.ui.trainer import QuestionCard, SessionSummary, ask_trainee_name

PLAY_WALL_MIN_S = 3.0
PLAY_WALL_MAX_S = 15.0
PLAY_COMPRESSION = 60.0  # a 10-minute gap plays in 10 s; longer gaps are capped at PLAY_WALL_MAX_S
PLAY_INTERVAL_MS = 33
PANEL_WIDTH = 390
BOTTOM_PANELS_HEIGHT = 190
STATUS_COLOURS = {"normal": "#1a9678", "warning": "#d99500", "alarm": "#d62828"}
PANEL_STYLE = """
QWidget#scenarioPanel { background: #f4f6f9; }
QLabel#scenarioTitle { font-size: 15px; font-weight: 600; color: #1d2733; }
QLabel#muted { color: #5a6675; }
QFrame#traineeBar { background: #e8eef6; border: 1px solid #c9d4e3; border-radius: 6px; }
QFrame#traineeBar[active="true"] { background: #fff4e0; border: 1px solid #e0a040; }
QListWidget#stepList { background: #ffffff; border: 1px solid #c9d1db; border-radius: 4px; }
QListWidget#stepList::item { padding: 4px 6px; border-bottom: 1px solid #eef1f5; color: #1d2733; }
QListWidget#stepList::item:selected { background: #1f5fa8; color: #ffffff; }
QFrame#stepCard { background: #ffffff; border: 1px solid #c9d1db; border-radius: 6px; }
QPushButton#playButton { font-weight: 600; }
QToolButton#traineeButton { padding: 3px 10px; border: 1px solid #9aa7b8; border-radius: 4px;
                            background: #ffffff; }
QToolButton#traineeButton:checked { background: #e08a00; border-color: #b86e00; color: #ffffff;
                                    font-weight: 600; }
"""
_SENSOR_ID = re.compile(r"\b[A-Z]{1,4}-\d{2,4}\b")


def _offset_text(seconds: float) -> str:
    """A step's offset from the scenario start: +0:25:00, or +5d 02:00 for long scenarios."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"+{days}d {hours:02d}:{minutes:02d}"
    return f"+{hours}:{minutes:02d}:{secs:02d}"


def _paragraphs(text: str) -> str:
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "".join(f"<p style='margin:0 0 6px 0'>{escape(b)}</p>" for b in blocks)


class ScenarioPanel(QWidget):
    """The player's widgets; every button calls a method of :class:`ScenarioPlayer`."""

    def __init__(self, player: ScenarioPlayer):
        super().__init__()
        self.player = player
        self.setObjectName("scenarioPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(PANEL_STYLE)
        self.setMinimumWidth(330)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)

        self.title = QLabel("No scenario loaded")
        self.title.setObjectName("scenarioTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel("Open one from the Scenario menu.")
        self.facts.setObjectName("muted")
        self.facts.setWordWrap(True)
        self.about_button = QToolButton()
        self.about_button.setText("About this scenario")
        self.about_button.setCheckable(True)
        self.about_button.setChecked(False)
        self.about_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.about_button.setArrowType(Qt.ArrowType.RightArrow)
        self.about_button.setAutoRaise(True)
        self.about_button.toggled.connect(self._toggle_about)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setTextFormat(Qt.TextFormat.RichText)
        self.about.setStyleSheet("QLabel { background: #ffffff; border: 1px solid #d5dbe3; border-radius: "
                                 "4px; padding: 6px; color: #1d2733; }")
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.about_button)
        layout.addWidget(self.about)

        self.trainee_bar = QFrame()
        self.trainee_bar.setObjectName("traineeBar")
        row = QHBoxLayout(self.trainee_bar)
        row.setContentsMargins(6, 4, 6, 4)
        self.trainee_button = QToolButton()
        self.trainee_button.setDefaultAction(player.trainee_action)
        self.trainee_button.setObjectName("traineeButton")
        self.trainee_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.save_button = QToolButton()
        self.save_button.setText("Save log…")
        self.save_button.setToolTip("Save the trainee's answers and score as JSON and CSV")
        self.save_button.clicked.connect(player.save_log_action.trigger)
        self.trainee_label = QLabel()
        self.trainee_label.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(self.trainee_button)
        row.addWidget(self.trainee_label, 1)
        row.addWidget(self.save_button)
        layout.addWidget(self.trainee_bar)

        self.step_list = QListWidget()
        self.step_list.setObjectName("stepList")
        self.step_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.step_list.itemClicked.connect(lambda item: player.jump(self.step_list.row(item)))
        self.step_list.setToolTip("Click a step to go to it; ? marks a step with questions")
        self.step_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.step_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.step_list)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.setSpacing(6)

        nav = QHBoxLayout()
        self.previous_button = QPushButton("◀  Previous")
        self.previous_button.setToolTip("Go to the previous step (Alt+Left)")
        self.previous_button.clicked.connect(player.previous)
        self.play_button = QPushButton("▶  Play to next step")
        self.play_button.setObjectName("playButton")
        self.play_button.setToolTip("Run the clock from this step to the next one, compressed to a few "
                                    "seconds")
        self.play_button.clicked.connect(player.toggle_play)
        self.next_button = QPushButton("Next  ▶")
        self.next_button.setToolTip("Go to the next step (Alt+Right)")
        self.next_button.clicked.connect(player.next)
        nav.addWidget(self.previous_button)
        nav.addWidget(self.play_button, 1)
        nav.addWidget(self.next_button)
        lower_layout.addLayout(nav)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        content.setObjectName("scenarioPanel")
        self.content_layout = QVBoxLayout(content)
        self.content_layout.setContentsMargins(0, 0, 4, 0)
        self.content_layout.setSpacing(8)
        self.step_card = QFrame()
        self.step_card.setObjectName("stepCard")
        card_layout = QVBoxLayout(self.step_card)
        card_layout.setContentsMargins(12, 10, 12, 10)
        self.step_text = QLabel()
        self.step_text.setWordWrap(True)
        self.step_text.setTextFormat(Qt.TextFormat.RichText)
        self.step_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.step_text.linkActivated.connect(player.open_link)
        self.step_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        card_layout.addWidget(self.step_text)
        self.content_layout.addWidget(self.step_card)
        self.questions_box = QVBoxLayout()
        self.questions_box.setSpacing(8)
        self.content_layout.addLayout(self.questions_box)
        self.content_layout.addStretch(1)
        self.scroll.setWidget(content)
        lower_layout.addWidget(self.scroll, 1)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        self.cards: list[QuestionCard] = []
        self.show_scenario(None)

    def _toggle_about(self, on: bool) -> None:
        self.about.setVisible(on and bool(self.about.text()))
        self.about_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    # ----- filling -----------------------------------------------------------------------------------
    def show_scenario(self, run: PlaybackRun | None) -> None:
        loaded = run is not None
        for widget in (self.about_button, self.splitter, self.trainee_bar):
            widget.setVisible(loaded)
        self.step_list.clear()
        if not loaded:
            self.title.setText("No scenario loaded")
            self.facts.setText("Open a failure scenario from the Scenario menu: it is simulated on this twin "
                               "and played step by step.")
            self.about.hide()
            self.set_questions([])
            return
        scenario = run.scenario
        self.title.setText(scenario.title)
        facts = f"{len(scenario.steps)} steps · {format_duration(scenario.duration)} of plant time"
        if run.coarsened:
            facts += f"<br><span style='color:#8a5a00'>{escape(run.sampling_note)}</span>"
        self.facts.setText(facts)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setToolTip(f"Starts {format_time(scenario.start_time)}. {run.sampling_note}")
        goals = "".join(f"<li>{escape(g)}</li>" for g in scenario.learning_goals)
        self.about.setText(_paragraphs(scenario.summary)
                           + (f"<b>Learning goals</b><ul style='margin:2px 0 0 -20px'>{goals}</ul>" if goals
                              else ""))
        self._toggle_about(self.about_button.isChecked())
        for i, step in enumerate(scenario.steps):
            item = QListWidgetItem(f"{_offset_text(step.at)}   {step.title}")
            questions = len(step.questions)
            item.setToolTip(f"Step {i + 1}: {step.title} — {format_time(scenario.step_time(i))}"
                            + (f" — {questions} question{'s' if questions > 1 else ''}" if questions else ""))
            self.step_list.addItem(item)
        rows = min(len(scenario.steps), 6)
        list_height = rows * (self.step_list.sizeHintForRow(0) + 1) + 6
        self.step_list.setMinimumHeight(min(list_height, 3 * self.step_list.sizeHintForRow(0) + 6))
        self.splitter.setSizes([list_height, max(self.splitter.height() - list_height, 200)])

    def mark_steps(self, scenario: Scenario, current: int, training: TrainingSession | None) -> None:
        """Bold the current step; in trainee mode, a mark per step with questions (? open, ✔ all right)."""
        for i in range(self.step_list.count()):
            item = self.step_list.item(i)
            step = scenario.steps[i]
            mark = ""
            if training is not None and step.questions:
                records = [training.answers.get((i, j)) for j in range(len(step.questions))]
                if any(r is None for r in records):
                    mark = "   ?"
                else:
                    right = sum(r.correct for r in records)
                    mark = f"   {'✔' if right == len(records) else '✘'} {right}/{len(records)}"
            elif step.questions:
                mark = "   ?"
            item.setText(f"{_offset_text(step.at)}   {step.title}{mark}")
            font = QFont(self.step_list.font())
            font.setBold(i == current)
            item.setFont(font)
            item.setForeground(QColor("#1d2733") if i >= current else QColor("#6b7684"))
        self.step_list.blockSignals(True)
        self.step_list.setCurrentRow(current)
        self.step_list.blockSignals(False)
        self.step_list.scrollToItem(self.step_list.item(current))

    def set_questions(self, cards: list[QuestionCard]) -> None:
        for card in self.cards:
            self.questions_box.removeWidget(card)
            card.hide()
            card.setParent(None)
            card.deleteLater()
        self.cards = cards
        for card in cards:
            self.questions_box.addWidget(card)


class ScenarioPlayer(QObject):
    """Loads, plays and quizzes one scenario at a time on the window's twin (the panel's brain)."""

    step_entered = Signal(int)
    scenario_loaded = Signal(object)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.run: PlaybackRun | None = None
        self.cursor: StepCursor | None = None
        self.store = None
        self.task = None
        self.max_samples = MAX_PLAYBACK_SAMPLES
        self.highlight = StepHighlight(window.scene)
        self.trainee_name: str | None = None
        self.training: TrainingSession | None = None
        self.saved_log: tuple[Path, Path] | None = None
        self._saved_answers = 0
        self.summary_dialog: SessionSummary | None = None
        self._play: dict | None = None
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAY_INTERVAL_MS)
        self._play_timer.timeout.connect(self._play_tick)

        self.trainee_action = QAction("Trainee mode", self, checkable=True)
        self.trainee_action.setStatusTip("Ask the scenario's questions, score the answers and log them for a "
                                         "trainer")
        self.trainee_action.toggled.connect(self._trainee_toggled)
        self.save_log_action = QAction("Save session log…", self)
        self.save_log_action.setStatusTip("Write the trainee's answers and score as JSON and CSV")
        self.save_log_action.triggered.connect(self.save_log_dialog)
        self.save_log_action.setEnabled(False)
        self.open_action = QAction("&Open scenario…", self)
        self.open_action.setStatusTip("Open a failure scenario (*.toml) and simulate it on this twin")
        self.open_action.triggered.connect(self.open_dialog)
        self.previous_action = QAction("Previous step", self)
        self.next_action = QAction("Next step", self)
        for action, shortcut, slot in ((self.previous_action, "Alt+Left", self.previous),
                                       (self.next_action, "Alt+Right", self.next)):
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            window.addAction(action)

        self.panel = ScenarioPanel(self)
        self.dock = window.add_dock("Scenario", self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        parts_dock = getattr(window, "parts_dock", None)
        if parts_dock is not None:
            window.tabifyDockWidget(parts_dock, self.dock)
        self.dock.hide()
        self.menu = window.menu("&Scenario")
        self.menu.aboutToShow.connect(self.fill_menu)
        self.fill_menu()

        window.twin_opened.connect(self._on_twin_opened)
        window.recording_loaded.connect(self._on_recording_loaded)
        window.frame_shown.connect(self._on_frame)
        # A click in 3D answers a click-the-part question: on a part, or on a sensor marker (which other
        # panels turn into selecting the sensor's part). viewer.handling_click tells those selections apart
        # from selections made in the tree, by links or by this player.
        window.part_selected.connect(self._on_part_selected)
        window.installEventFilter(self)
        self._update_controls()

    # ----- menu ----------------------------------------------------------------------------------------
    def project_scenario_paths(self) -> list[Path]:
        twin = self.window.twin
        return project_scenarios(twin.project) if twin is not None and not twin.is_raw_mesh else []

    def fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        menu.addAction(self.open_action)
        self.open_action.setEnabled(self.window.twin is not None)
        paths = self.project_scenario_paths()
        if paths:
            menu.addSection("This twin's scenarios")
            for path in paths:
                action = menu.addAction(scenario_title(path))
                action.setToolTip(str(path))
                action.setStatusTip(f"Simulate and play {path.name}")
                action.setData(str(path))
                action.triggered.connect(lambda _=False, p=path: self.load(p))
        menu.addSeparator()
        menu.addAction(self.trainee_action)
        menu.addAction(self.save_log_action)
        menu.addSeparator()
        menu.addAction(self.dock.toggleViewAction())

    def scenario_actions(self) -> list[QAction]:
        """The menu entries of the project's scenarios (after ``fill_menu``)."""
        return [a for a in self.menu.actions() if a.data()]

    def open_dialog(self) -> None:
        twin = self.window.twin
        if twin is None:
            return
        folder = project_folder(twin.project) or Path.home()
        start = folder / "scenarios" if (folder / "scenarios").is_dir() else folder
        path, _ = QFileDialog.getOpenFileName(self.window, "Open scenario", str(start),
                                              "Failure scenarios (*.toml);;All files (*)")
        if path:
            self.load(path)

    # ----- loading ---------------------------------------------------------------------------------
    @property
    def scenario(self) -> Scenario | None:
        return self.run.scenario if self.run is not None else None

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def load(self, path: str | Path) -> None:
        """Validate, simulate off the GUI thread, swap into the session and show step 1."""
        window = self.window
        path = Path(path)
        if window.twin is None or window.session is None:
            window.show_error("No twin open",
                              "Open a twin project first; a scenario is simulated on its sensors.")
            return
        if self.busy:
            window.show_error("Busy", "A scenario is still being simulated; wait for it or cancel it.")
            return
        try:
            scenario = load_scenario(path, window.twin.project)
        except TwinViewerError as exc:
            window.show_error(f"Cannot open {path.name}", str(exc))
            window.show_status(f"{path.name} has problems; nothing changed.")
            return
        project = window.twin.project
        max_samples = self.max_samples
        window.show_status(f"Simulating {scenario.title}…")

        def work(progress, cancelled):
            return simulate_for_playback(scenario, project, max_samples=max_samples, progress=progress,
                                         cancelled=cancelled)

        from twinviewer.ui.tasks import run_task

        self.task = run_task(window, f"Simulating “{scenario.title}”", work, self._loaded,
                             lambda exc, details: self._load_failed(path, exc, details))

    def _load_failed(self, path: Path, exc: BaseException, details: str) -> None:
        if isinstance(exc, CancelledError):
            self.window.show_status(f"Simulating {path.name} cancelled; nothing changed.")
            return
        message = str(exc) if isinstance(exc, TwinViewerError) else f"{type(exc).__name__}: {exc}"
        self.window.show_error(f"Cannot simulate {path.name}", message)

    def _loaded(self, run: PlaybackRun) -> None:
        window = self.window
        if window.session is None or window.twin is None:
            return
        self._finish_training(auto_save=True)
        self.stop_playing()
        recording = run.recording(window.twin.project)
        self.run = run
        self.store = recording.store
        self.cursor = StepCursor(run.scenario, run.shown_times(window.twin.project))
        window.session.set_recording(recording)
        self.panel.show_scenario(run)
        if self.trainee_action.isChecked() and self.trainee_name:
            self._start_training()
        if not self.dock.isVisible():
            self.dock.show()
            self._make_room()
        self.dock.raise_()
        self.enter_step(0)
        self.scenario_loaded.emit(run.scenario)
        window.show_status(f"Scenario loaded: {run.scenario.title} — {len(run.scenario.steps)} steps")

    def _make_room(self) -> None:
        """The player needs height: widen its dock and lower the panels docked under the 3D view."""
        window = self.window
        window.resizeDocks([self.dock], [PANEL_WIDTH], Qt.Orientation.Horizontal)
        from PySide6.QtWidgets import QDockWidget

        bottom = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()
                  and window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
        if bottom:
            window.resizeDocks(bottom, [BOTTOM_PANELS_HEIGHT] * len(bottom), Qt.Orientation.Vertical)
        # Stacked over the data panels in one column (narrow windows, ui/layout.py): take two thirds of it.
        under = [d for d in window.findChildren(QDockWidget) if d is not self.dock and d.isVisible()
                 and not d.isFloating() and window.dockWidgetArea(d) == window.dockWidgetArea(self.dock)
                 and d not in window.tabifiedDockWidgets(self.dock)]
        height = window.height()
        if under:
            # On a short screen the narrative needs most of the column; the panel under it keeps a few rows.
            share = 0.62 if height >= 900 else 0.74
            window.resizeDocks([self.dock, under[0]], [int(height * share), int(height * (1 - share))],
                               Qt.Orientation.Vertical)
        # The step's narrative is what a trainee reads: the step list keeps a few rows (it scrolls to the
        # current one), the text the rest.
        steps = self.panel.step_list
        rows = min(max(steps.count(), 1), 3 if height < 900 else 6)
        list_height = rows * max(steps.sizeHintForRow(0), 18) + 2 * steps.frameWidth() + 2
        total = sum(self.panel.splitter.sizes())
        if total > list_height:
            self.panel.splitter.setSizes([list_height, total - list_height])

    def close_scenario(self) -> None:
        self._finish_training(auto_save=True)
        self.stop_playing()
        self.highlight.clear()
        self.run = self.cursor = self.store = None
        self.panel.show_scenario(None)
        self._update_controls()

    def _on_twin_opened(self, _twin) -> None:
        # The old scene's parts are gone; so are the outlines drawn around them.
        self.highlight = StepHighlight(self.window.scene)
        self.close_scenario()
        self.fill_menu()

    def _on_recording_loaded(self, session) -> None:
        if self.run is not None and session.store is not self.store:
            self.close_scenario()  # someone opened another recording: this scenario is no longer shown

    # ----- steps -----------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self.cursor.index if self.cursor is not None else -1

    def enter_step(self, index: int, *, move_camera: bool = True, seek: bool = True) -> None:
        """Make ``index`` the current step: seek the clock to it, point the camera, highlight its parts."""
        if self.cursor is None:
            return
        self.cursor.jump(index)
        window = self.window
        if seek:
            window.session.clock.pause()
            window.session.clock.seek(self.cursor.time)
        step = self.cursor.step
        if move_camera:
            shown = frame_step(window.scene, step)
            if shown.view:
                window.current_view = shown.view
        self._show_step()
        if seek or move_camera:
            window.refresh_now()
        self.step_entered.emit(index)

    def _show_step(self) -> None:
        """Panel text, question cards and highlight for the cursor's step (no clock or camera change)."""
        scenario, index = self.scenario, self.cursor.index
        step = self.cursor.step
        due = self._questions_due()
        if self.training is not None and due:
            for j in self.training.pending(index):
                self.training.present(index, j)
        self._apply_highlight()
        self.panel.step_text.setText(self._step_html())
        cards = []
        for j, question in enumerate(step.questions if due else []):
            record = self.training.answers.get((index, j)) if self.training is not None else None
            card = QuestionCard(index, j, question, number=j + 1, of=len(step.questions),
                                trainee=self.training is not None, record=record, part_label=self.part_label)
            card.answered.connect(lambda given, s=index, q=j: self.answer(s, q, given))
            cards.append(card)
        self.panel.set_questions(cards)
        self.panel.mark_steps(scenario, index, self.training)
        self.panel.scroll.verticalScrollBar().setValue(0)
        self._update_controls()

    def _questions_due(self) -> bool:
        """Questions are asked at the step's shown moment, not before (in trainee mode)."""
        if self.training is None or self.window.session is None:
            return True
        return self.window.session.clock.t >= self.cursor.time - 1e-6

    def _hint_pending(self) -> bool:
        """In trainee mode, while a click-the-part question of this step is open, the parts are not shown."""
        if self.training is None:
            return False
        step = self.cursor.step
        return any(isinstance(q, PartQuestion) and not self.training.is_answered(self.cursor.index, j)
                   for j, q in enumerate(step.questions))

    def _expect_hidden(self) -> bool:
        return self.training is not None and bool(self.training.pending(self.cursor.index))

    def _apply_highlight(self) -> None:
        parts = [] if self._hint_pending() else [p for p in self.cursor.step.highlight
                                                 if p in self.window.scene.parts]
        self.window.select_part(parts[0] if parts else None)
        self.highlight.set(parts)
        self.window.viewer.request_render()

    def part_label(self, name: str) -> str:
        return self.window.twin.project.part_label(name) if self.window.twin else name

    def _step_html(self) -> str:
        scenario, index = self.scenario, self.cursor.index
        step = self.cursor.step
        project = self.window.twin.project
        known = {s.id for s in project.sensors}
        start, end = scenario.step_window(index)
        parts = [
            f"<div style='color:#5a6675; font-size:small'>STEP {index + 1} OF {len(scenario.steps)} · "
            f"{_offset_text(step.at)} · {escape(format_time(start))} · lasts "
            f"{escape(format_duration(end - start))}"
            "</div>",
            "<div style='font-size:large; font-weight:600; color:#1d2733; margin:2px 0 6px "
            f"0'>{escape(step.title)}</div>",
        ]
        if index == 0:
            goals = "".join(f"<li>{escape(g)}</li>" for g in scenario.learning_goals)
            parts.append(f"<div style='color:#3d4753; margin-bottom:6px'>{_paragraphs(scenario.summary)}"
                         + (f"<b>Learning goals</b><ul style='margin:2px 0 0 -20px'>{goals}</ul>" if goals
                            else "")
                         + "</div><hr>")
        narrative = _paragraphs(step.narrative) if step.narrative else ""
        narrative = _SENSOR_ID.sub(lambda m: f"<a href='sensor:{m.group(0)}' "
                                             f"style='color:#1f5fa8'><b>{m.group(0)}"
                                   f"</b></a>" if m.group(0) in known else m.group(0), narrative)
        parts.append(f"<div style='color:#1d2733; line-height:135%'>{narrative}</div>")
        if step.highlight and not self._hint_pending():
            links = " · ".join(f"<a href='part:{p}' "
                               f"style='color:#b000a0'><b>{escape(self.part_label(p))}</b></a>"
                               for p in step.highlight)
            parts.append("<p style='margin:6px 0 2px 0'><span style='color:#5a6675'>LOOK AT</span>&nbsp; "
                         f"{links}</p>")
        if self._expect_hidden():
            parts.append("<p style='color:#5a6675; margin:6px 0 0 0'><i>What you should see is shown once "
                         "you have answered this step's questions.</i></p>")
        else:
            parts.append(self._expect_html(index))
        if self.training is None:
            parts.append(self._changes_html(index))
        return "".join(parts)

    def _expect_html(self, index: int) -> str:
        expected = dict(self.run.moments(self.window.twin.project)[index].named) if self.run else {}
        if not expected:
            return ""
        chips = []
        for sensor_id, status in expected.items():
            colour = STATUS_COLOURS.get(status, "#555")
            chips.append(f"<a href='sensor:{sensor_id}' style='text-decoration:none'><span "
                         f"style='color:{colour}'>"
                         f"&#9679;</span> <b style='color:#1d2733'>{sensor_id}</b></a> "
                         f"<span style='color:{colour}'>{status}</span>")
        return ("<p style='margin:6px 0 0 0'><span style='color:#5a6675'>WHAT YOU SEE NOW</span>&nbsp; "
                + " &nbsp; ".join(chips) + "</p>")

    def _changes_html(self, index: int) -> str:
        """For a trainer: what the step does to the plant (hidden from trainees)."""
        step = self.scenario.steps[index]
        lines = []
        if step.operating_point is not None:
            changes = ", ".join(f"{k.replace('_', ' ')} → {v:g}" for k,
                                v in step.operating_point.changes().items())
            ramp = f" over {format_duration(step.operating_point.ramp)}" if step.operating_point.ramp else ""
            lines.append(f"Operating point: {escape(changes)}{ramp}")
        for fault in step.faults:
            ramp = f" over {format_duration(fault.ramp)}" if fault.ramp else ""
            what = "ends" if fault.severity == 0 else f"severity {fault.severity:g}{ramp}"
            lines.append(f"{escape(fault.kind.replace('_', ' '))} on <b>{escape(fault.target)}</b>: {what}")
        if not lines:
            return ""
        return (
            "<p style='margin:6px 0 0 0; color:#5a6675'>TRAINER'S NOTE — the simulation changes:</p>"
            "<ul style='margin:0 0 0 -20px; color:#3d4753'>"
            + "".join(f"<li>{x}</li>" for x in lines)
            + "</ul>"
        )

    def open_link(self, link: str) -> None:
        kind, _, name = link.partition(":")
        if kind == "part":
            self.window.select_part(name)
        elif kind == "sensor":
            self.window.activate_sensor(name)
        self.window.viewer.request_render()

    def next(self) -> None:
        if self.cursor is not None and not self.cursor.is_last:
            self.stop_playing()
            self.enter_step(self.cursor.index + 1)

    def previous(self) -> None:
        if self.cursor is not None and not self.cursor.is_first:
            self.stop_playing()
            self.enter_step(self.cursor.index - 1)

    def jump(self, index: int) -> None:
        if self.cursor is not None:
            self.stop_playing()
            self.enter_step(index)

    def _on_frame(self, frame) -> None:
        """The clock moved (timeline, playback): the current step follows it."""
        if self.cursor is None or self.window.session is None or self.window.session.store is not self.store:
            return
        if self._play is not None and abs(frame.t - self._play["last"]) > 1e-6:
            self.stop_playing()  # the user moved the clock while playing to the next step
        if self.cursor.follow(frame.t) or (self.training is not None
                                           and self._questions_due() != bool(self.panel.cards)
                                           and self.cursor.step.questions):
            self._show_step()

    # ----- play to the next step ------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._play is not None

    def toggle_play(self) -> None:
        self.stop_playing() if self.playing else self.play_to_next()

    def play_to_next(self) -> None:
        """Run the clock from the current step to the next one (the end on the last step), compressed to
        3–15 s of wall time, then enter that step."""
        if self.cursor is None:
            return
        clock = self.window.session.clock
        start, end = self.scenario.step_window(self.cursor.index)
        if not self.cursor.is_last:
            end = self.cursor.shown_time(self.cursor.index + 1)
        t0 = clock.t if start <= clock.t < end else self.cursor.time
        clock.pause()
        clock.seek(t0)
        wall = min(PLAY_WALL_MAX_S, max(PLAY_WALL_MIN_S, (end - start) / PLAY_COMPRESSION))
        wall *= (end - t0) / (end - start)
        self._play = {"t0": t0, "t1": end, "wall": max(wall, 0.2), "started": time.monotonic(), "last": t0,
                      "target": self.cursor.index + 1}
        self._play_timer.start()
        self._update_controls()
        self.window.show_status(f"Playing {format_duration(end - t0)} of plant time in {wall:.0f} s "
                                f"({(end - t0) / max(wall, 0.2):,.0f}× speed)")

    def stop_playing(self) -> None:
        if self._play is not None:
            self._play = None
            self._play_timer.stop()
            self._update_controls()

    def _play_tick(self) -> None:
        play = self._play
        if play is None or self.window.session is None:
            self.stop_playing()
            return
        clock = self.window.session.clock
        if abs(clock.t - play["last"]) > 1e-6:  # the timeline moved the clock: the user takes over
            self.stop_playing()
            return
        fraction = (time.monotonic() - play["started"]) / play["wall"]
        if fraction >= 1.0:
            self.stop_playing()
            arrived = play["target"]
            if arrived < len(self.scenario.steps):
                self.enter_step(arrived)
            else:
                clock.seek(play["t1"])
                self.window.refresh_now()
            return
        play["last"] = clock.seek(play["t0"] + fraction * (play["t1"] - play["t0"]))

    # ----- trainee mode ----------------------------------------------------------------------------
    def _trainee_toggled(self, on: bool) -> None:
        if on and not self.trainee_name:
            suggestion = str(self.window.settings.value("scenario/trainee_name", "") or "")
            name = ask_trainee_name(self.window, suggestion)
            if name is None:
                self.trainee_action.blockSignals(True)
                self.trainee_action.setChecked(False)
                self.trainee_action.blockSignals(False)
                return
            self.trainee_name = name
            self.window.settings.setValue("scenario/trainee_name", name)
        if on:
            self._start_training()
        else:
            self._finish_training(auto_save=True)
        if self.cursor is not None:
            self._show_step()
        self._update_controls()

    def set_trainee_mode(self, on: bool, name: str | None = None) -> None:
        """Switch trainee mode (``name`` skips the name dialog; the name is kept for later sessions)."""
        if name:
            self.trainee_name = name.strip()
        self.trainee_action.setChecked(on)

    def _start_training(self) -> None:
        self._finish_training(auto_save=True)
        if self.scenario is not None and self.trainee_name:
            self.training = TrainingSession(self.scenario, self.trainee_name)
            self.saved_log = None
            self._saved_answers = 0

    def _finish_training(self, *, auto_save: bool) -> None:
        """End the current session; answers given and not yet saved go to the default log folder."""
        training = self.training
        if training is None:
            return
        self.training = None
        if auto_save and training.answers and len(training.answers) != self._saved_answers:
            training.finish()
            try:
                self.saved_log = write_training_log(training, self.default_log_dir())
                self.window.show_status(f"Training log saved: {self.saved_log[0]}")
            except OSError as exc:
                self.window.show_error("Cannot save the training log", f"{self.default_log_dir()}: {exc}")

    def default_log_dir(self) -> Path:
        return training_log_dir(self.window.twin.path if self.window.twin else None)

    def answer(self, step: int, question: int, given) -> AnswerRecord | None:
        """Record the trainee's answer (a choice index or a part name), score it and show the result."""
        if self.training is None:
            return None
        try:
            record = self.training.answer(step, question, given)
        except TwinViewerError as exc:
            self.window.show_status(str(exc))
            return None
        if self.cursor is not None and self.cursor.index == step:
            self._show_step()
            pending = self.training.pending(step)
            if pending:  # bring the next open question of this step into view
                self.panel.scroll.ensureWidgetVisible(self.panel.cards[pending[0]], 0, 40)
        question = self.training.question(step, question)
        expected = (" or ".join(self.part_label(p) for p in question.answer) if isinstance(question, PartQuestion)
                    else record.expected)
        self.window.show_status(("Correct" if record.correct else f"Not quite: the answer is {expected}")
                                + f" — score {self.training.score}/{self.training.max_score}")
        if self.training.complete:
            self.finish_session()
        self._update_controls()
        return record

    def _on_part_selected(self, name) -> None:
        """A part picked in 3D answers the current step's open click-the-part question."""
        if not self.window.viewer.handling_click or self.training is None or self.cursor is None or name is None:
            return
        step = self.cursor.index
        for j, question in enumerate(self.cursor.step.questions):
            if isinstance(question, PartQuestion) and not self.training.is_answered(step, j):
                self.answer(step, j, name)
                return

    def finish_session(self) -> None:
        """End of the quiz: save the log, show the score."""
        training = self.training
        if training is None:
            return
        training.finish()
        try:
            self.saved_log = write_training_log(training, self.default_log_dir())
            self._saved_answers = len(training.answers)
        except OSError as exc:
            self.saved_log = None
            self.window.show_error("Cannot save the training log", f"{self.default_log_dir()}: {exc}")
        self.summary_dialog = SessionSummary(training, self.saved_log, self.window,
                                             on_save_copy=self.save_log_dialog,
                                             part_label=self.part_label)
        self.summary_dialog.open()

    def save_log(self, folder: Path | str | None = None) -> tuple[Path, Path]:
        """Write the current (or just finished) session's log as JSON and CSV; returns both paths."""
        training = self.training
        if training is None:
            raise TwinViewerError("no training session: switch on trainee mode and answer a question first")
        self.saved_log = write_training_log(training, Path(folder) if folder else self.default_log_dir())
        self._saved_answers = len(training.answers)
        self.window.show_status(f"Training log saved: {self.saved_log[0]} (and .csv)")
        return self.saved_log

    def save_log_dialog(self) -> None:
        training = self.training
        if training is None:
            return
        folder = self.default_log_dir()
        suggestion = folder / f"{training_log_stem(training)}.json"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save training log", str(suggestion),
                                              "Training log (*.json)")
        if path:
            try:
                self.save_log(Path(path).parent)
            except (OSError, TwinViewerError) as exc:
                self.window.show_error("Cannot save the training log", str(exc))

    # ----- state of the controls -------------------------------------------------------------------
    def _update_controls(self) -> None:
        panel = self.panel
        loaded = self.cursor is not None
        self.previous_action.setEnabled(loaded and not self.cursor.is_first)
        self.next_action.setEnabled(loaded and not self.cursor.is_last)
        panel.previous_button.setEnabled(self.previous_action.isEnabled())
        panel.next_button.setEnabled(self.next_action.isEnabled())
        panel.play_button.setEnabled(loaded)
        if self.playing:
            panel.play_button.setText("❚❚  Pause")
        else:
            panel.play_button.setText("▶  Play to the end" if loaded and self.cursor.is_last
                                      else "▶  Play to next step")
        self.save_log_action.setEnabled(self.training is not None and bool(self.training.answers))
        panel.save_button.setEnabled(self.save_log_action.isEnabled())
        panel.save_button.setVisible(self.training is not None)
        training = self.training
        panel.trainee_bar.setProperty("active", training is not None)
        panel.trainee_bar.style().unpolish(panel.trainee_bar)
        panel.trainee_bar.style().polish(panel.trainee_bar)
        if training is None:
            panel.trainee_label.setText("<span style='color:#3d4753'>Answers shown</span>")
            panel.trainee_label.setToolTip("Switch on trainee mode to quiz someone: questions asked, answers "
                                           "hidden until given, scored and logged for the trainer.")
        else:
            answered = len(training.answers)
            panel.trainee_label.setText(
                f"<b>{escape(training.trainee)}</b> · <b>{training.score}</b>/{training.max_score} correct")
            panel.trainee_label.setToolTip(f"{training.trainee}: {training.score} correct of {answered} "
                                           f"answered; {training.max_score} questions in this scenario.")

    # ----- window closing --------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.stop_playing()
            self._finish_training(auto_save=True)
        return False


def install(window) -> ScenarioPlayer:
    return ScenarioPlayer(window)
