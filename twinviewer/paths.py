"""Where bundled files live, in a checkout and in an installed package."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """``assets/`` of a checkout (editable install), else the copy installed inside the package."""
    checkout = _PACKAGE.parent / "assets"
    if (checkout / "demo").is_dir():
        return checkout
    return _PACKAGE / "_assets"


def demo_project_path() -> Path:
    return assets_dir() / "demo" / "demo.twin.toml"
