"""Trainee mode widgets: question cards, the trainee's name, and the end-of-session summary.

A :class:`QuestionCard` shows one question of a scenario step. In trainee mode it asks: radio buttons and
Submit for multiple choice, or "Click the part in the 3D view…" for click-the-failing-part (the scenario
player routes the next click on a part to it); once answered it shows correct / incorrect and the
explanation. Outside trainee mode (a trainer presenting, or self-study) it shows the question with its
answer and explanation. Scoring and timing live in :class:`twinviewer.core.scenario.TrainingSession`.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.scenario import AnswerRecord, ChoiceQuestion, PartQuestion, TrainingSession

CORRECT_COLOUR = "#1e7b34"
WRONG_COLOUR = "#b3261e"
WAITING_COLOUR = "#8a5a00"
CARD_STYLE = """
QFrame#questionCard { background: #ffffff; border: 1px solid #c9d1db; border-radius: 6px; }
QFrame#questionCard[state="correct"] { border: 2px solid #1e7b34; background: #f3faf4; }
QFrame#questionCard[state="wrong"] { border: 2px solid #b3261e; background: #fdf4f3; }
QFrame#questionCard[state="waiting"] { border: 2px solid #e08a00; background: #fffaf0; }
"""


def ask_trainee_name(parent: QWidget, suggestion: str = "") -> str | None:
    """The trainee's name (asked once per trainee mode); None when cancelled or left empty."""
    name, ok = QInputDialog.getText(parent, "Trainee mode", "Trainee's name (written into the training log):",
                                    text=suggestion)
    name = name.strip()
    return name if ok and name else None


class _ClickableLabel(QLabel):
    """A wrapping choice text that ticks its radio button when clicked."""

    def __init__(self, text: str, radio: QRadioButton):
        super().__init__(text)
        self.radio = radio
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.radio.isEnabled():
            self.radio.setChecked(True)
        super().mousePressEvent(event)

    def mark(self, colour: str, *, bold: bool = False, strike: bool = False) -> None:
        self.setCursor(Qt.CursorShape.ArrowCursor)
        decoration = "line-through" if strike else "none"
        self.setStyleSheet(f"QLabel {{ color: {colour}; font-weight: {'bold' if bold else 'normal'}; "
                           f"text-decoration: {decoration}; }}")


class QuestionCard(QFrame):
    """One question of the current step. Emits ``answered(given)`` with a choice index; part answers come
    from the 3D view through :meth:`ScenarioPlayer.answer`."""

    answered = Signal(object)

    def __init__(self, step: int, index: int, question: ChoiceQuestion | PartQuestion, *, number: int,
                 of: int, trainee: bool, record: AnswerRecord | None, part_label=lambda name: name,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.step, self.index, self.question = step, index, question
        self.trainee = trainee
        self._part_label = part_label
        self.setObjectName("questionCard")
        self.setStyleSheet(CARD_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        kind = "Multiple choice" if isinstance(question, ChoiceQuestion) else "Click the part"
        head = QLabel(f"<span style='color:#5a6675'>QUESTION {number} OF {of} · {kind.upper()}</span>")
        head.setTextFormat(Qt.TextFormat.RichText)
        small = head.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)
        head.setFont(small)
        layout.addWidget(head)
        self.prompt = QLabel(f"<b>{escape(question.prompt)}</b>")
        self.prompt.setWordWrap(True)
        self.prompt.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.prompt)
        self.choice_group = QButtonGroup(self)
        self.radios: list[QRadioButton] = []
        self.submit_button: QPushButton | None = None
        self.waiting_label: QLabel | None = None
        self.choice_labels: list[QLabel] = []
        if isinstance(question, ChoiceQuestion):
            for i, text in enumerate(question.choices):
                # A radio button does not wrap its text: the text is a label beside it that wraps.
                row = QHBoxLayout()
                row.setSpacing(6)
                radio = QRadioButton()
                radio.setAccessibleName(text)
                label = _ClickableLabel(text, radio)
                self.choice_group.addButton(radio, i)
                self.radios.append(radio)
                self.choice_labels.append(label)
                row.addWidget(radio, 0, Qt.AlignmentFlag.AlignTop)
                row.addWidget(label, 1)
                layout.addLayout(row)
            if trainee:
                row = QHBoxLayout()
                row.addStretch(1)
                self.submit_button = QPushButton("Submit answer")
                self.submit_button.setEnabled(False)
                self.submit_button.setDefault(True)
                self.submit_button.clicked.connect(self._submit)
                self.choice_group.idToggled.connect(lambda _id,
                                                    on: on and self.submit_button.setEnabled(True))
                row.addWidget(self.submit_button)
                layout.addLayout(row)
        else:
            self.waiting_label = QLabel()
            self.waiting_label.setWordWrap(True)
            self.waiting_label.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(self.waiting_label)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.hide()
        layout.addWidget(self.result)
        if record is not None:
            self.show_result(record)
        elif not trainee:
            self._show_answer_key()
        else:
            self._set_state("waiting" if isinstance(question, PartQuestion) else "")
            if self.waiting_label is not None:
                self.waiting_label.setText(f"<span style='color:{WAITING_COLOUR}'>&#9654; <b>Click the part "
                                           "in the "
                                           "3D view…</b> (drag to turn the model; a click on a part is your "
                                           "answer)</span>")

    @property
    def is_part_question(self) -> bool:
        return isinstance(self.question, PartQuestion)

    def _set_state(self, state: str) -> None:
        self.setProperty("state", state)
        self.style().unpolish(self)
        self.style().polish(self)

    def _submit(self) -> None:
        chosen = self.choice_group.checkedId()
        if chosen >= 0:
            self.answered.emit(chosen)

    def choose(self, index: int) -> None:
        """Tick a choice as the trainee would (tests, keyboard)."""
        self.radios[index].setChecked(True)

    def _answer_text(self) -> str:
        if isinstance(self.question, ChoiceQuestion):
            return escape(self.question.correct_text)
        return " or ".join(escape(self._part_label(p)) for p in self.question.answer)

    def _explanation(self) -> str:
        return f"<br><span style='color:#333'>{escape(self.question.explanation)}</span>" \
            if self.question.explanation else ""

    def _show_answer_key(self) -> None:
        """Trainer's view: the answer and why, with nothing to submit."""
        for i, radio in enumerate(self.radios):
            radio.setEnabled(False)
            if isinstance(self.question, ChoiceQuestion) and i == self.question.answer:
                radio.setChecked(True)
                self.choice_labels[i].mark(CORRECT_COLOUR, bold=True)
        if self.waiting_label is not None:
            self.waiting_label.hide()
        self.result.setText(f"<span style='color:{CORRECT_COLOUR}'><b>Answer:</b> "
                            f"{self._answer_text()}</span>"
                            f"{self._explanation()}")
        self.result.show()

    def show_result(self, record: AnswerRecord) -> None:
        """After the answer: right or wrong, the expected answer, the explanation and the time taken."""
        for i, radio in enumerate(self.radios):
            radio.setEnabled(False)
            if isinstance(self.question, ChoiceQuestion) and i == self.question.answer:
                self.choice_labels[i].mark(CORRECT_COLOUR, bold=True)
            if isinstance(self.question, ChoiceQuestion) and self.question.choices[i] == record.given:
                radio.setChecked(True)
                if not record.correct:
                    self.choice_labels[i].mark(WRONG_COLOUR, strike=True)
        if self.submit_button is not None:
            self.submit_button.hide()
        if self.waiting_label is not None:
            self.waiting_label.setText(f"You clicked <b>{escape(self._part_label(record.given))}</b>.")
        if record.correct:
            verdict = f"<span style='color:{CORRECT_COLOUR}; font-size:large'><b>&#10004; Correct</b></span>"
        else:
            verdict = (f"<span style='color:{WRONG_COLOUR}; font-size:large'><b>&#10008; Not quite</b></span>"
                       f" — the answer is <b>{self._answer_text()}</b>")
        self.result.setText(f"{verdict} <span style='color:#6b7684'>({record.time_taken_s:.0f} s)</span>"
                            f"{self._explanation()}")
        self.result.show()
        self._set_state("correct" if record.correct else "wrong")


class SessionSummary(QDialog):
    """End of a training session: score, each answer, and where the log was written."""

    def __init__(self, session: TrainingSession, saved: tuple | None, parent: QWidget | None = None,
                 on_save_copy=None, part_label=lambda name: name):
        super().__init__(parent)
        self.setWindowTitle("Training session complete")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 460)
        layout = QVBoxLayout(self)
        share = session.score / session.max_score if session.max_score else 0.0
        colour = CORRECT_COLOUR if share >= 0.75 else (WAITING_COLOUR if share >= 0.5 else WRONG_COLOUR)
        head = QLabel(f"<div style='font-size:x-large'><b>{escape(session.trainee)}</b> — "
                      f"<span style='color:{colour}'>{session.score} of {session.max_score} correct "
                      f"({share:.0%})</span></div><div "
                      f"style='color:#5a6675'>{escape(session.scenario.title)}</div>")
        head.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(head)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Step", "Question", "Answer", "Time"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for i, j, question in session.questions:
            record = session.answers.get((i, j))
            row = self.table.rowCount()
            self.table.insertRow(row)
            given = "" if record is None else (part_label(record.given) if record.kind == "click_part"
                                               else record.given)
            mark = "—" if record is None else ("✔ " if record.correct else "✘ ") + given
            cells = [session.scenario.steps[i].title, question.prompt, mark,
                     "" if record is None else f"{record.time_taken_s:.0f} s"]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 2 and record is not None:
                    item.setForeground(Qt.GlobalColor.darkGreen if record.correct else Qt.GlobalColor.darkRed)
                    if not record.correct:
                        expected = (" or ".join(part_label(p) for p in question.answer)
                                    if record.kind == "click_part" else record.expected)
                        item.setToolTip(f"Given: {given}\nExpected: {expected}")
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(0, 170)
        self.table.setColumnWidth(2, 200)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table, 1)
        where = QLabel("The log was not saved." if not saved else
                       f"Log saved for the trainer: <code>{escape(str(saved[0]))}</code> and "
                       "<code>.csv</code>")
        where.setTextFormat(Qt.TextFormat.RichText)
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        if on_save_copy is not None:
            copy = buttons.addButton("Save a copy…", QDialogButtonBox.ButtonRole.ActionRole)
            copy.clicked.connect(on_save_copy)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
