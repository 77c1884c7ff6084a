"""Every simulator test must leave no bus, printer, fingerprint reader or control thread
running."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

SIMULATOR_THREADS = (
    "sim-bus-",
    "sim-printer-",
    "sim-fingerprint-",
    "sim-terminal-",
    "sim-adms-",
    "sim-control",
)


@pytest.fixture(autouse=True)
def no_simulator_threads_left() -> Iterator[None]:
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith(SIMULATOR_THREADS)]
    assert not left, f"simulator threads still running after the test: {left}"
