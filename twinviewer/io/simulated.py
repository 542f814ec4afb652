"""Writing a simulation result as a native recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.simulation import SimulationResult
from twinviewer.io.recording import QUALITY_BAD, QUALITY_GOOD, write_recording


def write_simulation(result: SimulationResult, path: Path | str) -> Path:
    """Write ``result`` as a native recording (Parquet long table) with the scenario steps as events;
    dropped-out samples (NaN) are marked bad quality."""
    metadata: dict[str, Any] = {
        "source": "twinviewer simulator",
        "seed": result.seed,
        "sample_period_s": float(result.times[1] - result.times[0]) if len(result.times) > 1 else None,
        "events": result.events(),
        "asset": result.asset,
        "units": dict(result.units),
    }
    if result.scenario is not None:
        metadata["scenario"] = result.scenario.title
        if result.scenario.path:
            metadata["scenario_file"] = result.scenario.path.name
    missing = np.isnan(result.values)
    quality = np.where(missing, QUALITY_BAD, QUALITY_GOOD).astype(np.uint8) if missing.any() else None
    return write_recording(Path(path), result.times, list(result.sensor_ids), result.values, quality=quality,
                           metadata=metadata)
