"""Kiosk tickets on paper, end to end: the API, the spool, the printer device
and python-escpos's own Usb, Network and Serial classes on one side; the
simulated printers (a pyusb backend, a TCP 9100 printer, a printer on a pty)
on the other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from daemon.api.app import create_app
from daemon.config.loader import load_config
from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.printing import Spooler
from daemon.queue.model import PrintState
from daemon.router import Router
from daemon.runtime import DaemonInfo
from daemon.simulation import overrides, printer_specs
from daemon.store.store import Store
from daemon.tokens import Role, TokenFile
from devices.bus_device import DeviceContext
from devices.printer_config import TIBETAN_FONT
from simulators.escpos.printer import SimulatedPrinter
from simulators.hall import SimulatedHall
from tests.conftest import Clock, write_config
from tests.waiting import until

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.anyio

KIOSKS = {"kiosk-1": "usb", "kiosk-2": "tcp", "kiosk-3": "serial"}


def printers() -> dict[str, Any]:
    devices = []
    for number, (kiosk, link) in enumerate(KIOSKS.items(), start=1):
        connection = {
            "usb": {"vendor": 0x0416, "product": 0x5011, "serial": f"SN{number}"},
            "tcp": {"host": "192.0.2.1"},
            "serial": {"device": "/dev/null"},
        }[link]
        devices.append(
            {
                "id": f"printer-{number}",
                "model": "escpos-printer",
                "kiosk": kiosk,
                "profile": "80mm",
                link: connection,
                "status_seconds": 0.2,
            }
        )
    return {
        "devices": devices,
        "ticket": {"qr_url": "https://hall.example/q?t={ticket}&d={day}"},
    }


@dataclass
class RunningHall:
    hall: Hall
    sim: SimulatedHall
    hardware: Hardware
    api: httpx.AsyncClient
    config: HallConfig

    def printer(self, number: int) -> SimulatedPrinter:
        return self.sim.printer(f"printer-{number}")

    def health(self, number: int) -> dict[str, Any]:
        found = [asdict(h) for h in self.hardware.health() if h.id == f"printer-{number}"]
        return found[0]

    async def issue(self, kiosk: str, service: str = "social") -> httpx.Response:
        return await self.api.post("/api/v1/tickets", json={"service": service, "kiosk": kiosk})

    async def events(self, *types: str) -> list[dict[str, Any]]:
        reply = await self.api.get("/api/v1/events", params={"after": 0, "limit": 1000})
        return [e for e in reply.json()["events"] if e["type"] in types]


async def start_hall(
    config: HallConfig, sim: SimulatedHall, clock: Clock | None = None
) -> tuple[Hall, Hardware, Spooler]:
    store = Store(config.storage.path, config.hall.id)
    hall = Hall(config, store, clock)
    router = Router(hall)
    context = DeviceContext(asyncio.get_running_loop(), hall.now, router.handle, config.texts, "zh")
    hardware = Hardware(config, context, overrides(sim))
    spooler = Spooler(hall, hardware.printers)
    await hall.start(day_timer=False)
    hardware.start()
    router.start(hardware)
    spooler.start()
    return hall, hardware, spooler


async def stop_hall(hall: Hall, hardware: Hardware) -> None:
    await hardware.stop()
    await hall.stop()
    hall.store.close()


@pytest.fixture
async def running(
    make_config: Callable[..., HallConfig], tmp_path: Path
) -> AsyncIterator[RunningHall]:
    config = make_config(**printers())
    sim = SimulatedHall([], tmp_path / "sim", control=None, printers=printer_specs(config))
    sim.start()
    hall, hardware, spooler = await start_hall(config, sim)
    tokens = TokenFile(config.secrets)
    _, token = tokens.add(Role.ADMIN)
    info = DaemonInfo(started_at=hall.now(), devices=hardware.health)
    app = create_app(hall, tokens, info, spooler)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://hall",
        headers={"Authorization": f"Bearer {token}"},
    ) as api:
        try:
            for number in (1, 2, 3):  # every printer has answered once
                await until(lambda n=number: hardware.printers[n - 1].status, what="status")
            yield RunningHall(hall, sim, hardware, api, config)
        finally:
            await stop_hall(hall, hardware)
            sim.stop()


@pytest.mark.parametrize("kiosk", list(KIOSKS))
async def test_a_kiosk_ticket_comes_out_of_its_printer(running: RunningHall, kiosk: str) -> None:
    reply = await running.issue(kiosk)
    assert reply.status_code == 201, reply.text
    ticket = reply.json()
    assert (ticket["kiosk"], ticket["print_state"]) == (kiosk, "printed")

    number = list(KIOSKS).index(kiosk) + 1
    printed = running.printer(number).last_ticket()
    assert printed is not None and printed.cut
    assert printed.lines == [
        "测试大厅",
        "Test Hall",
        "社保",
        "Social Security",
        ticket["code"],
        "您前面还有 0 人等候",
        "0 waiting ahead of you",
        ticket["issued_at"][:16].replace("T", " "),
        "过号无效，请重新取号",
        "Missed your call? Take a new ticket.",
    ]
    assert printed.qr == [f"https://hall.example/q?t={ticket['code']}&d={ticket['day']}"]
    assert [e["ticket"] for e in await running.events("ticket.printed")] == [ticket["code"]]


async def test_a_printer_out_of_paper_refuses_before_a_ticket_exists(
    running: RunningHall,
) -> None:
    running.printer(1).set_fault("paper-out")
    await until(lambda: running.health(1)["state"] == "fault", what="the fault seen")

    reply = await running.issue("kiosk-1")
    assert reply.status_code == 503
    body = reply.json()
    assert body["code"] == "printer_unavailable"
    assert "缺纸" in body["messages"]["zh"] and "paper out" in body["messages"]["en"]
    assert await running.events("ticket.issued") == []
    assert running.health(1)["details"]["paper"] == "out"

    running.printer(1).set_fault("ok")
    await until(lambda: running.health(1)["state"] == "online", what="back online")
    assert (await running.issue("kiosk-1")).json()["print_state"] == "printed"


@pytest.mark.parametrize(
    ("fault", "state", "reason"),
    [
        ("paper-near", "degraded", "paper near end"),
        ("cover-open", "fault", "cover open"),
        ("cutter-error", "fault", "cutter error"),
        ("unplug", "offline", None),
    ],
)
async def test_printer_faults_show_in_health(
    running: RunningHall, fault: str, state: str, reason: str | None
) -> None:
    running.printer(1).set_fault(fault)
    health = await until(
        lambda: (h := running.health(1))["state"] == state and h, what=f"{fault} seen"
    )
    if reason is not None:
        assert reason in health["reason"]
    reply = await running.api.get("/api/v1/health")
    listed = {d["id"]: d for d in reply.json()["devices"]}
    assert listed["printer-1"]["state"] == state


async def test_a_network_printer_that_swallows_bytes_is_never_paper_ok(
    running: RunningHall,
) -> None:
    """Powered but not printing: it takes the connection and the bytes, and answers nothing."""
    running.printer(2).set_fault("off")
    health = await until(
        lambda: (h := running.health(2))["state"] == "offline" and h, what="offline"
    )
    assert health["reason"] == "no answer to DLE EOT"
    assert health["details"]["paper"] is None
    reply = await running.issue("kiosk-2")
    assert reply.status_code == 503


async def test_paper_running_out_under_a_ticket_fails_the_print_not_the_ticket(
    running: RunningHall,
) -> None:
    running.printer(1).load_paper(1)  # the roll ends with the next ticket
    reply = await running.issue("kiosk-1")
    assert reply.status_code == 201
    ticket = reply.json()
    assert ticket["print_state"] == "failed" and ticket["state"] == "waiting"
    [failed] = await running.events("ticket.print_failed")
    assert (failed["ticket"], failed["reason"]) == (ticket["code"], "paper out while printing")
    queue = (await running.api.get("/api/v1/queue")).json()
    assert ticket["code"] in json.dumps(queue), "the ticket is still in its queue"


async def test_unplugged_mid_print_then_replugged_a_reprint_comes_out(
    running: RunningHall,
) -> None:
    printer = running.printer(1)
    printer.unplug_after(40)  # the cable comes out under the ticket
    reply = await running.issue("kiosk-1")
    assert reply.status_code == 201
    ticket = reply.json()
    assert ticket["print_state"] == "failed"
    [failed] = await running.events("ticket.print_failed")
    assert failed["reason"].startswith("offline: ")
    assert printer.counters["cuts"] == 0, "half a ticket, never cut"
    assert running.health(1)["state"] == "offline"

    refused = await running.api.post(f"/api/v1/tickets/{ticket['code']}/reprint")
    assert refused.status_code == 503, "no reprint on a printer that is not there"

    printer.set_fault("ok")  # plugged back in
    await until(lambda: running.health(1)["state"] == "online", what="back online")
    again = await running.api.post(f"/api/v1/tickets/{ticket['code']}/reprint")
    assert again.status_code == 200, again.text
    assert again.json()["print_state"] == "printed"
    last = printer.last_ticket()
    assert last is not None and last.cut and ticket["code"] in last.lines

    health = running.health(1)
    assert [(h["state"], h["reason"]) for h in health["history"]] == [
        ("offline", "starting"),
        ("online", None),
        ("offline", health["history"][2]["reason"]),
        ("online", None),
    ]
    assert "usb" in health["history"][2]["reason"]
    assert health["counters"]["reconnects"] == 2
    assert [e["type"] for e in await running.events("ticket.printed", "ticket.reprint")] == [
        "ticket.reprint",
        "ticket.printed",
    ]


async def test_a_ticket_spooled_when_the_daemon_stopped_prints_after_the_restart(
    make_config: Callable[..., HallConfig], tmp_path: Path, clock: Clock
) -> None:
    config = make_config(**printers())
    sim = SimulatedHall([], tmp_path / "sim", control=None, printers=printer_specs(config))
    sim.start()
    try:
        # the daemon stored each ticket with its print job, and died before printing
        store = Store(config.storage.path, config.hall.id)
        before = Hall(config, store, clock)
        await before.start(day_timer=False)
        stale = await before.issue("social", None, "kiosk-2")
        clock.advance(150)
        fresh = await before.issue("social", None, "kiosk-1")
        await before.stop()
        store.close()
        assert fresh.print_state is stale.print_state is PrintState.QUEUED

        clock.advance(30)  # the restart: kiosk-2's ticket is 3 minutes old by now
        hall, hardware, _ = await start_hall(config, sim, clock)
        try:
            tickets = hall.committed.tickets
            await until(
                lambda: tickets[fresh.code].print_state is PrintState.PRINTED,
                what="the spooled ticket printed",
            )
            await until(
                lambda: tickets[stale.code].print_state is PrintState.FAILED,
                what="the stale one marked failed",
            )
            printed = sim.printer("printer-1").last_ticket()
            assert printed is not None and fresh.code in printed.lines
            assert sim.printer("printer-2").last_ticket() is None, "too late to print"
        finally:
            await stop_hall(hall, hardware)
    finally:
        sim.stop()


@dataclass
class Spooling:
    """A hall printing on simulated printers; `hardware` is whatever runs now."""

    hall: Hall
    hardware: Hardware
    spooler: Spooler
    sim: SimulatedHall


@pytest.fixture
async def spooling(
    make_config: Callable[..., HallConfig], tmp_path: Path
) -> AsyncIterator[Spooling]:
    config = make_config(**printers())
    sim = SimulatedHall([], tmp_path / "sim", control=None, printers=printer_specs(config))
    sim.start()
    hall, hardware, spooler = await start_hall(config, sim)
    running = Spooling(hall, hardware, spooler, sim)
    try:
        await until(lambda: hardware.printers[0].status, what="the printer's first answer")
        yield running
    finally:
        await stop_hall(hall, running.hardware)
        sim.stop()


async def test_a_stop_stores_the_result_of_the_ticket_being_printed(spooling: Spooling) -> None:
    hall, hardware = spooling.hall, spooling.hardware
    spooling.sim.printer("printer-1").set_fault("off")  # takes the bytes, answers nothing
    ticket = await hall.issue("social", None, "kiosk-1")
    # the daemon's stop, in its order: the printer finishes the ticket it has
    # (here: no status answer, so it fails), the result is stored, the store closes
    await hardware.stop()
    await spooling.spooler.drain()
    await hall.stop()
    stored = hall.store.ticket(ticket.day, ticket.code)
    assert stored is not None and stored.print_state is PrintState.FAILED


async def test_tickets_a_replaced_printer_did_not_print_go_to_its_successor(
    spooling: Spooling, make_config: Callable[..., HallConfig]
) -> None:
    hall, hardware, printer = spooling.hall, spooling.hardware, spooling.sim.printer("printer-1")
    printer.set_fault("off")
    tickets = [await hall.issue("social", None, "kiosk-1") for _ in range(3)]
    printer.set_fault("ok")
    document = printers()
    document["devices"][0]["status_seconds"] = 0.3  # printer-1 is rebuilt
    rebuilt = hardware.rebuilt(make_config(**document), hardware.context)
    assert rebuilt.printers[0] is not hardware.printers[0]
    await hardware.hand_over(rebuilt)
    spooling.hardware = rebuilt
    spooling.spooler.use(rebuilt.printers)
    committed = hall.committed.tickets
    await until(
        lambda: all(committed[t.code].print_state is not PrintState.QUEUED for t in tickets),
        what="every ticket printed or failed",
    )
    # the first was being printed by the old printer when it stopped: no answer, failed
    states = [committed[t.code].print_state for t in tickets]
    assert states == [PrintState.FAILED, PrintState.PRINTED, PrintState.PRINTED]
    assert [t.code for t in tickets[1:]] == [
        next(line for line in paper.lines if line[:1] == "A") for paper in printer.tickets[-2:]
    ]


@pytest.mark.skipif(
    not TIBETAN_FONT.is_file(), reason=f"no font {TIBETAN_FONT}: `make` installs it"
)
async def test_the_county_halls_tibetan_lines_print_as_images(tmp_path: Path, clock: Clock) -> None:
    document = yaml.safe_load((REPO / "config" / "county-hall.yaml").read_text(encoding="utf-8"))
    document |= {"storage": {"path": "hall.sqlite3"}, "secrets": "secrets.yaml"}
    config = load_config(write_config(tmp_path, document))
    sim = SimulatedHall([], tmp_path / "sim", control=None, printers=printer_specs(config))
    sim.start()
    hall, hardware, spooler = await start_hall(config, sim, clock)
    try:
        await until(lambda: hardware.printers[0].status, what="the printer's status")
        ticket = await hall.issue("comprehensive", None, "kiosk-1")
        assert await spooler.wait(ticket.code, 10) is PrintState.PRINTED
        printed = sim.printer("kiosk-1-printer").last_ticket()
        assert printed is not None and printed.cut
        assert printed.lines[:2] == ["县政务服务中心", "综合受理"]
        assert ticket.code in printed.lines and "过号无效，请重新取号" in printed.lines
        # hall, service, waiting and footer in Tibetan: four images the paper's width
        assert [width for width, _ in printed.images] == [576] * 4
    finally:
        await stop_hall(hall, hardware)
        sim.stop()
