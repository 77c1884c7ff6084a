"""`hallkeeper run`: what it says in the journal as it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.bench.daemon_process import DaemonProcess
from tests.conftest import small_hall, write_config

pytestmark = pytest.mark.process


def test_a_setting_the_bus_will_not_keep_is_logged_as_the_daemon_starts(tmp_path: Path) -> None:
    document = small_hall(tmp_path) | {
        "links": [{"id": "bus-1", "url": "/dev/hallkeeper/bus-1", "refresh_spacing_seconds": 30}],
        "devices": [
            {
                "id": "keypad-1",
                "model": "ff68-keypad",
                "link": "bus-1",
                "address": 1,
                "window": 1,
                "probe_seconds": 10,
            }
        ],
    }
    daemon = DaemonProcess(write_config(tmp_path, document), args=["--simulate"]).start()
    daemon.stop()
    [line] = [line for line in daemon.output if "note:" in line]
    assert "WARNING" in line
    assert (
        "links[0].refresh_spacing_seconds: note: bus-1 carries 1 device, whose re-sends and "
        "probes go 30 s apart, so each at most every 30 s: devices[0].probe_seconds 10 take "
        "no effect"
    ) in line
