"""Tickets as python-escpos renders them, and printer links that are stopped after each test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from escpos.escpos import Escpos
from escpos.printer import Dummy
from PIL import Image as PILImage

from simulators.escpos import PrinterLink

PROFILE = "TM-T88III"
QR_URL = "https://hall.example/t/A001"
CHINESE = "请A001号到3号窗口"
#: What `print_ticket` prints, as the printer reports it.
TICKET_PRINTOUT = [
    "A001",
    "社保",
    f"[QR] {QR_URL}",
    "[image 64x16]",
    "ahead of you: 3",
    "[cut]",
]


def logo() -> PILImage.Image:
    """A 64x16 picture: a black band across its top half."""
    picture = PILImage.new("1", (64, 16), 1)
    picture.paste(0, (0, 0, 64, 8))
    return picture


def print_ticket(printer: Escpos) -> None:
    """A queue ticket as the daemon prints one: number, service in Chinese, QR, logo, cut."""
    printer.hw("INIT")
    printer.set(align="center", bold=True, double_width=True, double_height=True)
    printer.textln("A001")
    printer.set(normal_textsize=True, bold=False)
    printer._raw(b"\x1c\x26" + "社保".encode("gb18030") + b"\n\x1c\x2e")
    printer.qr(QR_URL, native=True)
    printer.image(logo())
    printer.set(align="left")
    printer.textln("ahead of you: 3")
    printer.cut()


def ticket_bytes() -> bytes:
    dummy = Dummy(profile=PROFILE)
    print_ticket(dummy)
    return dummy.output


def wait_for(condition: Callable[[], object], timeout: float = 3.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return bool(condition())


@pytest.fixture
def started() -> Iterator[Callable[[PrinterLink], PrinterLink]]:
    """Start a printer link; it is stopped after the test."""
    links: list[PrinterLink] = []

    def start(link: PrinterLink) -> PrinterLink:
        link.start()
        links.append(link)
        return link

    yield start
    for link in links:
        link.stop()
