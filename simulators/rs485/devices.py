"""Simulated RS-485 hall devices: caller keypads, evaluation pads, IMM screens.

Each speaks its protocol from the device side through the codecs in
`drivers/`, on a `SimulatedBus`. Faults (`set_fault`): ``silent`` (ignores
everything, sends nothing), ``garble`` (keypads and pads damage one byte of
every frame they send; a screen damages every frame it receives, so it fails
to decode), ``split`` (keypads and pads send every frame in two parts about
30 ms apart), ``ok`` (clears them all).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from drivers.codec import FrameError
from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.rs485.ff68_device import Ff68Device, PendingPress
from simulators.rs485.port import (
    FAULT_GARBLE,
    FAULT_OK,
    FAULT_SILENT,
    GARBLE_XOR,
    BusDevice,
    FrameRecord,
)

__all__ = ["KEYS", "LEVELS", "KeypadSim", "PadSim", "ScreenSim"]

#: Keypad keys by name: the key byte and the digit typed before it, if the key needs one.
KEYS: dict[str, tuple[int, tuple[int, ...]]] = {
    "call": (ff68.KEY_CALL, ()),
    "recall": (ff68.KEY_RECALL, ()),
    "rate": (ff68.KEY_RATE, ()),
    "pause": (ff68.KEY_PAUSE, ()),
    "transfer": (ff68.KEY_TRANSFER, ()),
    "skip": (ff68.KEY_CONFIRM, (ff68.CONFIRM_SKIP,)),
    "hold": (ff68.KEY_CONFIRM, (ff68.CONFIRM_HOLD,)),
    "callback": (ff68.KEY_CONFIRM, (ff68.CONFIRM_CALLBACK,)),
}
_KEY_NAMES = {value: name for name, value in KEYS.items()}

#: The national five-level satisfaction scale; level 1 is pad key 0.
LEVELS: dict[int, str] = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}

#: At most this many digits fit before a key (L <= 8: addr, func, digits, key).
MAX_DIGITS = ff68.MAX_LENGTH - 3


def _half(digits: bytes) -> int | None:
    """Three show digits as a number; None when all are blank or one is not a digit."""
    shown = [digit for digit in digits if digit != ff68.BLANK_DIGIT]
    if not shown or any(digit > 9 for digit in shown):
        return None
    return int("".join(str(digit) for digit in shown))


class KeypadSim(Ff68Device):
    """A clerk's caller keypad with a six-digit display (waiting count, ticket number)."""

    kind: ClassVar[str] = "keypad"
    model = "ff68-keypad"

    def __init__(
        self, id: str, address: int, resend_after: float = 0.25, max_sends: int = 5
    ) -> None:
        super().__init__(id, address, resend_after, max_sends)
        self._display = bytes((ff68.BLANK_DIGIT,) * 6)
        self._beeps = 0

    def press(self, key: str, digits: tuple[int, ...] = ()) -> bool:
        """Press ``key`` after typing ``digits``; False if the keypad is silent.

        ``skip``, ``hold`` and ``callback`` are the confirm key after their own
        digit, so they take no digits; ``transfer`` needs the target window's
        digits; the other keys send whatever digits were typed before them.
        ValueError for an unknown key or unusable digits.
        """
        if key not in KEYS:
            raise ValueError(f"unknown keypad key {key!r} (keys: {', '.join(KEYS)})")
        code, implied = KEYS[key]
        digits = tuple(digits)
        if implied and digits:
            raise ValueError(f"key {key!r} takes no digits (it sends its own)")
        if key == "transfer" and not digits:
            raise ValueError("transfer needs the digits of the target window")
        if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 9 for d in digits):
            raise ValueError(f"digits must each be 0-9, got {digits}")
        if len(digits) > MAX_DIGITS:
            raise ValueError(f"at most {MAX_DIGITS} digits fit in a key frame, got {len(digits)}")
        frame = ff68.key_press(self.address, code, implied or digits)
        with self._lock:
            return self._press(frame, (key, digits))

    def _command(self, frame: ff68.Frame, at: float) -> None:
        if frame.func == ff68.FUNC_KEY:
            self._acknowledged(frame, at)
        elif frame.func == ff68.FUNC_SHOW:
            if len(frame.data) != 6 or any(d > 9 and d != ff68.BLANK_DIGIT for d in frame.data):
                self._bad_command()
                return
            self._display = frame.data
            self._echo(frame)
        elif frame.func == ff68.FUNC_BEEP:
            if frame.data:
                self._bad_command()
                return
            self._beeps += 1
            self._echo(frame)
        else:
            self._unknown_command()

    def _acknowledges(self, frame: ff68.Frame, press: PendingPress) -> bool:
        return frame == press.frame

    @property
    def waiting(self) -> int | None:
        with self._lock:
            return _half(self._display[:3])

    @property
    def number(self) -> int | None:
        with self._lock:
            return _half(self._display[3:])

    @property
    def beeps(self) -> int:
        with self._lock:
            return self._beeps

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            last = self._last_label
            return {
                **self.describe(),
                "display": "".join(" " if d == ff68.BLANK_DIGIT else str(d) for d in self._display),
                "waiting": _half(self._display[:3]),
                "number": _half(self._display[3:]),
                "beeps": self._beeps,
                "last_key": last[0] if isinstance(last, tuple) else None,
                "last_digits": list(last[1]) if isinstance(last, tuple) else [],
                **self._counters(),
                **self._times(),
            }


class PadSim(Ff68Device):
    """A window's evaluation pad: four or five keys, a star display, a rating prompt."""

    kind: ClassVar[str] = "pad"
    model = "ff68-pad"

    def __init__(
        self,
        id: str,
        address: int,
        keys: int = 4,
        resend_after: float = 0.25,
        max_sends: int = 5,
    ) -> None:
        if keys not in (4, 5):
            raise ValueError(f"an evaluation pad has 4 or 5 keys, not {keys}")
        super().__init__(id, address, resend_after, max_sends)
        self.keys = keys
        self._prompted = False
        self._prompts = 0
        self._stars: int | None = None

    def rate(self, level: int) -> bool:
        """The citizen presses the key for ``level`` (1 = 非常满意 ... 5 = 非常不满意);
        False if the pad is silent. ValueError for a level the pad has no key for."""
        if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
            raise ValueError(f"rating level must be 1-5, got {level!r}")
        if level > self.keys:
            raise ValueError(
                f"a {self.keys}-key pad has no key for level {level} ({LEVELS[level]})"
            )
        frame = ff68.pad_key(self.address, level - 1)
        with self._lock:
            sent = self._press(frame, level)
            if sent:
                self._prompted = False
            return sent

    def _command(self, frame: ff68.Frame, at: float) -> None:
        data = frame.data
        if frame.func == ff68.FUNC_ACK:
            if data == bytes((ff68.KEY_RATE,)):
                self._prompted = True
                self._prompts += 1
                self._echo(frame)
            elif len(data) == 1 and data[0] <= ff68.PAD_KEY_MAX:
                self._acknowledged(frame, at)
            else:
                self._bad_command()
        elif frame.func == ff68.FUNC_SHOW:
            if len(data) != 1 or data[0] not in LEVELS:
                self._bad_command()
                return
            self._stars = data[0]
            self._echo(frame)
        else:
            self._unknown_command()

    def _acknowledges(self, frame: ff68.Frame, press: PendingPress) -> bool:
        return frame == ff68.pad_ack(press.frame)

    @property
    def prompted(self) -> bool:
        with self._lock:
            return self._prompted

    @property
    def stars(self) -> int | None:
        with self._lock:
            return self._stars

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            level = self._last_label if isinstance(self._last_label, int) else None
            return {
                **self.describe(),
                "keys": self.keys,
                "prompted": self._prompted,
                "prompts": self._prompts,
                "stars": self._stars,
                "last_key": None if level is None else level - 1,
                "last_level": level,
                "last_meaning": None if level is None else LEVELS[level],
                **self._counters(),
                **self._times(),
            }


class ScreenSim(BusDevice):
    """An IMM LED screen: a window screen or the main hall screen. It never answers.

    A frame for it (its address and selector) that arrives less than
    ``busy_after_frame`` seconds after the last frame it accepted is dropped
    and counted as an overrun: cheap controllers need about 100 ms to take a
    frame in. Decoder errors other than garbage (which is mostly the keypads'
    traffic) are counted.
    """

    kind: ClassVar[str] = "screen"
    protocol: ClassVar[str] = "imm"
    supported_faults: ClassVar[frozenset[str]] = frozenset({FAULT_SILENT, FAULT_GARBLE, FAULT_OK})
    #: Where the ``garble`` fault strikes: the first selector byte, counted from ``aa``.
    GARBLE_AT = 6

    def __init__(
        self,
        id: str,
        address: int,
        selector: imm.Selector = imm.Selector.WINDOW,
        busy_after_frame: float = 0.1,
        history: int = 1000,
    ) -> None:
        super().__init__(id, address)
        self.selector = imm.Selector(selector)
        self.model = (
            "imm-window-screen" if self.selector is imm.Selector.WINDOW else "imm-hall-screen"
        )
        if busy_after_frame < 0:
            raise ValueError(f"busy_after_frame must not be negative, got {busy_after_frame}")
        self.busy_after_frame = busy_after_frame
        self._history: deque[tuple[float, str]] = deque(maxlen=history)
        self._decoder = imm.Decoder()
        self._text: str | None = None
        self._accepted_at: float | None = None
        # Bytes since the last aa, for the garble fault.
        self._since_start: int | None = None
        self._counts = dict.fromkeys(("frames", "accepted", "overruns", "decode_errors"), 0)

    def hear(self, data: bytes, at: float) -> None:
        with self._lock:
            if self.silent:
                return
            if FAULT_GARBLE in self._faults:
                data = self._garble(data)
            for item in self._decoder.feed(data):
                if isinstance(item, FrameError):
                    if item.reason != "garbage":
                        self._counts["decode_errors"] += 1
                    continue
                if item.addr != self.address or item.selector is not self.selector:
                    continue
                self._counts["frames"] += 1
                if self._accepted_at is not None and at - self._accepted_at < self.busy_after_frame:
                    self._counts["overruns"] += 1
                    continue
                self._counts["accepted"] += 1
                self._accepted_at = at
                self._text = item.text
                self._history.append((at, item.text))
                self._received.append(FrameRecord(at, item))

    @property
    def bus_slot(self) -> tuple[object, ...]:
        return (self.protocol, self.address, self.selector.name)

    def _garble(self, data: bytes) -> bytes:
        """Damage the first selector byte of every frame: the checksum then fails.

        The ``aa`` and ``ff`` bytes are never touched, so framing survives and
        the decoder reports each damaged frame as one error.
        """
        out = bytearray(data)
        for index, value in enumerate(out):
            if value == imm.START:
                self._since_start = 0
            elif self._since_start is not None:
                self._since_start += 1
                if self._since_start == self.GARBLE_AT and value != imm.END:
                    out[index] ^= GARBLE_XOR
        return bytes(out)

    def _fault_changed(self, kind: str) -> None:
        if kind == FAULT_SILENT:
            self._decoder.reset()

    @property
    def history(self) -> list[tuple[float, str]]:
        """(monotonic time the frame's last byte arrived, text) for each text accepted,
        oldest first; the newest ``history`` entries are kept."""
        with self._lock:
            return list(self._history)

    @property
    def text(self) -> str | None:
        """What the screen shows; None until it has accepted a frame."""
        with self._lock:
            return self._text

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            recent = list(self._history)[-20:]
            return {
                **self.describe(),
                "selector": self.selector.name.lower(),
                "text": self._text,
                "updated_at": self._accepted_at,
                "history": [{"at": at, "text": text} for at, text in recent],
                "frames": dict(self._counts),
            }
