"""Sans-I/O codec for R30x fingerprint modules: R307, R503, AS608, ZFM (PROTOCOLS.md §3).

Packet: ``ef 01 | address (4) | type | LEN (2) | payload | SUM (2)``, numbers
big-endian, ``LEN = len(payload) + 2`` and
``SUM = (type + LEN_hi + LEN_lo + sum(payload)) & 0xffff``.

The host sends command packets (type 01: an instruction byte and its
parameters) and the module answers each with an acknowledgement (type 07: a
result code and its data). The same codec serves both ends: the host builds
commands and parses acks, the module simulator parses commands and builds
acks. One `Decoder` reads either direction; the parsers check the type.

Result codes this project relies on beyond PROTOCOLS.md (values from the
R30x/R503 user manuals): ``0a`` the two buffers do not combine into one
template, ``0b`` a page beyond the library, ``0c`` no valid template in the
buffer, ``15`` no valid image to convert, ``18`` flash write error, ``21``
the module has a password and it has not been verified yet.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.codec import FrameError, StreamDecoder

__all__ = [
    "DEFAULT_ADDRESS",
    "MAX_LENGTH",
    "MAX_PAYLOAD",
    "MIN_LENGTH",
    "START",
    "Ack",
    "Command",
    "Decoder",
    "Instruction",
    "Packet",
    "PacketType",
    "Result",
    "SearchHit",
    "ack",
    "count_ack",
    "delete",
    "encode",
    "gen_img",
    "high_speed_search",
    "img2tz",
    "parse_ack",
    "parse_command",
    "parse_count",
    "parse_search",
    "reg_model",
    "search",
    "search_ack",
    "store",
    "template_count",
    "verify_password",
]

START = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
#: ef 01, address (4), type, LEN (2): the bytes before the payload.
HEADER = 9
#: Largest payload: data packets carry at most 256 bytes (the module's largest
#: packet size setting); commands and acks are far shorter.
MAX_PAYLOAD = 256
#: LEN counts the payload and SUM. Every packet carries at least one payload
#: byte (an instruction, a result code or data), so LEN 0-2 cannot occur.
MIN_LENGTH = 3
MAX_LENGTH = MAX_PAYLOAD + 2


class PacketType(enum.IntEnum):
    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END_DATA = 0x08  # the last data packet


#: Every type a packet can have; a start followed by another type byte is no packet.
PACKET_TYPES = frozenset(PacketType)


class Instruction(enum.IntEnum):
    GEN_IMG = 0x01  # capture the finger on the sensor into the image buffer
    IMG2TZ = 0x02  # image buffer -> characteristic in char buffer 1 or 2
    SEARCH = 0x04
    REG_MODEL = 0x05  # combine char buffers 1 and 2 into a template
    STORE = 0x06
    DELETE = 0x0C
    VERIFY_PASSWORD = 0x13
    HIGH_SPEED_SEARCH = 0x1B
    TEMPLATE_COUNT = 0x1D


class Result(enum.IntEnum):
    """The first payload byte of an ack (the manuals' "confirmation code")."""

    OK = 0x00
    PACKET_ERROR = 0x01  # the module could not read the command packet
    NO_FINGER = 0x02
    IMAGE_FAILED = 0x03
    IMAGE_MESSY = 0x06  # poor image: too disorderly to extract features
    TOO_FEW_FEATURES = 0x07  # poor image: too few feature points, too small
    NOT_FOUND = 0x09
    COMBINE_FAILED = 0x0A  # RegModel: the two characteristics are not one finger
    BAD_PAGE = 0x0B  # a page at or beyond the library's capacity
    INVALID_TEMPLATE = 0x0C  # the buffer holds no characteristic to store
    WRONG_PASSWORD = 0x13
    NO_IMAGE = 0x15  # no valid image in the image buffer to convert
    FLASH_ERROR = 0x18
    VERIFY_PASSWORD_FIRST = 0x21


#: Each instruction's parameters after its byte: (Command field, size in bytes).
LAYOUTS: dict[Instruction, tuple[tuple[str, int], ...]] = {
    Instruction.GEN_IMG: (),
    Instruction.IMG2TZ: (("buffer", 1),),
    Instruction.SEARCH: (("buffer", 1), ("start", 2), ("count", 2)),
    Instruction.REG_MODEL: (),
    Instruction.STORE: (("buffer", 1), ("page", 2)),
    Instruction.DELETE: (("page", 2), ("count", 2)),
    Instruction.VERIFY_PASSWORD: (("password", 4),),
    Instruction.HIGH_SPEED_SEARCH: (("buffer", 1), ("start", 2), ("count", 2)),
    Instruction.TEMPLATE_COUNT: (),
}


@dataclass(frozen=True)
class Packet:
    """One R30x packet, without its start, LEN and SUM."""

    address: int
    type: int
    payload: bytes

    @property
    def length(self) -> int:
        """The LEN field: payload and SUM."""
        return len(self.payload) + 2

    @property
    def checksum(self) -> int:
        """The SUM field."""
        length = self.length
        return (self.type + (length >> 8) + (length & 0xFF) + sum(self.payload)) & 0xFFFF


def encode(packet: Packet) -> bytes:
    """The wire bytes of ``packet``.

    ValueError for an address outside 32 bits, a type that is not a
    `PacketType`, or a payload that is empty or longer than `MAX_PAYLOAD`.
    """
    if not 0 <= packet.address <= 0xFFFFFFFF:
        raise ValueError(f"R30x address {packet.address:#x} is outside 32 bits")
    if packet.type not in PACKET_TYPES:
        raise ValueError(f"R30x packet type {packet.type!r} is not one of 01, 02, 07, 08")
    if not 1 <= len(packet.payload) <= MAX_PAYLOAD:
        raise ValueError(f"R30x payload of {len(packet.payload)} bytes is outside 1..{MAX_PAYLOAD}")
    return _wire(packet)


def _wire(packet: Packet) -> bytes:
    """``packet``'s bytes as `encode` sends them, unchecked (fields are cut to size), so
    a FrameError can carry even a packet that could not be sent."""
    return (
        START
        + (packet.address & 0xFFFFFFFF).to_bytes(4, "big")
        + bytes((packet.type & 0xFF,))
        + (packet.length & 0xFFFF).to_bytes(2, "big")
        + bytes(packet.payload)
        + packet.checksum.to_bytes(2, "big")
    )


class Decoder(StreamDecoder[Packet]):
    """Turns a stream of bytes (either direction) into `Packet`s and `FrameError`s.

    Error handling, as the FF68 decoder does it, so a broken packet never
    costs a good one:

    * Bytes before an ``ef 01`` start are garbage, reported as one
      ``FrameError("garbage", ...)`` per run per `feed` call.
    * A header fault (a type other than 01, 02, 07, 08; LEN outside
      `MIN_LENGTH`..`MAX_LENGTH`) is reported as soon as the offending byte
      arrives, with the header bytes read so far.
    * A packet whose SUM is wrong is reported with all its bytes.
    * After any error, decoding resumes at the byte after the bad packet's
      first byte, so a real packet starting inside it is still found. Bytes
      already carried by an error are not reported again as garbage.

    `feed` never raises, and keeps between calls only an incomplete packet
    (under ``HEADER + MAX_LENGTH`` bytes) or a trailing ``ef``. A damaged LEN
    that is still in range makes the decoder wait for bytes that will never
    come in a command-and-answer exchange: a host that gives up waiting for an
    answer should `reset` the decoder before it sends the next command.
    """

    start = START

    def _frame_at(self, start: int) -> tuple[Packet | FrameError, int] | None:
        """Decode the packet whose ``ef 01`` is at ``start``: the item and how many
        bytes it spans, or None if more bytes are needed to decide."""
        buffer = self._buffer
        available = len(buffer) - start

        def fault(reason: str, size: int) -> tuple[FrameError, int]:
            return FrameError(reason, bytes(buffer[start : start + size])), size

        if available < 7:
            return None
        kind = buffer[start + 6]
        if kind not in PACKET_TYPES:
            return fault(f"packet type {kind:02x} is not 01, 02, 07 or 08", 7)
        if available < HEADER:
            return None
        length = int.from_bytes(buffer[start + 7 : start + HEADER], "big")
        if not MIN_LENGTH <= length <= MAX_LENGTH:
            return fault(f"LEN {length} outside {MIN_LENGTH}..{MAX_LENGTH}", HEADER)
        size = HEADER + length
        if available < size:
            return None
        packet = Packet(
            int.from_bytes(buffer[start + 2 : start + 6], "big"),
            PacketType(kind),
            bytes(buffer[start + HEADER : start + size - 2]),
        )
        received = int.from_bytes(buffer[start + size - 2 : start + size], "big")
        if received != packet.checksum:
            return fault(f"SUM {received:04x}, should be {packet.checksum:04x}", size)
        return packet, size


# --- commands (host to module) -------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """An instruction and its parameters; those it does not take are None.

    ``buffer`` is a char buffer (1 or 2); ``start`` and ``count`` are the
    pages a search looks through; ``page`` is where Store puts a template and
    the first page Delete clears, ``count`` how many it clears.
    """

    instruction: Instruction
    buffer: int | None = None
    page: int | None = None
    start: int | None = None
    count: int | None = None
    password: int | None = None


def _command(command: Command, address: int) -> Packet:
    """``command`` as a packet; ValueError for a missing or out-of-range parameter."""
    payload = bytearray((command.instruction,))
    for name, size in LAYOUTS[command.instruction]:
        value = getattr(command, name)
        if not isinstance(value, int) or not 0 <= value < 1 << (8 * size):
            raise ValueError(
                f"{command.instruction.name}: {name} must be a whole number in "
                f"0..{(1 << (8 * size)) - 1}, got {value!r}"
            )
        payload += value.to_bytes(size, "big")
    packet = Packet(address, PacketType.COMMAND, bytes(payload))
    encode(packet)  # checks the address
    return packet


def gen_img(address: int = DEFAULT_ADDRESS) -> Packet:
    """Capture the finger on the sensor; `Result.NO_FINGER` if there is none."""
    return _command(Command(Instruction.GEN_IMG), address)


def img2tz(buffer: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """Turn the captured image into a characteristic in char buffer ``buffer``."""
    return _command(Command(Instruction.IMG2TZ, buffer=buffer), address)


def search(buffer: int, start: int, count: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """Look for the characteristic in ``buffer`` on pages ``start`` .. ``start + count - 1``."""
    return _command(Command(Instruction.SEARCH, buffer=buffer, start=start, count=count), address)


def high_speed_search(
    buffer: int, start: int, count: int, address: int = DEFAULT_ADDRESS
) -> Packet:
    """As `search`, with the module's faster matcher (same answer)."""
    return _command(
        Command(Instruction.HIGH_SPEED_SEARCH, buffer=buffer, start=start, count=count), address
    )


def reg_model(address: int = DEFAULT_ADDRESS) -> Packet:
    """Combine char buffers 1 and 2 into one template (left in both buffers)."""
    return _command(Command(Instruction.REG_MODEL), address)


def store(buffer: int, page: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """Keep the template in ``buffer`` at library page ``page``."""
    return _command(Command(Instruction.STORE, buffer=buffer, page=page), address)


def delete(page: int, count: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """Clear ``count`` library pages from ``page`` on."""
    return _command(Command(Instruction.DELETE, page=page, count=count), address)


def verify_password(password: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """The handshake a module with a password needs before anything else."""
    return _command(Command(Instruction.VERIFY_PASSWORD, password=password), address)


def template_count(address: int = DEFAULT_ADDRESS) -> Packet:
    """How many library pages hold a template."""
    return _command(Command(Instruction.TEMPLATE_COUNT), address)


def parse_command(packet: Packet) -> Command | FrameError:
    """A command packet as a `Command`; FrameError (carrying the packet's bytes) for
    another type, an instruction this codec does not know, or parameters of the
    wrong length."""
    if packet.type != PacketType.COMMAND:
        return FrameError(f"packet type {packet.type:02x} is not a command", _wire(packet))
    if not packet.payload:
        return FrameError("command without an instruction", _wire(packet))
    code, params = packet.payload[0], packet.payload[1:]
    if code not in LAYOUTS:
        return FrameError(f"unknown instruction {code:02x}", _wire(packet))
    instruction = Instruction(code)
    layout = LAYOUTS[instruction]
    expected = sum(size for _, size in layout)
    if len(params) != expected:
        return FrameError(
            f"{instruction.name} takes {expected} parameter bytes, got {len(params)}",
            _wire(packet),
        )
    fields: dict[str, int] = {}
    at = 0
    for name, size in layout:
        fields[name] = int.from_bytes(params[at : at + size], "big")
        at += size
    return Command(instruction, **fields)


# --- acknowledgements (module to host) -----------------------------------------------


@dataclass(frozen=True)
class Ack:
    """A module's answer: a result code (see `Result`) and the data after it."""

    code: int
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.code == Result.OK


@dataclass(frozen=True)
class SearchHit:
    """The page a search found the finger on, and how well it matched."""

    page: int
    score: int


def ack(code: int, data: bytes = b"", address: int = DEFAULT_ADDRESS) -> Packet:
    """The module's answer with result ``code`` (0-255) and ``data``."""
    if not 0 <= code <= 0xFF:
        raise ValueError(f"R30x result code {code} is outside 0..255")
    packet = Packet(address, PacketType.ACK, bytes((code,)) + bytes(data))
    encode(packet)  # checks the address and the length
    return packet


def search_ack(page: int, score: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """A search's answer when it found the finger: ``00, page(2), score(2)``."""
    for name, value in (("page", page), ("score", score)):
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"search {name} {value} is outside 0..65535")
    return ack(Result.OK, page.to_bytes(2, "big") + score.to_bytes(2, "big"), address)


def count_ack(count: int, address: int = DEFAULT_ADDRESS) -> Packet:
    """TemplateCount's answer: ``00, count(2)``."""
    if not 0 <= count <= 0xFFFF:
        raise ValueError(f"template count {count} is outside 0..65535")
    return ack(Result.OK, count.to_bytes(2, "big"), address)


def parse_ack(packet: Packet) -> Ack | FrameError:
    """An ack packet as an `Ack`; FrameError for another type or an empty payload."""
    if packet.type != PacketType.ACK:
        return FrameError(f"packet type {packet.type:02x} is not an ack", _wire(packet))
    if not packet.payload:
        return FrameError("ack without a result code", _wire(packet))
    return Ack(packet.payload[0], packet.payload[1:])


def parse_search(answer: Ack) -> SearchHit | FrameError:
    """A search ack whose code is `Result.OK` as the `SearchHit` it carries.

    Check ``answer.code`` first: `Result.NOT_FOUND` is the usual "nobody" and
    carries no hit, so any code other than OK is returned as a FrameError, as
    is an OK ack without exactly four data bytes.
    """
    if answer.code != Result.OK:
        return FrameError(f"search ack has result {answer.code:02x}, no hit", _ack_bytes(answer))
    if len(answer.data) != 4:
        return FrameError(
            f"search ack with {len(answer.data)} data bytes, not 4", _ack_bytes(answer)
        )
    return SearchHit(int.from_bytes(answer.data[:2], "big"), int.from_bytes(answer.data[2:], "big"))


def parse_count(answer: Ack) -> int | FrameError:
    """A TemplateCount ack whose code is `Result.OK` as the count; FrameError for
    another code or other than two data bytes."""
    if answer.code != Result.OK:
        return FrameError(
            f"template count ack has result {answer.code:02x}, no count", _ack_bytes(answer)
        )
    if len(answer.data) != 2:
        return FrameError(
            f"template count ack with {len(answer.data)} data bytes, not 2", _ack_bytes(answer)
        )
    return int.from_bytes(answer.data, "big")


def _ack_bytes(answer: Ack) -> bytes:
    """An ack's payload, for a FrameError (the address it came from is not kept)."""
    return bytes((answer.code & 0xFF,)) + bytes(answer.data)
