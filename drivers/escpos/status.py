"""Sans-I/O ESC/POS real-time status: the `DLE EOT n` requests and what their
one-byte answers mean (PROTOCOLS.md section 5).

A printer answers each request with one byte of the form ``0xx1xx10``; a byte
that does not fit the form is not an answer (line noise, or a byte of some
other reply) and is refused. No answer at all means the printer is
offline, never "paper ok": python-escpos's `paper_status()` returns 2
("plenty") when nothing was read, which is why the printer device does not
use it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["PROBLEMS_ZH", "PrinterStatus", "Request", "StatusError", "parse", "request"]


class Request(enum.IntEnum):
    PRINTER = 1  # bit 3: offline
    OFFLINE_CAUSE = 2  # bit 2: cover open; bit 5: stopped at paper end; bit 6: error
    ERROR_CAUSE = 3  # bit 3: cutter error; bit 5: unrecoverable error
    PAPER = 4  # bits 2-3: near end; bits 5-6: paper end


FORM_MASK, FORM_VALUE = 0b1001_0011, 0b0001_0010


class StatusError(ValueError):
    """An answer byte that is not a status byte."""


def request(kind: Request) -> bytes:
    return bytes((0x10, 0x04, int(kind)))


def _checked(kind: Request, answer: int) -> int:
    if answer & FORM_MASK != FORM_VALUE:
        raise StatusError(f"DLE EOT {int(kind)} answer {answer:02x} is not of the form 0xx1xx10")
    return answer


@dataclass(frozen=True)
class PrinterStatus:
    """What the four answers say together."""

    offline: bool = False
    cover_open: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    cutter_error: bool = False
    unrecoverable: bool = False

    @property
    def can_print(self) -> bool:
        return not (
            self.offline
            or self.cover_open
            or self.paper_out
            or self.cutter_error
            or self.unrecoverable
        )

    @property
    def problems(self) -> list[str]:
        """Each problem as a short English reason, worst first (`PROBLEMS_ZH` has
        them in Chinese)."""
        flags = [
            ("paper out", self.paper_out),
            ("cover open", self.cover_open),
            ("cutter error", self.cutter_error),
            ("unrecoverable error", self.unrecoverable),
            ("offline", self.offline and not (self.paper_out or self.cover_open)),
            ("paper near end", self.paper_near_end and not self.paper_out),
        ]
        return [name for name, on in flags if on]


PROBLEMS_ZH = {
    "paper out": "缺纸",
    "cover open": "上盖打开",
    "cutter error": "切刀故障",
    "unrecoverable error": "打印机故障",
    "offline": "脱机",
    "paper near end": "纸将用完",
}


def parse(answers: dict[Request, int]) -> PrinterStatus:
    """The status from the answer byte to each request that was made."""
    checked = {kind: _checked(kind, byte) for kind, byte in answers.items()}
    printer = checked.get(Request.PRINTER, FORM_VALUE)
    cause = checked.get(Request.OFFLINE_CAUSE, FORM_VALUE)
    error = checked.get(Request.ERROR_CAUSE, FORM_VALUE)
    paper = checked.get(Request.PAPER, FORM_VALUE)
    return PrinterStatus(
        offline=bool(printer & 0x08),
        cover_open=bool(cause & 0x04),
        paper_out=bool((paper & 0x60) == 0x60 or cause & 0x20),
        paper_near_end=bool((paper & 0x0C) == 0x0C),
        cutter_error=bool(error & 0x08),
        unrecoverable=bool(error & 0x20),
    )
