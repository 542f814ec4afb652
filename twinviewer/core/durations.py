"""Durations as people write them in project and scenario files: seconds, or text like "2h", "90min"."""

from __future__ import annotations

import math
import re
from typing import Any

_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|min|d|h|m|s)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number (seconds) or text like "30d", "2h", "90min", "1h30min", "15s", "250ms"."""
    if isinstance(value, bool):
        raise ValueError(f"duration {value!r} is not a number of seconds or text like '2h', '30min', '30d'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        pos, seconds, matched = 0, 0.0, False
        while pos < len(text):
            match = _DURATION_PART.match(text, pos)
            if not match or match.end() == pos:
                break
            unit = match.group(2).lower() if match.group(2) else None
            seconds += float(match.group(1)) * _UNIT_SECONDS[unit]
            pos, matched = match.end(), True
        if not matched or pos != len(text):
            raise ValueError(
                f"duration {value!r} is not seconds or text like '2h', '30min', '1h30min', '30d'"
            )
    else:
        raise ValueError(f"duration {value!r} is not a number of seconds or text like '2h', '30min', '30d'")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration {value!r} must be a finite, non-negative time")
    return seconds
