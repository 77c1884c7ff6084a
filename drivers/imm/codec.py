"""Sans-I/O codec for IMM window screens and the main hall screen (PROTOCOLS.md §2).

Frame: ``aa | addr | bb 51 54 | CS | sel(2) | 99 00 63 | text (GBK) | ff`` with
``CS = sum(bytes from sel to the final ff, inclusive) mod 256``.

Screens never answer, so the host only encodes; the `Decoder` is the screen's
side, used by the screen simulators (and by tests that check what the host
put on the wire).

Why ``ff`` can end the frame: GBK encodes a character as either one byte
0x00-0x7f or two bytes, a lead byte 0x81-0xfe and a trail byte 0x40-0x7e or
0x80-0xfe. No byte of GBK text is ever 0xff, so the first ``ff`` after the
header is the end of the frame. The checksum byte *can* be ``ff`` (it is in
the golden vector), which is why the search for the end starts after it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.codec import FrameError, StreamDecoder

__all__ = [
    "DEFAULT_MAX_FRAME",
    "MIN_FRAME",
    "Decoder",
    "ScreenText",
    "Selector",
    "encode",
]

START = 0xAA
HEADER = b"\xbb\x51\x54"
MARKER = b"\x99\x00\x63"
END = 0xFF
ENCODING = "gbk"

# Offsets inside a frame.
CS_AT = 5
SEL_AT = 6
MARKER_AT = 8
TEXT_AT = 11

#: aa addr bb 51 54 CS sel sel 99 00 63 ff: a frame with empty text.
MIN_FRAME = 12
#: Frames longer than this without their ff are dropped, so noise that looks
#: like a header cannot make the decoder buffer without bound.
DEFAULT_MAX_FRAME = 512


class Selector(enum.Enum):
    """Which kind of screen a frame is for (the two bytes after the checksum)."""

    WINDOW = b"\x01\x00"
    HALL = b"\x08\x02"


@dataclass(frozen=True)
class ScreenText:
    """Text for the screen at ``addr``."""

    addr: int
    selector: Selector
    text: str


def _gbk(text: str) -> bytes:
    """``text`` in GBK; ValueError naming the first character GBK lacks."""
    try:
        return text.encode(ENCODING)
    except UnicodeEncodeError as error:
        char = text[error.start]
        raise ValueError(
            f"character {char!r} (U+{ord(char):04X}) at position {error.start} of {text!r} "
            f"has no GBK encoding"
        ) from None


def encode(message: ScreenText) -> bytes:
    """The wire bytes of ``message``.

    Raises ValueError for an address outside 0..255, an unknown selector or
    text GBK cannot encode. Note that `Decoder` refuses frames longer than its
    ``max_frame`` (512 bytes by default, about 250 Chinese characters).
    """
    if not 0 <= message.addr <= 0xFF:
        raise ValueError(f"IMM address {message.addr} is outside 0..255")
    selector = Selector(message.selector)
    checked = selector.value + MARKER + _gbk(message.text) + bytes((END,))
    checksum = sum(checked) & 0xFF
    return bytes((START, message.addr)) + HEADER + bytes((checksum,)) + checked


class Decoder(StreamDecoder[ScreenText]):
    """Turns the bytes a screen receives into `ScreenText`s and `FrameError`s.

    A frame starts at ``aa`` followed, after the address byte, by ``bb 51 54``
    and ends at the first ``ff`` after the checksum. Bytes before a start are
    garbage, reported as one ``FrameError("garbage", ...)`` per run per `feed`
    call. A frame with a wrong checksum, an unknown selector, no ``99 00 63``
    or text that is not GBK is reported with all its bytes; a would-be frame
    of ``max_frame`` bytes without its ``ff`` is reported with those bytes.
    After an error, decoding resumes at the byte after the bad frame's ``aa``
    (a real frame may start inside it); bytes an error already carried are not
    reported again as garbage. `feed` never raises.
    """

    start = bytes((START,))

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if max_frame < MIN_FRAME:
            raise ValueError(f"max_frame {max_frame} is below the smallest frame ({MIN_FRAME})")
        self.max_frame = max_frame
        super().__init__()

    def _could_start(self, start: int) -> bool:
        """Whether the bytes received so far after the ``aa`` at ``start`` fit a header."""
        received = self._buffer[start + 2 : start + 2 + len(HEADER)]
        return received == HEADER[: len(received)]

    def _frame_at(self, start: int) -> tuple[ScreenText | FrameError, int] | None:
        """Decode the frame whose header is at ``start``.

        Returns the item and how many bytes it spans, or None if more bytes
        are needed to decide.
        """
        buffer = self._buffer
        available = len(buffer) - start
        if available < SEL_AT:
            return None
        end = buffer.find(END, start + SEL_AT, start + self.max_frame)
        if end < 0:
            if available < self.max_frame:
                return None
            reason = f"no ff within {self.max_frame} bytes"
            return FrameError(reason, bytes(buffer[start : start + self.max_frame])), self.max_frame
        frame = bytes(buffer[start : end + 1])
        return self._parse(frame), len(frame)

    @staticmethod
    def _parse(frame: bytes) -> ScreenText | FrameError:
        if len(frame) < MIN_FRAME:
            return FrameError("frame ends before its text", frame)
        checksum = sum(frame[SEL_AT:]) & 0xFF
        if frame[CS_AT] != checksum:
            return FrameError(f"checksum {frame[CS_AT]:02x}, should be {checksum:02x}", frame)
        try:
            selector = Selector(frame[SEL_AT:MARKER_AT])
        except ValueError:
            return FrameError(f"unknown selector {frame[SEL_AT:MARKER_AT].hex(' ')}", frame)
        if frame[MARKER_AT:TEXT_AT] != MARKER:
            return FrameError("no 99 00 63 after the selector", frame)
        try:
            text = frame[TEXT_AT:-1].decode(ENCODING)
        except UnicodeDecodeError as error:
            return FrameError(f"text is not GBK ({error.reason})", frame)
        return ScreenText(frame[1], selector, text)
