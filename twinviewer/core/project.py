"""The twin project file (``*.twin.toml``): asset, models, parts, sensors, sources, scenarios.

Loaded with tomllib and validated with pydantic. Every problem is reported as
``file:line: key: what is wrong`` (see :class:`ProjectError`). Paths inside the file are relative to it.
The scene frame is metres, Z up: each model is converted to it on load (units, up axis, transform), and
sensor positions are given in it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import tomllib
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from twinviewer.core.durations import parse_duration
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.options import LabelMode, OverlayKind, ViewName

UNIT_SCALE = {"mm": 0.001, "cm": 0.01, "m": 1.0, "in": 0.0254, "ft": 0.3048}
Units = Literal["mm", "cm", "m", "in", "ft"]
UpAxis = Literal["x", "y", "z", "-x", "-y", "-z"]
STATUS_NAMES = ("normal", "warning", "alarm", "stale", "no data")

_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{6})$")
_NAMED_COLOURS = {
    "grey": "#8c8c8c", "gray": "#8c8c8c", "steel": "#8a9499", "blue": "#2f5d9e", "red": "#c0392b",
    "green": "#2e8b57", "yellow": "#e0b000", "orange": "#e67e22", "black": "#202020", "white": "#f0f0f0",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


def parse_colour(value: str) -> tuple[float, float, float]:
    """'#rrggbb' or a few names → RGB in 0..1."""
    text = _NAMED_COLOURS.get(value.lower(), value)
    if not _HEX_COLOUR.match(text):
        raise ValueError(f"colour {value!r} is not '#rrggbb' or one of {', '.join(sorted(_NAMED_COLOURS))}")
    return tuple(int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


class Asset(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    manufacturer: str = ""
    serial: str = ""


class ModelFile(_Strict):
    """One CAD file and how it sits in the scene."""

    file: str = Field(min_length=1)
    units: Units = "m"
    up_axis: UpAxis = "z"
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotate_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = Field(1.0, gt=0)
    part_prefix: str = ""
    split_bodies: bool = False


class Part(_Strict):
    """A part of the asset. ``name`` matches a part name found in the model files."""

    name: str = Field(min_length=1)
    label: str = ""
    group: str = ""
    color: str | None = None
    notes: str = ""

    @field_validator("color")
    @classmethod
    def _check_colour(cls, value: str | None) -> str | None:
        if value is not None:
            parse_colour(value)
        return value

    @property
    def display_name(self) -> str:
        return self.label or self.name


class Thresholds(_Strict):
    """Limits in the sensor's unit. A value beyond a warning limit is 'warning', beyond an alarm limit
    'alarm'."""

    alarm_low: float | None = None
    warning_low: float | None = None
    warning_high: float | None = None
    alarm_high: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        chain = [(k, getattr(self, k)) for k in ("alarm_low", "warning_low", "warning_high", "alarm_high")]
        present = [(k, v) for k, v in chain if v is not None]
        for (k1, v1), (k2, v2) in zip(present, present[1:], strict=False):
            if not v1 < v2:
                raise ValueError(f"{k1} ({v1}) must be below {k2} ({v2})")
        return self


def _seconds(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value


class SensorAlarm(_Strict):
    """How a sensor's limits raise and clear alarms (ISA-18.2); unset keys take the defaults of
    :func:`twinviewer.core.alarms.alarm_settings`."""

    deadband: float | None = Field(None, ge=0, allow_inf_nan=False)
    on_delay: Annotated[float, BeforeValidator(_seconds), Field(ge=0, allow_inf_nan=False)] | None = None
    off_delay: Annotated[float, BeforeValidator(_seconds), Field(ge=0, allow_inf_nan=False)] | None = None


class Sensor(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:\-/]+$")
    label: str = ""
    quantity: str = Field(min_length=1)
    unit: str = ""
    part: str = Field(min_length=1)
    position: tuple[float, float, float]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    range: tuple[float, float] | None = None
    expected_period_s: float = Field(1.0, gt=0)
    notes: str = ""
    alarm: SensorAlarm | None = None

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"range {list(value)} must be [low, high] with low < high")
        return value

    @field_validator("position")
    @classmethod
    def _finite(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(math.isfinite(v) for v in value):
            raise ValueError("position must be three finite numbers")
        return value

    @property
    def display_name(self) -> str:
        return self.label or self.id


class ColumnMap(_Strict):
    """Maps one column (wide CSV), sensor name (long CSV), topic field or node to a sensor id."""

    column: str = Field(min_length=1)
    sensor: str = Field(min_length=1)
    scale: float = 1.0
    offset: float = 0.0


class RecordingSource(_Strict):
    kind: Literal["recording"]
    name: str = ""
    file: str = Field(min_length=1)
    format: Literal["auto", "csv", "parquet", "hydraulic"] = "auto"
    layout: Literal["auto", "wide", "long"] = "auto"
    delimiter: str | None = None
    time_column: str | None = None
    time_format: Literal["auto", "iso", "epoch_s", "epoch_ms"] = "auto"
    timezone: str | None = None
    columns: list[ColumnMap] = Field(default_factory=list)
    time_offset_s: float = 0.0


class MqttTopic(_Strict):
    """One subscription. ``topic`` may hold MQTT wildcards (``+``, ``#``) and one ``{sensor}`` placeholder
    that captures the sensor id from the topic (``plant/+/pump1/{sensor}``); otherwise ``sensor`` names it.

    ``payload``: ``number`` (plain text number), ``json`` (a number, ``{"t": .., "v": ..}`` or a batch list of
    ``[t, v]`` / objects) or ``json_dict`` (``{"TT-101": 71.2, ...}`` for several sensors, optionally found
    under ``json_path`` like ``data.values``).
    """

    topic: str = Field(min_length=1)
    sensor: str | None = None
    payload: Literal["number", "json", "json_dict"] = "number"
    json_path: str | None = None

    @model_validator(mode="after")
    def _sensor_named_once(self) -> MqttTopic:
        levels = self.topic.split("/")
        if "#" in self.topic and (levels[-1] != "#" or self.topic.count("#") != 1):
            raise ValueError(f"topic {self.topic!r}: '#' is only allowed as the whole last level")
        if any("+" in level and level != "+" for level in levels):
            raise ValueError(f"topic {self.topic!r}: '+' must be a whole level")
        placeholders = self.topic.count("{sensor}")
        if placeholders > 1:
            raise ValueError(f"topic {self.topic!r}: '{{sensor}}' may appear only once")
        if placeholders and self.sensor:
            raise ValueError(f"topic {self.topic!r} has a {{sensor}} placeholder and sensor = "
                             f"{self.sensor!r}; use one")
        if self.payload != "json_dict" and not placeholders and not self.sensor:
            raise ValueError(f"topic {self.topic!r} needs sensor = \"ID\" or a {{sensor}} placeholder in the "
                             "topic")
        return self


def _env_variable_name(value: str | None) -> str | None:
    """``password_env`` names an environment variable; the message never repeats what was written there."""
    if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("password_env must be the NAME of an environment variable (letters, digits and _), "
                         "not the password itself; the value written here is not shown")
    return value


class MqttSource(_Strict):
    kind: Literal["mqtt"]
    name: str = ""
    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str | None = None
    username: str | None = None
    password_env: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    qos: Literal[0, 1] = 0
    clean_session: bool = True
    keepalive_s: int = Field(30, ge=5)
    topics: list[MqttTopic] = Field(default_factory=list)
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    session_expiry_s: int = Field(3600, ge=0)
    max_payload_bytes: int = Field(65536, ge=16)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)

    _password_env_is_a_name = field_validator("password_env")(_env_variable_name)

    @model_validator(mode="after")
    def _consistent(self) -> MqttSource:
        if not self.topics:
            raise ValueError("an mqtt source needs at least one [[sources.topics]] entry")
        if not self.clean_session and not self.client_id:
            raise ValueError("a persistent session (clean_session = false) needs a client_id")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together (client certificate and its key)")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self


class OpcUaNode(_Strict):
    """``node`` is a node id (``ns=2;i=5``, ``ns=2;s=Pump.Temp``) or a browse path
    (``0:Objects/2:Pump/2:Temp``)."""

    node: str = Field(min_length=1)
    sensor: str = Field(min_length=1)


class OpcUaSource(_Strict):
    kind: Literal["opcua"]
    name: str = ""
    endpoint: str = Field(pattern=r"^opc\.tcp://")
    security_policy: Literal["None", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"] = "None"
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    username: str | None = None
    password_env: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    publishing_interval_ms: int = Field(100, ge=10)
    nodes: list[OpcUaNode] = Field(default_factory=list)
    server_cert_file: str | None = None
    timeout_s: float = Field(4.0, gt=0)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)

    _password_env_is_a_name = field_validator("password_env")(_env_variable_name)

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaSource:
        if not self.nodes:
            raise ValueError("an opcua source needs at least one [[sources.nodes]] entry")
        if (self.security_policy == "None") != (self.security_mode == "None"):
            raise ValueError("security_policy and security_mode must both be 'None' or both be set")
        if self.security_policy != "None" and not (self.cert_file and self.key_file):
            raise ValueError(f"security_policy {self.security_policy!r} needs cert_file and key_file")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together (client certificate and its key)")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self


class SimulatorSource(_Strict):
    kind: Literal["simulator"]
    name: str = ""
    scenario: str = Field(min_length=1)
    seed: int | None = None


Source = Annotated[RecordingSource | MqttSource | OpcUaSource | SimulatorSource, Field(discriminator="kind")]


_SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$"


class HistoryDatabase(_Strict):
    """A ``[[history]]`` entry: older values of the project's sensors in a PostgreSQL (or TimescaleDB) table.

    The table (or view) is long: one row per sample with a time, a sensor tag and a value column.
    ``sensors`` maps project sensor ids to tags in the table (a sensor not listed is looked up by its id).
    """

    kind: Literal["postgresql"]
    name: str = ""
    host: str = "localhost"
    port: int = Field(5432, ge=1, le=65535)
    database: str = Field(min_length=1)
    username: str | None = None
    password_env: str | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    table: str
    time_column: str = "time"
    sensor_column: str = "sensor"
    value_column: str = "value"
    sensors: dict[str, str] = Field(default_factory=dict)
    statement_timeout_s: float = Field(15.0, gt=0, le=3600)
    connect_timeout_s: int = Field(5, ge=1, le=120)

    @field_validator("table", "time_column", "sensor_column", "value_column")
    @classmethod
    def _sql_name(cls, value: str) -> str:
        if not re.match(_SQL_NAME, value):
            raise ValueError(f"{value!r} is not a plain SQL name (letters, digits, _ and $, not starting with a "
                             "digit; a table may be schema.name)")
        return value

    def describe(self) -> str:
        return f"{self.database}.{self.table} at {self.host}:{self.port}"


class ScenarioRef(_Strict):
    file: str = Field(min_length=1)


class Component(_Strict):
    """A simulated component of the asset (failure scenarios): which parts it is and what it drives."""

    name: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    parts: list[str] = Field(default_factory=list)
    drives: list[str] = Field(default_factory=list)
    params: dict[str, float] = Field(default_factory=dict)


class ViewSettings(_Strict):
    """What the window remembers of how the twin is shown (overlay mode, colour maps, labels)."""

    overlay: OverlayKind = "status"
    field_quantity: str | None = None
    colormaps: dict[str, str] = Field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    labels: LabelMode = "selected"
    camera: ViewName = "iso"


class Project(_Strict):
    format_version: int = Field(1, ge=1, le=1)
    asset: Asset
    models: list[ModelFile] = Field(min_length=1)
    parts: list[Part] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    history: list[HistoryDatabase] = Field(default_factory=list)
    scenarios: list[ScenarioRef] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    view: ViewSettings = Field(default_factory=ViewSettings)

    # Set by load_project, not read from the file.
    path: Path | None = Field(default=None, exclude=True)
    _sensor_index: tuple | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path written in the project file, made absolute against the project's folder."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else (self.base_dir / candidate).resolve()

    def sensor(self, sensor_id: str) -> Sensor:
        # An index by id, rebuilt when the list changes: panels look sensors up per row and per frame, and
        # a plant has a thousand of them.
        index = self._sensor_index
        key = (id(self.sensors), len(self.sensors))
        if index is None or index[0] != key:
            index = self._sensor_index = (key, {s.id: s for s in self.sensors})
        found = index[1].get(sensor_id)
        if found is None or found.id != sensor_id:
            raise KeyError(sensor_id)
        return found

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    def part_label(self, name: str) -> str:
        """What the user sees for a model part: its ``[[parts]]`` label, else its name."""
        part = self.part(name)
        return part.display_name if part else name

    def sensors_of_part(self, part_name: str) -> list[Sensor]:
        return [s for s in self.sensors if s.part == part_name]


class ProjectProblem(BaseModel):
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        line = f"{self.line}:" if self.line else ""
        return f"{self.file}:{line} {self.key}: {self.message}"


class FileProblemsError(TwinViewerError):
    """A TOML file that cannot be used; ``problems`` lists each one with file, line and key."""

    def __init__(self, problems: list[ProjectProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ProjectError(FileProblemsError):
    """A project file that cannot be used."""


def parse_toml(text: str, name: str, error: type[FileProblemsError]) -> dict[str, Any]:
    """TOML text as a dict; invalid TOML raises ``error`` with the line tomllib reports."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise error([ProjectProblem(file=name, line=None, key="(toml)",
                                    message="invalid TOML: arrays or tables nested too deeply")]) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise error([ProjectProblem(file=name, line=int(match.group(1)) if match else None, key="(toml)",
                                    message=f"invalid TOML: {exc}")]) from None


def validation_message(err: Mapping[str, Any]) -> str:
    """A pydantic error as a sentence for the user (the cases every file format shares)."""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key (misspelt?)"
    if err["type"] == "literal_error":
        return f"{msg}, got {err.get('input')!r}"
    return msg


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("recording", "mqtt", "opcua", "simulator") and out.endswith("]"):
            continue  # pydantic's discriminator tag in the location, not a key of the file
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def locate_key(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number (1-based) of a key path like ('sensors', 3, 'thresholds', 'alarm_high')."""
    lines = text.splitlines()
    table_path: list[str] = []
    start = 0
    i = 0
    parts = [p for p in loc if p not in ("recording", "mqtt", "opcua", "simulator")]
    # Walk [[array]] / [table] headers to the deepest header that matches the location.
    while i < len(parts):
        part = parts[i]
        if isinstance(part, str) and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            header = ".".join([*table_path, part])
            wanted = parts[i + 1]
            count = -1
            found = None
            for n, line in enumerate(lines):
                if line.strip().startswith(f"[[{header}]]"):
                    count += 1
                    if count == wanted:
                        found = n
                        break
            if found is None:
                break
            start = found
            table_path.append(part)
            i += 2
            continue
        if isinstance(part, str):
            header = ".".join([*table_path, part])
            for n in range(start, len(lines)):
                if lines[n].strip() == f"[{header}]":
                    start = n
                    table_path.append(part)
                    break
            else:
                key_re = re.compile(rf"^\s*{re.escape(part)}\s*=")
                for n in range(start + (1 if table_path else 0), len(lines)):
                    stripped = lines[n].strip()
                    if n > start and stripped.startswith("[") and table_path:
                        break
                    if key_re.match(lines[n]):
                        return n + 1
                return start + 1 if table_path else None
        i += 1
    return start + 1 if table_path else None


def cross_reference_problems(project: Project) -> list[tuple[tuple[Any, ...], str]]:
    """Problems between tables (duplicate names, a sensor on a part that is not listed), with their key
    paths."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    seen: set[str] = set()
    for i, part in enumerate(project.parts):
        if part.name in seen:
            problems.append((("parts", i, "name"), f"part name {part.name!r} appears twice"))
        seen.add(part.name)
    ids: set[str] = set()
    for i, sensor in enumerate(project.sensors):
        if sensor.id in ids:
            problems.append((("sensors", i, "id"), f"sensor id {sensor.id!r} appears twice"))
        ids.add(sensor.id)
        if seen and sensor.part not in seen:
            problems.append((("sensors", i, "part"),
                             f"sensor {sensor.id!r} names part {sensor.part!r}, which is not in [[parts]]"))
    return problems


def parse_project(text: str, path: Path | str = "<memory>") -> Project:
    """Parse and validate project text; raises ProjectError listing every problem."""
    name = str(path)
    data = parse_toml(text, name, ProjectError)
    try:
        project = Project.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            msg = validation_message(err)
            if err["type"] == "union_tag_invalid":
                msg = (
                    f"unknown source kind {err.get('input', {}).get('kind')!r}; "
                    "use recording, mqtt, opcua or simulator"
                    if isinstance(err.get("input"), dict)
                    else msg
                )
            problems.append(ProjectProblem(file=name, line=locate_key(text, loc), key=_key_path(loc),
                                           message=msg))
        raise ProjectError(problems) from None
    cross = cross_reference_problems(project)
    if cross:
        raise ProjectError([ProjectProblem(file=name, line=locate_key(text, loc), key=_key_path(loc),
                                           message=msg)
                            for loc, msg in cross])
    project.path = Path(path).resolve() if name != "<memory>" else None
    return project


def load_project(path: Path | str, *, check_files: bool = True) -> Project:
    """Read, validate and (optionally) check that the files the project names exist."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError([ProjectProblem(file=str(path), line=None, key="(file)",
                                           message="no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError([ProjectProblem(file=str(path), line=None, key="(file)",
                                           message=f"cannot read: {exc}")]) from None
    project = parse_project(text, path)
    if check_files:
        problems = []
        for i, model in enumerate(project.models):
            if not project.resolve(model.file).is_file():
                problems.append(ProjectProblem(file=str(path), line=locate_key(text, ("models", i, "file")),
                                               key=f"models[{i}].file",
                                               message=f"model file {model.file!r} not found (looked in "
                                                       f"{project.resolve(model.file)})"))
        for i, ref in enumerate(project.scenarios):
            if not project.resolve(ref.file).is_file():
                problems.append(ProjectProblem(file=str(path),
                                               line=locate_key(text, ("scenarios", i, "file")),
                                               key=f"scenarios[{i}].file",
                                               message=f"scenario file {ref.file!r} not found"))
        if problems:
            raise ProjectError(problems)
    return project


def project_from_parts(name: str, model_file: Path, part_names: list[str],
                       units: str = "m") -> dict[str, Any]:
    """A starter project (as a TOML-ready dict) for a raw mesh: every part listed, no sensors yet."""
    return {
        "format_version": 1,
        "asset": {"name": name, "description": f"Starter twin made from {model_file.name}"},
        "models": [{"file": model_file.name, "units": units}],
        "parts": [{"name": p} for p in part_names],
    }
