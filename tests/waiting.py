"""Waiting in async tests for what other threads do (simulators, brokers)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def until(check: Callable[[], Any], timeout: float = 5.0, what: str = "") -> Any:
    """Wait until `check()` is truthy, without blocking the loop; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
