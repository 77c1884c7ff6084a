"""A simulated R30x fingerprint module (PROTOCOLS.md §3): its sensor, buffers, library and
faults, without I/O.

A link hands every byte the host sends to `SimulatedFingerprintModule.receive`
and sends back what it returns: one ack for each command packet addressed to
the module. The module is thread-safe; the link calls it from its thread, the
simulator control and tests from others.

What the module keeps, as a real one does: an image buffer (what GenImg last
captured), char buffers 1 and 2 (what Img2Tz made of the image, or the
template RegModel combined), and a library of ``capacity`` pages. A
"print" here is who the finger belongs to: an identity string (the hall uses
staff ids), or a `Stranger`, a finger enrolled nowhere.

The finger on the sensor is set from outside (`place`, `place_unknown`,
`place_poor`) and stays there until one GenImg has imaged it, or for
``seconds`` (`FINGER_SECONDS` by default) if nothing images it. A real finger
rests on the sensor for about a second while the host polls GenImg every 100
to 200 ms; lifting it after one image makes each placement one identify cycle
(GenImg, Img2Tz, Search), never several, however fast the host polls. The
time limit keeps a finger placed while the host was not polling (the module
silent, the daemon stopped) from being identified minutes later. Enrolment
takes two placements, as on a real module the person lifts and places again.

Choices where the manuals leave room (the result codes are `Result`'s):

* GenImg with no finger answers NO_FINGER and empties the image buffer, so an
  Img2Tz after it answers NO_IMAGE (15) rather than reusing an older image.
* Img2Tz of a poor finger answers TOO_FEW_FEATURES (07) and leaves the buffer
  as it was.
* Search and HighSpeedSearch look at pages ``start`` to ``start + count - 1``
  within the library (a range past its end is cut short; a ``start`` beyond
  it is BAD_PAGE, 0b) and answer the lowest page holding the buffer's print
  with a score of 50-200, or NOT_FOUND (09); an empty buffer matches nothing.
* Store of an empty buffer answers INVALID_TEMPLATE (0c); Store or Delete
  reaching past the library answers BAD_PAGE (0b).
* A buffer number other than 1 or 2, an instruction the module does not know,
  and a packet for it that it cannot read (bad SUM) answer PACKET_ERROR (01).
* With a password other than 0, every command but VerifyPassword answers
  VERIFY_PASSWORD_FIRST (21) until VerifyPassword has succeeded; a wrong
  password answers WRONG_PASSWORD (13) and undoes an earlier success.
* Packets for another address, and packets that are not commands, are
  ignored without an answer.

Faults: ``silent`` (the module takes in nothing and answers nothing: the host
must give up on a deadline; a finger stays on the sensor), ``garble`` (commands
are carried out, but each answer's last SUM byte is damaged on the way to the
host, so its checksum fails), ``ok`` (clears both).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.codec import FrameError
from drivers.r30x.codec import (
    DEFAULT_ADDRESS,
    START,
    Command,
    Decoder,
    Instruction,
    Packet,
    PacketType,
    Result,
    ack,
    count_ack,
    encode,
    parse_command,
    search_ack,
)

__all__ = [
    "DEFAULT_CAPACITY",
    "FAULTS",
    "FAULT_GARBLE",
    "FAULT_OK",
    "FAULT_SILENT",
    "FINGER_SECONDS",
    "GARBLE_XOR",
    "SimulatedFingerprintModule",
    "Stranger",
]

FAULT_SILENT = "silent"
FAULT_GARBLE = "garble"
FAULT_OK = "ok"
FAULTS = (FAULT_SILENT, FAULT_GARBLE, FAULT_OK)

DEFAULT_CAPACITY = 200
#: How long a placed finger waits on the sensor for GenImg before it is lifted.
FINGER_SECONDS = 5.0
#: What the ``garble`` fault does to an answer's last byte.
GARBLE_XOR = 0x55
BUFFERS = (1, 2)
SCORE_MIN, SCORE_MAX = 50, 200


@dataclass(frozen=True)
class Stranger:
    """The print of a finger enrolled nowhere; each `place_unknown` is a new person."""

    number: int

    def __str__(self) -> str:
        return f"unknown #{self.number}"


#: Whose finger: a staff id (any identity string) or a stranger.
Print = str | Stranger


@dataclass(frozen=True)
class Touch:
    """A finger on the sensor, or the image GenImg took of it: whose it is, or None
    for a finger that images too poorly to read; ``until`` is when it is lifted."""

    print: Print | None
    until: float

    def describe(self) -> str:
        return "poor" if self.print is None else str(self.print)


class SimulatedFingerprintModule:
    """One R30x module at ``address`` with ``password`` and ``capacity`` library pages.

    ``clock`` (monotonic seconds) decides when a placed finger is lifted.
    """

    kind: ClassVar[str] = "fingerprint-reader"
    model: ClassVar[str] = "r30x"

    def __init__(
        self,
        id: str,
        address: int = DEFAULT_ADDRESS,
        password: int = 0,
        capacity: int = DEFAULT_CAPACITY,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not id:
            raise ValueError("a fingerprint module needs an id")
        if not 0 <= address <= 0xFFFFFFFF:
            raise ValueError(f"R30x address {address:#x} is outside 32 bits")
        if not 0 <= password <= 0xFFFFFFFF:
            raise ValueError("an R30x password is a 32-bit number")
        if not 1 <= capacity <= 0x10000:
            raise ValueError(f"library capacity {capacity} is outside 1..65536")
        self.id = id
        self.address = address
        self.capacity = capacity
        self._password = password
        self._clock = clock
        self._lock = threading.RLock()
        self._decoder = Decoder()
        self._faults: set[str] = set()
        self._verified = password == 0
        self._finger: Touch | None = None
        self._image: Touch | None = None
        self._buffers: dict[int, Print | None] = dict.fromkeys(BUFFERS)
        self._library: dict[int, Print] = {}
        self._strangers = 0
        self._images = 0
        self._counts = dict.fromkeys(("commands", "acks", "errors", "ignored", "bytes_dropped"), 0)

    def __repr__(self) -> str:
        return f"SimulatedFingerprintModule({self.id!r}, address={self.address:#010x})"

    # --- the wire ----------------------------------------------------------------------

    def receive(self, data: bytes) -> bytes:
        """Bytes from the host; returns the module's answers (possibly none)."""
        with self._lock:
            if FAULT_SILENT in self._faults:
                self._counts["bytes_dropped"] += len(data)
                return b""
            answers = bytearray()
            for item in self._decoder.feed(data):
                answer = self._answer(item)
                if answer is None:
                    continue
                wire = bytearray(encode(answer))
                if FAULT_GARBLE in self._faults:
                    wire[-1] ^= GARBLE_XOR
                self._counts["acks"] += 1
                answers += wire
            return bytes(answers)

    def _answer(self, item: Packet | FrameError) -> Packet | None:
        if isinstance(item, FrameError):
            self._counts["errors"] += 1
            # A packet for this module that it could not read, not line noise.
            if item.data.startswith(START + self.address.to_bytes(4, "big")):
                return self._ack(Result.PACKET_ERROR)
            return None
        if item.address != self.address or item.type != PacketType.COMMAND:
            self._counts["ignored"] += 1
            return None
        self._counts["commands"] += 1
        command = parse_command(item)
        if isinstance(command, FrameError):
            self._counts["errors"] += 1
            return self._ack(Result.PACKET_ERROR)
        locked = self._password != 0 and not self._verified
        if locked and command.instruction != Instruction.VERIFY_PASSWORD:
            return self._ack(Result.VERIFY_PASSWORD_FIRST)
        return self._carry_out(command)

    def _ack(self, code: int, data: bytes = b"") -> Packet:
        return ack(code, data, self.address)

    def _carry_out(self, command: Command) -> Packet:
        instruction = command.instruction
        if instruction == Instruction.GEN_IMG:
            return self._gen_img()
        if instruction == Instruction.REG_MODEL:
            return self._reg_model()
        if instruction == Instruction.TEMPLATE_COUNT:
            return count_ack(len(self._library), self.address)
        if instruction == Instruction.VERIFY_PASSWORD:
            self._verified = command.password == self._password
            return self._ack(Result.OK if self._verified else Result.WRONG_PASSWORD)
        if instruction == Instruction.DELETE:
            assert command.page is not None and command.count is not None  # parse_command
            return self._delete(command.page, command.count)
        # The rest name a char buffer, which only 1 and 2 are.
        if command.buffer not in BUFFERS:
            return self._ack(Result.PACKET_ERROR)
        assert command.buffer is not None
        if instruction == Instruction.IMG2TZ:
            return self._img2tz(command.buffer)
        if instruction == Instruction.STORE:
            assert command.page is not None  # parse_command
            return self._store(command.buffer, command.page)
        # SEARCH and HIGH_SPEED_SEARCH
        assert command.start is not None and command.count is not None  # parse_command
        return self._search(command.buffer, command.start, command.count)

    # --- instructions (under the lock) ---------------------------------------------------

    def _gen_img(self) -> Packet:
        finger = self._on_sensor()
        self._image = finger
        if finger is None:
            return self._ack(Result.NO_FINGER)
        self._finger = None  # imaged once: the finger is lifted
        self._images += 1
        return self._ack(Result.OK)

    def _img2tz(self, buffer: int) -> Packet:
        if self._image is None:
            return self._ack(Result.NO_IMAGE)
        if self._image.print is None:
            return self._ack(Result.TOO_FEW_FEATURES)
        self._buffers[buffer] = self._image.print
        return self._ack(Result.OK)

    def _search(self, buffer: int, start: int, count: int) -> Packet:
        if start >= self.capacity:
            return self._ack(Result.BAD_PAGE)
        wanted = self._buffers[buffer]
        end = min(start + count, self.capacity)
        for page in sorted(self._library):
            if start <= page < end and self._library[page] == wanted:
                return search_ack(page, self._score(wanted), self.address)
        return self._ack(Result.NOT_FOUND)

    def _score(self, found: Print | None) -> int:
        """A match score that varies from one image to the next, as a real one does,
        but is the same in every run."""
        digest = zlib.crc32(f"{found}/{self._images}".encode())
        return SCORE_MIN + digest % (SCORE_MAX - SCORE_MIN + 1)

    def _reg_model(self) -> Packet:
        first, second = self._buffers[1], self._buffers[2]
        if first is None or first != second:
            return self._ack(Result.COMBINE_FAILED)
        return self._ack(Result.OK)

    def _store(self, buffer: int, page: int) -> Packet:
        if page >= self.capacity:
            return self._ack(Result.BAD_PAGE)
        template = self._buffers[buffer]
        if template is None:
            return self._ack(Result.INVALID_TEMPLATE)
        self._library[page] = template
        return self._ack(Result.OK)

    def _delete(self, page: int, count: int) -> Packet:
        if page + count > self.capacity:
            return self._ack(Result.BAD_PAGE)
        for cleared in range(page, page + count):
            self._library.pop(cleared, None)
        return self._ack(Result.OK)

    def _on_sensor(self) -> Touch | None:
        """The finger on the sensor now; one whose time is up is lifted first."""
        if self._finger is not None and self._clock() >= self._finger.until:
            self._finger = None
        return self._finger

    # --- the finger ------------------------------------------------------------------------

    def place(self, identity: str, seconds: float = FINGER_SECONDS) -> None:
        """Put ``identity``'s finger on the sensor until one GenImg images it, or for
        ``seconds`` if none does. Replaces a finger already there."""
        if not identity:
            raise ValueError("a finger needs an identity")
        self._put(identity, seconds)

    def place_unknown(self, seconds: float = FINGER_SECONDS) -> Stranger:
        """Put the finger of someone enrolled nowhere on the sensor; returns the stranger."""
        with self._lock:
            self._strangers += 1
            stranger = Stranger(self._strangers)
            self._put(stranger, seconds)
        return stranger

    def place_poor(self, seconds: float = FINGER_SECONDS) -> None:
        """Put a finger on the sensor that images but is too poor to read (Img2Tz fails)."""
        self._put(None, seconds)

    def _put(self, print_: Print | None, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"a finger stays on the sensor for more than 0 s, got {seconds}")
        with self._lock:
            self._finger = Touch(print_, self._clock() + seconds)

    def lift(self) -> None:
        """Take the finger off the sensor."""
        with self._lock:
            self._finger = None

    # --- the library ---------------------------------------------------------------------

    def enroll(self, page: int, identity: str) -> None:
        """Keep ``identity``'s template at ``page`` directly, as if enrolled earlier
        (the library lives in the module's flash, across restarts of the host)."""
        if not 0 <= page < self.capacity:
            raise ValueError(f"page {page} is outside the library (0..{self.capacity - 1})")
        if not identity:
            raise ValueError("a template needs an identity")
        with self._lock:
            self._library[page] = identity

    @property
    def library(self) -> dict[int, str]:
        """Page -> whose template is kept there, by page."""
        with self._lock:
            return {page: str(self._library[page]) for page in sorted(self._library)}

    # --- faults and state ----------------------------------------------------------------

    @property
    def faults(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._faults)

    def set_fault(self, kind: str) -> None:
        """Add fault ``kind`` (silent or garble); ``ok`` clears them. ValueError for another."""
        if kind not in FAULTS:
            raise ValueError(
                f"{self.kind} {self.id!r} does not support fault {kind!r} "
                f"(supported: {', '.join(FAULTS)})"
            )
        with self._lock:
            if kind == FAULT_OK:
                self._faults.clear()
            else:
                self._faults.add(kind)
            # A packet half-received before the fault changed is not finished after it.
            self._decoder.reset()

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def describe(self) -> dict[str, Any]:
        """Who the module is: what `sim list` shows of it."""
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "model": self.model,
                "address": self.address,
                "templates": len(self._library),
                "faults": sorted(self._faults),
            }

    def snapshot(self) -> dict[str, Any]:
        """Library, finger, buffers, counters and faults, JSON-safe. Library pages are
        strings (JSON object keys); prints are identities, ``unknown #N`` or ``poor``."""
        with self._lock:
            finger = self._on_sensor()
            now = self._clock()
            return {
                **self.describe(),
                "capacity": self.capacity,
                "password_set": self._password != 0,
                "verified": self._verified,
                "finger": None
                if finger is None
                else {
                    "print": finger.describe(),
                    "seconds_left": round(max(0.0, finger.until - now), 1),
                },
                "image": None if self._image is None else self._image.describe(),
                "buffers": {
                    str(number): None if held is None else str(held)
                    for number, held in self._buffers.items()
                },
                "library": {str(page): who for page, who in self.library.items()},
                "counters": dict(self._counts),
            }
