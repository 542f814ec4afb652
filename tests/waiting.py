"""Waiting in tests for something another thread or process does (no Qt event loop involved)."""

from __future__ import annotations

import time


def wait_for(condition, timeout: float, what: str = "condition"):
    """Poll ``condition`` every 20 ms until it returns something truthy (returned), or fail after
    ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
