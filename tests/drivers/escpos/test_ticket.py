"""A ticket rendered to ESC/POS bytes: exact bytes for a text ticket, and
image lines for languages the printer has no font for."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.escpos.profiles import profile
from drivers.escpos.ticket import Line, TicketLayout, TicketRenderer

FONT = Path("/usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf")
LAYOUT = TicketLayout(
    title=[Line("zh", "政务大厅")],
    service=[Line("zh", "社保"), Line("en", "Social")],
    number="A001",
    waiting=[Line("zh", "前面3人")],
    issued="2026-11-26 09:30",
    footer=[Line("zh", "过号无效")],
    qr="https://h/A001",
)


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def test_a_text_ticket_byte_for_byte() -> None:
    data = TicketRenderer("58mm", {"zh", "en"}).render(LAYOUT)
    style = {  # GS ! size, ESC E bold, ESC a 1 (centred)
        "title": b"\x1d!\x01" + b"\x1bE\x01" + b"\x1ba\x01",
        "normal": b"\x1d!\x00" + b"\x1bE\x00" + b"\x1ba\x01",
        "number": b"\x1d!\x33" + b"\x1bE\x01" + b"\x1ba\x01",
    }
    qr = (
        b"\x1d(k\x04\x001A2\x00"  # model 2
        + b"\x1d(k\x03\x001C\x06"  # module size 6
        + b"\x1d(k\x03\x001E1"  # error correction M
        + b"\x1d(k\x11\x001P0https://h/A001"  # store the data
        + b"\x1d(k\x03\x001Q0"  # print it
    )
    assert data == (
        b"\x1b@"  # ESC @
        + b"\x1c&"  # FS &: Chinese mode, text in GB18030
        + style["title"]
        + gb("政务大厅\n")
        + style["normal"]
        + gb("社保\nSocial\n")
        + style["number"]
        + b"A001\n"
        + style["normal"]
        + gb("前面3人\n")
        + b"2026-11-26 09:30\n"
        + qr
        + gb("过号无效\n")
        + b"\x1bd\x06"  # feed past the cutter
        + b"\x1dV\x00"  # GS V 0: full cut
    )


def test_there_is_no_qr_without_a_url() -> None:
    data = TicketRenderer("80mm", {"zh", "en"}).render(
        TicketLayout(**{**LAYOUT.__dict__, "qr": None})
    )
    assert b"\x1d(k" not in data
    assert data.endswith(b"\x1dV\x00")


@pytest.mark.skipif(not FONT.is_file(), reason=f"no Tibetan font at {FONT}: `make` installs it")
def test_a_language_without_a_printer_font_prints_as_an_image() -> None:
    tibetan = TicketLayout(**{**LAYOUT.__dict__, "title": [Line("bo", "རྫོང་གཞུང་")]})
    data = TicketRenderer("80mm", {"zh", "en"}, FONT).render(tibetan)
    raster = data.index(b"\x1dv0")  # GS v 0: a raster image
    width_bytes = int.from_bytes(data[raster + 4 : raster + 6], "little")
    assert width_bytes * 8 == profile("80mm").media["width"]["pixels"]
    assert "རྫོང".encode("gb18030") not in data


def test_without_the_font_the_line_is_left_out_and_the_rest_prints() -> None:
    tibetan = TicketLayout(**{**LAYOUT.__dict__, "title": [Line("bo", "རྫོང་གཞུང་")]})
    data = TicketRenderer("80mm", {"zh", "en"}, None).render(tibetan)
    assert b"\x1dv0" not in data
    assert b"A001\n" in data and data.endswith(b"\x1dV\x00")
