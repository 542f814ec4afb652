"""Anomaly detector model files: small JSON documents beside the project (no pickle, nothing executable).

``pump.twin.toml`` keeps its detector in ``pump.twin.anomaly.json`` (:func:`model_path`). The layout is in
docs/anomaly-detection.md; every field is validated on load (lengths match the sensor list, numbers
finite, both precision matrices square and symmetric). A file of an older version is refused with a
message saying to train again and errors name the file and the field.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from twinviewer.core.anomaly import MODEL_FORMAT, MODEL_VERSION, AnomalyModelError, DetectorModel
from twinviewer.io.json_documents import read_json_document, write_json_document

MAX_MODEL_BYTES = 8 * 1024 * 1024


def model_path(project_path: Path | str) -> Path:
    """``pump.twin.toml`` → ``pump.twin.anomaly.json`` beside it."""
    path = Path(project_path)
    name = path.name[: -len(".toml")] if path.name.endswith(".toml") else path.name
    return path.with_name(name + ".anomaly.json")


class _Training(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    start: float | None = None
    end: float | None = None
    rows: int = Field(0, ge=0)


class _ModelFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    format: str
    version: int
    method: str = ""
    sensors: list[str] = Field(min_length=1, max_length=2000)
    center: list[float]
    scale: list[float]
    weight: list[float]
    wander: list[float]
    step_scale: list[float]
    trend: list[float]
    precision: list[list[float]]
    limit: float = Field(gt=0)
    spread_precision: list[list[float]]
    spread_limit: float = Field(gt=0)
    spread_initial: float = Field(ge=0)
    span: int = Field(ge=1, le=1_000_000)
    adapt: float = Field(ge=0, le=1e12)
    shrink: float = Field(ge=0, le=1)
    risk: float = Field(gt=0, lt=1)
    training: _Training = Field(default_factory=_Training)

    @model_validator(mode="after")
    def _consistent(self) -> _ModelFile:
        if self.format != MODEL_FORMAT:
            raise ValueError(f"format must be {MODEL_FORMAT!r}")
        if self.version != MODEL_VERSION:
            older = " (written by an older TwinViewer: train the detector again)" if self.version < MODEL_VERSION else ""
            raise ValueError(f"version {self.version} is not supported (this TwinViewer reads {MODEL_VERSION}){older}")
        m = len(self.sensors)
        if len(set(self.sensors)) != m:
            raise ValueError("sensors must be unique")
        for name in ("center", "scale", "weight", "wander", "step_scale", "trend"):
            values = getattr(self, name)
            if len(values) != m:
                raise ValueError(f"{name} has {len(values)} numbers, expected one per sensor ({m})")
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{name} must hold finite numbers")
        for name in ("scale", "step_scale"):
            if any(v <= 0 for v in getattr(self, name)):
                raise ValueError(f"{name} must be positive")
        if any(v < 0 for v in self.trend):
            raise ValueError("trend must be >= 0")
        for name in ("weight", "wander"):
            if any(v not in (0.0, 1.0) for v in getattr(self, name)):
                raise ValueError(f"{name} must be 0 or 1")
        for name in ("precision", "spread_precision"):
            rows = getattr(self, name)
            if len(rows) != m or any(len(row) != m for row in rows):
                raise ValueError(f"{name} must be {m} rows of {m} numbers")
            p = np.asarray(rows, dtype=np.float64)
            if not np.isfinite(p).all():
                raise ValueError(f"{name} must hold finite numbers")
            if not np.allclose(p, p.T, rtol=1e-9, atol=1e-12):
                raise ValueError(f"{name} must be symmetric")
        if not all(math.isfinite(v) for v in (self.limit, self.spread_limit, self.spread_initial)):
            raise ValueError("limit, spread_limit and spread_initial must be finite")
        return self


def save_model(path: Path | str, model: DetectorModel) -> Path:
    """Write the model as JSON (atomically: a temporary file moved into place)."""
    return write_json_document(Path(path), model.to_json(), AnomalyModelError, "the anomaly model", indent=1)


def load_model(path: Path | str) -> DetectorModel:
    """Read and validate a model file; :class:`AnomalyModelError` names the file and the broken rule."""
    path = Path(path)
    doc = read_json_document(path, _ModelFile, AnomalyModelError, "an anomaly model", MAX_MODEL_BYTES)

    def array(values: list) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    return DetectorModel(
        sensors=list(doc.sensors), center=array(doc.center), scale=array(doc.scale), weight=array(doc.weight),
        precision=array(doc.precision), limit=float(doc.limit), spread_precision=array(doc.spread_precision),
        spread_limit=float(doc.spread_limit), spread_initial=float(doc.spread_initial), span=doc.span, adapt=doc.adapt,
        shrink=doc.shrink, risk=doc.risk, train_start=doc.training.start, train_end=doc.training.end,
        train_rows=doc.training.rows, trend=array(doc.trend), wander=array(doc.wander),
        step_scale=array(doc.step_scale))
