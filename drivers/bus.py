"""The bus master: one thread that owns one RS-485 link and the devices on it.

What it does, in order of urgency:
1. acknowledges every frame a device sends (an FF68 keypad resends until it
   sees its echo), at once, or, for a device whose frames must be stored
   before it is told they arrived (`Endpoint.holds_acknowledgement`), when
   its listener says so (`acknowledge`);
2. sends commands by priority: what a citizen is waiting to see first
   (`Priority.CALL`), other pictures next, periodic re-sends and probes last;
   a newer command for the same device and slot replaces one still waiting,
   and a change that may wait (`Command.within`) goes with the picture's next
   re-send, brought forward to at most `within` from now;
3. keeps each device's gap between two frames addressed to it (an IMM screen
   needs 100 ms to take in a frame) without holding up the other devices;
4. waits for the answer of a device that answers (FF68 devices echo host
   commands); no answer in time is reported to that device only;
5. re-sends every device's standing picture periodically (on a bus crowded
   with them, less often than each asks: `refresh_spacing`) and after the
   link comes back, and once soon after a send that may not have arrived: one that
   went unanswered, or a new picture for a device that never answers (a
   screen whose call frame met a key press would show the old number until
   the next re-send, and nothing would say so); reopens a failed link with
   backoff and jitter.

Bus-level rules: half-duplex, so nothing is sent while a device frame is
arriving or an answer is awaited. The master acknowledges a device, and
sends a call, after `TURNAROUND_BYTES` of silence, but leaves
`COMMAND_GAP_BYTES` before any other command: devices listen for a silence
between the two before they talk, so an acknowledgement never collides with
a key press, and a key press waits for one exchange at most, not a whole
train of them. For `EVENT_HOLD` after a device's frame only acknowledgements
and calls go out: the call that frame will likely cause is on its way.
Right before each write the master looks once more for bytes that came in
while it was deciding; a device that starts a frame less than a byte time
before the master writes cannot be heard even so (its first byte is still on
the wire); that rare collision costs the device a resend.
Listeners are called on the bus thread and must not block.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Protocol

from drivers.codec import FrameError
from drivers.ff68.codec import Decoder, Frame, encode
from drivers.links.serial_link import LinkError, SerialLink

log = logging.getLogger(__name__)

TURNAROUND_BYTES = 2  # silence before an acknowledgement, in byte times
COMMAND_GAP_BYTES = 8  # silence before a new command, in byte times
EVENT_HOLD = 0.03  # seconds after a device frame when only acks and calls go out
RECEIVING_WAIT = 0.05  # longest wait for a device frame that started arriving
# The same frame from a device is echoed at most once in this long. A device
# resends only after waiting longer for the echo, so the same bytes sooner are
# an adapter that hands back what the master writes (local echo) returning
# the echo itself, before the link has learned to drop such copies
# (`drivers.links.local_echo`); echoed again, each copy would bring another.
ECHO_SPACING = 0.1
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 10.0
# A standing picture whose send went unanswered (lost on the wire, most likely),
# or a new one for a device that never answers, is sent again this soon, once;
# a device that stays silent is then left to the periodic re-sends.
RETRY_AFTER = 1.0
# Periodic re-sends, which double as probes, are most of the frames the master
# starts on a quiet bus, and each may meet a key press starting at the same
# moment: the key then waits for the device's resend, 250 ms later. On a bus
# crowded with standing pictures each is re-sent every this many seconds times
# their number, when that is longer than its own `refresh`: 96 pictures (32
# windows of a screen, a keypad and a pad) every 120 s, not 60.
REFRESH_SPACING = 1.25


def refresh_period(refresh: float, pictures: int, spacing: float = REFRESH_SPACING) -> float:
    """How often a standing picture that asks for `refresh` is re-sent on a bus
    of `pictures` standing pictures, each kept `spacing` apart on average."""
    return max(refresh, spacing * pictures)


class Priority(IntEnum):
    CALL = 1  # a call on a window screen: a citizen is looking for it
    DISPLAY = 2  # keypads, pads, the hall screen
    REFRESH = 3  # periodic re-sends of standing pictures, which double as probes


@dataclass(frozen=True)
class Command:
    """Bytes for one device. `slot` names what they set (its picture, a beep):
    a newer command for the same device and slot replaces a waiting one."""

    device: str
    slot: str
    data: bytes
    priority: Priority
    expect: bytes | None = None  # the device's answer that confirms it
    # A standing picture: re-sent this often (or less often on a crowded bus,
    # `BusMaster.refresh_spacing`) and after reconnects.
    refresh: float | None = None
    # A change to a standing picture that may wait this long (or, on a crowded
    # bus, as long as a re-send): it replaces the picture and rides with its
    # next re-send, due no later than `within` from now. Every frame the master
    # starts on a quiet bus may meet a key press starting at the same moment,
    # so changes that can wait share frames.
    within: float | None = None

    def __post_init__(self) -> None:
        if self.within is not None and self.refresh is None:
            raise ValueError(f"{self.device}/{self.slot}: only a standing picture can wait")


@dataclass
class Stats:
    frames_out: int = 0
    frames_in: int = 0
    errors: int = 0
    duplicates: int = 0
    timeouts: int = 0


class Listener(Protocol):
    """What a device hears from the bus master, on the bus thread."""

    def frame_received(self, frame: Frame) -> None: ...

    def command_done(self, command: Command, answered: bool | None) -> None:
        """`answered` is None for a command that expects no answer."""

    def link_changed(self, up: bool, reason: str | None) -> None: ...


@dataclass
class Endpoint:
    """A device on the bus as the master sees it."""

    device: str
    address: int | None  # its FF68 address, for frames it sends; None if it sends none
    listener: Listener
    gap: float = 0.0  # seconds between two frames addressed to it
    reply_timeout: float = 0.1  # after the command's last byte is on the wire
    is_event: Callable[[Frame], bool] = lambda frame: False  # frames it sends on its own
    acknowledge: Callable[[Frame], Frame] | None = None
    # The listener acknowledges the device's frames itself (`BusMaster.acknowledge`),
    # once what they say is safe: a device shows its user an acknowledged frame
    # as delivered.
    holds_acknowledgement: bool = False
    # The same frame again within this is a resend (our echo was lost), not a
    # second press: FF68 frames carry no sequence number, so a second press of
    # the same key this soon is taken as one (a debounce).
    duplicate_window: float = 0.6
    stats: Stats = field(default_factory=Stats)
    ready_at: float = 0.0
    last_event: tuple[bytes, float] | None = None
    acknowledged_frame: bytes | None = None  # the last frame its listener acknowledged
    echoed_at: float = float("-inf")  # when the master last wrote it an acknowledgement


@dataclass
class _Standing:
    command: Command
    due: float
    # Sent again soon after a send that may not have arrived (and, for a device
    # that answers, still unanswered): not again until a new picture or an answer.
    retried: bool = False


class BusMaster:
    def __init__(
        self, name: str, link: SerialLink, refresh_spacing: float = REFRESH_SPACING
    ) -> None:
        self.name = name
        self.link = link
        self.refresh_spacing = refresh_spacing
        self.stats = Stats()
        self.up: bool | None = None  # unknown until the first open
        self.reopens = 0
        self._endpoints: dict[str, Endpoint] = {}
        self._by_address: dict[int, Endpoint] = {}
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], Command] = {}
        self._standing: dict[tuple[str, str], _Standing] = {}
        self._acks: deque[tuple[Endpoint, bytes]] = deque()
        self._awaiting: tuple[Command, float] | None = None
        # Decoded as the device side does: FF68 devices echo host commands, and
        # the echo of a beep has L = 2, which PROTOCOLS.md has the host drop
        # from devices. Such frames are dropped below unless they are the answer.
        self._decoder = Decoder(from_device=False)
        self._partial_since: float | None = None
        self._wire_free_at = 0.0
        self._hold_until = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bus-{name}", daemon=True)

    # -- from any thread -----------------------------------------------------------

    def attach(self, endpoint: Endpoint) -> None:
        self._endpoints[endpoint.device] = endpoint
        if endpoint.address is not None:
            self._by_address[endpoint.address] = endpoint

    def submit(self, command: Command) -> None:
        """Queue a command. While the link is down a one-off command fails at
        once; a standing picture waits for the link to come back."""
        key = (command.device, command.slot)
        if self.up is False and command.refresh is None:
            self._endpoints[command.device].listener.command_done(command, False)
            return
        now = time.monotonic()
        with self._lock:
            if command.within is not None and key in self._standing:
                self._defer(key, command, now + self._may_wait(command))
            else:
                self._pending[key] = command
                if command.refresh is not None:
                    standing = self._standing[key] = _Standing(command, due=now)
                    standing.due += self._period(command)  # counting this picture
        self.link.wake()

    def acknowledge(self, device: str, frame: Frame) -> None:
        """Acknowledge `frame` of a device that holds its acknowledgements, and its
        resends from now on (our echo may be lost on the wire like any frame)."""
        endpoint = self._endpoints[device]
        assert endpoint.acknowledge is not None, f"{device} sends no frames to acknowledge"
        ack = encode(endpoint.acknowledge(frame))
        endpoint.acknowledged_frame = encode(frame)
        self._acks.append((endpoint, ack))
        self.link.wake()

    def _period(self, command: Command) -> float:
        """Time to the next periodic re-send of standing picture `command`."""
        return refresh_period(command.refresh or 0.0, len(self._standing), self.refresh_spacing)

    def _may_wait(self, command: Command) -> float:
        """How long a change that may wait does: its `within`, or on a crowded bus
        until its picture's next re-send would be due; 0 (at once) stays 0."""
        within = command.within or 0.0
        return refresh_period(within, len(self._standing), self.refresh_spacing) if within else 0.0

    def _defer(self, key: tuple[str, str], command: Command, by: float) -> None:
        """Make `command` the standing picture, sent with the next re-send, by `by`
        at the latest; or with a send of the picture already on its way."""
        standing = self._standing[key]
        standing.command = command
        waiting = self._pending.get(key)
        if waiting is None:
            standing.due = min(standing.due, by)
        else:  # newer bytes, at the urgency already asked for
            self._pending[key] = replace(command, priority=min(waiting.priority, command.priority))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.link.wake()
        self._thread.join()
        self.link.dispose()

    # -- the bus thread ------------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stop.is_set():
            if not self.link.is_open and not self._open():
                self._stop.wait(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_FIRST
            try:
                self._step()
            except LinkError as exc:
                self._lost(str(exc))
        self.link.close()

    def _open(self) -> bool:
        try:
            self.link.open()
        except LinkError as exc:
            self._lost(str(exc))
            return False
        if self.up is False:
            self.reopens += 1
            log.info("bus %s is back", self.name)
        self.up = True
        self._decoder.reset()
        self._partial_since = None
        now = time.monotonic()
        with self._lock:  # pictures are re-sent after every (re)connect
            for key, standing in self._standing.items():
                self._pending.setdefault(key, standing.command)
                standing.due = now + self._period(standing.command)
        for endpoint in self._endpoints.values():
            endpoint.listener.link_changed(True, None)
        return True

    def _lost(self, reason: str) -> None:
        """The link failed or cannot open: every device on it is offline until it does."""
        self.link.close()
        self._awaiting = None
        with self._lock:  # one-off commands are stale by the time the bus is back
            dropped = [c for c in self._pending.values() if c.refresh is None]
            self._pending = {k: c for k, c in self._pending.items() if c.refresh is not None}
        self._acks.clear()
        for command in dropped:
            self._endpoints[command.device].listener.command_done(command, False)
        if self.up is not False:
            self.up = False
            log.warning("bus %s is down: %s", self.name, reason)
            for endpoint in self._endpoints.values():
                endpoint.listener.link_changed(False, reason)

    def _step(self) -> None:
        now = time.monotonic()
        self._receive(self.link.read(self._wait_time(now)))
        now = time.monotonic()
        if self._awaiting is not None and now >= self._awaiting[1]:
            command = self._awaiting[0]
            self._awaiting = None
            endpoint = self._endpoints[command.device]
            endpoint.stats.timeouts += 1
            self._retry_soon(command, now)
            endpoint.listener.command_done(command, False)
        if self._can_send(now) and not self._heard_since_read():
            self._send_next(now)

    def _retry_soon(self, command: Command, now: float) -> None:
        """A send of a standing picture that may not have arrived: send it again
        soon, once."""
        if command.refresh is None:
            return
        with self._lock:
            standing = self._standing.get((command.device, command.slot))
            if standing is None or standing.retried:
                return
            standing.retried = True
            standing.due = min(standing.due, now + RETRY_AFTER)

    def _answered(self, command: Command) -> None:
        if command.refresh is not None:
            with self._lock:
                standing = self._standing.get((command.device, command.slot))
                if standing is not None:
                    standing.retried = False

    def _heard_since_read(self) -> bool:
        """Listen before talking: a device may have started a frame while this
        thread was deciding what to send (the machine is busy, the thread was
        not scheduled). Its bytes, if any are in, hold the write back; talking
        over them would garble both frames."""
        data = self.link.read_now()
        if not data:
            return False
        self._receive(data)
        return True

    def _wait_time(self, now: float) -> float:
        """How long to wait for bytes before there is something to do."""
        if self._awaiting is not None:
            return self._awaiting[1] - now
        if self._partial_since is not None:
            return self._partial_since + RECEIVING_WAIT - now
        ready = self._ready_at()
        return max(0.0, ready - now) if ready is not None else 1.0

    def _ready_at(self) -> float | None:
        """When the next frame could go, if any is waiting."""
        if self._acks:
            return self._wire_free_at + self.link.byte_seconds(TURNAROUND_BYTES)
        with self._lock:
            times = [self._earliest(command) for command in self._pending.values()]
            times += [s.due for k, s in self._standing.items() if k not in self._pending]
        return min(times) if times else None

    def _earliest(self, command: Command) -> float:
        """When `command` may go: after its device's gap and the bus gap, and
        not during an event hold unless it is a call."""
        gap = TURNAROUND_BYTES if command.priority is Priority.CALL else COMMAND_GAP_BYTES
        at = max(
            self._endpoints[command.device].ready_at,
            self._wire_free_at + self.link.byte_seconds(gap),
        )
        if command.priority is not Priority.CALL:
            at = max(at, self._hold_until)
        return at

    def _receive(self, data: bytes) -> None:
        if not data:
            return
        # the wire was busy until now: gaps count from the last byte either way
        self._wire_free_at = max(self._wire_free_at, time.monotonic())
        items = self._decoder.feed(data)
        if not self._decoder.buffered:
            self._partial_since = None
        elif self._partial_since is None:
            self._partial_since = time.monotonic()
        for item in items:
            if isinstance(item, FrameError):
                self.stats.errors += 1
                log.debug("bus %s: %s", self.name, item)
                continue
            self.stats.frames_in += 1
            self._dispatch(item)

    def _dispatch(self, frame: Frame) -> None:
        endpoint = self._by_address.get(frame.addr)
        if endpoint is None:
            self.stats.errors += 1
            return
        endpoint.stats.frames_in += 1
        wire = encode(frame)
        if self._awaiting is not None and wire == self._awaiting[0].expect:
            command, self._awaiting = self._awaiting[0], None
            self._answered(command)
            endpoint.listener.command_done(command, True)
            return
        if frame.length <= 2:
            endpoint.stats.errors += 1
            return  # too short for anything a device sends on its own
        if not endpoint.is_event(frame):
            return  # a late answer to a command already given up on
        now = time.monotonic()
        self._hold_until = now + EVENT_HOLD
        last = endpoint.last_event
        endpoint.last_event = (wire, now)
        resent = last is not None and last[0] == wire and now - last[1] < endpoint.duplicate_window
        echo = self._echo(endpoint, frame, resent, now)
        if echo is not None:
            self._acks.append((endpoint, echo))
        if resent:
            endpoint.stats.duplicates += 1  # resent because our echo was lost, or is not due
            return
        endpoint.acknowledged_frame = None  # a new press: its listener has yet to see it
        endpoint.listener.frame_received(frame)

    def _echo(self, endpoint: Endpoint, frame: Frame, resent: bool, now: float) -> bytes | None:
        """The acknowledgement of the device's `frame` due now, if any."""
        if endpoint.acknowledge is None:
            return None
        if resent and now - endpoint.echoed_at < ECHO_SPACING:
            return None  # too soon for the device: our own echo handed back
        if endpoint.holds_acknowledgement and not (
            resent and endpoint.acknowledged_frame == encode(frame)
        ):
            return None  # its listener acknowledges what it has made safe
        return encode(endpoint.acknowledge(frame))

    def _can_send(self, now: float) -> bool:
        if self._awaiting is not None:
            return False
        if self._partial_since is not None:  # a device is mid-frame: wait for the rest
            if now - self._partial_since < RECEIVING_WAIT:
                return False
            self.stats.errors += 1  # the rest never came
            self._decoder.reset()
            self._partial_since = None
        return now >= self._wire_free_at + self.link.byte_seconds(TURNAROUND_BYTES)

    def _send_next(self, now: float) -> None:
        if self._acks:
            endpoint, data = self._acks.popleft()
            endpoint.echoed_at = now
            self._write(endpoint, data, now)
            return
        command = self._next_command(now)
        if command is None:
            return
        endpoint = self._endpoints[command.device]
        self._write(endpoint, command.data, now)
        if command.expect is not None:
            self._awaiting = (command, self._wire_free_at + endpoint.reply_timeout)
        else:  # nothing will say whether it arrived
            self._retry_soon(command, now)
            endpoint.listener.command_done(command, None)

    def _next_command(self, now: float) -> Command | None:
        with self._lock:
            for key, standing in self._standing.items():
                if standing.due <= now and key not in self._pending:
                    self._pending[key] = replace(standing.command, priority=Priority.REFRESH)
                    standing.due = now + self._period(standing.command)
            ready = [
                (command.priority, key)
                for key, command in self._pending.items()
                if self._earliest(command) <= now
            ]
            if not ready:
                return None
            _, key = min(ready, key=lambda entry: entry[0])  # oldest of the most urgent
            return self._pending.pop(key)

    def _write(self, endpoint: Endpoint, data: bytes, now: float) -> None:
        self.link.write(data)
        self._wire_free_at = max(now, self._wire_free_at) + self.link.byte_seconds(len(data))
        endpoint.ready_at = self._wire_free_at + endpoint.gap
        endpoint.stats.frames_out += 1
        self.stats.frames_out += 1
