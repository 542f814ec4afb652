"""Standard camera views by name (window, CLI, scenario steps, project [view]) and image sizes."""

from twinviewer.core.options import VIEW_NAMES

__all__ = ["VIEW_NAMES", "parse_size"]


def parse_size(text: str) -> tuple[int, int]:
    """'1280x800' → (1280, 800), within 16…8192 pixels each way."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise ValueError(f"size {text!r} must be between 16 and 8192 pixels each way")
    return width, height
