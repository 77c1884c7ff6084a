"""A ZKTeco terminal end to end: the production terminal device and router
against the simulated terminal on TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.router import Router
from daemon.simulation import overrides, terminal_specs
from daemon.store.store import Store
from devices.bus_device import DeviceContext
from simulators.hall import SimulatedHall
from tests.conftest import small_hall
from tests.waiting import until

pytestmark = pytest.mark.anyio


@pytest.fixture
async def running(
    make_config: Callable[..., HallConfig], tmp_path: Path
) -> AsyncIterator[tuple[Hall, Hardware, SimulatedHall]]:
    staff = [{**member, "terminal_user": f"10{n}"} for n, member in
             enumerate(small_hall(tmp_path)["staff"], start=1)]  # fmt: skip
    terminal = {"id": "zk-1", "model": "zk-terminal", "tcp": {"host": "192.0.2.9"}}
    config = make_config(staff=staff, devices=[{**terminal, "silence_seconds": 1.0}])
    sim = SimulatedHall([], tmp_path / "sim", control=None, terminals=terminal_specs(config))
    sim.start()
    store = Store(config.storage.path, config.hall.id)
    hall = Hall(config, store)
    router = Router(hall)
    context = DeviceContext(asyncio.get_running_loop(), hall.now, router.handle, config.texts, "zh")
    hardware = Hardware(config, context, overrides(sim))
    await hall.start(day_timer=False)
    hardware.start()
    router.start(hardware)
    try:
        await until(lambda: health(hardware)["state"] == "online", what="the terminal online")
        yield hall, hardware, sim
    finally:
        await hardware.stop()
        await hall.stop()
        store.close()
        sim.stop()


def health(hardware: Hardware) -> dict[str, Any]:
    return next(asdict(h) for h in hardware.health() if h.id == "zk-1")


def stored(hall: Hall) -> list[tuple[str, str]]:
    return [(p.staff, p.source) for p in hall.store.punches_of(hall.committed.day)]


async def test_a_live_punch_is_stored(running: tuple[Hall, Hardware, SimulatedHall]) -> None:
    hall, _, sim = running
    sim.terminal("zk-1").punch("102")
    await until(lambda: stored(hall) == [("s2", "zk-1")], what="the punch")
    assert hall.committed.present("s2")


async def test_punches_during_a_reboot_come_back_from_the_log_exactly_once(
    running: tuple[Hall, Hardware, SimulatedHall],
) -> None:
    hall, hardware, sim = running
    terminal = sim.terminal("zk-1")
    terminal.punch("101")
    await until(lambda: len(stored(hall)) == 1, what="the live punch")

    terminal.set_fault("reboot")  # the stream ends without a word
    terminal.punch("102")  # made while the terminal reboots: only in its log
    terminal.punch("103")

    await until(lambda: health(hardware)["state"] == "offline", timeout=10, what="offline")
    await until(lambda: len(stored(hall)) == 3, timeout=15, what="the gap filled")
    assert sorted(stored(hall)) == [("s1", "zk-1"), ("s2", "zk-1"), ("s3", "zk-1")]
    assert health(hardware)["state"] == "online"

    terminal.punch("101")  # clocking out, live again
    await until(lambda: len(stored(hall)) == 4, what="the next live punch")
    await asyncio.sleep(0.5)
    events = hall.store.events_after(0, 1000)
    assert sum(e["type"] == "attendance.punch" for e in events) == 4, "each punch once"
    states = [h["state"] for h in health(hardware)["history"]]
    assert states == ["offline", "online", "offline", "online"]


async def test_the_terminals_clock_is_set_to_the_halls_on_connect(
    running: tuple[Hall, Hardware, SimulatedHall],
) -> None:
    hall, hardware, sim = running
    local = hall.now().replace(tzinfo=None)
    drift = abs((sim.terminal("zk-1").now() - local).total_seconds())
    assert drift < 2, f"the terminal's clock is {drift:.0f} s off the hall's"
    assert health(hardware)["details"]["clock_synced_on"] == hall.now().date().isoformat()
