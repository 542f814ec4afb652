"""How numbers and times are written for people: sensor values, durations, local timestamps."""

from __future__ import annotations

import math
from datetime import datetime


def format_number(value: float | None) -> str:
    """A sensor value with sensible precision for its size; '—' for no value."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_time(t: float, with_date: bool = True) -> str:
    """Epoch seconds (UTC) as local time."""
    if t is None or not math.isfinite(t):
        return "—"
    moment = datetime.fromtimestamp(t).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def format_duration(seconds: float) -> str:
    seconds = abs(float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"
    return f"{seconds // 86400:.0f} d {seconds % 86400 // 3600:.0f} h"


def format_length(metres: float) -> str:
    """A length in metres as mm below a metre, else m."""
    if metres < 1.0:
        return f"{metres * 1000:.1f} mm"
    return f"{metres:.3f} m"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """"1 part", "3 parts", "1,204 sensors": a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else (plural or noun + 's')}"
