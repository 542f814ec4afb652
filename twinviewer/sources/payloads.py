"""Parsing live message payloads (MQTT, and any text feed) into timestamped samples.

Forms (see ``MqttTopic.payload``):

- ``number``: the payload is a plain number as text (``71.25``); the time is the arrival time.
- ``json``: a number, an object ``{"t": .., "v": .., "seq": ..}`` (``t`` epoch seconds, milliseconds or an ISO
  string; missing ``t`` means arrival time), a batch list of ``[t, v]`` pairs or of such objects, or an object
  ``{"seq": .., "samples": [[t, v], ...]}``.
- ``json_dict``: an object mapping sensor ids to values (numbers or ``{"t", "v"}`` objects), optionally found
  under a dotted ``json_path`` (``data.values``), with an optional shared ``t`` beside or inside it; a list of
  such objects is a batch.

Every problem is a :class:`PayloadError` with a ``kind`` from :data:`PROBLEM_KINDS`, so the source can count
problems per kind and show the user a few examples. Items of a batch that are wrong are reported one by one
and the good items are still delivered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.timerange import RANGE_TEXT, time_ok, times_ok

_fast_loads: Callable[[bytes], Any] | None
try:  # ten times faster than the standard parser on number batches; the standard one is the fallback
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, but a missing wheel must not stop live data
    _fast_loads = None

_NUMBERS = (int, float)

PROBLEM_KINDS = {
    "not_a_number": "value is not a number",
    "bad_json": "payload is not valid JSON or has an unexpected shape",
    "not_finite": "value is NaN or infinite",
    "too_large": "payload is larger than the size limit",
    "bad_time": "timestamp cannot be read",
    "unknown_topic": "topic matches no configured mapping",
    "unknown_sensor": "sensor id is not in the project",
    "bad_status": "the server reported a bad status code",
    "unknown_node": "the OPC UA node does not exist on the server",
    "internal": "unexpected error while handling a message",
}

TIME_KEYS = ("t", "time", "ts", "timestamp")
VALUE_KEYS = ("v", "value", "val")
RESERVED_KEYS = frozenset((*TIME_KEYS, "seq", "pub", "publisher"))


class PayloadError(TwinViewerError):
    """A payload (or one item of it) that cannot be turned into a sample; ``kind`` is a PROBLEM_KINDS key."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


@dataclass
class ParsedPayload:
    """Samples of one message. ``sensors`` is None when every sample belongs to the topic's own sensor."""

    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    sensors: list[str] | None = None
    seqs: list[int] = field(default_factory=list)
    publisher: str | None = None
    problems: list[PayloadError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.times)


def parse_time(raw: Any, arrival: float) -> float:
    """Epoch seconds/milliseconds/microseconds/nanoseconds or an ISO 8601 string → epoch seconds (UTC).

    ``None`` means the arrival time. A naive ISO time is taken as UTC. Every time must fall inside the one
    valid range (:mod:`twinviewer.core.timerange`), whatever form it came in.
    """
    if raw is None:
        return arrival
    if isinstance(raw, bool):
        raise PayloadError("bad_time", f"timestamp {raw!r} is a boolean")
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = float(text)
        except ValueError:
            try:
                stamp = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
                if stamp.tzinfo is None:
                    stamp = stamp.replace(tzinfo=timezone.utc)
                t = stamp.timestamp()
            except (ValueError, OverflowError):
                raise PayloadError("bad_time", f"timestamp {raw[:40]!r} is neither a number nor ISO 8601") from None
            if not time_ok(t):
                raise PayloadError("bad_time", f"timestamp {raw[:40]!r} is outside {RANGE_TEXT}") from None
            return t
    if not isinstance(raw, (int, float)):
        raise PayloadError("bad_time", f"timestamp {_short(raw, 40)} is not a number or a string")
    try:
        t = float(raw)
    except OverflowError:
        raise PayloadError("bad_time", f"timestamp {_short(raw, 40)} is too large to be a time") from None
    if not math.isfinite(t) or t < 0:
        raise PayloadError("bad_time", f"timestamp {_short(raw, 40)} is not a finite positive time")
    if t < 1e11:  # seconds (up to the year 5138)
        seconds = t
    elif t < 1e14:
        seconds = t / 1e3
    elif t < 1e17:
        seconds = t / 1e6
    else:
        seconds = t / 1e9
    if not time_ok(seconds):
        raise PayloadError("bad_time", f"timestamp {_short(raw, 40)} is outside {RANGE_TEXT}")
    return seconds


def parse_value(raw: Any) -> float:
    """A JSON value (number, numeric string or boolean) → finite float."""
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, (int, float)):
        try:
            value = float(raw)
        except OverflowError:  # an integer of hundreds of digits
            raise PayloadError("not_finite", f"value {_short(raw, 40)} is too large for a number") from None
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise PayloadError("not_a_number", f"value {raw[:40]!r} is not a number") from None
    else:
        raise PayloadError("not_a_number", f"value {_short(raw)} is not a number")
    if not math.isfinite(value):
        raise PayloadError("not_finite", f"value {raw!r} is not finite")
    return value


def parse_number_text(payload: bytes) -> float:
    """The ``number`` form: ASCII text of one number."""
    try:
        text = payload.decode("ascii").strip()
        value = float(text)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("not_a_number", f"payload {_short_bytes(payload)} is not a number") from None
    if not math.isfinite(value):
        raise PayloadError("not_finite", f"payload {text!r} is not finite")
    return value


def decode_json(payload: bytes) -> Any:
    if _fast_loads is not None:
        try:
            return _fast_loads(payload)
        except Exception:  # noqa: BLE001 - NaN, huge integers, deep nesting, bad UTF-8: the standard parser decides
            pass
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("bad_json", f"payload {_short_bytes(payload)} is not valid JSON") from None
    except RecursionError:
        raise PayloadError("bad_json", f"payload {_short_bytes(payload)} is nested too deeply") from None


def follow_path(document: Any, json_path: str | None) -> Any:
    """``data.values`` or ``items.0.v``: walk objects by key and lists by index."""
    if not json_path:
        return document
    node = document
    for key in json_path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node):
            node = node[int(key)]
        else:
            raise PayloadError("bad_json",
                               f"JSON path {json_path!r} not found in the payload (stopped at {key!r})")
    return node


def parse_payload(payload: bytes, form: str, arrival: float, *, json_path: str | None = None,
                  max_bytes: int | None = None) -> ParsedPayload:
    """Parse one message. Raises PayloadError when nothing in it is usable; partial problems are in
    ``result.problems``."""
    if max_bytes is not None and len(payload) > max_bytes:
        raise PayloadError("too_large",
                           f"payload of {len(payload):,} bytes exceeds the limit of {max_bytes:,} bytes")
    result = ParsedPayload()
    if form == "number":
        result.times.append(arrival)
        result.values.append(parse_number_text(payload))
        return result
    document = decode_json(payload)
    if form == "json":
        _parse_json_form(follow_path(document, json_path), arrival, result)
    elif form == "json_dict":
        _parse_dict_form(document, json_path, arrival, result)
    else:
        raise ValueError(f"unknown payload form {form!r}")
    if not result.times and result.problems:
        first = result.problems[0]
        if len(result.problems) == 1:
            raise first
        raise PayloadError(first.kind,
                           f"{first} (and {len(result.problems) - 1} more problems, no usable value)")
    return result


def _parse_json_form(node: Any, arrival: float, result: ParsedPayload) -> None:
    if isinstance(node, dict):
        _take_envelope(node, result)
        if "samples" in node:
            items = node["samples"]
            if not isinstance(items, list):
                raise PayloadError("bad_json", "'samples' must be a list of [t, v] pairs or objects")
            _parse_batch(items, arrival, result)
            return
        t, v = _time_value_of(node, arrival)
        result.times.append(t)
        result.values.append(v)
        return
    if isinstance(node, list):
        _parse_batch(node, arrival, result)
        return
    result.times.append(arrival)
    result.values.append(parse_value(node))


def _take_envelope(node: dict[str, Any], result: ParsedPayload) -> None:
    seq = node.get("seq")
    if seq is not None:
        if isinstance(seq, int) and not isinstance(seq, bool):
            result.seqs.append(seq)
        else:
            result.problems.append(PayloadError("bad_json", f"'seq' {_short(seq)} is not an integer"))
    publisher = node.get("pub", node.get("publisher"))
    if publisher is not None:
        result.publisher = str(publisher)


def _time_value_of(node: dict[str, Any], arrival: float) -> tuple[float, float]:
    for key in VALUE_KEYS:
        if key in node:
            raw_value = node[key]
            break
    else:
        raise PayloadError("bad_json", f"object {_short(node)} has no 'v' (or 'value') key")
    raw_time = next((node[k] for k in TIME_KEYS if k in node), None)
    value = parse_value(raw_value)
    return parse_time(raw_time, arrival), value


def _parse_pairs_fast(items: list[Any], result: ParsedPayload) -> bool:
    """A batch of ``[t, v]`` number pairs, every time valid and every value finite, in one vectorised step
    (the same rules as :func:`parse_time` and :func:`parse_value`); False leaves it to the item-by-item path."""
    for item in items:
        if type(item) is not list or len(item) != 2 or type(item[0]) not in _NUMBERS or type(item[1]) not in _NUMBERS:
            return False
    try:
        pairs = np.array(items, dtype=np.float64)
    except (OverflowError, ValueError):
        return False
    raw, values = pairs[:, 0], pairs[:, 1]
    if not (np.isfinite(values).all() and np.isfinite(raw).all() and (raw >= 0).all()):
        return False
    seconds = np.where(raw < 1e11, raw, np.where(raw < 1e14, raw / 1e3, np.where(raw < 1e17, raw / 1e6, raw / 1e9)))
    if not times_ok(seconds).all():
        return False
    result.times.extend(seconds.tolist())
    result.values.extend(values.tolist())
    return True


def _parse_batch(items: list[Any], arrival: float, result: ParsedPayload) -> None:
    if len(items) >= 16 and _parse_pairs_fast(items, result):
        return
    for item in items:
        try:
            if isinstance(item, list):
                if len(item) not in (2, 3):
                    raise PayloadError("bad_json", f"batch item {_short(item)} is not [t, v] or [t, v, seq]")
                if len(item) == 3:
                    seq = item[2]
                    if not isinstance(seq, int) or isinstance(seq, bool):
                        raise PayloadError("bad_json", f"batch item {_short(item)}: seq is not an integer")
                value = parse_value(item[1])
                t = parse_time(item[0], arrival)
                if len(item) == 3:
                    result.seqs.append(item[2])
            elif isinstance(item, dict):
                t, value = _time_value_of(item, arrival)
                seq = item.get("seq")
                if isinstance(seq, int) and not isinstance(seq, bool):
                    result.seqs.append(seq)
            else:
                raise PayloadError("bad_json", f"batch item {_short(item)} is not [t, v] or an object")
        except PayloadError as problem:
            result.problems.append(problem)
            continue
        result.times.append(t)
        result.values.append(value)


def _parse_dict_form(document: Any, json_path: str | None, arrival: float, result: ParsedPayload) -> None:
    result.sensors = []
    documents = document if isinstance(document, list) else [document]
    for doc in documents:
        if not isinstance(doc, dict):
            result.problems.append(
                PayloadError("bad_json", f"expected a JSON object of sensor values, got {_short(doc)}")
            )
            continue
        _take_envelope(doc, result)
        try:
            values = follow_path(doc, json_path)
        except PayloadError as problem:
            result.problems.append(problem)
            continue
        if not isinstance(values, dict):
            result.problems.append(PayloadError("bad_json",
                                                "expected an object of sensor values at "
                                                f"{json_path or 'the top'}"))
            continue
        raw_time = next((values[k] for k in TIME_KEYS if k in values), None)
        if raw_time is None:
            raw_time = next((doc[k] for k in TIME_KEYS if k in doc), None)
        try:
            shared_time = parse_time(raw_time, arrival)
        except PayloadError as problem:
            result.problems.append(problem)
            continue
        for sensor, raw in values.items():
            if sensor in RESERVED_KEYS:
                continue
            try:
                if isinstance(raw, dict):
                    t, value = _time_value_of(raw, shared_time)
                else:
                    t, value = shared_time, parse_value(raw)
            except PayloadError as problem:
                result.problems.append(PayloadError(problem.kind, f"{sensor}: {problem}"))
                continue
            result.sensors.append(str(sensor))
            result.times.append(t)
            result.values.append(value)


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer beyond Python's digit limit, a deeply nested list
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_bytes(payload: bytes, limit: int = 40) -> str:
    head = payload[:limit]
    try:
        text = repr(head.decode("utf-8"))
    except UnicodeDecodeError:
        text = repr(head)
    return text + (f"... ({len(payload):,} bytes)" if len(payload) > limit else "")
