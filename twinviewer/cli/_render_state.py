"""``twinviewer render --recording [--time]``: read the recording and the instant, then show the state.

``parse_time(text, start, end)`` reads the instant the user asked for: ISO 8601 (a zone or "Z" is exact,
a naive time is this computer's local time), epoch seconds, or an offset from the recording start such as
"+90s", "+1h30m", "+2d" (a leading "-" counts back from the end). ``load_recording(twin, path)`` imports a
recording for the twin (native Parquet as is; CSV with the project's ``[[sources]]`` recording settings
and column mapping; no path = the project's own recording source).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.session import Frame
from twinviewer.core.twin import Twin
from twinviewer.render.state_render import show_state

_OFFSET = re.compile(r"^([+-])\s*((?:\d+(?:\.\d*)?\s*[dhms]\s*)+)$", re.I)
_OFFSET_PART = re.compile(r"(\d+(?:\.\d*)?)\s*([dhms])", re.I)
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_time(text: str, start: float, end: float) -> float:
    """The epoch time (UTC seconds) that ``text`` names within a recording spanning ``[start, end]``."""
    text = text.strip()
    match = _OFFSET.match(text)
    if match:
        seconds = sum(float(v) * _UNIT_SECONDS[u.lower()] for v, u in _OFFSET_PART.findall(match.group(2)))
        t = start + seconds if match.group(1) == "+" else end - seconds
    else:
        try:
            t = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
            except ValueError:
                raise TwinViewerError(
                    f"--time {text!r}: use an ISO time (2020-03-09T10:30:00, …Z for UTC), epoch seconds, "
                    "or an offset from the start such as +90s or +1h30m") from None
            t = (moment if moment.tzinfo else moment.astimezone()).timestamp()
    if not math.isfinite(t):
        raise TwinViewerError(f"--time {text!r} is not a finite time")
    if not start <= t <= end:
        raise TwinViewerError(f"--time {text!r} is outside the recording ({_local(start)} → {_local(end)})")
    return t


def _local(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def load_recording(twin: Twin, path: str | Path | None, progress=None, cancel=None,
                   data_dir: str | Path | None = None):
    """``(store, report)`` of a recording for this twin; None = the project's own ``[[sources]]``
    recording (``data_dir`` replaces its ``${VAR}/`` folder, as ``--data-dir`` does)."""
    from twinviewer.io.importers import import_recording, import_source, recording_sources

    project = twin.project
    if path is None:
        return import_source(project, override_dir=data_dir, progress=progress, cancel=cancel)
    path = Path(path)
    if not path.exists():
        raise TwinViewerError(f"--recording {path}: no such file")
    periods = {s.id: s.expected_period_s for s in project.sensors}
    source = None
    if path.suffix.lower() not in (".parquet", ".pq", ".parq"):
        source = next(iter(recording_sources(project)), None)
    return import_recording(path, source=source, periods=periods, progress=progress, cancel=cancel)


def show_recording_state(view, recording: str | Path | None, time_text: str | None, overlay: str = "status",
                         labels: str | None = None, data_dir: str | Path | None = None) -> Frame:
    """CLI helper: load the recording, resolve ``--time`` (default: the start), show the state there."""
    store, _report = load_recording(view.twin, recording, data_dir=data_dir)
    span = store.time_range()
    if span is None:
        raise TwinViewerError(f"--recording {recording or 'of the project'}: the recording holds no samples")
    t = parse_time(time_text, *span) if time_text else span[0]
    return show_state(view, store, t, overlay, labels)
