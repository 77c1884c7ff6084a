"""ESC/POS parser: golden byte streams, python-escpos's own output, splits, and garbage."""

from __future__ import annotations

import itertools

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from simulators.escpos.parser import (
    Cut,
    Feed,
    Image,
    Item,
    Parser,
    Qr,
    StatusRequest,
    Text,
    Unknown,
)
from tests.simulators.escpos.conftest import CHINESE, PROFILE, QR_URL, logo, ticket_bytes


def black(picture: PILImage.Image) -> set[tuple[int, int]]:
    """The black dots of a 1-bit picture."""
    width, height = picture.size
    return {(x, y) for y in range(height) for x in range(width) if picture.getpixel((x, y)) == 0}


def parse(*chunks: bytes) -> list[Item]:
    parser = Parser()
    return [item for chunk in chunks for item in parser.feed(chunk)]


QR_STORE_AND_PRINT = (
    b"\x1d(k\x04\x001A2\x00"  # model 2
    b"\x1d(k\x03\x001C\x05"  # module size 5
    b"\x1d(k\x03\x001E1"  # error correction M
    b"\x1d(k\x11\x001P0https://x/A001"  # store 14 bytes
    b"\x1d(k\x03\x001Q0"  # print
)

GOLDEN: list[tuple[str, bytes, list[Item]]] = [
    (
        "ESC ! size, ESC E bold, ESC a center",
        b"\x1b@\x1b!\x30\x1bE\x01\x1ba\x01A001\n",
        [Text("A001", width=2, height=2, bold=True, align="center")],
    ),
    ("GS ! width 3 height 2", b"\x1d!\x21x\n", [Text("x", width=3, height=2)]),
    (
        "ESC ! sets bold, size and resets what it does not set",
        b"\x1bE\x01\x1d!\x77a\n\x1b!\x08b\n\x1b!\x00c\n",
        [Text("a", 8, 8, bold=True), Text("b", bold=True), Text("c")],
    ),
    (
        "ESC a accepts 0-2 and '0'-'2'",
        b"\x1ba2r\n\x1ba\x31c\n",
        [Text("r", align="right"), Text("c", align="center")],
    ),
    (
        "FS & Chinese in GB18030, FS . back to the code page",
        b"\x1b@\x1c&" + CHINESE.encode("gb18030") + b"\n\x1c.\x82\n",
        [Text(CHINESE), Text("é")],
    ),
    ("ESC t 16 is cp1252", b"\x1bt\x10\x80\n", [Text("€")]),
    (
        "an encoding change mid-line",
        b"A\x1c&" + "号".encode("gb18030") + b"\x1c.B\n",
        [Text("A号B")],
    ),
    ("CR is ignored, HT kept", b"a\tb\r\nc\r\n", [Text("a\tb"), Text("c")]),
    ("a bare LF feeds a line", b"\n", [Feed(lines=1)]),
    ("ESC d prints the line and feeds n lines", b"abc\x1bd\x02", [Text("abc"), Feed(lines=2)]),
    ("ESC J feeds n dots", b"\x1bJ\x14", [Feed(dots=20)]),
    ("ESC @ discards the unprinted line and resets", b"\x1bE\x01abc\x1b@def\n", [Text("def")]),
    ("GS V 0", b"\x1dV\x00", [Cut()]),
    ("GS V 1", b"\x1dV\x01", [Cut(partial=True)]),
    ("GS V 48", b"\x1dV0", [Cut()]),
    ("GS V 49", b"\x1dV1", [Cut(partial=True)]),
    ("GS V 65 n", b"\x1dVA\x03", [Cut(feed=3)]),
    ("GS V 66 n", b"\x1dVB\x00", [Cut(partial=True)]),
    ("ESC i and ESC m", b"\x1bi\x1bm", [Cut(partial=True), Cut(partial=True)]),
    ("a cut prints the pending line", b"last\x1dV\x00", [Text("last"), Cut()]),
    (
        "GS ( k QR: model, size, error level, store, print",
        QR_STORE_AND_PRINT,
        [Qr("https://x/A001", size=5, error="M", model=2)],
    ),
    ("QR print with nothing stored prints nothing", b"\x1d(k\x03\x001Q0", []),
    ("QR stored but not printed", b"\x1d(k\x06\x001P0abc", []),
    (
        "DLE EOT 1-4",
        b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04",
        [StatusRequest(n) for n in (1, 2, 3, 4)],
    ),
    ("DLE EOT 0 is unknown", b"\x10\x04\x00", [Unknown(b"\x10\x04\x00")]),
    ("DLE before anything else is ignored", b"\x10ok\n", [Text("ok")]),
    (
        "settings that change nothing shown are consumed whole",
        b"\x1b2\x1b3\x10\x1dL\x10\x00\x1dW\x00\x02\x1bM\x01\x1bG\x01\x1dB\x01\x1b-\x01"
        b"\x1d|\x04\x1db\x01\x1bp\x00\x32\x32ok\n",
        [Text("ok")],
    ),
    (
        "barcodes are skipped: settings, type A NUL-terminated, type B counted",
        b"\x1dH\x02\x1df\x00\x1dh\x40\x1dw\x03\x1dk\x02123456789012\x00\x1dkI\x04{A\n\x1bok\n",
        [Text("ok")],
    ),
    ("GS ( L graphics are skipped whole", b"\x1d(L\x06\x000p\n\n\n\nok\n", [Text("ok")]),
    ("unknown ESC command", b"\x1b~ok\n", [Unknown(b"\x1b~"), Text("ok")]),
    (
        "unknown GS and FS commands",
        b"\x1d\x7f\x1c\x7fok\n",
        [Unknown(b"\x1d\x7f"), Unknown(b"\x1c\x7f"), Text("ok")],
    ),
    (
        "a prefix before a control byte is unknown alone",
        b"\x1b\nok\n",
        [Unknown(b"\x1b"), Feed(lines=1), Text("ok")],
    ),
    ("GS v other than 0", b"\x1dv1ok\n", [Unknown(b"\x1dv"), Text("1ok")]),
    (
        "a raster image beyond the sanity limit is an unknown header",
        b"\x1dv0\x00\xff\xff\xff\xffok\n",
        [Unknown(b"\x1dv0\x00\xff\xff\xff\xff"), Text("ok")],
    ),
    (
        "a barcode without its NUL is an unknown header",
        b"\x1dk\x04" + b"1" * 256 + b"\n",
        [Unknown(b"\x1dk\x04"), Text("1" * 256)],
    ),
]


@pytest.mark.parametrize(("name", "wire", "items"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_streams(name: str, wire: bytes, items: list[Item]) -> None:
    assert parse(wire) == items


def test_raster_image_keeps_its_size_bitmap_and_pillow_picture() -> None:
    [image] = parse(b"\x1dv0\x00\x02\x00\x02\x00" + b"\x80\x01" + b"\xff\x00")
    assert isinstance(image, Image)
    assert (image.width, image.height, image.data) == (16, 2, b"\x80\x01\xff\x00")
    picture = image.to_pil()
    assert (picture.mode, picture.size) == ("1", (16, 2))
    assert black(picture) == {(0, 0), (15, 0)} | {(x, 1) for x in range(8)}


def test_bit_image_strips_become_images() -> None:
    # ESC * 33: 24-dot columns, 3 bytes each; first column has its top and bottom dots.
    wire = b"\x1b*\x21\x02\x00" + b"\x80\x00\x01" + b"\x00\x00\x00" + b"\x1b*\x00\x01\x00\x80"
    first, second = parse(wire)
    assert isinstance(first, Image) and isinstance(second, Image)
    assert (first.width, first.height, second.width, second.height) == (2, 24, 1, 8)
    assert black(first.to_pil()) == {(0, 0), (0, 23)}
    assert black(second.to_pil()) == {(0, 0)}


def test_python_escpos_ticket_parses_to_what_was_printed() -> None:
    items = parse(ticket_bytes())
    assert items == [
        Text("A001", width=2, height=2, bold=True, align="center"),
        Text("社保", align="center"),
        Qr(QR_URL),
        Image(64, 16, logo().tobytes("raw", "1;I")),
        Text("ahead of you: 3"),
        Feed(lines=6),
        Cut(),
    ]
    [image] = [item for item in items if isinstance(item, Image)]
    assert black(image.to_pil()) == black(logo()) == {(x, y) for y in range(8) for x in range(64)}


def test_python_escpos_cut_forms() -> None:
    printer = Dummy(profile=PROFILE)
    printer.cut()
    printer.cut(mode="PART")
    printer.cut(feed=False)
    assert parse(printer.output) == [
        Feed(lines=6),
        Cut(),
        Feed(lines=6),
        Cut(partial=True),
        Cut(partial=True),  # python-escpos: GS V 66 0, a partial cut
    ]


def test_python_escpos_custom_size_code_page_and_column_images() -> None:
    printer = Dummy(profile=PROFILE)
    printer.set(custom_size=True, width=4, height=3)
    printer.text("né €\n")
    printer.image(PILImage.new("1", (8, 24), 0), impl="bitImageColumn")
    items = parse(printer.output)
    assert items[0] == Text("né €", width=4, height=3)
    images = [item for item in items if isinstance(item, Image)]
    assert [(i.width, i.height) for i in images] == [(8, 24)]
    assert len(black(images[0].to_pil())) == 8 * 24


def test_python_escpos_status_queries() -> None:
    printer = Dummy(profile=PROFILE)
    printer._raw(b"\x10\x04\x01")  # what is_online() sends
    printer._raw(b"\x10\x04\x04")  # what paper_status() sends
    assert parse(printer.output) == [StatusRequest(1), StatusRequest(4)]


def test_style_is_taken_when_the_line_is_printed() -> None:
    assert parse(b"ab\x1bE\x01cd\n") == [Text("abcd", bold=True)]


# --- streaming ---------------------------------------------------------------------------

#: Valid pieces of a stream: commands, text, and things that need the next byte to decide.
PIECES = [
    b"\x1b@",
    b"\x1b!\x38",
    b"\x1d!\x11",
    b"\x1bE\x01",
    b"\x1ba\x01",
    b"\x1bt\x10",
    b"\x1c&" + CHINESE.encode("gb18030"),
    b"\x1c.",
    b"A001",
    "é€".encode("cp1252"),
    b"\n",
    b"\t",
    b"\r",
    b"\x1bd\x03",
    b"\x1bJ\x20",
    QR_STORE_AND_PRINT,
    b"\x1dv0\x00\x01\x00\x03\x00\x81\x42\x24",
    b"\x1b*\x21\x01\x00\xaa\x55\xaa",
    b"\x1dkI\x04{A\n\x1b",
    b"\x1dk\x0412AB\x00",
    b"\x1dV\x00",
    b"\x1dVA\x05",
    b"\x10\x04\x04",
    b"\x1b~",
    b"\x1b3\x18",
]


@st.composite
def split_stream(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    stream = b"".join(draw(st.lists(st.sampled_from(PIECES), max_size=40)))
    stream += ticket_bytes() if draw(st.booleans()) else b""
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    return stream, [stream[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(split_stream())
def test_a_stream_split_anywhere_parses_the_same(case: tuple[bytes, list[bytes]]) -> None:
    stream, chunks = case
    assert parse(*chunks) == parse(stream)


def test_a_ticket_fed_a_byte_at_a_time_parses_the_same() -> None:
    stream = ticket_bytes() + b"\x1c&" + CHINESE.encode("gb18030") + b"\n"
    assert parse(*(stream[i : i + 1] for i in range(len(stream)))) == parse(stream)


def test_a_partial_command_waits_for_the_rest() -> None:
    parser = Parser()
    assert parser.feed(b"\x1dv0\x00\x01\x00\x02\x00\xff") == []
    assert parser.feed(b"\x00ok\n") == [Image(8, 2, b"\xff\x00"), Text("ok")]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    parser = Parser()
    for chunk in chunks:
        items = parser.feed(chunk)
        assert all(
            isinstance(item, Text | Qr | Image | Feed | Cut | StatusRequest | Unknown)
            for item in items
        )
    for item in parse(*chunks):
        if isinstance(item, Image):
            assert item.to_pil().size == (item.width, item.height)
