"""Files of the remaining-useful-life model: C-MAPSS text data and the model JSON (no pickle).

C-MAPSS layout (NASA's turbofan data): whitespace-separated numbers, no header, one row per cycle:
``unit cycle setting1 setting2 setting3 s1 … s21``. :func:`read_cmapss` returns each unit's sensor rows in
cycle order, with the sensors named ``s1`` … ``s21``. The model file layout is in docs/anomaly-detection.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from twinviewer.core.rul import Network as _Network
from twinviewer.core.rul import RulError, RulModel
from twinviewer.io.json_documents import read_json_document, write_json_document

CMAPSS_COLUMNS = 26
CMAPSS_SENSORS = [f"s{i}" for i in range(1, 22)]
MAX_DATA_BYTES = 512 * 1024 * 1024
MAX_MODEL_BYTES = 8 * 1024 * 1024
RUL_FORMAT = "twinviewer-rul-model"


def read_cmapss(path: Path | str) -> dict[int, np.ndarray]:
    """``{unit: cycles × 21 sensor values}`` from a C-MAPSS text file; errors name the file and line."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_DATA_BYTES:
            raise RulError(f"{path}: larger than {MAX_DATA_BYTES // (1024 * 1024)} MB")
        lines = path.read_text(encoding="ascii", errors="strict").splitlines()
    except OSError as exc:
        raise RulError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise RulError(f"{path}: not a C-MAPSS text file (bytes that are not ASCII at {exc.start})") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != CMAPSS_COLUMNS:
            raise RulError(f"{path}:{number}: expected {CMAPSS_COLUMNS} numbers (unit, cycle, 3 settings, "
                           f"21 sensors), found {len(fields)}")
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise RulError(f"{path}:{number}: not a number in {line.strip()[:60]!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise RulError(f"{path}:{number}: numbers must be finite")
        rows.append(values)
    if not rows:
        raise RulError(f"{path}: no data rows")
    data = np.array(rows)
    units: dict[int, np.ndarray] = {}
    for unit in np.unique(data[:, 0]).astype(int):
        mine = data[data[:, 0] == unit]
        mine = mine[np.argsort(mine[:, 1], kind="stable")]
        units[int(unit)] = mine[:, 5:]
    return units


class _Net(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    w1: list[list[float]]
    b1: list[float]
    w2: list[float]
    b2: float


class _RulFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    format: str
    version: int
    method: str = ""
    sensors: list[str] = Field(min_length=1, max_length=1000)
    cap: float = Field(gt=0)
    smooth_span: int
    slope_window: int
    feature_mean: list[float]
    feature_scale: list[float]
    target_mean: float
    target_scale: float = Field(gt=0)
    networks: list[_Net] = Field(min_length=1, max_length=50)
    meta: dict = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> _RulFile:
        from twinviewer.core.rul import SLOPE_WINDOW, SMOOTH_SPAN

        if self.format != RUL_FORMAT or self.version != 1:
            raise ValueError(f"format must be {RUL_FORMAT!r} version 1")
        if (self.smooth_span, self.slope_window) != (SMOOTH_SPAN, SLOPE_WINDOW):
            raise ValueError(f"smooth_span and slope_window must be {SMOOTH_SPAN} and {SLOPE_WINDOW}")
        n_features = 2 * len(self.sensors) + 1
        for name in ("feature_mean", "feature_scale"):
            values = getattr(self, name)
            if len(values) != n_features:
                raise ValueError(f"{name} has {len(values)} numbers, expected {n_features} (2 per sensor + 1)")
        if any(v <= 0 for v in self.feature_scale):
            raise ValueError("feature_scale must be positive")
        for i, net in enumerate(self.networks):
            hidden = len(net.b1)
            if len(net.w1) != n_features or any(len(row) != hidden for row in net.w1) or len(net.w2) != hidden:
                raise ValueError(f"networks.{i}: weights must be {n_features}×{hidden}, {hidden} and {hidden}")
            numbers = [v for row in net.w1 for v in row] + net.b1 + net.w2 + [net.b2]
            if not all(math.isfinite(v) for v in numbers):
                raise ValueError(f"networks.{i}: numbers must be finite")
        if not all(math.isfinite(v) for v in [*self.feature_mean, *self.feature_scale, self.target_mean,
                                              self.target_scale, self.cap]):
            raise ValueError("numbers must be finite")
        return self


def save_rul_model(path: Path | str, model: RulModel) -> Path:
    return write_json_document(Path(path), model.to_json(), RulError, "the model")


def load_rul_model(path: Path | str) -> RulModel:
    path = Path(path)
    doc = read_json_document(path, _RulFile, RulError, "a RUL model", MAX_MODEL_BYTES)
    return RulModel(sensors=list(doc.sensors), feature_mean=np.asarray(doc.feature_mean),
                    feature_scale=np.asarray(doc.feature_scale), target_mean=doc.target_mean,
                    target_scale=doc.target_scale, cap=doc.cap, meta=dict(doc.meta),
                    networks=[_Network(np.asarray(n.w1), np.asarray(n.b1), np.asarray(n.w2), float(n.b2))
                              for n in doc.networks])


def rul_model_path(project_path: Path | str) -> Path:
    """``pump.twin.toml`` → ``pump.twin.rul.json`` beside it (attached to the project's asset)."""
    path = Path(project_path)
    name = path.name[: -len(".toml")] if path.name.endswith(".toml") else path.name
    return path.with_name(name + ".rul.json")
