"""Child process that decimates one part for display: ``python -m twinviewer.io.lod_worker FOLDER TARGET``.

``fast_simplification`` holds the GIL for the whole decimation, so the window runs big ones here (see
:mod:`twinviewer.core.lod`). FOLDER holds ``points.npy`` (n, 3) float64 and ``faces.npy`` (m, 3); the
stand-in is written back as ``lod_points.npy``, ``lod_faces.npy`` and ``vertex_map.npy``. Exit status 0
means the three files are complete.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    folder_arg, target = (argv if argv is not None else sys.argv[1:])[:2]
    from twinviewer.core.lod import make_display_lod

    folder = Path(folder_arg)
    points = np.load(folder / "points.npy")
    faces = np.load(folder / "faces.npy")
    lod_points, lod_faces, vertex_map = make_display_lod((points, faces), int(target))
    for name, array in (("lod_points", lod_points), ("lod_faces", lod_faces), ("vertex_map", vertex_map)):
        np.save(folder / f"{name}.partial.npy", array)
    for name in ("lod_points", "lod_faces", "vertex_map"):  # complete files only, once all are written
        (folder / f"{name}.partial.npy").replace(folder / f"{name}.npy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
