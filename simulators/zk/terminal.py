"""A simulated ZKTeco attendance terminal, without I/O (PROTOCOLS.md section 4).

It holds enrolled users, the attendance log, its own clock (an offset from
the ``clock`` it is given, moved by SET_TIME), a comm key (0: none) and the
state of the one host connection it serves: session id, whether the host
proved the comm key, whether live attendance events are on.

A link hands it the host's bytes (`receive`, which returns the answers) and
sends what `take_outgoing` returns: the live events that `punch` queued.
`watch` tells the link when there is something to send or the fault changed.
The terminal is thread-safe: the link calls it from its thread, the
simulator control (punches, faults) from another.

Behaviour worth knowing, where firmware is not documented:

* CONNECT answers ACK_OK with a new session id, or ACK_UNAUTH carrying it when
  there is a comm key; AUTH then checks the key with the ticks byte the host
  chose (`make_commkey`'s third byte). A second CONNECT on the same
  connection keeps the session id, as adrobinoga/zk-protocol observed.
* Before that, and with a session id other than the connection's, every
  command is answered ACK_UNAUTH; a command it does not know, ACK_UNKNOWN.
* ATTLOG_RRQ answers with the whole log, one DATA packet or the
  PREPARE_DATA / DATA / ACK_OK sequence (`drivers.zk.codec.data_answer`).
* Live events go out as soon as the punch is made, without waiting for the
  previous one's ACK_OK; the terminal counts acknowledgements (an ACK_OK
  with reply id 0 in the session) and shows what is unacknowledged. An
  unacknowledged event is not sent again: it is in the log.
* ENABLEDEVICE / DISABLEDEVICE are acknowledged and shown; the simulated
  keypad is not locked while disabled.

Faults: ``reboot`` forgets the connection (the link drops it without a
word) and refuses connections for ``reboot_seconds``, then the terminal is
back, without the silent fault; its log, users and clock survive. ``silent``
accepts connections and bytes and answers nothing, live events included.
``ok`` clears both. A punch is always logged; during a reboot or silence no
live event is sent for it, then or later.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from drivers.codec import FrameError
from drivers.zk.codec import (
    CMD_ACK_ERROR,
    CMD_ACK_OK,
    CMD_ACK_UNAUTH,
    CMD_ACK_UNKNOWN,
    CMD_ATTLOG_RRQ,
    CMD_AUTH,
    CMD_CONNECT,
    CMD_DISABLEDEVICE,
    CMD_ENABLEDEVICE,
    CMD_EXIT,
    CMD_FREE_DATA,
    CMD_GET_TIME,
    CMD_REG_EVENT,
    CMD_SET_TIME,
    EF_ATTLOG,
    AttendanceRecord,
    Decoder,
    LiveEvent,
    Packet,
    data_answer,
    decode_time,
    encode,
    encode_attlog,
    encode_attlog_record,
    encode_time,
    event_packet,
    make_commkey,
)

__all__ = [
    "DEFAULT_REBOOT_SECONDS",
    "FAULTS",
    "FAULT_OK",
    "FAULT_REBOOT",
    "FAULT_SILENT",
    "SimulatedTerminal",
    "User",
]

FAULT_REBOOT = "reboot"
FAULT_SILENT = "silent"
FAULT_OK = "ok"
FAULTS = (FAULT_REBOOT, FAULT_SILENT, FAULT_OK)

DEFAULT_REBOOT_SECONDS = 2.0
#: Verification type and attendance state of a punch unless told otherwise:
#: fingerprint, check in.
STATUS_FINGERPRINT = 1
PUNCH_CHECK_IN = 0
#: How many of the latest records `snapshot` shows.
SHOWN_RECORDS = 10


@dataclass(frozen=True)
class User:
    """An enrolled user: ``uid`` is the terminal's number for them (1-65535),
    ``user_id`` their badge number."""

    uid: int
    user_id: str
    name: str = ""


def _record_json(record: AttendanceRecord) -> dict[str, Any]:
    return {**asdict(record), "timestamp": record.timestamp.isoformat(sep=" ")}


class SimulatedTerminal:
    """One ZKTeco attendance terminal.

    ``clock`` gives the local wall-clock time the terminal's own clock starts
    from (naive); ``monotonic`` times reboots. ``first_session`` is the session
    id the first connection gets (later ones count up); None picks one at random.
    """

    kind: ClassVar[str] = "terminal"

    def __init__(
        self,
        id: str = "terminal",
        model: str = "zk",
        *,
        users: Iterable[User] = (),
        comm_key: int = 0,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        monotonic: Callable[[], float] = time.monotonic,
        reboot_seconds: float = DEFAULT_REBOOT_SECONDS,
        first_session: int | None = None,
    ) -> None:
        if not id:
            raise ValueError("a terminal needs an id")
        make_commkey(comm_key, 0)  # ValueError for a key out of range
        if reboot_seconds < 0:
            raise ValueError(f"reboot_seconds must be at least 0, got {reboot_seconds}")
        if first_session is not None and not 1 <= first_session <= 0xFFFF:
            raise ValueError(f"a session id is 1..65535, got {first_session}")
        self.id = id
        self.model = model
        self.comm_key = comm_key
        self.reboot_seconds = reboot_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        for user in users:
            self.add_user(user)
        self._log: list[AttendanceRecord] = []
        self._offset = dt.timedelta()
        self._next_session = first_session or random.randint(1, 0xFFFF)
        self._silent = False
        self._reboot_ends: float | None = None
        self._boot = 0
        self._watchers: list[Callable[[], None]] = []
        self._counts = dict.fromkeys(
            (
                "connections",
                "packets_in",
                "packets_out",
                "frame_errors",
                "unauthorized",
                "auth_failures",
                "unknown_commands",
                "attlog_reads",
                "punches",
                "events_sent",
                "events_acked",
                "bad_acks",
                "bytes_ignored",
                "reboots",
            ),
            0,
        )
        self._forget_connection()

    def __repr__(self) -> str:
        return f"SimulatedTerminal({self.id!r})"

    def _forget_connection(self) -> None:
        self._connected = False
        self._decoder = Decoder()
        self._session: int | None = None
        self._authenticated = False
        self._live = False
        self._enabled = True
        self._outgoing = bytearray()
        self._unacked = 0

    # --- users, clock, log ---------------------------------------------------------

    def add_user(self, user: User) -> None:
        """Enroll ``user``; ValueError if its uid or user id is taken or does not fit."""
        if user.uid == 0:
            raise ValueError("uid 0 is not a user")
        # A user who would not fit in a log record could not punch.
        encode_attlog_record(
            AttendanceRecord(user.uid, user.user_id, 0, 0, dt.datetime(2000, 1, 1))
        )
        with self._lock:
            if user.user_id in self._users or any(u.uid == user.uid for u in self._users.values()):
                raise ValueError(f"terminal {self.id!r} has user {user.user_id!r} / {user.uid}")
            self._users[user.user_id] = user

    @property
    def users(self) -> list[User]:
        with self._lock:
            return list(self._users.values())

    @property
    def log(self) -> list[AttendanceRecord]:
        """The attendance log, oldest first."""
        with self._lock:
            return list(self._log)

    def now(self) -> dt.datetime:
        """The terminal's clock, to the second."""
        with self._lock:
            return (self._clock() + self._offset).replace(microsecond=0, tzinfo=None)

    def set_time(self, when: dt.datetime) -> None:
        """Set the terminal's clock (it runs on from there)."""
        encode_time(when)  # ValueError for a year the terminal cannot hold
        with self._lock:
            self._offset = when.replace(tzinfo=None) - self._clock().replace(tzinfo=None)

    def punch(
        self,
        user_id: str,
        status: int = STATUS_FINGERPRINT,
        punch: int = PUNCH_CHECK_IN,
        when: dt.datetime | None = None,
    ) -> AttendanceRecord:
        """A user verifies at the terminal: the punch goes into the log and, if a
        host has live events on and the terminal is answering, out as an event.

        ``when`` defaults to the terminal's clock. ValueError for a user who is
        not enrolled or a field that does not fit a record.
        """
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                raise ValueError(f"terminal {self.id!r} has no user {user_id!r}")
            record = AttendanceRecord(
                user.uid, user_id, status, punch, (when or self.now()).replace(microsecond=0)
            )
            encode_attlog_record(record)
            self._log.append(record)
            self._counts["punches"] += 1
            sent = self._live and self._answering
            if sent:
                event = LiveEvent(user_id, status, punch, record.timestamp)
                self._outgoing += encode(event_packet(event))
                self._counts["events_sent"] += 1
                self._counts["packets_out"] += 1
                self._unacked += 1
        if sent:
            self._notify()
        return record

    # --- the connection ------------------------------------------------------------

    def connection_opened(self) -> None:
        """A host connected (the link serves one connection at a time)."""
        with self._lock:
            self._forget_connection()
            self._connected = True
            self._counts["connections"] += 1

    def connection_closed(self) -> None:
        """The host's connection ended."""
        with self._lock:
            self._forget_connection()

    def receive(self, data: bytes) -> bytes:
        """Bytes from the host; returns the terminal's answers (possibly none)."""
        with self._lock:
            if not self._connected:
                return b""
            if not self._answering:
                self._counts["bytes_ignored"] += len(data)
                return b""
            answers = bytearray()
            for item in self._decoder.feed(data):
                if isinstance(item, FrameError):
                    self._counts["frame_errors"] += 1
                    continue
                self._counts["packets_in"] += 1
                for packet in self._answer(item):
                    answers += encode(packet)
                    self._counts["packets_out"] += 1
            return bytes(answers)

    def take_outgoing(self) -> bytes:
        """The live events queued for the host since the last call."""
        with self._lock:
            outgoing, self._outgoing = bytes(self._outgoing), bytearray()
            return outgoing

    def _answer(self, packet: Packet) -> list[Packet]:
        command, reply = packet.command, packet.reply
        if command == CMD_CONNECT:
            if self._session is None:
                self._session = self._take_session()
            self._authenticated = self.comm_key == 0
            answer = CMD_ACK_OK if self._authenticated else CMD_ACK_UNAUTH
            return [Packet(answer, self._session, reply)]
        session = self._session or 0
        if command == CMD_AUTH:
            return [Packet(self._authenticate(packet), session, reply)]
        if command == CMD_ACK_OK:
            self._acknowledged(packet)
            return []
        if not self._authenticated or packet.session != session:
            self._counts["unauthorized"] += 1
            return [Packet(CMD_ACK_UNAUTH, session, reply)]
        if command == CMD_ATTLOG_RRQ:
            self._counts["attlog_reads"] += 1
            return data_answer(session, reply, encode_attlog(self._log))
        answer, data = self._command(packet)
        return [Packet(answer, session, reply, data)]

    def _command(self, packet: Packet) -> tuple[int, bytes]:
        """The answer (command code and data) to a command in an authenticated session."""
        command, data = packet.command, packet.data
        if command == CMD_EXIT:
            self._session, self._authenticated, self._live = None, False, False
            return CMD_ACK_OK, b""
        if command in (CMD_ENABLEDEVICE, CMD_DISABLEDEVICE):
            self._enabled = command == CMD_ENABLEDEVICE
            return CMD_ACK_OK, b""
        if command == CMD_REG_EVENT and len(data) >= 4:
            self._live = bool(int.from_bytes(data[:4], "little") & EF_ATTLOG)
            return CMD_ACK_OK, b""
        if command == CMD_GET_TIME:
            return CMD_ACK_OK, encode_time(self.now()).to_bytes(4, "little")
        if command == CMD_SET_TIME and len(data) >= 4:
            try:
                self.set_time(decode_time(int.from_bytes(data[:4], "little")))
            except ValueError:
                return CMD_ACK_ERROR, b""
            return CMD_ACK_OK, b""
        if command == CMD_FREE_DATA:
            return CMD_ACK_OK, b""
        if command in (CMD_REG_EVENT, CMD_SET_TIME):
            return CMD_ACK_ERROR, b""  # without their 4 data bytes
        self._counts["unknown_commands"] += 1
        return CMD_ACK_UNKNOWN, b""

    def _authenticate(self, packet: Packet) -> int:
        data = packet.data
        proved = (
            self._session is not None
            and len(data) == 4
            and data == make_commkey(self.comm_key, self._session, data[2])
        )
        self._authenticated = proved
        if not proved:
            self._counts["auth_failures"] += 1
        return CMD_ACK_OK if proved else CMD_ACK_UNAUTH

    def _acknowledged(self, packet: Packet) -> None:
        """An ACK_OK from the host: the acknowledgement of a live event, if it
        carries the session id and the events' reply id 0 and one is waiting."""
        if packet.session == self._session and packet.reply == 0 and self._unacked:
            self._unacked -= 1
            self._counts["events_acked"] += 1
        else:
            self._counts["bad_acks"] += 1

    def _take_session(self) -> int:
        session = self._next_session
        self._next_session = session % 0xFFFF + 1
        return session

    # --- faults --------------------------------------------------------------------

    @property
    def _answering(self) -> bool:
        return not self._silent and not self._rebooting

    @property
    def _rebooting(self) -> bool:
        return self._reboot_ends is not None and self._monotonic() < self._reboot_ends

    def reboot_seconds_left(self) -> float | None:
        """Seconds until the reboot under way ends; None when not rebooting."""
        with self._lock:
            if not self._rebooting:
                return None
            assert self._reboot_ends is not None
            return self._reboot_ends - self._monotonic()

    @property
    def accepting(self) -> bool:
        """Whether the terminal takes connections (it does unless rebooting)."""
        with self._lock:
            return not self._rebooting

    @property
    def boot(self) -> int:
        """How many times the terminal rebooted: a link drops a connection opened
        under an earlier boot."""
        with self._lock:
            return self._boot

    @property
    def faults(self) -> frozenset[str]:
        with self._lock:
            present = {FAULT_REBOOT: self._rebooting, FAULT_SILENT: self._silent}
        return frozenset(name for name, on in present.items() if on)

    def set_fault(self, kind: str) -> None:
        """Inject fault ``kind`` (one of `FAULTS`); ``ok`` clears them. ValueError
        for another kind."""
        if kind not in FAULTS:
            raise ValueError(
                f"terminal {self.id!r} does not support fault {kind!r} "
                f"(supported: {', '.join(FAULTS)})"
            )
        with self._lock:
            if kind == FAULT_REBOOT:
                self._reboot_ends = self._monotonic() + self.reboot_seconds
                self._boot += 1
                self._silent = False
                self._forget_connection()
                self._counts["reboots"] += 1
            elif kind == FAULT_SILENT:
                self._silent = True
            else:
                self._silent = False
                self._reboot_ends = None
        self._notify()

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (not under the terminal's lock) when a live event
        is queued or the faults change; links use it to wake up."""
        with self._lock:
            self._watchers.append(callback)

    def unwatch(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._watchers:
                self._watchers.remove(callback)

    def _notify(self) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher()

    # --- inspection ----------------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def describe(self) -> dict[str, Any]:
        """What `sim list` shows of the terminal."""
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "model": self.model,
                "faults": sorted(self.faults),
                "users": len(self._users),
                "records": len(self._log),
            }

    def snapshot(self) -> dict[str, Any]:
        """State, counters and the latest records, JSON-safe."""
        with self._lock:
            return {
                **self.describe(),
                "time": self.now().isoformat(sep=" "),
                "comm_key": self.comm_key != 0,
                "reboot_seconds": self.reboot_seconds,
                "reboot_seconds_left": self.reboot_seconds_left(),
                "connection": {
                    "open": self._connected,
                    "session": self._session,
                    "authenticated": self._authenticated,
                    "live_events": self._live,
                    "enabled": self._enabled,
                    "events_unacked": self._unacked,
                },
                "users_enrolled": [asdict(user) for user in self._users.values()],
                "latest_records": [_record_json(r) for r in self._log[-SHOWN_RECORDS:]],
                "counters": dict(self._counts),
            }
