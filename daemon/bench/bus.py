"""`hallkeeper bench bus`: from a keypad's call key to the window screen
showing the call, on one RS-485 bus full of devices, through the real daemon.

The daemon runs as its own process against a simulated bus (a pty with the
bus's byte timing) holding a screen, a keypad and a pad per window. Keys are
pressed at random idle windows at a steady rate while tickets keep the queues
full. For each press: the time from the press to the last byte of the screen
frame with the call, and its ratio to the wire time of the frames that have
to cross the bus for it (the key frame, its echo and the screen frame).
Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from daemon.bench.core import percentile
from daemon.bench.daemon_process import DaemonProcess
from daemon.bench.http_load import Connection
from daemon.tokens import Role, TokenFile
from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.hall import DeviceSpec, LinkSpec, SimulatedHall
from simulators.rs485.devices import KeypadSim, ScreenSim

SERVICES = 12
PAD_ADDRESS = 100
SCREEN_TIMEOUT = 5.0  # a press whose call has not shown by then is counted lost


@dataclass
class Press:
    window: int
    at: float
    shown_at: float | None = None
    wire_seconds: float = 0.0


def bench_hall(folder: Path, windows: int, baud: int) -> Path:
    services = [
        {"id": f"s{n}", "names": {"zh": f"业务{n}", "en": f"Service {n}"}, "prefix": chr(65 + n)}
        for n in range(SERVICES)
    ]
    devices = []
    for w in range(1, windows + 1):
        devices += [
            {
                "id": f"screen-{w}",
                "model": "imm-window-screen",
                "link": "bus-1",
                "address": w,
                "window": w,
            },
            {
                "id": f"keypad-{w}",
                "model": "ff68-keypad",
                "link": "bus-1",
                "address": w,
                "window": w,
            },
            {
                "id": f"pad-{w}",
                "model": "ff68-pad",
                "link": "bus-1",
                "address": PAD_ADDRESS + w,
                "window": w,
            },
        ]
    document = {
        "hall": {"id": "bench-bus", "names": {"zh": "测试大厅", "en": "Bench Hall"}},
        "services": [{**s, "numbers": {"first": 1, "last": 999}} for s in services],
        "windows": [
            {"number": w, "services": [services[(w - 1) % SERVICES]["id"]]}
            for w in range(1, windows + 1)
        ],
        "links": [{"id": "bus-1", "url": str(folder / "sim" / "bus-1"), "baud": baud}],
        "devices": devices,
        "api": {"host": "127.0.0.1", "port": 0},
        "events": {"zmq_pub": None},
        "storage": {"path": "hall.sqlite3"},
        "secrets": "secrets.yaml",
    }
    path = folder / "hall.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def simulated_bus(folder: Path, windows: int, baud: int) -> SimulatedHall:
    specs = []
    for w in range(1, windows + 1):
        specs += [
            DeviceSpec(f"screen-{w}", "imm-window-screen", w),
            DeviceSpec(f"keypad-{w}", "ff68-keypad", w),
            DeviceSpec(f"pad-{w}", "ff68-pad", PAD_ADDRESS + w),
        ]
    return SimulatedHall([LinkSpec("bus-1", baud, tuple(specs))], folder / "sim", control=None)


async def keep_queues_full(base_url: str, token: str, rate: float, stop: asyncio.Event) -> None:
    """Citizens arrive a little faster than windows call them, so a call key
    always finds someone waiting."""
    connection = await Connection.open(base_url)
    rng = random.Random(11)
    try:
        while not stop.is_set():
            await asyncio.sleep(rng.expovariate(rate))
            service = {"service": f"s{rng.randrange(SERVICES)}"}
            await connection.request("POST", "/api/v1/tickets", token, service)
    finally:
        await connection.close()


async def open_windows(base_url: str, token: str, windows: int) -> None:
    connection = await Connection.open(base_url)
    try:
        for w in range(1, windows + 1):
            await connection.request("POST", f"/api/v1/windows/{w}/open", token)
        for _ in range(10):
            for n in range(SERVICES):
                await connection.request("POST", "/api/v1/tickets", token, {"service": f"s{n}"})
    finally:
        await connection.close()


async def watch(press: Press, screen: ScreenSim, before: str | None, baud: int) -> None:
    deadline = press.at + SCREEN_TIMEOUT
    while time.monotonic() < deadline:
        for at, text in reversed(screen.history):
            if at <= press.at:
                break
            if text != before and text.startswith("请"):
                press.shown_at = at
                press.wire_seconds = call_wire_seconds(press.window, text, baud)
                return
        await asyncio.sleep(0.002)


def call_wire_seconds(address: int, text: str, baud: int) -> float:
    """The bus time a call needs at the least: the call key's frame, the host's
    echo of it and the screen's frame with `text`, 10 bits a byte."""
    frames = [
        ff68.encode(ff68.key_press(address, ff68.KEY_CALL)),  # the key
        ff68.encode(ff68.key_press(address, ff68.KEY_CALL)),  # its echo
        imm.encode(imm.ScreenText(address, imm.Selector.WINDOW, text)),
    ]
    return sum(len(f) for f in frames) * 10 / baud


async def press_keys(
    sim: SimulatedHall, windows: int, seconds: float, rate: float, baud: int
) -> list[Press]:
    presses: list[Press] = []
    watchers: set[asyncio.Task[None]] = set()
    busy: set[int] = set()
    end = time.monotonic() + seconds
    rng = random.Random(7)
    while time.monotonic() < end:
        await asyncio.sleep(rng.expovariate(rate))
        idle = [w for w in range(1, windows + 1) if w not in busy]
        if not idle:
            continue
        window = rng.choice(idle)
        screen = sim.device(f"screen-{window}")
        keypad = sim.device(f"keypad-{window}")
        assert isinstance(screen, ScreenSim) and isinstance(keypad, KeypadSim)
        press = Press(window, time.monotonic())
        keypad.press("call")
        presses.append(press)
        busy.add(window)
        task = asyncio.create_task(watch(press, screen, screen.text, baud))
        watchers.add(task)
        # the same key again within the debounce window would count as one press
        task.add_done_callback(lambda t, w=window: (watchers.discard(t), _free_later(busy, w)))
    await asyncio.gather(*watchers)
    return presses


def _free_later(busy: set[int], window: int) -> None:
    asyncio.get_running_loop().call_later(1.0, busy.discard, window)


async def measure(
    base_url: str,
    token: str,
    sim: SimulatedHall,
    windows: int,
    seconds: float,
    rate: float,
    baud: int,
) -> list[Press]:
    await open_windows(base_url, token, windows)
    await asyncio.sleep(3.0)  # let the first pictures go out
    stop = asyncio.Event()
    feeder = asyncio.create_task(keep_queues_full(base_url, token, 1.5 * rate, stop))
    try:
        return await press_keys(sim, windows, seconds, rate, baud)
    finally:
        stop.set()
        await feeder


def run_bus_bench(windows: int, seconds: float, rate: float, baud: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hallkeeper-bench-bus-") as scratch:
        folder = Path(scratch)
        config = bench_hall(folder, windows, baud)
        _, token = TokenFile(folder / "secrets.yaml").add(Role.ADMIN)
        sim = simulated_bus(folder, windows, baud)
        sim.start()
        try:
            daemon = DaemonProcess(config).start()
            try:
                presses = asyncio.run(
                    measure(daemon.base_url, token, sim, windows, seconds, rate, baud)
                )
            finally:
                daemon.stop()
            counters = sim.bus("bus-1").counters
        finally:
            sim.stop()
    shown = [p for p in presses if p.shown_at is not None]
    latencies = [(p.shown_at - p.at) * 1000 for p in shown if p.shown_at]
    ratios = [(p.shown_at - p.at) / p.wire_seconds for p in shown if p.shown_at]
    result = {
        "bench": "bus",
        "windows": windows,
        "devices": windows * 3,
        "baud": baud,
        "seconds": seconds,
        "presses": len(presses),
        "lost": len(presses) - len(shown),
        "latency_ms": spread(latencies),
        "wire_ms": round(statistics.mean(p.wire_seconds for p in shown) * 1000, 3)
        if shown
        else None,
        "ratio_to_wire": spread(ratios, digits=3),
        "bus": counters,
    }
    print(json.dumps(result))
    return result


def spread(values: list[float], digits: int = 1) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "p50": round(percentile(values, 0.5), digits),
        "p99": round(percentile(values, 0.99), digits),
        "max": round(max(values), digits),
    }
