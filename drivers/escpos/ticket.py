"""A queue ticket as ESC/POS bytes, laid out with python-escpos (sans-I/O:
rendered into python-escpos's Dummy printer, sent by the printer's link).

Chinese goes as GB18030 in Chinese mode (`FS &`), written raw: python-escpos's
text encoder knows code pages, not GB18030. Lines in languages the printer has
no font for are drawn with Pillow and printed as raster images.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from drivers.escpos.bitmap import text_image
from drivers.escpos.profiles import profile

__all__ = ["CHINESE_MODE", "Line", "TicketLayout", "TicketRenderer"]

CHINESE_MODE = b"\x1c\x26"  # FS &


@dataclass(frozen=True)
class Line:
    language: str
    text: str


@dataclass(frozen=True)
class TicketLayout:
    """What one ticket says, top to bottom."""

    title: Sequence[Line]  # the hall
    service: Sequence[Line]
    number: str  # A001, printed large
    waiting: Sequence[Line]  # people ahead
    issued: str  # date and time
    footer: Sequence[Line]
    qr: str | None = None


@dataclass(frozen=True)
class TicketRenderer:
    profile: str
    text_languages: Collection[str]  # the others are drawn as images
    font: Path | None = None  # for the image lines
    font_size: int = 28
    number_size: int = 4  # width and height multiplier of the number, 1-8
    qr_size: int = 6

    @property
    def width(self) -> int:
        return int(profile(self.profile).media["width"]["pixels"])

    def image_languages(self, layout: TicketLayout) -> set[str]:
        lines = [*layout.title, *layout.service, *layout.waiting, *layout.footer]
        return {line.language for line in lines if line.language not in self.text_languages}

    def render(self, layout: TicketLayout) -> bytes:
        printer = Dummy()
        printer.profile = profile(self.profile)
        printer.hw("INIT")
        printer._raw(CHINESE_MODE)
        _style(printer, size=(1, 2), bold=True)
        self._lines(printer, layout.title)
        _style(printer)
        self._lines(printer, layout.service)
        _style(printer, size=(self.number_size, self.number_size), bold=True)
        self._text(printer, layout.number)
        _style(printer)
        self._lines(printer, layout.waiting)
        self._text(printer, layout.issued)
        if layout.qr:
            printer.qr(layout.qr, ec=QR_ECLEVEL_M, size=self.qr_size, native=True)
        self._lines(printer, layout.footer)
        printer.cut()
        return bytes(printer.output)

    def _lines(self, printer: Dummy, lines: Sequence[Line]) -> None:
        for line in lines:
            if line.language in self.text_languages:
                self._text(printer, line.text)
            elif self.font is not None:
                image = text_image(line.text, self.font, self.font_size, self.width)
                printer.image(image, center=True)
            # else: the printer can show neither; the device reports the missing font

    @staticmethod
    def _text(printer: Dummy, text: str) -> None:
        printer._raw(text.encode("gb18030") + b"\n")


def _style(printer: Dummy, size: tuple[int, int] = (1, 1), bold: bool = False) -> None:
    """Centred text of `size` (width, height multipliers). Sizes go by GS !,
    which enlarges Chinese characters too; ESC ! does not."""
    width, height = size
    printer.set(align="center", bold=bold, custom_size=True, width=width, height=height)
