"""A simulated hall with ticket printers on every kind of link and fingerprint readers,
reached as the daemon would."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import usb.core
import usb.util
from escpos.printer import Network, Serial, Usb

from drivers.r30x import codec as r30x
from simulators.hall import DeviceSpec, LinkSpec, PrinterSpec, ReaderSpec, SimulatedHall
from simulators.ports import free_port
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket
from tests.simulators.r30x.conftest import Host as ReaderHost

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


def test_tcp_printers_listen_again_on_an_earlier_port_when_it_is_free(tmp_path: Path) -> None:
    tcp = (PrinterSpec("kiosk-a", "tcp"), PrinterSpec("kiosk-b", "tcp"))
    free = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        hall = SimulatedHall(
            [], tmp_path, control=None, printers=tcp, ports={"kiosk-a": free, "kiosk-b": busy}
        )
        hall.start()
        try:
            ports = hall.tcp_ports
        finally:
            hall.stop()
    assert ports["kiosk-a"] == free
    assert ports["kiosk-b"] not in (0, busy)  # taken: any free one instead


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


# --- fingerprint readers ----------------------------------------------------------------


@pytest.fixture
def reader_hall(tmp_path: Path) -> Iterator[SimulatedHall]:
    hall = SimulatedHall(
        [],
        tmp_path / "sim",
        control=None,
        printers=[PrinterSpec("kiosk-serial", "serial")],
        readers=[ReaderSpec("fp-1"), ReaderSpec("fp-2", address=7, password=99, capacity=50)],
    )
    hall.start()
    try:
        yield hall
    finally:
        hall.stop()


def test_readers_have_symlinks_in_the_hall_folder(
    reader_hall: SimulatedHall, tmp_path: Path
) -> None:
    assert reader_hall.reader_urls == {
        "fp-1": str(tmp_path / "sim" / "fp-1"),
        "fp-2": str(tmp_path / "sim" / "fp-2"),
    }
    assert all(os.path.islink(url) for url in reader_hall.reader_urls.values())
    assert set(reader_hall.printer_urls) == {"kiosk-serial"}


def test_a_reader_identifies_the_finger_placed_on_it(reader_hall: SimulatedHall) -> None:
    module = reader_hall.reader("fp-1")
    module.enroll(12, "s2")
    host = ReaderHost(reader_hall.reader_urls["fp-1"])
    try:
        module.place("s2")
        hit = host.identify(200)
    finally:
        host.close()
    assert isinstance(hit, r30x.SearchHit) and hit.page == 12


def test_a_reader_keeps_its_address_password_and_capacity(reader_hall: SimulatedHall) -> None:
    host = ReaderHost(reader_hall.reader_urls["fp-2"], address=7)
    try:
        assert host.ask(r30x.template_count(7)).code == r30x.Result.VERIFY_PASSWORD_FIRST
        assert host.ask(r30x.verify_password(99, 7)).code == r30x.Result.OK
        assert host.ask(r30x.delete(49, 1, 7)).code == r30x.Result.OK
        assert host.ask(r30x.delete(50, 1, 7)).code == r30x.Result.BAD_PAGE
    finally:
        host.close()


def test_readers_are_in_the_registry_and_looked_up_by_id(reader_hall: SimulatedHall) -> None:
    listed = reader_hall.registry.handle({"verb": "list"})
    readers = {d["id"]: d for d in listed["devices"] if d["kind"] == "fingerprint-reader"}
    assert {(r["path"], r["address"]) for r in readers.values()} == {
        (reader_hall.reader_urls["fp-1"], 0xFFFFFFFF),
        (reader_hall.reader_urls["fp-2"], 7),
    }
    assert reader_hall.reader("fp-2").capacity == 50
    with pytest.raises(KeyError):
        reader_hall.reader("kiosk-serial")


def test_stop_removes_the_reader_symlinks(tmp_path: Path) -> None:
    hall = SimulatedHall([], tmp_path, None, readers=[ReaderSpec("fp-1")])
    hall.start()
    hall.stop()
    assert not os.path.lexists(hall.reader_urls["fp-1"])


def test_reader_ids_must_not_clash_with_other_simulators(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'kiosk' is registered already"):
        SimulatedHall(
            [],
            tmp_path,
            None,
            printers=[PrinterSpec("kiosk", "tcp")],
            readers=[ReaderSpec("kiosk")],
        )
    with pytest.raises(ValueError, match="'fp' is registered already"):
        SimulatedHall([], tmp_path, None, readers=[ReaderSpec("fp"), ReaderSpec("fp")])
