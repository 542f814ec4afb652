"""Shared test fixtures: where the real data lives, and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.mqtt_broker"]

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
DEMO_PROJECT = REPO / "assets" / "demo" / "demo.twin.toml"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real meshes and recordings in ../shared/data (CI has them there too)."""
    if not (SHARED_DATA / "MANIFEST.md").is_file():
        pytest.fail(f"real test data not found at {SHARED_DATA}: clone next to ../shared")
    return SHARED_DATA
