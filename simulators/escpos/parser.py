"""A sans-I/O streaming ESC/POS parser: the ticket printer's side of the byte stream.

`Parser.feed` takes bytes as they arrive and returns what the printer did with
them as typed items: printed lines (`Text`), QR codes, images, paper feeds,
cuts, real-time status requests the printer must answer, and `Unknown` for
commands it does not know. It keeps partial commands across feeds, so a stream
split at any byte boundary gives the same items. No I/O, no threads, no clocks.

What it models, where printers differ (PROTOCOLS.md section 5):

- Text is printed a line at a time, on ``LF``, ``ESC d``, ``ESC J``, a cut, a
  QR print or an image; the line keeps the size, bold and alignment in force
  when it is printed. ``CR`` is ignored (auto line feed off, the default).
  ``ESC @`` resets the modes and discards an unprinted line.
- Text bytes are GB18030 between ``FS &`` and ``FS .``, otherwise the code
  page chosen with ``ESC t`` (cp437 for a table it does not know).
- Control bytes that start no command are ignored, as printers ignore them.
- A command it knows but that changes nothing it reports (line spacing,
  margins, barcodes, drawer kicks, ...) is consumed whole. Any other ``ESC``,
  ``GS`` or ``FS`` command becomes an `Unknown` of its first two bytes and
  parsing goes on with the next byte; a prefix byte followed by a control
  byte is an `Unknown` of the prefix alone.
- Lengths a sender declares are trusted up to sanity limits far above any
  ticket printer's; a command beyond them becomes an `Unknown` of its header,
  so garbage cannot make the parser swallow the rest of the stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from PIL import Image as PILImage

__all__ = [
    "CODE_PAGES",
    "Cut",
    "Feed",
    "Image",
    "Item",
    "Parser",
    "Qr",
    "StatusRequest",
    "Text",
    "Unknown",
]

HT, LF, CR = 0x09, 0x0A, 0x0D
EOT, ENQ, DC4, DLE = 0x04, 0x05, 0x14, 0x10
ESC, FS, GS = 0x1B, 0x1C, 0x1D
#: ``GS ( k`` symbol type for QR codes, and its functions.
QR = 0x31
QR_MODEL, QR_SIZE, QR_ERROR, QR_STORE, QR_PRINT = 0x41, 0x43, 0x45, 0x50, 0x51

Align = Literal["left", "center", "right"]
ALIGNS: dict[int, Align] = {
    0: "left",
    1: "center",
    2: "right",
    0x30: "left",
    0x31: "center",
    0x32: "right",
}
#: ``ESC t n`` character code tables (Epson numbering) Python can decode.
CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}
CHINESE = "gb18030"
QR_ERRORS = {0x30: "L", 0x31: "M", 0x32: "Q", 0x33: "H"}

#: Sanity limits on declared lengths (see the module docstring).
MAX_RASTER_BYTES = 1 << 22
MAX_BLOCK_BYTES = 1 << 24
MAX_BARCODE_DATA = 255
MAX_TAB_STOPS = 32

_CONTROL = re.compile(rb"[\x00-\x1f]")


# --- items -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A printed line, with the character size multipliers, bold and alignment it had."""

    text: str
    width: int = 1
    height: int = 1
    bold: bool = False
    align: Align = "left"


@dataclass(frozen=True)
class Qr:
    """A printed QR code: the payload stored with ``GS ( k`` when it was printed."""

    payload: str
    size: int = 3
    error: str = "L"
    model: int = 2


@dataclass(frozen=True)
class Image:
    """A printed bit image, ``width`` by ``height`` dots.

    ``data`` is raster rows top to bottom, each ``ceil(width / 8)`` bytes, the
    leftmost dot in the most significant bit, 1 for a black dot.
    """

    width: int
    height: int
    data: bytes = field(repr=False)

    def to_pil(self) -> PILImage.Image:
        """The image as a Pillow 1-bit image (black dots are 0, as Pillow has it)."""
        return PILImage.frombytes("1", (self.width, self.height), self.data, "raw", "1;I")


@dataclass(frozen=True)
class Feed:
    """Paper fed with nothing printed: ``lines`` line feeds or ``dots`` motion units."""

    lines: int = 0
    dots: int = 0


@dataclass(frozen=True)
class Cut:
    """A paper cut; ``feed`` is what ``GS V m n`` feeds before cutting."""

    partial: bool = False
    feed: int = 0


@dataclass(frozen=True)
class StatusRequest:
    """``DLE EOT n``: a real-time status request the printer answers with one byte."""

    n: int


@dataclass(frozen=True)
class Unknown:
    """Bytes of a command the parser does not know."""

    data: bytes


Item = Text | Qr | Image | Feed | Cut | StatusRequest | Unknown

#: A command handler: given the buffer and the command's start, the number of
#: bytes it took (0: not all of the command is here yet).
Handler = Callable[[bytearray, int], int]


def _word(buffer: bytearray, at: int) -> int:
    """The little-endian 16-bit number at ``at``."""
    return buffer[at] | buffer[at + 1] << 8


def _columns_to_raster(columns: bytes, width: int, height: int) -> bytes:
    """``ESC *`` column data (each column ``height / 8`` bytes, top dot in the high bit)
    as raster rows.

    Read as an image ``height`` dots wide and ``width`` rows high, the column
    data is already a row-major bitmap of the transposed picture.
    """
    transposed = PILImage.frombytes("1", (height, width), columns, "raw", "1;I")
    return transposed.transpose(PILImage.Transpose.TRANSPOSE).tobytes("raw", "1;I")


class Parser:
    """Streaming ESC/POS parser: `feed` bytes in any pieces, get the printer's items out."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._items: list[Item] = []
        self._line: list[str] = []
        self._run = bytearray()
        self._controls: dict[int, Handler] = {
            LF: self._line_feed,
            HT: self._tab,
            ESC: self._prefixed(self._esc_commands()),
            GS: self._prefixed(self._gs_commands()),
            FS: self._prefixed(self._fs_commands()),
            DLE: self._dle,
        }
        self._init_modes()

    def feed(self, data: bytes) -> list[Item]:
        """Parse ``data`` after whatever came before; the items it completed, in order."""
        buffer = self._buffer
        buffer += data
        at = 0
        while at < len(buffer):
            used = self._step(buffer, at)
            if not used:
                break
            at += used
        del buffer[:at]
        items, self._items = self._items, []
        return items

    # --- modes -----------------------------------------------------------------------

    def _init_modes(self) -> None:
        """``ESC @`` and power on: default modes, an empty line, no stored QR code."""
        self.width = self.height = 1
        self.bold = False
        self.align: Align = "left"
        self.code_page = 0
        self.chinese = False
        self._qr = Qr("")
        self._qr_data = b""
        self._line.clear()
        self._run.clear()

    @property
    def encoding(self) -> str:
        if self.chinese:
            return CHINESE
        return CODE_PAGES.get(self.code_page, CODE_PAGES[0])

    def _flush_run(self) -> None:
        """Decode the text bytes received since the last encoding change."""
        if self._run:
            self._line.append(self._run.decode(self.encoding, errors="replace"))
            self._run.clear()

    def _print_line(self, blank_feeds: bool = False) -> None:
        """Print the pending line as a `Text`; with ``blank_feeds``, an empty one as a `Feed`."""
        self._flush_run()
        if self._line:
            text = "".join(self._line)
            self._line.clear()
            self._items.append(Text(text, self.width, self.height, self.bold, self.align))
        elif blank_feeds:
            self._items.append(Feed(lines=1))

    # --- dispatch --------------------------------------------------------------------

    def _step(self, buffer: bytearray, at: int) -> int:
        if buffer[at] >= 0x20:
            control = _CONTROL.search(buffer, at)
            stop = control.start() if control else len(buffer)
            self._run += buffer[at:stop]
            return stop - at
        handler = self._controls.get(buffer[at])
        return handler(buffer, at) if handler else 1

    def _line_feed(self, buffer: bytearray, at: int) -> int:
        self._print_line(blank_feeds=True)
        return 1

    def _tab(self, buffer: bytearray, at: int) -> int:
        self._run.append(HT)
        return 1

    def _prefixed(self, commands: dict[int, Handler]) -> Handler:
        """The handler for a prefix byte (``ESC``, ``GS``, ``FS``) and its command table."""

        def handle(buffer: bytearray, at: int) -> int:
            if at + 1 >= len(buffer):
                return 0
            command = buffer[at + 1]
            if command < 0x20:
                return self._unknown(buffer, at, 1)
            handler = commands.get(command)
            return handler(buffer, at) if handler else self._unknown(buffer, at, 2)

        return handle

    def _unknown(self, buffer: bytearray, at: int, size: int) -> int:
        self._items.append(Unknown(bytes(buffer[at : at + size])))
        return size

    def _fixed(self, size: int, action: Callable[[bytes], None] | None = None) -> Handler:
        """A command of ``size`` bytes in all; ``action`` gets the bytes after the command byte."""

        def handle(buffer: bytearray, at: int) -> int:
            if len(buffer) - at < size:
                return 0
            if action is not None:
                action(bytes(buffer[at + 2 : at + size]))
            return size

        return handle

    def _sized(self, header: int, length: Callable[[bytearray, int], int], limit: int) -> Handler:
        """A ``header``-byte command followed by ``length(buffer, at)`` bytes of data."""

        def handle(buffer: bytearray, at: int) -> int:
            if len(buffer) - at < header:
                return 0
            size = length(buffer, at)
            if size > limit:
                return self._unknown(buffer, at, header)
            if len(buffer) - at < header + size:
                return 0
            return header + size

        return handle

    def _terminated(self, header: int, limit: int) -> Handler:
        """A ``header``-byte command followed by at most ``limit`` bytes and a NUL."""

        def handle(buffer: bytearray, at: int) -> int:
            start = at + header
            if len(buffer) < start:
                return 0
            end = buffer.find(0, start, start + limit + 1)
            if end >= 0:
                return end + 1 - at
            if len(buffer) - start > limit:
                return self._unknown(buffer, at, header)
            return 0

        return handle

    # --- ESC ---------------------------------------------------------------------------

    def _esc_commands(self) -> dict[int, Handler]:
        fixed = self._fixed
        commands: dict[int, Handler] = {
            ord("@"): fixed(2, lambda _: self._init_modes()),
            ord("!"): fixed(3, self._print_mode),
            ord("E"): fixed(3, self._emphasis),
            ord("a"): fixed(3, self._align),
            ord("t"): fixed(3, self._code_page),
            ord("d"): fixed(3, lambda p: self._feed(Feed(lines=p[0]))),
            ord("J"): fixed(3, lambda p: self._feed(Feed(dots=p[0]))),
            # The old cut commands: ESC i and ESC m both leave a point uncut.
            ord("i"): fixed(2, lambda _: self._cut(Cut(partial=True))),
            ord("m"): fixed(2, lambda _: self._cut(Cut(partial=True))),
            ord("*"): self._bit_image,
            ord("("): self._sized(5, lambda b, at: _word(b, at + 3), MAX_BLOCK_BYTES),
            ord("D"): self._terminated(2, MAX_TAB_STOPS),
            ord("c"): fixed(4),  # ESC c 0/1/3/4/5 n: paper and panel settings
            ord("p"): fixed(5),  # drawer kick
            ord("B"): fixed(4),  # buzzer
            ord("$"): fixed(4),  # absolute position
            ord("\\"): fixed(4),  # relative position
            ord("W"): fixed(10),  # page mode area
        }
        # Settings with one parameter byte that change nothing a ticket shows.
        for command in " %-3=?GKMRTUVeru{":
            commands[ord(command)] = fixed(3)
        # Commands of two bytes that change nothing a ticket shows.
        for command in "2<LS":
            commands[ord(command)] = fixed(2)
        return commands

    def _print_mode(self, parameters: bytes) -> None:
        """``ESC ! n``: bit 3 bold, bit 4 double height, bit 5 double width."""
        n = parameters[0]
        self.bold = bool(n & 0x08)
        self.height = 2 if n & 0x10 else 1
        self.width = 2 if n & 0x20 else 1

    def _emphasis(self, parameters: bytes) -> None:
        self.bold = bool(parameters[0] & 1)

    def _align(self, parameters: bytes) -> None:
        self.align = ALIGNS.get(parameters[0], self.align)

    def _code_page(self, parameters: bytes) -> None:
        self._flush_run()
        self.code_page = parameters[0]

    def _feed(self, feed: Feed) -> None:
        self._print_line()
        self._items.append(feed)

    def _cut(self, cut: Cut) -> None:
        self._print_line()
        self._items.append(cut)

    def _bit_image(self, buffer: bytearray, at: int) -> int:
        """``ESC * m nL nH d1...dk``: one strip, 8 dots high (m 0, 1) or 24 (m 32, 33)."""
        if len(buffer) - at < 5:
            return 0
        mode, columns = buffer[at + 2], _word(buffer, at + 3)
        height = {0: 8, 1: 8, 32: 24, 33: 24}.get(mode)
        if height is None or columns == 0:
            return self._unknown(buffer, at, 5)
        size = columns * height // 8
        if len(buffer) - at < 5 + size:
            return 0
        data = bytes(buffer[at + 5 : at + 5 + size])
        self._print_line()
        self._items.append(Image(columns, height, _columns_to_raster(data, columns, height)))
        return 5 + size

    # --- GS ----------------------------------------------------------------------------

    def _gs_commands(self) -> dict[int, Handler]:
        fixed = self._fixed
        commands: dict[int, Handler] = {
            ord("!"): fixed(3, self._character_size),
            ord("V"): self._paper_cut,
            ord("v"): self._raster_image,
            ord("("): self._gs_paren,
            ord("k"): self._barcode,
            ord("8"): self._sized(7, self._long_length, MAX_BLOCK_BYTES),
            ord("*"): self._sized(4, lambda b, at: b[at + 2] * b[at + 3] * 8, MAX_BLOCK_BYTES),
            ord("g"): fixed(5),  # maintenance counters
            ord("^"): fixed(5),  # macro execution
            ord("P"): fixed(4),  # motion units
            ord("$"): fixed(4),  # page mode positions
            ord("\\"): fixed(4),
            ord("L"): fixed(4),  # left margin
            ord("W"): fixed(4),  # print area width
            ord(":"): fixed(2),  # macro definition start/end
        }
        # Settings with one parameter byte that change nothing a ticket shows,
        # barcode settings, and transmit requests this printer leaves unanswered.
        for command in "/BEHITabfhjrw|":
            commands[ord(command)] = fixed(3)
        return commands

    def _character_size(self, parameters: bytes) -> None:
        """``GS ! n``: width multiplier in the high nibble, height in the low, minus one."""
        n = parameters[0]
        self.width = (n >> 4 & 0x07) + 1
        self.height = (n & 0x07) + 1

    @staticmethod
    def _long_length(buffer: bytearray, at: int) -> int:
        """``GS 8 L p1 p2 p3 p4``: a 32-bit little-endian length after the function letter."""
        return int.from_bytes(buffer[at + 3 : at + 7], "little")

    def _paper_cut(self, buffer: bytearray, at: int) -> int:
        """``GS V m`` (m 0, 1, 48, 49) and ``GS V m n`` (m 65, 66, 97, 98, 103, 104)."""
        if len(buffer) - at < 3:
            return 0
        mode = buffer[at + 2]
        partial = mode in (1, 49, 66, 98, 104)
        if mode in (0, 1, 48, 49):
            self._cut(Cut(partial))
            return 3
        if mode in (65, 66, 97, 98, 103, 104):
            if len(buffer) - at < 4:
                return 0
            self._cut(Cut(partial, feed=buffer[at + 3]))
            return 4
        return self._unknown(buffer, at, 3)

    def _raster_image(self, buffer: bytearray, at: int) -> int:
        """``GS v 0 m xL xH yL yH d1...dk``: x bytes (8x dots) wide, y dots high."""
        if len(buffer) - at < 3:
            return 0
        if buffer[at + 2] != 0x30:
            return self._unknown(buffer, at, 2)
        if len(buffer) - at < 8:
            return 0
        row, height = _word(buffer, at + 4), _word(buffer, at + 6)
        size = row * height
        if size == 0 or size > MAX_RASTER_BYTES:
            return self._unknown(buffer, at, 8)
        if len(buffer) - at < 8 + size:
            return 0
        self._print_line()
        self._items.append(Image(row * 8, height, bytes(buffer[at + 8 : at + 8 + size])))
        return 8 + size

    def _gs_paren(self, buffer: bytearray, at: int) -> int:
        """``GS ( fn pL pH ...``: length-prefixed; ``GS ( k`` with cn 49 is the QR code."""
        if len(buffer) - at < 5:
            return 0
        size = _word(buffer, at + 3)
        if len(buffer) - at < 5 + size:
            return 0
        body = bytes(buffer[at + 5 : at + 5 + size])
        if buffer[at + 2] == ord("k") and len(body) >= 2 and body[0] == QR:
            self._qr_function(body[1], body[2:])
        return 5 + size

    def _qr_function(self, function: int, parameters: bytes) -> None:
        """``self._qr`` holds the QR settings (its payload unused), ``_qr_data`` the payload."""
        if function == QR_MODEL and parameters[:1] in (b"1", b"2", b"3"):
            self._qr = replace(self._qr, model=parameters[0] - 0x30)
        elif function == QR_SIZE and parameters:
            self._qr = replace(self._qr, size=parameters[0])
        elif function == QR_ERROR and parameters and parameters[0] in QR_ERRORS:
            self._qr = replace(self._qr, error=QR_ERRORS[parameters[0]])
        elif function == QR_STORE and parameters[:1] == b"0":
            self._qr_data = parameters[1:]
        elif function == QR_PRINT and parameters[:1] == b"0" and self._qr_data:
            self._print_line()
            payload = self._qr_data.decode("utf-8", errors="replace")
            self._items.append(replace(self._qr, payload=payload))

    def _barcode(self, buffer: bytearray, at: int) -> int:
        """``GS k m d1...dk NUL`` (m 0-6) or ``GS k m n d1...dn`` (m 65-79): skipped."""
        if len(buffer) - at < 3:
            return 0
        system = buffer[at + 2]
        if system <= 6:
            return self._terminated(3, MAX_BARCODE_DATA)(buffer, at)
        if 65 <= system <= 79:
            return self._sized(4, lambda b, start: b[start + 3], MAX_BARCODE_DATA)(buffer, at)
        return self._unknown(buffer, at, 3)

    # --- FS ----------------------------------------------------------------------------

    def _fs_commands(self) -> dict[int, Handler]:
        fixed = self._fixed
        commands: dict[int, Handler] = {
            ord("&"): fixed(2, lambda _: self._chinese(True)),
            ord("."): fixed(2, lambda _: self._chinese(False)),
            ord("("): self._sized(5, lambda b, at: _word(b, at + 3), MAX_BLOCK_BYTES),
            ord("S"): fixed(4),  # character spacing
            ord("p"): fixed(4),  # print a stored logo: not shown
        }
        for command in "!-CW":
            commands[ord(command)] = fixed(3)
        return commands

    def _chinese(self, on: bool) -> None:
        self._flush_run()
        self.chinese = on

    # --- DLE ---------------------------------------------------------------------------

    def _dle(self, buffer: bytearray, at: int) -> int:
        """Real-time commands; ``DLE`` before anything else is ignored."""
        if len(buffer) - at < 2:
            return 0
        command = buffer[at + 1]
        if command == DC4:
            return self._unknown(buffer, at, 2)
        if command not in (EOT, ENQ):
            return 1
        if len(buffer) - at < 3:
            return 0
        n = buffer[at + 2]
        if command == EOT and 1 <= n <= 4:
            self._items.append(StatusRequest(n))
            return 3
        if command == EOT and n in (7, 8, 18):
            # DLE EOT n a: the newer requests carry one more byte.
            if len(buffer) - at < 4:
                return 0
            return self._unknown(buffer, at, 4)
        return self._unknown(buffer, at, 3)
