"""The hall `hallkeeper bench hall` runs: N windows, each with a window screen,
a caller keypad and an evaluation pad, 32 windows to an RS-485 bus (or fewer,
to see what a hall gains by more buses); the hall screen on a bus of its own;
two kiosks, one printer on USB and one on the network. `hallkeeper simulate`
finds a simulator for each device. Screens are re-sent, and keypads and pads
probed, every `PROBE_SECONDS` as in a hall's default config, or at another
interval, to see what a hall gains from fewer frames on its buses; a bus
crowded with devices spaces them out further itself (`drivers.bus`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WINDOWS_PER_BUS = 32
PROBE_SECONDS = 60.0
SERVICES = 12
PAD_ADDRESS = 100
BAUD = 9600
HALL_BUS = "bus-hall"
KIOSKS = {
    "kiosk-1": {"usb": {"vendor": 0x0416, "product": 0x5011}},
    "kiosk-2": {"tcp": {"host": "192.0.2.1", "port": 9100}},
}


@dataclass(frozen=True)
class BenchHall:
    """What the workload needs to know of the hall it drives."""

    config: Path
    #: window -> the service it calls
    serves: dict[int, str]
    kiosks: tuple[str, ...]
    windows_per_bus: int = WINDOWS_PER_BUS
    probe_seconds: float = PROBE_SECONDS

    @property
    def windows(self) -> int:
        return len(self.serves)

    def screen(self, window: int) -> str:
        return f"screen-{window}"

    def keypad(self, window: int) -> str:
        return f"keypad-{window}"

    def pad(self, window: int) -> str:
        return f"pad-{window}"

    @staticmethod
    def printer(kiosk: str) -> str:
        return f"{kiosk}-printer"


def bus_of(window: int, per_bus: int = WINDOWS_PER_BUS) -> tuple[str, int]:
    """The bus a window's devices are on, and the window's place on it (1-`per_bus`)."""
    index, place = divmod(window - 1, per_bus)
    return f"bus-{index + 1}", place + 1


def window_devices(
    window: int, per_bus: int, probe_seconds: float = PROBE_SECONDS
) -> list[dict[str, Any]]:
    """A window's screen, keypad and pad; a keypad's waiting count that changes
    alone rides with its probe, as in a hall's default config."""
    link, place = bus_of(window, per_bus)
    common = {"link": link, "window": window}
    return [
        {
            "id": f"screen-{window}",
            "model": "imm-window-screen",
            "address": place,
            "refresh_seconds": probe_seconds,
            **common,
        },
        {
            "id": f"keypad-{window}",
            "model": "ff68-keypad",
            "address": place,
            "probe_seconds": probe_seconds,
            "count_every_seconds": probe_seconds,
            **common,
        },
        {
            "id": f"pad-{window}",
            "model": "ff68-pad",
            "address": PAD_ADDRESS + place,
            "probe_seconds": probe_seconds,
            **common,
        },
    ]


def write_bench_hall(
    folder: Path,
    windows: int,
    events_endpoint: str,
    per_bus: int = WINDOWS_PER_BUS,
    probe_seconds: float = PROBE_SECONDS,
) -> BenchHall:
    """The hall's config in `folder/hall.yaml`, its store and tokens beside it;
    `per_bus` windows to an RS-485 bus, each window's devices re-sent or
    probed every `probe_seconds`."""
    if windows < 1:
        raise ValueError(f"windows must be at least 1, got {windows}")
    if not 1 <= per_bus <= WINDOWS_PER_BUS:
        raise ValueError(f"windows per bus must be 1 to {WINDOWS_PER_BUS}, got {per_bus}")
    services = [f"s{n}" for n in range(SERVICES)]
    serves = {w: services[(w - 1) % SERVICES] for w in range(1, windows + 1)}
    buses = [f"bus-{n + 1}" for n in range((windows - 1) // per_bus + 1)]
    devices = [entry for w in serves for entry in window_devices(w, per_bus, probe_seconds)]
    devices.append(
        {"id": "hall-screen", "model": "imm-hall-screen", "link": HALL_BUS, "address": 1}
    )
    devices += [
        {"id": BenchHall.printer(kiosk), "model": "escpos-printer", "kiosk": kiosk, **connection}
        for kiosk, connection in KIOSKS.items()
    ]
    document = {
        "hall": {"id": "bench-hall", "names": {"zh": "测试大厅", "en": "Bench Hall"}},
        "services": [
            {
                "id": sid,
                "names": {"zh": f"业务{n + 1}", "en": f"Service {n + 1}"},
                "prefix": chr(ord("A") + n),
                "numbers": {"first": 1, "last": 9999},
            }
            for n, sid in enumerate(services)
        ],
        "windows": [{"number": w, "services": [sid]} for w, sid in serves.items()],
        "links": [
            {"id": link, "url": f"/dev/hallkeeper/{link}", "baud": BAUD}
            for link in [*buses, HALL_BUS]
        ],
        "devices": devices,
        "api": {"host": "127.0.0.1", "port": 0},
        "events": {"zmq_pub": events_endpoint},
        "storage": {"path": "hall.sqlite3"},
        "secrets": "secrets.yaml",
    }
    path = folder / "hall.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return BenchHall(path, serves, tuple(KIOSKS), per_bus, probe_seconds)
