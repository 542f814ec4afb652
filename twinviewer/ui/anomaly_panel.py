"""Anomaly detection and time to threshold in the window (Analysis menu, a timeline lane, part colours).

``install(window)`` (listed in ``PANEL_MODULES``) builds an :class:`AnomalyPanel` that

- adds Analysis → Train anomaly detector… (choose a range of normal running: the loop range, start →
  cursor, the whole recording or a custom span; training and scoring run off the GUI thread with progress
  and Cancel), Score with the saved detector, and Forget the detector;
- saves the trained model beside the project (``*.twin.anomaly.json``, docs/anomaly-detection.md) and uses
  it again whenever a recording of that project is loaded;
- sets ``session.anomaly`` (a Qt-free :class:`~twinviewer.core.anomaly_track.AnomalyTrack`): the overlay
  colours the parts whose sensors explain the anomaly "Anomalous" (purple) while it lasts;
- draws the score under the timeline ruler (purple where anomalous, a tick line at the limit), with the
  episode and its top sensors in the tooltip;
- adds sections to the part properties: the detector's view at the cursor, each sensor's time to
  threshold (core/time_to_threshold.py), and the asset's remaining useful life when a model from
  ``twinviewer rul --fit`` is attached (Analysis → Attach a remaining-useful-life model…, kept beside the
  project as ``*.twin.rul.json``); draws the dashed projection with its 80 % band in the charts.
"""

from __future__ import annotations

import html
import time

import numpy as np
from PySide6.QtCore import QDateTime, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
)

from twinviewer.core.anomaly import detector_sensors
from twinviewer.core.anomaly_track import AnomalyTrack
from twinviewer.core.current_session import CurrentSession
from twinviewer.core.errors import CancelledError
from twinviewer.core.formatting import counted, format_time
from twinviewer.core.time_to_threshold import estimate_trend
from twinviewer.ui.tasks import run_task

ANOMALY_COLOUR = QColor(142, 68, 173)
SCORE_COLOUR = QColor(90, 90, 110)
LIVE_UPDATE_S = 1.0
TREND_POINTS = 1500
PROJECTION_REFRESH_S = 0.5


class AnomalyLane:
    """The score under the timeline ruler: a grey line (log-scaled to the limit), purple where anomalous."""

    def __init__(self):
        self.track: AnomalyTrack | None = None
        self.revision = 0

    def set_track(self, track: AnomalyTrack | None) -> None:
        self.track = track
        self.revision += 1

    def paint(self, painter: QPainter, rect, v0: float, v1: float) -> None:
        track = self.track
        if track is None or not len(track.result.times):
            painter.setPen(QColor(140, 140, 140))
            font = painter.font()
            font.setPointSizeF(7.0)
            painter.setFont(font)
            painter.drawText(rect.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter,
                             "anomaly score: no detector (Analysis → Train anomaly detector…)")
            return
        r = track.result
        width = max(int(rect.width()), 1)
        edges = np.linspace(v0, v1, width + 1)
        index = np.searchsorted(r.times, edges[:-1], side="left")
        stop = np.searchsorted(r.times, edges[1:], side="right")
        has = stop > index
        # per pixel column: the highest score and whether anything in it was anomalous
        peak = np.full(width, np.nan)
        flagged = np.zeros(width, dtype=bool)
        score, flags = r.score, r.anomaly.astype(bool)
        starts = np.flatnonzero(has)
        if starts.size:
            peak[starts] = [score[a:b].max() for a, b in zip(index[starts], stop[starts], strict=True)]
            flagged[starts] = [flags[a:b].any() for a, b in zip(index[starts], stop[starts], strict=True)]
        # height: log of score / limit, the limit at mid-height, 100 × limit at the top
        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.clip(0.5 + np.log10(np.maximum(peak, 1e-12) / r.limit) / 4.0, 0.0, 1.0)
        painter.setPen(QPen(QColor(142, 68, 173, 90), 1, Qt.PenStyle.DotLine))
        mid = rect.top() + rect.height() * 0.5
        painter.drawLine(rect.left(), mid, rect.right(), mid)
        for x in np.flatnonzero(flagged):
            painter.fillRect(int(rect.left() + x), int(rect.top()), 1, int(rect.height()), QColor(142, 68, 173, 150))
        points = [(rect.left() + x, rect.bottom() - level[x] * rect.height()) for x in np.flatnonzero(has)]
        if points:
            painter.setPen(QPen(SCORE_COLOUR, 1))
            painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in points]))

    def tooltip(self, t: float) -> str:
        track = self.track
        if track is None:
            return ""
        for episode in track.episodes:
            if episode.start <= t <= episode.end:
                return f"{format_time(episode.start)} → {format_time(episode.end)}: {episode.describe()}"
        now = track.at(t)
        if now is None:
            return ""
        return f"anomaly score {now.score:.3g} (limit {track.result.limit:.3g}) at {format_time(now.t)}"


class TrainDialog(QDialog):
    """Which span of the recording is normal running: the loop range, start → cursor, all, or custom."""

    def __init__(self, parent, start: float, end: float, cursor: float, loop: tuple[float, float] | None):
        super().__init__(parent)
        self.setWindowTitle("Train anomaly detector")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Learn normal behaviour from a span of this recording where the machine ran "
                                "normally.\nEverything is then scored against it; the model is saved beside "
                                "the project.\nLonger is better: an hour or more lets slow sensors (temperatures) "
                                "show their normal range."))
        self.group = QButtonGroup(self)
        self.options: dict[str, tuple[float, float]] = {}
        grid = QGridLayout()
        choices = []
        if loop is not None:
            choices.append(("loop", f"The loop range ({format_time(loop[0])} → {format_time(loop[1])})", loop))
        if cursor > start:
            choices.append(("cursor", f"From the start to the cursor ({format_time(cursor)})", (start, cursor)))
        choices.append(("all", "The whole recording", (start, end)))
        for row, (key, text, span) in enumerate(choices):
            button = QRadioButton(text)
            button.setObjectName(key)
            self.group.addButton(button)
            self.options[key] = span
            grid.addWidget(button, row, 0, 1, 3)
        custom = QRadioButton("From")
        custom.setObjectName("custom")
        self.group.addButton(custom)
        self.from_edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(start)))
        self.to_edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(min(end, start + (end - start) / 4))))
        for edit in (self.from_edit, self.to_edit):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
            edit.setDateTimeRange(QDateTime.fromSecsSinceEpoch(int(start)), QDateTime.fromSecsSinceEpoch(int(end) + 1))
            edit.dateTimeChanged.connect(lambda _v: custom.setChecked(True))
        row = len(choices)
        grid.addWidget(custom, row, 0)
        grid.addWidget(self.from_edit, row, 1)
        grid.addWidget(QLabel("to"), row + 1, 0, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.to_edit, row + 1, 1)
        layout.addLayout(grid)
        self.adapt_box = QCheckBox("Follow slow drift (a baseline that moves while the score is normal)")
        self.adapt_box.setObjectName("adapt")
        self.adapt_box.setToolTip("Fewer false alarms when the machine wanders further than the training span "
                                  "showed;\nbut a fault that grows as slowly (a bearing warming over hours) is "
                                  "learned as normal too.")
        layout.addWidget(self.adapt_box)
        self.group.buttons()[0].setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Train")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def choose(self, key: str) -> None:
        for button in self.group.buttons():
            if button.objectName() == key:
                button.setChecked(True)

    def span(self) -> tuple[float, float]:
        key = self.group.checkedButton().objectName()
        if key == "custom":
            return float(self.from_edit.dateTime().toSecsSinceEpoch()), float(self.to_edit.dateTime().toSecsSinceEpoch())
        return self.options[key]


class AnomalyPanel(QObject):
    def __init__(self, window, current: CurrentSession):
        super().__init__(window)
        self.window = window
        self.current = current  # the open twin and session, and their signals
        self.model = None  # the DetectorModel of the open project (trained or loaded)
        self.task = None
        self.lane = AnomalyLane()
        self._live_checked = 0.0
        self._projection_at = 0.0
        self._projection_items: dict[str, list] = {}
        menu = window.menu("&Analysis")
        self.train_action = menu.addAction("&Train anomaly detector…", self.train_dialog)
        self.score_action = menu.addAction("&Score with the saved detector", self.score_with_saved)
        self.forget_action = menu.addAction("&Forget the detector", self.forget)
        menu.addSeparator()
        self.rul_action = menu.addAction("Attach a remaining-useful-life &model…", self.attach_rul_dialog)
        self.rul_model = None  # a RulModel attached to the project's asset (``*.twin.rul.json`` beside it)
        self._rul_cache: tuple | None = None
        self.menu = menu
        menu.aboutToShow.connect(self._sync_actions)  # live data may have arrived since the last check
        recording = getattr(window, "panels", {}).get("recording_panel")
        self.timeline = recording.timeline if recording is not None else None
        self.charts = recording.charts if recording is not None else None
        if self.timeline is not None:
            self.timeline.track.add_lane(self.lane)
        sections = getattr(window.properties, "sections", None)
        if sections is not None:
            sections.append(self.properties_html)
        window.twin_opened.connect(self._twin_opened)
        current.recording_changed.connect(self._recording_loaded)
        window.frame_shown.connect(self._frame_shown)
        self._sync_actions()

    # ----- state -----------------------------------------------------------------------------------------
    def _model_file(self):
        from twinviewer.io.anomaly_model import model_path

        twin = self.current.twin
        return model_path(twin.path) if twin is not None and not twin.is_raw_mesh else None

    def _sync_actions(self) -> None:
        session = self.current.session
        has_data = session is not None and session.has_data
        path = self._model_file()
        self.train_action.setEnabled(has_data)
        self.rul_action.setEnabled(self._rul_file() is not None)
        self.score_action.setEnabled(has_data and path is not None and path.is_file())
        self.forget_action.setEnabled(self.model is not None or (path is not None and path.is_file()))

    def _twin_opened(self, _twin) -> None:
        self.model = None
        self.rul_model = None
        self._rul_cache = None
        self._set_track(None)
        rul_file = self._rul_file()
        if rul_file is not None and rul_file.is_file():
            from twinviewer.io.rul_files import load_rul_model

            try:
                self.rul_model = load_rul_model(rul_file)
            except Exception as exc:
                self.window.show_status(f"Remaining-useful-life model not loaded: {exc}")
        path = self._model_file()
        if path is not None and path.is_file():
            self._load_saved(path, quiet=True)
        self._sync_actions()

    def _load_saved(self, path, quiet: bool = False) -> bool:
        from twinviewer.io.anomaly_model import load_model

        try:
            self.model = load_model(path)
        except Exception as exc:  # a broken model file is reported, never fatal
            self.model = None
            if not quiet:
                self.window.show_error("Anomaly detector", str(exc))
            else:
                self.window.show_status(f"Anomaly detector not loaded: {exc}")
            return False
        return True

    def _recording_loaded(self, session) -> None:
        self._set_track(None)
        self._sync_actions()
        if self.model is not None and session.has_data:
            self._score(self.model, session, show_dialog=False)

    def _set_track(self, track) -> None:
        session = self.current.session
        if session is not None:
            session.anomaly = track
            session.invalidate()
        self.lane.set_track(track)
        if self.timeline is not None:
            self.timeline.track.update()
        self._clear_projections()

    # ----- actions ---------------------------------------------------------------------------------------
    def train_dialog(self, key: str | None = None, accept: bool = False) -> TrainDialog | None:
        """Ask for the normal span and train; ``key``/``accept`` let tests drive the dialog."""
        session = self.current.session
        if session is None or not session.has_data:
            return None
        clock = session.clock
        dialog = TrainDialog(self.window, clock.start, clock.end, clock.t, clock.loop)
        if key is not None:
            dialog.choose(key)
        if accept or dialog.exec() == QDialog.DialogCode.Accepted:
            self.train(*dialog.span(), adapt=dialog.adapt_box.isChecked())
        return dialog

    def train(self, t0: float, t1: float, show_dialog: bool = True, adapt: bool = False):
        window = self.window
        session = self.current.session
        if session is None or not session.has_data:
            return None
        if t1 <= t0:
            window.show_error("Anomaly detector", "The training span must end after it starts.")
            return None
        project_sensors = [s.id for s in session.project.sensors]
        sensors = detector_sensors(session.store, project_sensors)
        store = session.store
        path = self._model_file()

        def work(progress, cancelled):
            return AnomalyTrack.train(store, sensors, t0, t1, progress, cancelled, adapt=adapt)

        def done(track) -> None:
            if self.current.session is not session:
                return
            self.model = track.model
            saved = ""
            if path is not None:
                from twinviewer.io.anomaly_model import save_model

                try:
                    save_model(path, track.model)
                    saved = f"; saved to {path.name}"
                except Exception as exc:
                    saved = f"; not saved ({exc})"
            self._set_track(track)
            self._sync_actions()
            window.refresh_now()
            window.show_status(f"Anomaly detector trained on {format_time(t0)} → {format_time(t1)} "
                               f"({track.model.train_rows:,} timestamps, {len(sensors)} sensors): "
                               f"{counted(len(track.episodes), 'anomaly episode')}{saved}")

        self.task = run_task(window, "Training the anomaly detector", work, done, self._failed, show_dialog)
        return self.task

    def score_with_saved(self) -> None:
        path = self._model_file()
        session = self.current.session
        if path is None or session is None or not self._load_saved(path):
            return
        self._score(self.model, session, show_dialog=True)
        self._sync_actions()

    def _score(self, model, session, show_dialog: bool):
        missing = [s for s in model.sensors if not session.store.has(s)]
        if missing:
            self.window.show_status(f"Anomaly detector not applied: the recording has no {', '.join(missing)}")
            return None
        store = session.store
        window = self.window

        def work(progress, cancelled):
            return AnomalyTrack.score_store(model, store, progress, cancelled)

        def done(track) -> None:
            if self.current.session is session and session.store is store:
                self._set_track(track)
                window.refresh_now()
                window.show_status(f"Anomaly detector: {counted(len(track.episodes), 'anomaly episode')} in this recording")

        self.task = run_task(window, "Scoring with the anomaly detector", work, done, self._failed, show_dialog)
        return self.task

    def _failed(self, exc: BaseException, _details: str) -> None:
        if isinstance(exc, CancelledError):
            self.window.show_status("Anomaly detection cancelled")
            return
        self.window.show_error("Anomaly detector", str(exc))

    def forget(self) -> None:
        path = self._model_file()
        if path is not None and path.is_file():
            answer = QMessageBox.question(self.window, "Forget the detector",
                                          f"Delete the saved anomaly detector {path.name}?")
            if answer != QMessageBox.StandardButton.Yes:
                return
            path.unlink(missing_ok=True)
        self.model = None
        self._set_track(None)
        self._sync_actions()
        self.window.refresh_now()

    # ----- remaining useful life -----------------------------------------------------------------------
    def _rul_file(self):
        from twinviewer.io.rul_files import rul_model_path

        twin = self.current.twin
        return rul_model_path(twin.path) if twin is not None and not twin.is_raw_mesh else None

    def attach_rul_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self.window, "Attach a remaining-useful-life model", "",
                                              "RUL model (*.json);;All files (*)")
        if path:
            self.attach_rul(path)

    def attach_rul(self, path) -> bool:
        """Validate the model file (from ``twinviewer rul --fit``) and keep a copy beside the project."""
        from twinviewer.io.rul_files import load_rul_model, save_rul_model

        target = self._rul_file()
        try:
            model = load_rul_model(path)
            if target is not None:
                save_rul_model(target, model)
        except Exception as exc:
            self.window.show_error("Remaining useful life", str(exc))
            return False
        self.rul_model = model
        self._rul_cache = None
        session = self.current.session
        missing = [s for s in model.sensors if session is None or not session.store.has(s)]
        note = f"; this recording has no {', '.join(missing[:4])}" if missing else ""
        self.window.show_status(f"Remaining-useful-life model attached ({len(model.sensors)} sensors){note}")
        self.window.refresh_now()
        return True

    def rul_at(self, t: float) -> float | None:
        """The model's remaining life (cycles = samples) at ``t`` from the history so far, None if it cannot."""
        from twinviewer.core.anomaly import store_matrix

        session = self.current.session
        model = self.rul_model
        if model is None or session is None or not all(session.store.has(s) for s in model.sensors):
            return None
        key = (id(session.store), session.store.version, id(model))
        if self._rul_cache is None or self._rul_cache[0] != key:
            times, values = store_matrix(session.store, model.sensors)
            self._rul_cache = (key, times, model.predict_unit(values) if len(times) else np.empty(0))
        _, times, estimates = self._rul_cache
        i = int(np.searchsorted(times, t, side="right")) - 1
        return float(estimates[i]) if i >= 0 else None

    # ----- per frame -------------------------------------------------------------------------------------
    def _frame_shown(self, frame) -> None:
        session = self.current.session
        if session is None:
            return
        track = session.anomaly
        now = time.monotonic()
        if session.sources and self.model is not None and now - self._live_checked > LIVE_UPDATE_S:
            self._live_checked = now
            if track is None:
                # live data: start scoring once every sensor of the model has arrived
                if all(session.store.has(s) and session.store.sensor_time_range(s) for s in self.model.sensors):
                    self._set_track(AnomalyTrack.score_store(self.model, session.store))
            elif track.update(session.store):
                self.lane.revision += 1
        if self.charts is not None and now - self._projection_at > PROJECTION_REFRESH_S:
            self._projection_at = now
            self.update_projections(frame.t)

    # ----- time to threshold ----------------------------------------------------------------------------
    def trend(self, sensor, t: float):
        """The trend estimate of one sensor at ``t`` from its history so far (None without data)."""
        session = self.current.session
        if session is None or not session.store.has(sensor.id):
            return None
        span = session.store.sensor_time_range(sensor.id)
        if span is None or t <= span[0]:
            return None
        times, vmin, vmax = session.store.window(sensor.id, span[0], t, max_points=TREND_POINTS)
        with np.errstate(invalid="ignore"):
            middle = (vmin + vmax) * 0.5
        return estimate_trend(times, middle, sensor.thresholds, t_now=t)

    def _clear_projections(self) -> None:
        for sensor_id, items in self._projection_items.items():
            row = self.charts.rows.get(sensor_id) if self.charts is not None else None
            for item in items:
                if row is not None:
                    row.plot.removeItem(item)
        self._projection_items.clear()

    def update_projections(self, t: float) -> None:
        """Dashed projection and 80 % band to the limits in each chart whose sensor trends towards one."""
        self._clear_projections()
        if self.charts is None or self.current.session is None:
            return
        for sensor_id, row in self.charts.rows.items():
            estimate = self.trend(row.sensor, t)
            if estimate is None or not estimate.crossings:
                continue
            last = estimate.crossings[-1]
            horizon = last.late_s if last.late_s is not None else 2 * last.eta_s
            times, centre, low, high = estimate.projection(horizon)
            import pyqtgraph as pg  # loaded with the charts, not at start-up

            band_low = pg.PlotDataItem(times, low, pen=pg.mkPen(None))
            band_high = pg.PlotDataItem(times, high, pen=pg.mkPen(None))
            band = pg.FillBetweenItem(band_low, band_high, brush=pg.mkBrush(142, 68, 173, 45))
            line = pg.PlotDataItem(times, centre, pen=pg.mkPen(ANOMALY_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
            items = [band_low, band_high, band, line]
            for item in items:
                row.plot.addItem(item, ignoreBounds=True)
            self._projection_items[sensor_id] = items

    # ----- properties -----------------------------------------------------------------------------------
    def properties_html(self, project, part_name: str) -> str:
        session = self.current.session
        if session is None or not session.has_data:
            return ""
        t = session.clock.t
        sensors = project.sensors_of_part(part_name)
        body = []
        if self.rul_model is not None:
            rul = self.rul_at(t)
            text = (f"about {rul:.0f} cycles (samples) left at the cursor" if rul is not None else
                    "no estimate: the recording lacks the model's sensors "
                    f"({', '.join(self.rul_model.sensors[:6])}…)")
            if rul is not None and rul >= self.rul_model.cap:
                text = f"{self.rul_model.cap:.0f} cycles or more (no sign of wear yet)"
            body.append(f"<p><b>Remaining useful life of {html.escape(project.asset.name)}</b><br>{text}</p>")
        track = session.anomaly
        if track is not None:
            now = track.at(t)
            if now is not None:
                mine = {s.id for s in sensors}
                share = sum(w for name, w in now.top if name in mine)
                state = "<b style='color:#8e44ad'>anomalous</b>" if now.anomalous else "normal"
                text = f"score {now.score:.3g} (limit {track.result.limit:.3g}): {state}"
                if now.anomalous and now.top:
                    names = ", ".join(f"{html.escape(n)} {100 * w:.0f} %" for n, w in now.top)
                    text += f"<br>explained by {names}"
                    if share:
                        text += f"<br>this part's sensors carry {100 * share:.0f} % of it"
                body.append(f"<p><b>Anomaly detector</b><br>{text}</p>")
        lines = []
        for sensor in sensors:
            estimate = self.trend(sensor, t)
            if estimate is None:
                continue
            lines.append(f"<tr><td>{html.escape(sensor.id)}</td><td>{html.escape(estimate.describe())}</td></tr>")
        if lines:
            body.append("<p><b>Time to threshold</b></p><table cellspacing=3>" + "".join(lines) + "</table>")
        return "".join(body)


def install(window) -> AnomalyPanel:
    return AnomalyPanel(window, window.current)
