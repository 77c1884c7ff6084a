"""Fingerprint readers end to end: the production reader device and router on
one side of a pty, the simulated R30x module on the other, with a window
screen and a keypad on a simulated RS-485 bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
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
from daemon.simulation import link_specs, overrides, reader_specs
from daemon.store.store import Store
from daemon.tokens import Role, TokenFile
from devices.bus_device import DeviceContext
from simulators.hall import SimulatedHall
from simulators.r30x import SimulatedFingerprintModule
from simulators.rs485.devices import KeypadSim, ScreenSim
from tests.waiting import until

pytestmark = pytest.mark.anyio


def devices() -> dict[str, Any]:
    bus = {"link": "bus-1", "address": 1, "window": 1}
    return {
        "links": [{"id": "bus-1", "url": "/dev/null", "baud": 9600}],
        "devices": [
            {"id": "screen-1", "model": "imm-window-screen", "show_clerk": True, **bus},
            {"id": "keypad-1", "model": "ff68-keypad", **bus},
            {
                "id": "reader-1",
                "model": "r30x-reader",
                "serial": {"device": "/dev/null"},
                "window": 1,
            },
            {"id": "reader-door", "model": "r30x-reader", "serial": {"device": "/dev/null"}},
        ],
    }


@dataclass
class RunningHall:
    hall: Hall
    sim: SimulatedHall
    hardware: Hardware
    api: httpx.AsyncClient

    def module(self, reader: str) -> SimulatedFingerprintModule:
        return self.sim.reader(reader)

    def health(self, device: str) -> dict[str, Any]:
        return next(asdict(h) for h in self.hardware.health() if h.id == device)

    async def events(self, *types: str) -> list[dict[str, Any]]:
        reply = await self.api.get("/api/v1/events", params={"after": 0, "limit": 1000})
        return [e for e in reply.json()["events"] if e["type"] in types]

    def stored_types(self) -> list[str]:
        return [event["type"] for event in self.hall.store.events_after(0, 1000)]

    async def enrolled(self, reader: str, page: int, staff: str) -> None:
        """A template the hall's records and the module both hold."""
        await self.hall.perform(self.hall.attendance.enroll, reader, page, staff)
        self.module(reader).enroll(page, staff)


@pytest.fixture
async def running(
    make_config: Callable[..., HallConfig], tmp_path: Path
) -> AsyncIterator[RunningHall]:
    config = make_config(**devices())
    sim = SimulatedHall(
        link_specs(config), tmp_path / "sim", control=None, readers=reader_specs(config)
    )
    sim.start()
    store = Store(config.storage.path, config.hall.id)
    hall = Hall(config, store)
    router = Router(hall)
    context = DeviceContext(asyncio.get_running_loop(), hall.now, router.handle, config.texts, "zh")
    hardware = Hardware(config, context, overrides(sim))
    await hall.start(day_timer=False)
    hardware.start()
    router.start(hardware)
    tokens = TokenFile(config.secrets)
    _, token = tokens.add(Role.ADMIN)
    info = DaemonInfo(started_at=hall.now(), devices=hardware.health)
    app = create_app(hall, tokens, info, None, hardware.readers)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://hall",
        headers={"Authorization": f"Bearer {token}"},
    ) as api:
        running = RunningHall(hall, sim, hardware, api)
        try:
            for reader in ("reader-1", "reader-door"):
                await until(lambda r=reader: running.health(r)["state"] == "online", what=reader)
            yield running
        finally:
            await hardware.stop()
            await hall.stop()
            store.close()
            sim.stop()


async def test_a_known_finger_at_a_windows_reader_signs_the_clerk_in(
    running: RunningHall,
) -> None:
    await running.enrolled("reader-1", 0, "s1")
    screen = running.sim.device("screen-1")
    assert isinstance(screen, ScreenSim)

    running.module("reader-1").place("s1")

    await until(lambda: running.hall.committed.windows[1].clerk == "s1", what="signed in")
    await until(lambda: screen.text == "1号窗口 欢迎您 张伟 工号0101", what="the clerk shown")
    [punch] = await running.events("attendance.punch")
    assert (punch["staff"], punch["source"], punch["direction"]) == ("s1", "reader-1", "in")

    # the keypad works now: a ticket, a call, and the screen shows it
    reply = await running.api.post("/api/v1/tickets", json={"service": "social"})
    code = reply.json()["code"]
    keypad = running.sim.device("keypad-1")
    assert isinstance(keypad, KeypadSim)
    keypad.press("call")
    await until(lambda: screen.text == f"请{code}号到1号窗口 张伟 工号0101", what="the call")

    # the same finger again signs the clerk out, once the window is idle
    await running.api.post("/api/v1/windows/1/complete", json={})
    running.module("reader-1").place("s1")
    await until(lambda: running.hall.committed.windows[1].clerk is None, what="signed out")
    punches = await running.events("attendance.punch")
    assert [p["direction"] for p in punches] == ["in", "out"]


async def test_an_unknown_finger_is_counted_and_evented_never_punched(
    running: RunningHall,
) -> None:
    running.module("reader-door").place_unknown()
    await until(lambda: running.health("reader-door")["details"]["unknown"] == 1, what="counted")
    await until(lambda: "attendance.unknown_finger" in running.stored_types(), what="stored")
    events = await running.events("attendance.unknown_finger", "attendance.punch")
    assert [(e["type"], e["source"]) for e in events] == [
        ("attendance.unknown_finger", "reader-door")
    ]


async def test_a_template_the_hall_does_not_know_is_an_unknown_finger(
    running: RunningHall,
) -> None:
    running.module("reader-door").enroll(7, "s2")  # in the module, not in the records
    running.module("reader-door").place("s2")
    await until(lambda: running.health("reader-door")["details"]["identified"] == 1, what="seen")
    await until(
        lambda: "attendance.unknown_finger" in running.stored_types(),
        what="evented",
    )
    assert running.hall.committed.punches == {}


async def test_enrolment_through_the_reader_from_the_api(running: RunningHall) -> None:
    module = running.module("reader-door")

    async def touch_when_asked() -> None:
        while True:
            if module.snapshot()["finger"] is None:
                module.place("s3")
            await asyncio.sleep(0.05)

    toucher = asyncio.create_task(touch_when_asked())
    try:
        reply = await running.api.post(
            "/api/v1/staff/s3/fingerprints", json={"reader": "reader-door"}
        )
    finally:
        toucher.cancel()
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"staff": "s3", "reader": "reader-door", "page": 0}
    assert module.library == {0: "s3"}
    assert running.hall.committed.fingerprints == {("reader-door", 0): "s3"}

    await asyncio.sleep(0.3)  # the last touch has been imaged; a new one punches
    module.place("s3")
    await until(lambda: running.hall.committed.present("s3"), what="the punch")

    gone = await running.api.delete("/api/v1/staff/s3/fingerprints/reader-door/0")
    assert gone.status_code == 200, gone.text
    assert module.library == {} and running.hall.committed.fingerprints == {}


async def test_enrolling_on_an_unknown_reader_or_staff_member_is_refused(
    running: RunningHall,
) -> None:
    reply = await running.api.post("/api/v1/staff/s3/fingerprints", json={"reader": "nope"})
    assert (reply.status_code, reply.json()["code"]) == (422, "unknown_reader")
    reply = await running.api.post("/api/v1/staff/nobody/fingerprints", json={"reader": "reader-1"})
    assert reply.status_code in (404, 422)


async def test_a_silent_reader_goes_offline_within_its_deadlines(running: RunningHall) -> None:
    running.module("reader-door").set_fault("silent")
    health = await until(
        lambda: (h := running.health("reader-door"))["state"] == "offline" and h, what="offline"
    )
    assert "no answer" in health["reason"]
    assert running.health("reader-1")["state"] == "online", "only that reader"
    running.module("reader-door").set_fault("ok")
    await until(lambda: running.health("reader-door")["state"] == "online", what="back")
