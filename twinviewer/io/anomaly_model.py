"""Anomaly detector model files: small JSON documents beside the project (no pickle, nothing executable).

``pump.twin.toml`` keeps its detector in ``pump.twin.anomaly.json`` (:func:`model_path`). The layout is in
docs/anomaly-detection.md; every field is validated on load (lengths match the sensor list, numbers
finite, the precision matrix square and symmetric) and errors name the file and the field.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twinviewer.core.anomaly import MODEL_FORMAT, MODEL_VERSION, AnomalyModelError, DetectorModel

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
    precision: list[list[float]]
    limit: float = Field(gt=0)
    initial_score: float = Field(0.0, ge=0)
    span: int = Field(ge=1, le=1_000_000)
    shrink: float = Field(ge=0, le=1)
    risk: float = Field(gt=0, lt=1)
    trend: list[float]
    training: _Training = Field(default_factory=_Training)

    @model_validator(mode="after")
    def _consistent(self) -> _ModelFile:
        if self.format != MODEL_FORMAT:
            raise ValueError(f"format must be {MODEL_FORMAT!r}")
        if self.version != MODEL_VERSION:
            raise ValueError(f"version {self.version} is not supported (this TwinViewer reads {MODEL_VERSION})")
        m = len(self.sensors)
        if len(set(self.sensors)) != m:
            raise ValueError("sensors must be unique")
        for name in ("center", "scale", "weight", "trend"):
            values = getattr(self, name)
            if len(values) != m:
                raise ValueError(f"{name} has {len(values)} numbers, expected one per sensor ({m})")
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{name} must hold finite numbers")
        if any(v <= 0 for v in self.scale):
            raise ValueError("scale must be positive")
        if any(v < 0 for v in self.trend):
            raise ValueError("trend must be >= 0")
        if any(v not in (0.0, 1.0) for v in self.weight):
            raise ValueError("weight must be 0 or 1")
        if len(self.precision) != m or any(len(row) != m for row in self.precision):
            raise ValueError(f"precision must be {m} rows of {m} numbers")
        p = np.asarray(self.precision, dtype=np.float64)
        if not np.isfinite(p).all():
            raise ValueError("precision must hold finite numbers")
        if not np.allclose(p, p.T, rtol=1e-9, atol=1e-12):
            raise ValueError("precision must be symmetric")
        if not (math.isfinite(self.limit) and math.isfinite(self.initial_score)):
            raise ValueError("limit and initial_score must be finite")
        return self


def save_model(path: Path | str, model: DetectorModel) -> Path:
    """Write the model as JSON (atomically: a temporary file moved into place)."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise AnomalyModelError(f"{path}: cannot write the anomaly model ({exc.strerror or exc})") from exc
    return path


def load_model(path: Path | str) -> DetectorModel:
    """Read and validate a model file; :class:`AnomalyModelError` names the file and the broken rule."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise AnomalyModelError(f"{path}: {size} bytes is more than an anomaly model may hold "
                                    f"({MAX_MODEL_BYTES})")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnomalyModelError(f"{path}: cannot read the anomaly model ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnomalyModelError(f"{path}: not JSON ({exc})") from exc
    try:
        doc = _ModelFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise AnomalyModelError(f"{path}: {where}: {first['msg']}") from exc
    return DetectorModel(
        sensors=list(doc.sensors), center=np.asarray(doc.center, dtype=np.float64),
        scale=np.asarray(doc.scale, dtype=np.float64), weight=np.asarray(doc.weight, dtype=np.float64),
        precision=np.asarray(doc.precision, dtype=np.float64), limit=float(doc.limit),
        initial_score=doc.initial_score, span=doc.span,
        shrink=doc.shrink, risk=doc.risk, train_start=doc.training.start, train_end=doc.training.end,
        train_rows=doc.training.rows, trend=np.asarray(doc.trend, dtype=np.float64))
