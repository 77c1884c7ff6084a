"""The small hall the simulate tests run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import small_hall


def hall_document(tmp_path: Path) -> dict[str, Any]:
    """Window 1's screen, keypad and pad on a bus; kiosk-1 on USB, kiosk-2 on TCP;
    a fingerprint reader, an attendance terminal, the embedded broker. Paths are
    relative to the config's folder."""
    document = small_hall(tmp_path)
    document.update(
        storage={"path": "var/hall.sqlite3"},
        secrets="var/secrets.yaml",
        links=[{"id": "bus-1", "url": "/dev/ttyUSB0"}],
        devices=[
            {"id": "screen-1", "model": "imm-window-screen", "link": "bus-1", "address": 1,
             "window": 1},
            {"id": "keypad-1", "model": "ff68-keypad", "link": "bus-1", "address": 1,
             "window": 1},
            {"id": "pad-1", "model": "ff68-pad", "link": "bus-1", "address": 101, "window": 1},
            {"id": "kiosk-1-printer", "model": "escpos-printer", "kiosk": "kiosk-1",
             "usb": {"vendor": 0x0416, "product": 0x5011}, "status_seconds": 0.5},
            {"id": "kiosk-2-printer", "model": "escpos-printer", "kiosk": "kiosk-2",
             "tcp": {"host": "192.0.2.9"}, "status_seconds": 0.5},
            {"id": "reader-1", "model": "r30x-reader", "serial": {"device": "/dev/ttyUSB1"},
             "window": 1},
            {"id": "terminal-1", "model": "zk-terminal", "tcp": {"host": "192.0.2.10"}},
        ],
        mqtt={"broker": "embedded", "health_seconds": 1},
    )  # fmt: skip
    return document
