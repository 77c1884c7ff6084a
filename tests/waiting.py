"""Waiting in tests for what other threads and processes do (simulators, brokers, daemons)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def until(check: Callable[[], Any], timeout: float = 5.0, what: str = "") -> Any:
    """Wait until `check()` is truthy, without blocking the loop; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")


def wait_for(check: Callable[[], T], timeout: float = 15.0, what: str = "") -> T:
    """Wait until `check()` is truthy, in a test without an event loop; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
