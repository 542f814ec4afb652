"""MP4 (H.264) clips written through imageio-ffmpeg, which ships its own ffmpeg binary.

:func:`clip_times` says which recording instants a clip of ``[t0, t1]`` at a playback ``speed`` and ``fps``
shows (one frame every ``speed / fps`` seconds of recording, ``round((t1 - t0) / speed * fps)`` frames);
:func:`write_clip` takes a function that renders the frame of an instant and writes them as they come, so
memory stays flat however long the clip is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from twinviewer.core.errors import CancelledError, TwinViewerError

MAX_FRAMES = 100_000


def _no_progress(_fraction: float, _message: str = "") -> None:
    return None


def _never() -> bool:
    return False


class VideoError(TwinViewerError):
    """A clip that cannot be made as asked."""


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """H.264 in yuv420p needs even widths and heights: round each down to an even number."""
    return max(16, size[0] // 2 * 2), max(16, size[1] // 2 * 2)


def clip_times(t0: float, t1: float, speed: float, fps: float) -> np.ndarray:
    for name, value in (("--from", t0), ("--to", t1), ("--speed", speed), ("--fps", fps)):
        if not math.isfinite(value):
            raise VideoError(f"{name} must be a finite number")
    if t1 <= t0:
        raise VideoError("the clip's end must be after its start")
    if not 0 < speed <= 1e6:
        raise VideoError(f"--speed {speed:g}: must be above 0 and at most 1000000")
    if not 1 <= fps <= 120:
        raise VideoError(f"--fps {fps:g}: must be between 1 and 120")
    count = max(1, round((t1 - t0) / speed * fps))
    if count > MAX_FRAMES:
        raise VideoError(f"{count:,} frames is more than a clip may have ({MAX_FRAMES:,}): raise --speed or "
                         "lower --fps")
    return t0 + np.arange(count) * (speed / fps)


def write_clip(out: Path | str, times: np.ndarray, render: Callable[[float], np.ndarray], size: tuple[int, int],
               fps: float, progress: Callable[[float, str], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> dict:
    """Write one frame per time in ``times`` (``render(t)`` → (h, w, 3) uint8 of ``size``) to an MP4.

    Returns ``{"frames", "seconds", "fps_export"}``. A cancelled or failed export removes the partial file.
    """
    import imageio_ffmpeg

    out = Path(out)
    progress = progress or _no_progress
    cancelled = cancelled or _never
    width, height = size
    if width % 2 or height % 2:
        raise VideoError(f"video size {width}x{height}: width and height must be even")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.stem}.partial{out.suffix or '.mp4'}")
    writer = imageio_ffmpeg.write_frames(str(temporary), (width, height), fps=float(fps), codec="libx264",
                                         pix_fmt_in="rgb24", pix_fmt_out="yuv420p", macro_block_size=1,
                                         quality=7, ffmpeg_log_level="error",
                                         output_params=["-preset", "veryfast", "-movflags", "+faststart"])
    started = time.perf_counter()
    try:
        writer.send(None)
        for i, t in enumerate(times):
            if cancelled():
                raise CancelledError("video export cancelled")
            frame = render(float(t))
            if frame.shape != (height, width, 3):
                raise VideoError(f"frame {i} is {frame.shape[1]}x{frame.shape[0]}, expected {width}x{height}")
            writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
            progress((i + 1) / len(times), f"Frame {i + 1} of {len(times)}")
        writer.close()
        temporary.replace(out)
    except BaseException:
        try:
            writer.close()
        except Exception:  # noqa: S110 - ffmpeg already gone; the partial file is removed below
            pass
        temporary.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    return {"frames": len(times), "seconds": seconds, "fps_export": len(times) / seconds if seconds > 0 else 0.0}
