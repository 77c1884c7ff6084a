"""Fixtures shared by the whole suite: a small hall's config and a settable clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from daemon.config.loader import load_config
from daemon.config.model import HallConfig
from simulators.ports import free_port

ZONE = ZoneInfo("Asia/Shanghai")

# the `mosquitto`, `embedded_broker` and `listener` (systemd notify socket) fixtures
pytest_plugins = ["tests.mqtt_brokers", "tests.notify_listener"]


def small_hall(tmp_path: Path) -> dict[str, Any]:
    """A hall of 3 services and 4 windows, as the YAML document would hold it."""
    return {
        "hall": {
            "id": "test-hall",
            "names": {"zh": "测试大厅", "en": "Test Hall"},
            "languages": ["zh", "en"],
            "timezone": "Asia/Shanghai",
            "day_starts": "04:00",
        },
        "queue": {"priority_max_in_row": 2, "no_show_tolerance_minutes": 30},
        "services": [
            {"id": "social", "names": {"zh": "社保", "en": "Social Security"}, "prefix": "A"},
            {"id": "tax", "names": {"zh": "税务", "en": "Tax"}, "prefix": "B"},
            {
                "id": "fund",
                "names": {"zh": "公积金", "en": "Housing Fund"},
                "prefix": "C",
                "numbers": {"first": 1, "last": 20},
                "daily_limit": 5,
            },
        ],
        "windows": [
            {"number": 1, "services": ["social", "tax"], "clerks": {"a": "s1", "b": "s2"}},
            {"number": 2, "services": ["tax", "social"], "clerks": {"a": "s2", "b": "s1"}},
            {"number": 3, "services": ["fund"], "clerks": {"a": "s3"}},
            {"number": 4, "services": ["social", "tax", "fund"]},
        ],
        "staff": [
            {"id": "s1", "name": "张伟", "staff_no": "0101"},
            {"id": "s2", "name": "王芳", "staff_no": "0102"},
            {"id": "s3", "name": "李娜", "staff_no": "0103"},
            {"id": "s4", "name": "刘洋"},
        ],
        "api": {"host": "127.0.0.1", "port": 0},
        "events": {"zmq_pub": None},
        "storage": {"path": str(tmp_path / "hall.sqlite3")},
        "secrets": str(tmp_path / "secrets.yaml"),
    }


def window_one_and_kiosk_one(bus_url: str, printer_tcp: dict[str, Any]) -> dict[str, Any]:
    """The `links` and `devices` of a hall with window 1's screen and keypad on
    bus-1 at `bus_url`, and kiosk-1's printer on TCP."""
    return {
        "links": [{"id": "bus-1", "url": bus_url, "baud": 9600}],
        "devices": [
            {"id": "screen-1", "model": "imm-window-screen", "link": "bus-1", "address": 1,
             "window": 1},
            {"id": "keypad-1", "model": "ff68-keypad", "link": "bus-1", "address": 1,
             "window": 1},
            {"id": "kiosk-1-printer", "model": "escpos-printer", "kiosk": "kiosk-1",
             "tcp": printer_tcp, "status_seconds": 0.5},
        ],
    }  # fmt: skip


def unreachable_printer() -> dict[str, Any]:
    """kiosk-1's printer at a loopback port nobody listens on: it stays offline."""
    return {
        "id": "kiosk-1-printer",
        "model": "escpos-printer",
        "kiosk": "kiosk-1",
        "tcp": {"host": "127.0.0.1", "port": free_port()},
    }


def write_config(tmp_path: Path, document: dict[str, Any], name: str = "hall.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.fixture
def config_document(tmp_path: Path) -> dict[str, Any]:
    return small_hall(tmp_path)


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., HallConfig]:
    """Build a validated HallConfig from the small hall, with sections replaced."""

    def build(**sections: Any) -> HallConfig:
        document = {**small_hall(tmp_path), **sections}
        return load_config(write_config(tmp_path, document))

    return build


@pytest.fixture
def config(make_config: Callable[..., HallConfig]) -> HallConfig:
    return make_config()


class Clock:
    """A hall clock the test moves by hand; starts on a Wednesday at 09:00."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZONE)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
