"""The hall with its RS-485 devices, end to end: the production bus master,
devices and router on one side of a pty, the device simulators on the other."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.api.app import create_app
from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.router import Router
from daemon.runtime import DaemonInfo
from daemon.simulation import link_specs, overrides
from daemon.store.store import Store
from daemon.tokens import Role, TokenFile
from devices.bus_device import DeviceContext
from drivers.bus import Endpoint
from simulators.hall import SimulatedHall
from simulators.rs485.devices import KeypadSim, PadSim, ScreenSim
from tests.waiting import until

pytestmark = pytest.mark.anyio
DUPLICATE_WINDOW = Endpoint.__dataclass_fields__["duplicate_window"].default


def rs485_devices() -> dict[str, Any]:
    devices = []
    for window in (1, 2, 3):
        devices += [
            {
                "id": f"screen-{window}",
                "model": "imm-window-screen",
                "link": "bus-1",
                "address": window,
                "window": window,
                "show_clerk": window == 1,
            },
            {
                "id": f"keypad-{window}",
                "model": "ff68-keypad",
                "link": "bus-1",
                "address": window,
                "window": window,
            },
            {
                "id": f"pad-{window}",
                "model": "ff68-pad",
                "link": "bus-1",
                "address": 100 + window,
                "window": window,
                "timeout_seconds": 2,
            },
        ]
    devices.append(
        {"id": "hall-screen", "model": "imm-hall-screen", "link": "bus-1", "address": 90}
    )
    return {"links": [{"id": "bus-1", "url": "/dev/null", "baud": 9600}], "devices": devices}


@dataclass
class RunningHall:
    hall: Hall
    sim: SimulatedHall
    hardware: Hardware
    api: httpx.AsyncClient

    def screen(self, device: str) -> ScreenSim:
        found = self.sim.device(device)
        assert isinstance(found, ScreenSim)
        return found

    def keypad(self, device: str) -> KeypadSim:
        found = self.sim.device(device)
        assert isinstance(found, KeypadSim)
        return found

    def pad(self, device: str) -> PadSim:
        found = self.sim.device(device)
        assert isinstance(found, PadSim)
        return found

    def health(self, device: str) -> dict[str, Any]:
        return next(d for d in self.hall_health() if d["id"] == device)

    def hall_health(self) -> list[dict[str, Any]]:
        from dataclasses import asdict

        return [asdict(h) for h in self.hardware.health()]


@pytest.fixture
async def running(
    make_config: Callable[..., HallConfig], tmp_path: Path
) -> AsyncIterator[RunningHall]:
    config = make_config(**rs485_devices())
    sim = SimulatedHall(link_specs(config), tmp_path / "sim", control=None)
    sim.start()
    store = Store(config.storage.path, config.hall.id)
    hall = Hall(config, store)
    router = Router(hall)
    context = DeviceContext(asyncio.get_running_loop(), hall.now, router.handle, config.texts, "zh")
    hardware = Hardware(config, context, overrides(sim))
    await hall.start(day_timer=False)
    for window, clerk in ((1, "s1"), (2, "s2"), (3, "s3")):
        await hall.perform(hall.engine.sign_in, window, clerk)
    hardware.start()
    router.start(hardware)
    tokens = TokenFile(config.secrets)
    _, token = tokens.add(Role.ADMIN)
    info = DaemonInfo(started_at=hall.now(), devices=hardware.health)
    app = create_app(hall, tokens, info)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://hall",
        headers={"Authorization": f"Bearer {token}"},
    ) as api:
        try:
            yield RunningHall(hall, sim, hardware, api)
        finally:
            await hardware.stop()
            await hall.stop()
            store.close()
            sim.stop()


async def issue(running: RunningHall, service: str = "social") -> str:
    reply = await running.api.post("/api/v1/tickets", json={"service": service})
    assert reply.status_code == 201, reply.text
    return reply.json()["code"]


async def test_a_keypad_press_calls_the_next_ticket_on_every_screen(running: RunningHall) -> None:
    await until(lambda: running.screen("screen-1").text, what="the first picture")
    first = await issue(running)
    second = await issue(running)
    await until(lambda: running.keypad("keypad-1").beeps >= 1, what="a beep at the idle window")

    running.keypad("keypad-1").press("call")

    screen = running.screen("screen-1")
    await until(lambda: screen.text == f"请{first}号到1号窗口 张伟 工号0101", what="the call")
    assert running.hall.committed.windows[1].current == first
    hall_screen = running.screen("hall-screen")
    await until(lambda: f"{first}请到1号" in (hall_screen.text or ""), what="the hall screen")
    assert "社保等候1人" in hall_screen.text
    keypad = running.keypad("keypad-1")
    await until(lambda: (keypad.waiting, keypad.number) == (1, 1), what="the keypad display")
    assert second not in screen.text


async def test_a_screen_that_missed_its_call_frame_shows_the_call_a_second_later(
    running: RunningHall,
) -> None:
    """Screens never answer: the call frame goes once more soon after, so a frame
    the wire lost leaves the old number up for about a second, not a minute."""
    screen = running.screen("screen-1")
    await until(lambda: screen.text, what="the first picture")
    code = await issue(running)
    await asyncio.sleep(1.5)  # the first picture's second send is over
    errors = screen.snapshot()["frames"]["decode_errors"]
    screen.set_fault("garble")

    running.keypad("keypad-1").press("call")

    await until(lambda: screen.snapshot()["frames"]["decode_errors"] > errors, what="the call")
    screen.set_fault("ok")
    assert code not in (screen.text or "")  # what a citizen would see without a re-send
    # sent again after about a second; the periodic re-send is a minute away
    await until(lambda: code in (screen.text or ""), timeout=20, what="the call sent again")


async def test_keypad_keys_do_what_the_key_table_says(running: RunningHall) -> None:
    first = await issue(running)
    await issue(running, "tax")
    keypad = running.keypad("keypad-1")
    keypad.press("call")
    await until(lambda: running.hall.committed.windows[1].current == first)
    keypad.press("hold")
    await until(lambda: running.hall.committed.tickets[first].state == "held")
    keypad.press("callback")
    await until(lambda: running.hall.committed.tickets[first].state == "called")
    keypad.press("transfer", (3,))
    await until(lambda: running.hall.committed.tickets[first].target_window == 3)
    keypad.press("pause")
    await until(lambda: running.hall.committed.windows[1].status == "paused")
    await until(lambda: running.screen("screen-1").text == "暂停服务", what="暂停服务")
    await asyncio.sleep(DUPLICATE_WINDOW)  # the same key again sooner is one press
    keypad.press("pause")
    await until(lambda: running.hall.committed.windows[1].status == "open")
    running.keypad("keypad-3").press("call")
    await until(lambda: running.hall.committed.windows[3].current == first)
    running.keypad("keypad-3").press("skip")
    await until(lambda: running.hall.committed.tickets[first].state == "no_show")


async def test_a_pad_key_stores_the_rating_with_ticket_window_and_clerk(
    running: RunningHall,
) -> None:
    code = await issue(running)
    running.keypad("keypad-2").press("call")
    await until(lambda: running.hall.committed.windows[2].current == code)
    reply = await running.api.post("/api/v1/windows/2/complete", json={"case_number": "SB-42"})
    assert reply.status_code == 200
    pad = running.pad("pad-2")
    await until(lambda: pad.prompted, what="the pad prompt after complete")

    pad.rate(4)

    await until(lambda: running.hall.committed.tickets[code].rated, what="the stored rating")
    [rating] = running.hall.store.ratings_of(running.hall.committed.day)
    assert (rating.ticket, rating.window, rating.clerk, rating.case_number, rating.level) == (
        code,
        2,
        "s2",
        "SB-42",
        4,
    )
    events = running.hall.store.events_after(0, 1000)
    assert [e["type"] for e in events][-2:] == ["rating.given", "rating.alert"]


async def test_a_pad_sees_its_key_delivered_only_once_the_rating_is_stored(
    running: RunningHall,
) -> None:
    """The disk holds the commit back (another writer has the store locked): the
    pad's key goes unanswered and the pad resends it; once the rating is stored
    the pad gets its echo, and the rating is stored once."""
    code = await issue(running)
    running.keypad("keypad-2").press("call")
    await until(lambda: running.hall.committed.windows[2].current == code)
    running.keypad("keypad-2").press("rate")
    pad = running.pad("pad-2")
    await until(lambda: pad.prompted, what="the prompt from the rate key")
    blocker = sqlite3.connect(running.hall.store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        pad.rate(1)
        await until(lambda: pad.snapshot()["frames"]["resends"] >= 1, what="a resend")
        assert pad.snapshot()["presses"]["acknowledged"] == 0
        assert not running.hall.committed.tickets[code].rated
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await until(lambda: pad.snapshot()["presses"]["acknowledged"] == 1, what="the echo")
    assert pad.snapshot()["presses"]["failed"] == 0
    assert running.hall.committed.tickets[code].rated
    assert [r.level for r in running.hall.store.ratings_of(running.hall.committed.day)] == [1]


async def test_no_key_before_the_pad_times_out_is_unrated(running: RunningHall) -> None:
    code = await issue(running, "fund")
    running.keypad("keypad-3").press("call")
    await until(lambda: running.hall.committed.windows[3].current == code)
    running.keypad("keypad-3").press("rate")
    await until(lambda: running.pad("pad-3").prompted, what="the prompt from the rate key")
    await until(lambda: running.hall.committed.tickets[code].rated, timeout=6, what="unrated")
    [rating] = running.hall.store.ratings_of(running.hall.committed.day)
    assert rating.level is None and rating.ticket == code


async def test_unplugging_the_bus_takes_its_devices_offline_and_back_with_fresh_pictures(
    running: RunningHall,
) -> None:
    await until(lambda: running.health("keypad-1")["state"] == "online", what="online")
    bus = running.sim.bus("bus-1")

    bus.unplug()
    for device in ("screen-1", "keypad-1", "pad-2", "hall-screen"):
        await until(lambda d=device: running.health(d)["state"] == "offline", what=device)
        assert running.health(device)["reason"].startswith("bus_offline")
    code = await issue(running)  # the hall works on while the bus is away
    reply = await running.api.post("/api/v1/windows/1/call-next")
    assert reply.json()["called"]["code"] == code

    bus.replug()
    await until(lambda: running.health("keypad-1")["state"] == "online", timeout=15, what="back")
    screen = running.screen("screen-1")
    await until(lambda: screen.text == f"请{code}号到1号窗口 张伟 工号0101", what="fresh text")
    keypad = running.keypad("keypad-1")
    await until(lambda: keypad.number == 1, what="the keypad's fresh display")
    health = running.health("keypad-1")
    assert health["counters"]["reconnects"] >= 1 and health["last_seen"] is not None


async def until_keypad_2_is_offline(running: RunningHall) -> None:
    """Silent keypad-2 is found out: each ticket changes its display, which it does
    not echo."""
    for _ in range(10):
        await issue(running, "tax")
        await asyncio.sleep(0.3)
        if running.health("keypad-2")["state"] == "offline":
            break
    assert running.health("keypad-2")["state"] == "offline"


async def test_a_silent_device_costs_the_others_no_more_than_its_timeout(
    running: RunningHall,
) -> None:
    await until(lambda: running.health("keypad-2")["state"] == "online", what="online")
    running.keypad("keypad-2").set_fault("silent")
    running.screen("screen-3").set_fault("silent")
    await until_keypad_2_is_offline(running)
    assert "no answer" in running.health("keypad-2")["reason"]
    assert running.health("keypad-1")["state"] == "online"

    code = await issue(running)
    began = time.monotonic()
    running.keypad("keypad-1").press("call")
    screen = running.screen("screen-1")
    await until(lambda: code in (screen.text or ""), what="the call on the working screen")
    # the bus gives up on a silent device after its 0.1 s timeout; allow for a
    # shared machine, but not for a master that waits on the dead device
    assert time.monotonic() - began < 2.0
    assert running.screen("screen-3").text != screen.text


async def test_an_adapter_that_echoes_what_the_daemon_sends_changes_nothing(
    running: RunningHall,
) -> None:
    """Its copies are neither keys to echo again nor answers of a silent keypad."""
    running.sim.bus("bus-1").local_echo = True
    running.keypad("keypad-2").set_fault("silent")
    await until_keypad_2_is_offline(running)

    code = await issue(running)
    keypad = running.keypad("keypad-1")
    keypad.press("call")
    screen = running.screen("screen-1")
    await until(lambda: code in (screen.text or ""), what="the call")
    await asyncio.sleep(DUPLICATE_WINDOW)
    counters = keypad.snapshot()
    assert counters["presses"]["acknowledged"] == 1
    assert counters["frames"]["stray_acks"] == 0  # echoed once, not again for each copy
    assert running.health("keypad-1")["state"] == "online"


async def test_device_health_is_in_the_api(running: RunningHall) -> None:
    await until(lambda: running.health("pad-1")["state"] == "online", what="online")
    reply = await running.api.get("/api/v1/health")
    devices = {d["id"]: d for d in reply.json()["devices"]}
    assert set(devices) == {
        *(f"{kind}-{n}" for kind in ("screen", "keypad", "pad") for n in (1, 2, 3)),
        "hall-screen",
    }
    pad = devices["pad-1"]
    assert pad["kind"] == "evaluation-pad" and pad["model"] == "ff68-pad"
    assert pad["state"] == "online" and pad["link"] == "bus-1"
    assert {"since", "last_seen", "reason", "counters", "details"} <= set(pad)
    assert pad["counters"]["frames_out"] >= 1 and pad["counters"]["frames_in"] >= 1
    assert devices["screen-1"]["details"]["answers"] is False
