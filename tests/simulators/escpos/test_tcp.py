"""The TCP 9100 printer, driven by python-escpos's `Network` and raw sockets."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from simulators.escpos import PrinterLink, SimulatedPrinter, TcpPrinterLink
from tests.simulators.escpos.conftest import PROFILE, TICKET_PRINTOUT, print_ticket, wait_for

TIMEOUT = 0.3


@pytest.fixture
def printer() -> SimulatedPrinter:
    return SimulatedPrinter("kiosk-2")


@pytest.fixture
def link(
    printer: SimulatedPrinter, started: Callable[[PrinterLink], PrinterLink]
) -> TcpPrinterLink:
    link = started(TcpPrinterLink(printer))
    assert isinstance(link, TcpPrinterLink)
    return link


@pytest.fixture
def connect(link: TcpPrinterLink) -> Iterator[Callable[[], Network]]:
    """python-escpos `Network` printers on the link's port, closed after the test."""
    opened: list[Network] = []

    def connect_() -> Network:
        escpos = Network("127.0.0.1", link.port, timeout=TIMEOUT, profile=PROFILE)
        escpos.open()
        opened.append(escpos)
        return escpos

    yield connect_
    for escpos in opened:
        escpos.close()


def test_it_listens_on_a_free_loopback_port(link: TcpPrinterLink) -> None:
    assert link.port > 0
    assert link.url == link.where == f"tcp://127.0.0.1:{link.port}"


def test_python_escpos_prints_a_ticket_and_reads_status(
    link: TcpPrinterLink, printer: SimulatedPrinter, connect: Callable[[], Network]
) -> None:
    escpos = connect()
    print_ticket(escpos)
    assert escpos.query_status(b"\x10\x04\x04") == b"\x12"
    assert escpos.is_online() is True
    ticket = printer.last_ticket()
    assert ticket is not None and ticket.render() == TICKET_PRINTOUT


def test_paper_out_is_reported_over_the_network(
    link: TcpPrinterLink, printer: SimulatedPrinter, connect: Callable[[], Network]
) -> None:
    escpos = connect()
    printer.set_fault("paper-out")
    assert escpos.query_status(b"\x10\x04\x04") == b"\x7e"
    assert escpos.paper_status() == 0
    assert escpos.is_online() is False
    # It accepts the ticket's bytes and prints nothing.
    print_ticket(escpos)
    assert escpos.query_status(b"\x10\x04\x01") == b"\x1a"
    assert printer.last_ticket() is None


def test_a_printer_that_is_off_accepts_and_swallows_everything(
    link: TcpPrinterLink, printer: SimulatedPrinter, connect: Callable[[], Network]
) -> None:
    printer.set_fault("off")
    escpos = connect()
    print_ticket(escpos)
    # python-escpos's _read is a socket recv: no answer raises the socket's timeout.
    with pytest.raises(TimeoutError):
        escpos.query_status(b"\x10\x04\x04")
    with pytest.raises(TimeoutError):
        escpos.paper_status()
    assert wait_for(lambda: printer.counters["bytes"] >= 6)
    assert printer.last_ticket() is None
    assert printer.counters["bytes_dropped"] == printer.counters["bytes"]


def test_one_client_at_a_time_others_wait_in_the_backlog(
    link: TcpPrinterLink, printer: SimulatedPrinter
) -> None:
    with socket.create_connection(("127.0.0.1", link.port), timeout=TIMEOUT) as first:
        first.sendall(b"A001\n")
        assert wait_for(lambda: printer.current.lines == ["A001"])
        with socket.create_connection(("127.0.0.1", link.port), timeout=TIMEOUT) as second:
            second.sendall(b"B001\n\x10\x04\x01")
            with pytest.raises(TimeoutError):
                second.recv(1)
            assert printer.current.lines == ["A001"]
            first.close()
            assert second.recv(1) == b"\x12"
            assert printer.current.lines == ["A001", "B001"]


# python-escpos's Network.open drops its socket unclosed when the connection is refused.
@pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")
def test_unplug_refuses_connections_and_ok_listens_on_the_same_port(
    link: TcpPrinterLink, printer: SimulatedPrinter, connect: Callable[[], Network]
) -> None:
    escpos = connect()
    port = link.port
    printer.set_fault("unplug")
    assert wait_for(lambda: _refused(port))
    # The printer closed the connection: recv sees end of file, or a reset if the
    # request's bytes already bounced; either way, no status.
    try:
        answer = escpos.query_status(b"\x10\x04\x01")
    except (ConnectionResetError, BrokenPipeError):
        answer = b""
    assert answer == b""
    with pytest.raises(DeviceNotFoundError):
        connect()
    printer.set_fault("ok")
    assert wait_for(lambda: not _refused(port))
    assert link.port == port
    assert connect().query_status(b"\x10\x04\x01") == b"\x12"


def test_stop_closes_the_port(printer: SimulatedPrinter) -> None:
    link = TcpPrinterLink(printer)
    link.start()
    port = link.port
    link.stop()
    assert _refused(port)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    except TimeoutError:  # a loaded machine: no answer yet either way
        return False
    return False
