"""A simulated hall with ticket printers on every kind of link, reached as the daemon would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import usb.core
import usb.util
from escpos.printer import Network, Serial, Usb

from simulators.hall import DeviceSpec, LinkSpec, PrinterSpec, SimulatedHall
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket

PRINTERS = (
    PrinterSpec("kiosk-usb-1", "usb", serial="K1"),
    PrinterSpec("kiosk-usb-2", "usb", vendor=0x0483, product=0x5743),
    PrinterSpec("kiosk-tcp", "tcp"),
    PrinterSpec("kiosk-serial", "serial"),
)


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[SimulatedHall]:
    hall = SimulatedHall(
        [LinkSpec("bus-1", 9600, (DeviceSpec("kp-1", "ff68-keypad", 1),))],
        tmp_path / "sim",
        control=None,
        printers=PRINTERS,
    )
    hall.start()
    try:
        yield hall
    finally:
        hall.stop()


def test_usb_printers_share_one_backend(hall: SimulatedHall) -> None:
    backend = hall.usb_backend
    assert backend is not None
    found = {
        (device.idVendor, device.idProduct)
        for device in usb.core.find(find_all=True, backend=backend)
    }
    assert found == {(0x0416, 0x5011), (0x0483, 0x5743)}
    first = usb.core.find(backend=backend, idVendor=0x0416)
    assert first is not None and first.serial_number == "K1"
    usb.util.dispose_resources(first)


def test_tcp_and_serial_printers_have_urls(hall: SimulatedHall, tmp_path: Path) -> None:
    urls = hall.printer_urls
    assert set(urls) == {"kiosk-tcp", "kiosk-serial"}
    assert urls["kiosk-tcp"].startswith("tcp://127.0.0.1:")
    assert urls["kiosk-serial"] == str(tmp_path / "sim" / "kiosk-serial")
    assert os.path.islink(urls["kiosk-serial"])
    assert hall.link_urls == {"bus-1": str(tmp_path / "sim" / "bus-1")}


def test_every_printer_prints_through_its_link(hall: SimulatedHall) -> None:
    host, port = hall.printer_urls["kiosk-tcp"].removeprefix("tcp://").split(":")
    escposes = [
        Usb(0x0416, 0x5011, usb_args={"backend": hall.usb_backend}, profile=PROFILE),
        Usb(0x0483, 0x5743, usb_args={"backend": hall.usb_backend}, profile=PROFILE),
        Network(host, int(port), timeout=1, profile=PROFILE),
        Serial(devfile=hall.printer_urls["kiosk-serial"], timeout=0.2, profile=PROFILE),
    ]
    try:
        for escpos in escposes:
            print_ticket(escpos)
            # The status answer comes after the ticket's bytes were taken in.
            assert bytes(escpos.query_status(b"\x10\x04\x01")) == b"\x12"
    finally:
        for escpos in escposes:
            escpos.close()
    for spec in PRINTERS:
        ticket = hall.printer(spec.id).last_ticket()
        assert ticket is not None and ticket.render() == TICKET_PRINTOUT, spec.id


def test_printers_are_in_the_registry(hall: SimulatedHall) -> None:
    listed = hall.registry.handle({"verb": "list"})
    printers = {d["id"]: d for d in listed["devices"] if d["kind"] == "printer"}
    assert {(p["link"], p["where"]) for p in printers.values()} == {
        ("usb", "0416:5011 serial K1"),
        ("usb", "0483:5743"),
        ("tcp", hall.printer_urls["kiosk-tcp"]),
        ("serial", hall.printer_urls["kiosk-serial"]),
    }
    with pytest.raises(KeyError):
        hall.printer("kp-1")


def test_a_hall_without_usb_printers_has_no_backend(tmp_path: Path) -> None:
    hall = SimulatedHall([], tmp_path, None, printers=[PrinterSpec("p", "tcp")])
    assert hall.usb_backend is None
    assert hall.printer_urls == {}  # the port is chosen at start
    hall.start()
    try:
        assert set(hall.printer_urls) == {"p"}
    finally:
        hall.stop()


def test_an_unknown_printer_link_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown link 'lpt'"):
        SimulatedHall([], tmp_path, None, printers=[PrinterSpec("p", "lpt")])  # type: ignore[arg-type]


def test_printer_ids_must_not_clash_with_devices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'kp-1' is registered already"):
        SimulatedHall(
            [LinkSpec("bus-1", 9600, (DeviceSpec("kp-1", "ff68-keypad", 1),))],
            tmp_path,
            None,
            printers=[PrinterSpec("kp-1", "tcp")],
        )
