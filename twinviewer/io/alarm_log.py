"""The alarm acknowledgement and shelving log on disk: the JSON sidecar next to a project
(``core.alarms.sidecar_path``) and its CSV / JSON exports, and the alarm log (every episode) the alarm panel
exports. The core builds and parses the documents."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from twinviewer.core.alarms import Alarm, AlarmLogError, AlarmTracker, iso_utc

LOG_COLUMNS = ("alarm_id", "sensor_id", "sensor_label", "part", "level", "direction", "limit", "threshold",
               "unit", "onset_t", "onset_utc", "onset_value", "extreme_value", "cleared_t", "cleared_utc",
               "duration_s", "acknowledged_by", "acknowledged_t", "acknowledged_utc", "comment")


def export_json(tracker: AlarmTracker, path: Path | str) -> None:
    """The acknowledgement log as JSON (same layout as the sidecar file)."""
    save_acknowledgements(tracker, path)


def export_csv(tracker: AlarmTracker, path: Path | str) -> None:
    """The acknowledgement log as CSV, with epoch times and readable UTC times side by side."""
    columns, rows = tracker.log_csv_rows()
    path = Path(path)
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        raise AlarmLogError(
            f"cannot write the acknowledgement log {path}: {exc.strerror or exc}"
        ) from None


def save_acknowledgements(tracker: AlarmTracker, path: Path | str) -> None:
    """Write the acknowledgements to a JSON sidecar (atomically: a crash never leaves half a file)."""
    path = Path(path)
    document = tracker.acknowledgement_document()
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise AlarmLogError(f"cannot write acknowledgements to {path}: {exc.strerror or exc}") from None


def load_acknowledgements(tracker: AlarmTracker, path: Path | str) -> int:
    """Merge the acknowledgements of a sidecar file into ``tracker``; returns how many were added.

    A missing file is not an error (nothing acknowledged yet): returns 0.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as exc:
        raise AlarmLogError(f"cannot read acknowledgements from {path}: {exc}") from None
    return tracker.merge_acknowledgements(text, path)


def write_alarm_log(path: Path | str, alarms: list[Alarm], project) -> Path:
    """Every alarm episode, with its acknowledgement, as CSV or JSON (chosen by the file's suffix).

    Times are epoch seconds (UTC) with readable UTC times beside them; the sensor's label and unit are
    included so the log reads on its own.
    """
    path = Path(path)
    rows = []
    for alarm in alarms:
        try:
            sensor = project.sensor(alarm.sensor_id)
            label, unit = sensor.display_name, sensor.unit
        except KeyError:
            label, unit = alarm.sensor_id, ""
        ack = alarm.acknowledgement
        rows.append({
            "alarm_id": alarm.alarm_id, "sensor_id": alarm.sensor_id, "sensor_label": label,
                     "part": alarm.part,
            "level": alarm.level, "direction": alarm.direction, "limit": alarm.limit,
            "threshold": alarm.threshold, "unit": unit,
            "onset_t": alarm.onset_t, "onset_utc": iso_utc(alarm.onset_t), "onset_value": alarm.onset_value,
            "extreme_value": alarm.extreme_value,
            "cleared_t": alarm.cleared_t, "cleared_utc": iso_utc(alarm.cleared_t),
            "duration_s": (alarm.cleared_t - alarm.onset_t) if alarm.cleared_t is not None else None,
            "acknowledged_by": ack.user if ack else "", "acknowledged_t": ack.t if ack else None,
            "acknowledged_utc": iso_utc(ack.t) if ack else "", "comment": ack.comment if ack else "",
        })
    try:
        if path.suffix.lower() == ".json":
            document = {"format": "twinviewer-alarm-log", "version": 1, "alarms": rows}
            path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=LOG_COLUMNS)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    except OSError as exc:
        raise AlarmLogError(f"cannot write the alarm log {path}: {exc.strerror or exc}") from None
    return path
