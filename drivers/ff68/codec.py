"""Sans-I/O codec for the FF68 bus: caller keypads and evaluation pads (PROTOCOLS.md §1).

Frame: ``ff 68 | L | L | 68 | addr | func | data (L-2 bytes) | CS | 16`` where
``L`` counts addr + func + data and ``CS = (addr + func + sum(data)) mod 256``.

The same codec serves both ends of the bus: the host decodes with
``Decoder(from_device=True)`` and the simulators, speaking as the devices,
decode with ``Decoder(from_device=False)``. Builders are grouped by who sends
the frame (host or device); parsers turn a decoded `Frame` into a typed message.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.codec import FrameError, StreamDecoder

__all__ = [
    "CONFIRM_CALLBACK",
    "CONFIRM_HOLD",
    "CONFIRM_SKIP",
    "FUNC_ACK",
    "FUNC_BEEP",
    "FUNC_KEY",
    "FUNC_PAD_KEY",
    "FUNC_SHOW",
    "KEY_CALL",
    "KEY_CONFIRM",
    "KEY_PAUSE",
    "KEY_RATE",
    "KEY_RECALL",
    "KEY_TRANSFER",
    "MAX_LENGTH",
    "PAD_KEY_MAX",
    "Decoder",
    "Frame",
    "KeyPress",
    "PadKey",
    "beep",
    "echo",
    "encode",
    "key_press",
    "pad_ack",
    "pad_key",
    "parse_key_press",
    "parse_pad_key",
    "show",
    "show_stars",
    "start_rating",
]

START = b"\xff\x68"
MARK = 0x68
END = 0x16
#: Largest L the host accepts (addr + func + 6 data bytes: the show frame).
MAX_LENGTH = 8
#: Bytes around the L counted bytes: ff 68 L L 68 ... CS 16.
OVERHEAD = 7

# Function codes. A keypad may use any func except FUNC_PAD_KEY for its key
# frames; this project's keypads (and simulators) use FUNC_KEY.
FUNC_KEY = 0x01
FUNC_ACK = 0x01
FUNC_SHOW = 0x02
FUNC_BEEP = 0x03
FUNC_PAD_KEY = 0x11

# Keypad keys (the last data byte of a keypad frame).
KEY_RATE = 0x0B
KEY_CALL = 0x0C
KEY_RECALL = 0x0D
KEY_CONFIRM = 0x0F
KEY_PAUSE = 0x12
KEY_TRANSFER = 0x13

# The digit typed before KEY_CONFIRM.
CONFIRM_HOLD = 0
CONFIRM_CALLBACK = 3
CONFIRM_SKIP = 6

#: Data byte a show frame uses for a digit left dark.
BLANK_DIGIT = 0x0A
#: Highest evaluation pad key: 0-3 on four-key pads, 0-4 on five-key pads.
PAD_KEY_MAX = 4
STARS_MIN = 1
STARS_MAX = 5


@dataclass(frozen=True)
class Frame:
    """One FF68 frame, without its framing bytes."""

    addr: int
    func: int
    data: bytes = b""

    @property
    def checksum(self) -> int:
        return (self.addr + self.func + sum(self.data)) & 0xFF

    @property
    def length(self) -> int:
        """The L byte: addr + func + data."""
        return 2 + len(self.data)


def encode(frame: Frame) -> bytes:
    """The wire bytes of ``frame``.

    Raises ValueError for an address, func or data byte outside 0..255, or a
    frame longer than the host accepts (L > 8).
    """
    for name, value in (("address", frame.addr), ("func", frame.func)):
        if not 0 <= value <= 0xFF:
            raise ValueError(f"FF68 {name} {value} is outside 0..255")
    for index, value in enumerate(frame.data):
        if not 0 <= value <= 0xFF:
            raise ValueError(f"FF68 data byte {index} ({value}) is outside 0..255")
    length = frame.length
    if length > MAX_LENGTH:
        raise ValueError(
            f"FF68 frame too long: L = {length} (2 + {len(frame.data)} data bytes) > {MAX_LENGTH}"
        )
    body = bytes((frame.addr, frame.func, *frame.data))
    return bytes((0xFF, MARK, length, length, MARK)) + body + bytes((frame.checksum, END))


class Decoder(StreamDecoder[Frame]):
    """Turns a stream of bytes into `Frame`s and `FrameError`s.

    ``from_device`` says which side we are: True on the host, which decodes
    what devices send (and device frames always carry at least one data byte,
    so L <= 2 is refused there); False in a device simulator, which must
    accept host frames such as Beep with L = 2.

    Error handling, chosen so that a broken frame never costs a good one:

    * Bytes before a ``ff 68`` start are garbage, reported as one
      ``FrameError("garbage", ...)`` per run per `feed` call.
    * A header fault (L above 8, the two copies of L differing, no ``68``
      after them) is reported as soon as the offending byte arrives, carrying
      the header bytes read so far: the would-be frame's length is unknown,
      and waiting for it would hold back the frames behind it.
    * A frame with a sound header but a length the side refuses, a wrong end
      byte or a wrong checksum is reported with all its bytes.
    * After any error, decoding resumes at the byte after the bad frame's
      first byte, so a real frame starting inside it is still found. Bytes
      already carried by an error are not reported again as garbage.

    `feed` never raises, and keeps between calls only an incomplete frame
    (under 15 bytes) or a trailing ``ff``.
    """

    start = START

    def __init__(self, from_device: bool) -> None:
        self.from_device = from_device
        self._min_length = 3 if from_device else 2
        super().__init__()

    def _frame_at(self, start: int) -> tuple[Frame | FrameError, int] | None:
        """Decode the frame whose ``ff 68`` is at ``start``.

        Returns the item and how many bytes it spans, or None if more bytes
        are needed to decide.
        """
        buffer = self._buffer
        available = len(buffer) - start

        def fault(reason: str, size: int) -> tuple[FrameError, int]:
            return FrameError(reason, bytes(buffer[start : start + size])), size

        if available < 3:
            return None
        length = buffer[start + 2]
        if length > MAX_LENGTH:
            return fault(f"length {length} > {MAX_LENGTH}", 3)
        if available < 4:
            return None
        if buffer[start + 3] != length:
            return fault(f"length copies differ ({length} != {buffer[start + 3]})", 4)
        if available < 5:
            return None
        if buffer[start + 4] != MARK:
            return fault(f"no 68 after the length (got {buffer[start + 4]:02x})", 5)
        size = OVERHEAD + length
        if available < size:
            return None
        if length < self._min_length:
            side = "device" if self.from_device else "host"
            return fault(f"length {length} too short for a {side} frame", size)
        frame_bytes = buffer[start : start + size]
        if frame_bytes[-1] != END:
            return fault(f"end byte {frame_bytes[-1]:02x}, not 16", size)
        frame = Frame(frame_bytes[5], frame_bytes[6], bytes(frame_bytes[7:-2]))
        if frame_bytes[-2] != frame.checksum:
            return fault(
                f"checksum {frame_bytes[-2]:02x}, should be {frame.checksum:02x}",
                size,
            )
        return frame, size


# --- typed messages ---------------------------------------------------------


@dataclass(frozen=True)
class KeyPress:
    """A caller keypad key, with the digits the clerk typed before it (each 0-9)."""

    addr: int
    digits: tuple[int, ...]
    key: int

    @property
    def number(self) -> int | None:
        """The typed digits read as a decimal number (a transfer's target window),
        or None if none were typed."""
        if not self.digits:
            return None
        return int("".join(str(digit) for digit in self.digits))


@dataclass(frozen=True)
class PadKey:
    """An evaluation pad key: 0 = very satisfied ... 3 (four keys) or 4 (five keys)."""

    addr: int
    key: int


def _wire(frame: Frame) -> bytes:
    """``frame``'s bytes for a FrameError, without raising even if it could not be sent."""
    try:
        return encode(frame)
    except (ValueError, TypeError):
        return bytes(value & 0xFF for value in (frame.addr, frame.func, *frame.data))


def parse_key_press(frame: Frame) -> KeyPress | FrameError:
    """A keypad frame as a `KeyPress`.

    PROTOCOLS.md allows any func except the pad's ``11`` for keypad frames
    (public host code ignores it), so any other func is accepted here.
    """
    if frame.func == FUNC_PAD_KEY:
        return FrameError("func 11 is an evaluation pad frame, not a keypad one", _wire(frame))
    if not frame.data:
        return FrameError("keypad frame without a key", _wire(frame))
    *digits, key = frame.data
    if any(digit > 9 for digit in digits):
        return FrameError("keypad digit outside 0-9", _wire(frame))
    return KeyPress(frame.addr, tuple(digits), key)


def parse_pad_key(frame: Frame) -> PadKey | FrameError:
    """An evaluation pad frame (func 11, one data byte: the key) as a `PadKey`."""
    if frame.func != FUNC_PAD_KEY:
        return FrameError(f"func {frame.func:02x} is not an evaluation pad key", _wire(frame))
    if len(frame.data) != 1:
        return FrameError(
            f"evaluation pad frame with {len(frame.data)} data bytes, not 1", _wire(frame)
        )
    key = frame.data[0]
    if key > PAD_KEY_MAX:
        return FrameError(f"evaluation pad key {key} outside 0-{PAD_KEY_MAX}", _wire(frame))
    return PadKey(frame.addr, key)


# --- host to device -----------------------------------------------------------


def _checked(frame: Frame) -> Frame:
    """``frame``, once `encode` has confirmed it can go on the wire (else ValueError)."""
    encode(frame)
    return frame


def _three_digits(value: int | None) -> bytes:
    if value is None:
        return bytes((BLANK_DIGIT,) * 3)
    if value < 0:
        raise ValueError(f"cannot show a negative number ({value}) on a keypad")
    return bytes(int(char) for char in f"{min(value, 999):03d}")


def show(addr: int, waiting: int | None, number: int | None) -> Frame:
    """Show the waiting count and ticket number on a keypad's display.

    None leaves that half blank; values above 999 show as 999; shorter values
    get leading zeros (ticket 23 shows as 023).
    """
    return _checked(Frame(addr, FUNC_SHOW, _three_digits(waiting) + _three_digits(number)))


def beep(addr: int) -> Frame:
    return _checked(Frame(addr, FUNC_BEEP, b""))


def echo(frame: Frame) -> Frame:
    """The host's acknowledgement of a keypad frame: the same frame, sent back."""
    return frame


def pad_ack(frame: Frame | PadKey) -> Frame:
    """The host's acknowledgement of an evaluation pad key: func 01, same key byte."""
    if isinstance(frame, PadKey):
        return _checked(Frame(frame.addr, FUNC_ACK, bytes((frame.key,))))
    if frame.func != FUNC_PAD_KEY or len(frame.data) != 1:
        raise ValueError(f"not an evaluation pad key frame: {frame}")
    return _checked(Frame(frame.addr, FUNC_ACK, frame.data))


def start_rating(addr: int) -> Frame:
    """Ask the citizen at an evaluation pad to rate."""
    return _checked(Frame(addr, FUNC_ACK, bytes((KEY_RATE,))))


def show_stars(addr: int, level: int) -> Frame:
    """Set the star level (1-5) an evaluation pad shows."""
    if not STARS_MIN <= level <= STARS_MAX:
        raise ValueError(f"star level {level} outside {STARS_MIN}-{STARS_MAX}")
    return _checked(Frame(addr, FUNC_SHOW, bytes((level,))))


# --- device to host (for the simulators) --------------------------------------


def key_press(addr: int, key: int, digits: tuple[int, ...] | list[int] = ()) -> Frame:
    """A keypad's frame for ``key`` pressed after typing ``digits`` (each 0-9)."""
    if any(not 0 <= digit <= 9 for digit in digits):
        raise ValueError(f"keypad digits must be 0-9, got {tuple(digits)}")
    return _checked(Frame(addr, FUNC_KEY, bytes((*digits, key))))


def pad_key(addr: int, key: int) -> Frame:
    """An evaluation pad's frame for ``key`` (0-4)."""
    if not 0 <= key <= PAD_KEY_MAX:
        raise ValueError(f"evaluation pad key {key} outside 0-{PAD_KEY_MAX}")
    return _checked(Frame(addr, FUNC_PAD_KEY, bytes((key,))))
