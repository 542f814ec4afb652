"""Explicit budgets for reading untrusted files, checked before the work they limit.

Each limit has a default sized for a laptop (a few GB of memory) and an environment variable to raise it.
A refusal names the file, the limit and that variable, e.g. ``model.glb: the scene instances 120,000,000
triangles, more than the limit of 30,000,000 (set TWINVIEWER_MAX_TRIANGLES to raise it)``. docs/security.md
lists every limit and where it is enforced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from twinviewer.core.errors import MeshLoadError


@dataclass(frozen=True)
class Limit:
    name: str
    env: str
    default: int
    unit: str

    @property
    def value(self) -> int:
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        if raw:
            try:
                parsed = int(float(raw))
            except ValueError:
                return self.default
            if parsed > 0:
                return parsed
        return self.default

    def check(self, amount: int, where: str, what: str, error: type[Exception] = MeshLoadError) -> None:
        """Raise ``error`` when ``amount`` is over the limit: ``{where}: {what} {amount} {unit}, more than…``."""
        limit = self.value
        if amount > limit:
            raise error(f"{where}: {what} {amount:,} {self.unit}, more than the limit of {limit:,} "
                        f"(set {self.env} to raise it)")


MAX_TRIANGLES = Limit("triangles", "TWINVIEWER_MAX_TRIANGLES", 30_000_000, "triangles")
MAX_PARTS = Limit("parts", "TWINVIEWER_MAX_PARTS", 100_000, "parts")
MAX_GLTF_NODES_VISITED = Limit("glTF nodes visited", "TWINVIEWER_MAX_NODES_VISITED", 1_000_000, "node visits")
MAX_REFERENCED_FILE_BYTES = Limit("referenced file", "TWINVIEWER_MAX_REFERENCED_BYTES", 2 * 1024**3, "bytes")
MAX_IMAGE_PIXELS = Limit("texture pixels", "TWINVIEWER_MAX_IMAGE_PIXELS", 64_000_000, "pixels")
MAX_ARCHIVE_BYTES = Limit("unpacked archive", "TWINVIEWER_MAX_UNPACKED_BYTES", 1024**3, "bytes")
MAX_ARCHIVE_RATIO = Limit("archive compression ratio", "TWINVIEWER_MAX_COMPRESSION_RATIO", 200, "to 1")
MAX_ARCHIVE_ENTRIES = Limit("archive entries", "TWINVIEWER_MAX_ARCHIVE_ENTRIES", 10_000, "entries")
MAX_SIMULATION_SAMPLES = Limit("simulated samples", "TWINVIEWER_MAX_SIM_SAMPLES", 40_000_000, "samples")
MAX_MODEL_FILE_BYTES = Limit("model file", "TWINVIEWER_MAX_MODEL_BYTES", 4 * 1024**3, "bytes")
MAX_SUMMARY_BYTES = Limit("dataset summary", "TWINVIEWER_MAX_SUMMARY_BYTES", 2 * 1024**3, "bytes")
MAX_DATASET_LOAD_ROWS = Limit("dataset rows loaded whole", "TWINVIEWER_MAX_DATASET_LOAD_ROWS", 50_000_000, "rows")

ALL_LIMITS = (MAX_TRIANGLES, MAX_PARTS, MAX_GLTF_NODES_VISITED, MAX_REFERENCED_FILE_BYTES, MAX_IMAGE_PIXELS,
              MAX_ARCHIVE_BYTES, MAX_ARCHIVE_RATIO, MAX_ARCHIVE_ENTRIES, MAX_SIMULATION_SAMPLES,
              MAX_MODEL_FILE_BYTES, MAX_SUMMARY_BYTES, MAX_DATASET_LOAD_ROWS)
