"""Sans-I/O codec for ZKTeco attendance terminals on TCP port 4370 (PROTOCOLS.md §4).

Packet on TCP: ``50 50 82 7d | length (4, LE) | command | checksum | session | reply | data``
where length counts the 8-byte header (four little-endian 16-bit words) and
the data. The same codec serves the host (a driver) and the simulated terminal.

Checksum: the 16-bit little-endian words of the header (checksum field 0)
and the data (an odd last byte counts as a word of its own value) are added
with end-around carry, i.e. modulo 65535 with 0 only for an all-zero sum,
and the checksum is that sum's ones' complement (``0xffff - sum``). This is
ZKTeco's C routine. pyzk's Python port gets the complement one too low
(``~sum + 65535``) and makes up for it by summing the reply id *before*
incrementing it; the two slips cancel, so both golden vectors come out of
either reading.

Conversation (each host command carries a reply id, starting at 0 after
CONNECT and counting up; the terminal's answers echo it):

* ``CONNECT`` → ``ACK_OK`` carrying the new session id in its header, or
  ``ACK_UNAUTH`` (also carrying the session id) when the terminal has a comm
  key; then ``AUTH`` with `make_commkey` data → ``ACK_OK`` or ``ACK_UNAUTH``.
  Every later packet carries that session id. ``EXIT`` ends the session.
* ``REG_EVENT`` with flags ``EF_ATTLOG`` (4 bytes LE) → ``ACK_OK``; from then
  on each punch arrives as a ``REG_EVENT`` packet whose *session* field holds
  the event code (1 = attendance) and whose reply id is 0, with a `LiveEvent`
  as data. The host answers every one with ``ACK_OK``, its own session id and
  the event's reply id (`event_ack`): adrobinoga/zk-protocol documents this,
  and pyzk's ``live_capture`` does the same (reply id 0, always).
* ``GET_TIME`` → ``ACK_OK`` with the terminal's time (4 bytes, `encode_time`);
  ``SET_TIME`` with such a value → ``ACK_OK``.
* ``ATTLOG_RRQ`` → the whole attendance log as a data set (`encode_attlog`):
  when it fits in `DATA_CHUNK` bytes, one ``DATA`` packet carrying it;
  otherwise ``PREPARE_DATA`` (size, 4 bytes LE, and 4 zero bytes), ``DATA``
  packets of at most `DATA_CHUNK` bytes, and ``ACK_OK``, all carrying the
  request's reply id (`data_answer`; the host collects with `DataReader`).
  The host then sends ``FREE_DATA`` → ``ACK_OK``. (The buffered read, 1503
  and 1504, that pyzk uses is not implemented.)

Records (`AttendanceRecord`, 40 bytes, the layout pyzk reads when records
are 40 bytes and adrobinoga/zk-protocol's "data-record" section shows):
``uid (2, LE) | user id (24, NUL-padded) | status (1) | time (4, LE) |
punch (1) | reserved (8)``. The log data set is ``size (4, LE) | records``.

Live attendance event (`LiveEvent`), 32 bytes as pyzk's ``live_capture``
reads them and adrobinoga/zk-protocol's "realtime" section shows:
``user id (24, NUL-padded) | status (1) | punch (1) | YY MM DD hh mm ss``
(year 2000 + YY). Other firmware sends 10, 12 or 14 bytes (a 2- or 4-byte
numeric user id) or 36, 37 or 52+ bytes (24-byte user id, extra bytes at the
end); `parse_live_event` reads those as pyzk does.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from drivers.codec import FrameError, StreamDecoder

__all__ = [
    "CMD_ACK_DATA",
    "CMD_ACK_ERROR",
    "CMD_ACK_OK",
    "CMD_ACK_UNAUTH",
    "CMD_ACK_UNKNOWN",
    "CMD_ATTLOG_RRQ",
    "CMD_AUTH",
    "CMD_CONNECT",
    "CMD_DATA",
    "CMD_DISABLEDEVICE",
    "CMD_ENABLEDEVICE",
    "CMD_EXIT",
    "CMD_FREE_DATA",
    "CMD_GET_TIME",
    "CMD_PREPARE_DATA",
    "CMD_REG_EVENT",
    "CMD_SET_TIME",
    "DATA_CHUNK",
    "EF_ATTLOG",
    "MAX_LENGTH",
    "RECORD_SIZE",
    "START",
    "AttendanceRecord",
    "DataReader",
    "Decoder",
    "LiveEvent",
    "Packet",
    "auth_packet",
    "checksum",
    "data_answer",
    "decode_time",
    "encode",
    "encode_attlog",
    "encode_attlog_record",
    "encode_live_event",
    "encode_time",
    "event_ack",
    "event_packet",
    "make_commkey",
    "parse_attlog",
    "parse_live_event",
    "parse_time",
    "reg_event_packet",
    "set_time_packet",
]

START = b"\x50\x50\x82\x7d"
#: Bytes before the header on TCP: START and the 4-byte length.
PREFIX_SIZE = 8
HEADER_SIZE = 8
#: Largest length (header + data) the decoder accepts: 64 KiB holds pyzk's
#: largest TCP chunk (0xffc0 data bytes) with its header. A length above it
#: is noise, and waiting for that many bytes would stall the stream.
MAX_LENGTH = 0x10000
#: Largest data set sent in one DATA packet, and the size of each DATA packet
#: of a larger one (the simulator's choice; a host accepts any size).
DATA_CHUNK = 1024

CMD_ATTLOG_RRQ = 13
CMD_GET_TIME = 201
CMD_SET_TIME = 202
CMD_REG_EVENT = 500
CMD_CONNECT = 1000
CMD_EXIT = 1001
CMD_ENABLEDEVICE = 1002
CMD_DISABLEDEVICE = 1003
CMD_AUTH = 1102
CMD_PREPARE_DATA = 1500
CMD_DATA = 1501
CMD_FREE_DATA = 1502
CMD_ACK_OK = 2000
CMD_ACK_ERROR = 2001
CMD_ACK_DATA = 2002
CMD_ACK_UNAUTH = 2005
CMD_ACK_UNKNOWN = 0xFFFF

COMMAND_NAMES = {
    CMD_ATTLOG_RRQ: "ATTLOG_RRQ",
    CMD_GET_TIME: "GET_TIME",
    CMD_SET_TIME: "SET_TIME",
    CMD_REG_EVENT: "REG_EVENT",
    CMD_CONNECT: "CONNECT",
    CMD_EXIT: "EXIT",
    CMD_ENABLEDEVICE: "ENABLEDEVICE",
    CMD_DISABLEDEVICE: "DISABLEDEVICE",
    CMD_AUTH: "AUTH",
    CMD_PREPARE_DATA: "PREPARE_DATA",
    CMD_DATA: "DATA",
    CMD_FREE_DATA: "FREE_DATA",
    CMD_ACK_OK: "ACK_OK",
    CMD_ACK_ERROR: "ACK_ERROR",
    CMD_ACK_DATA: "ACK_DATA",
    CMD_ACK_UNAUTH: "ACK_UNAUTH",
    CMD_ACK_UNKNOWN: "ACK_UNKNOWN",
}

#: REG_EVENT flag and event code of an attendance punch.
EF_ATTLOG = 1

RECORD_SIZE = 40
USER_ID_SIZE = 24
LIVE_EVENT_SIZE = 32
#: Reserved tail of a 40-byte record, as a captured ZKTeco F19 fills it.
RECORD_TAIL = bytes.fromhex("00 00 00 00 ff 00 00 00")

_HEADER = struct.Struct("<4H")
_U32 = struct.Struct("<I")
_RECORD = struct.Struct("<H24sBIB8s")

_DAY = 86400
_FIRST_YEAR, _LAST_YEAR = 2000, 2099


def command_name(command: int) -> str:
    return COMMAND_NAMES.get(command, str(command))


def checksum(command: int, session: int, reply: int, data: bytes) -> int:
    """The checksum field of a packet with these fields (see the module docstring)."""
    even = len(data) - len(data) % 2
    total = command + session + reply + sum(struct.unpack_from(f"<{even // 2}H", data))
    if even < len(data):
        total += data[-1]
    folded = (total - 1) % 0xFFFF + 1 if total else 0
    return 0xFFFF - folded


@dataclass(frozen=True)
class Packet:
    """One ZK packet: header fields and data, without the TCP prefix or checksum."""

    command: int
    session: int = 0
    reply: int = 0
    data: bytes = b""

    @property
    def checksum(self) -> int:
        return checksum(self.command, self.session, self.reply, self.data)

    @property
    def name(self) -> str:
        return command_name(self.command)


def encode(packet: Packet) -> bytes:
    """The TCP wire bytes of ``packet``.

    ValueError for a header field outside 0..65535 or more data than a
    packet may carry (`MAX_LENGTH` - 8 bytes).
    """
    for field in ("command", "session", "reply"):
        value = getattr(packet, field)
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"ZK {field} {value} is outside 0..65535")
    data = bytes(packet.data)
    if HEADER_SIZE + len(data) > MAX_LENGTH:
        raise ValueError(f"ZK packet data of {len(data)} bytes is over {MAX_LENGTH - 8}")
    header = _HEADER.pack(packet.command, packet.checksum, packet.session, packet.reply)
    return START + _U32.pack(HEADER_SIZE + len(data)) + header + data


class Decoder(StreamDecoder[Packet]):
    """Turns a TCP byte stream into `Packet`s and `FrameError`s, for either side.

    * Bytes before a ``50 50 82 7d`` start are garbage, reported as one
      ``FrameError("garbage", ...)`` per run per `feed` call.
    * A length below 8 (no room for the header) or above `MAX_LENGTH` is
      reported as soon as the 8-byte prefix is in, with those 8 bytes: waiting
      for a length that is noise would hold back the packets behind it.
    * A packet whose checksum does not match is reported with all its bytes.
    * After an error, decoding resumes at the byte after the bad packet's
      first byte, so a real packet starting inside it is still found; bytes
      an error already carried are not reported again as garbage.

    `feed` never raises; between calls it keeps only an incomplete packet or
    a trailing part of a start sequence.
    """

    start = START

    def _frame_at(self, start: int) -> tuple[Packet | FrameError, int] | None:
        """Decode the packet whose start sequence is at ``start``: the item and
        how many bytes it spans, or None if more bytes are needed to decide."""
        buffer = self._buffer
        if len(buffer) - start < PREFIX_SIZE:
            return None
        (length,) = _U32.unpack_from(buffer, start + 4)
        if not HEADER_SIZE <= length <= MAX_LENGTH:
            reason = f"length {length} outside {HEADER_SIZE}..{MAX_LENGTH}"
            return FrameError(reason, bytes(buffer[start : start + PREFIX_SIZE])), PREFIX_SIZE
        size = PREFIX_SIZE + length
        if len(buffer) - start < size:
            return None
        command, sent, session, reply = _HEADER.unpack_from(buffer, start + PREFIX_SIZE)
        packet = Packet(command, session, reply, bytes(buffer[start + 16 : start + size]))
        if sent != packet.checksum:
            reason = f"checksum {sent:04x}, should be {packet.checksum:04x}"
            return FrameError(reason, bytes(buffer[start : start + size])), size
        return packet, size


# --- time ----------------------------------------------------------------------------


def encode_time(when: dt.datetime) -> int:
    """A time as terminals count it: 31-day months, 12-month years from 2000.

    The tzinfo, if any, is ignored: terminals keep local wall-clock time.
    ValueError for a year outside 2000-2099, which the value cannot hold.
    """
    if not _FIRST_YEAR <= when.year <= _LAST_YEAR:
        raise ValueError(f"a ZK time holds years {_FIRST_YEAR}-{_LAST_YEAR}, not {when.year}")
    days = (when.year % 100) * 372 + (when.month - 1) * 31 + when.day - 1
    return days * _DAY + when.hour * 3600 + when.minute * 60 + when.second


def decode_time(value: int) -> dt.datetime:
    """The naive datetime `encode_time` turned into ``value``.

    ValueError for a value that is not a date (31 February, a year past 2099).
    """
    if value < 0:
        raise ValueError(f"a ZK time is not negative, got {value}")
    days, seconds = divmod(value, _DAY)
    years, day_of_year = divmod(days, 372)
    month, day = divmod(day_of_year, 31)
    if years > _LAST_YEAR - _FIRST_YEAR:
        raise ValueError(f"ZK time {value} is past {_LAST_YEAR}")
    hour, rest = divmod(seconds, 3600)
    return dt.datetime(_FIRST_YEAR + years, month + 1, day + 1, hour, *divmod(rest, 60))


# --- records and live events -----------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRecord:
    """One punch in a terminal's attendance log.

    ``uid`` is the terminal's internal user number, ``user_id`` the user's
    badge number (a string), ``status`` the verification type (pyzk's name;
    1 = fingerprint, 15 = face, ...), ``punch`` the attendance state (0 check
    in, 1 check out, ...), ``timestamp`` the terminal's local time.
    """

    uid: int
    user_id: str
    status: int
    punch: int
    timestamp: dt.datetime


@dataclass(frozen=True)
class LiveEvent:
    """A punch as a live attendance event: the log record without its ``uid``."""

    user_id: str
    status: int
    punch: int
    timestamp: dt.datetime


def _user_id_bytes(user_id: str) -> bytes:
    raw = user_id.encode()
    if not raw or len(raw) > USER_ID_SIZE or b"\0" in raw:
        raise ValueError(f"a ZK user id is 1-{USER_ID_SIZE} bytes without NUL, got {user_id!r}")
    return raw.ljust(USER_ID_SIZE, b"\0")


def _user_id_text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def _byte(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"ZK {name} {value} is outside 0..255")
    return value


def encode_attlog_record(record: AttendanceRecord) -> bytes:
    """The 40 bytes of ``record``; ValueError for a field that does not fit."""
    if not 0 <= record.uid <= 0xFFFF:
        raise ValueError(f"ZK uid {record.uid} is outside 0..65535")
    return _RECORD.pack(
        record.uid,
        _user_id_bytes(record.user_id),
        _byte("status", record.status),
        encode_time(record.timestamp),
        _byte("punch", record.punch),
        RECORD_TAIL,
    )


def encode_attlog(records: list[AttendanceRecord]) -> bytes:
    """The attendance log data set: its size, then every record."""
    body = b"".join(encode_attlog_record(record) for record in records)
    return _U32.pack(len(body)) + body


def parse_attlog(data: bytes) -> list[AttendanceRecord | FrameError]:
    """The records of an attendance log data set, in order.

    A record whose time is not a date becomes a FrameError in its place; a
    size field that disagrees with the bytes present, or a partial record at
    the end, adds a FrameError after the records that could be read.
    """
    if len(data) < 4:
        return [FrameError("attendance log without its size field", bytes(data))]
    (size,) = _U32.unpack_from(data)
    body = data[4 : 4 + size]
    items: list[AttendanceRecord | FrameError] = []
    whole = len(body) - len(body) % RECORD_SIZE
    for at in range(0, whole, RECORD_SIZE):
        uid, user_id, status, when, punch, _ = _RECORD.unpack_from(body, at)
        try:
            timestamp = decode_time(when)
        except ValueError as error:
            items.append(FrameError(f"record {at // RECORD_SIZE}: {error}", body[at : at + 40]))
            continue
        items.append(AttendanceRecord(uid, _user_id_text(user_id), status, punch, timestamp))
    if len(body) < size:
        items.append(FrameError(f"log declares {size} bytes, has {len(body)}", bytes(data)))
    elif whole < len(body):
        items.append(FrameError(f"{len(body) - whole} bytes after the last record", body[whole:]))
    if len(data) > 4 + size:
        items.append(FrameError("bytes after the log", bytes(data[4 + size :])))
    return items


def _time_bytes(when: dt.datetime) -> bytes:
    if not _FIRST_YEAR <= when.year <= _LAST_YEAR:
        raise ValueError(f"a live event holds years {_FIRST_YEAR}-{_LAST_YEAR}, not {when.year}")
    return bytes((when.year - 2000, when.month, when.day, when.hour, when.minute, when.second))


def encode_live_event(event: LiveEvent) -> bytes:
    """The 32 data bytes of a live attendance event."""
    head = _user_id_bytes(event.user_id)
    marks = bytes((_byte("status", event.status), _byte("punch", event.punch)))
    return head + marks + _time_bytes(event.timestamp)


def parse_live_event(data: bytes) -> LiveEvent | FrameError:
    """The data of a live attendance event (any length pyzk reads) as a `LiveEvent`."""
    size = len(data)
    if size in (10, 14):
        user_id, at = str(int.from_bytes(data[:2], "little")), 2
    elif size == 12:
        user_id, at = str(int.from_bytes(data[:4], "little")), 4
    elif size in (32, 36, 37) or size >= 52:
        user_id, at = _user_id_text(data[:USER_ID_SIZE]), USER_ID_SIZE
    else:
        return FrameError(f"live event of {size} bytes", bytes(data))
    status, punch, year, month, day, hour, minute, second = data[at : at + 8]
    try:
        timestamp = dt.datetime(2000 + year, month, day, hour, minute, second)
    except ValueError as error:
        return FrameError(f"live event time: {error}", bytes(data))
    return LiveEvent(user_id, status, punch, timestamp)


# --- the comm key ----------------------------------------------------------------------


def make_commkey(key: int, session: int, ticks: int = 50) -> bytes:
    """The 4 AUTH data bytes proving the comm key ``key`` for ``session``.

    As ZKTeco's ``MakeKey`` (pyzk's ``make_commkey``): the key's 32 bits in
    reverse order plus the session id, as little-endian bytes XOR ``ZKSO``,
    the two 16-bit halves swapped, then each byte XOR the low byte of
    ``ticks`` except the third, which is that byte itself: the terminal
    reads it there to undo the scrambling.
    """
    if not 0 <= key <= 0xFFFFFFFF:
        raise ValueError(f"a comm key is 0..4294967295, got {key}")
    if not 0 <= session <= 0xFFFF:
        raise ValueError(f"a session id is 0..65535, got {session}")
    reversed_key = int(f"{key:032b}"[::-1], 2)
    mixed = ((reversed_key + session) & 0xFFFFFFFF).to_bytes(4, "little")
    b0, b1, b2, b3 = (byte ^ mask for byte, mask in zip(mixed, b"ZKSO", strict=True))
    tick = ticks & 0xFF
    swapped = (b2, b3, b0, b1)
    return bytes((swapped[0] ^ tick, swapped[1] ^ tick, tick, swapped[3] ^ tick))


# --- host side --------------------------------------------------------------------------


def auth_packet(key: int, session: int, reply: int, ticks: int = 50) -> Packet:
    """AUTH for a terminal that answered CONNECT with ACK_UNAUTH."""
    return Packet(CMD_AUTH, session, reply, make_commkey(key, session, ticks))


def reg_event_packet(session: int, reply: int, flags: int = EF_ATTLOG) -> Packet:
    """Register for live events (``flags`` 0 turns them off)."""
    return Packet(CMD_REG_EVENT, session, reply, _U32.pack(flags))


def set_time_packet(session: int, reply: int, when: dt.datetime) -> Packet:
    return Packet(CMD_SET_TIME, session, reply, _U32.pack(encode_time(when)))


def parse_time(packet: Packet) -> dt.datetime | FrameError:
    """The time in the terminal's answer to GET_TIME."""
    if packet.command != CMD_ACK_OK or len(packet.data) < 4:
        return FrameError(f"not a time: {packet.name} with {len(packet.data)} bytes", b"")
    try:
        return decode_time(_U32.unpack_from(packet.data)[0])
    except ValueError as error:
        return FrameError(f"terminal time: {error}", packet.data[:4])


def event_ack(event: Packet, session: int) -> Packet:
    """The host's acknowledgement of a live event packet."""
    return Packet(CMD_ACK_OK, session, event.reply)


class DataReader:
    """Collects the terminal's answer to a data request (ATTLOG_RRQ) with reply id ``reply``.

    `feed` every decoded packet; it returns None until the data set is
    complete, then its bytes, or a FrameError if the terminal refused or sent
    a data set that does not add up. Live events and packets for other reply
    ids are not part of the answer and are passed over (None).
    """

    def __init__(self, reply: int) -> None:
        self.reply = reply
        self._expected: int | None = None
        self._data = bytearray()

    def feed(self, packet: Packet) -> bytes | FrameError | None:
        if packet.reply != self.reply or packet.command == CMD_REG_EVENT:
            return None
        if self._expected is None:
            if packet.command == CMD_DATA:
                return packet.data
            if packet.command == CMD_PREPARE_DATA and len(packet.data) >= 4:
                (self._expected,) = _U32.unpack_from(packet.data)
                return None
            return FrameError(f"the terminal answered {packet.name}", packet.data)
        if packet.command == CMD_DATA:
            self._data += packet.data
            if len(self._data) <= self._expected:
                return None
            return FrameError(f"data set over its {self._expected} bytes", bytes(self._data))
        if packet.command == CMD_ACK_OK and len(self._data) == self._expected:
            return bytes(self._data)
        reason = f"{packet.name} after {len(self._data)} of {self._expected} bytes"
        return FrameError(reason, bytes(self._data))


# --- terminal side -----------------------------------------------------------------------


def event_packet(event: LiveEvent) -> Packet:
    """A live attendance event as the terminal sends it."""
    return Packet(CMD_REG_EVENT, EF_ATTLOG, 0, encode_live_event(event))


def data_answer(session: int, reply: int, data: bytes) -> list[Packet]:
    """The terminal's packets answering a data request with ``data``."""
    if len(data) <= DATA_CHUNK:
        return [Packet(CMD_DATA, session, reply, data)]
    chunks = [
        Packet(CMD_DATA, session, reply, data[at : at + DATA_CHUNK])
        for at in range(0, len(data), DATA_CHUNK)
    ]
    prepare = Packet(CMD_PREPARE_DATA, session, reply, _U32.pack(len(data)) + bytes(4))
    return [prepare, *chunks, Packet(CMD_ACK_OK, session, reply)]
