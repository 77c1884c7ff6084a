"""A small ZK host for the tests: the codec over a blocking socket, as a driver would use it."""

from __future__ import annotations

import socket
from collections import deque

from drivers.codec import FrameError
from drivers.zk.codec import (
    CMD_ACK_UNAUTH,
    CMD_ATTLOG_RRQ,
    CMD_CONNECT,
    CMD_FREE_DATA,
    CMD_REG_EVENT,
    AttendanceRecord,
    DataReader,
    Decoder,
    LiveEvent,
    Packet,
    auth_packet,
    encode,
    event_ack,
    parse_attlog,
    parse_live_event,
)

TIMEOUT = 2.0


class Host:
    """One connection to a terminal. Live events that arrive are parsed into
    `events` and, with ``ack_events``, acknowledged at once."""

    def __init__(self, port: int, timeout: float = TIMEOUT, ack_events: bool = True) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.ack_events = ack_events
        self.decoder = Decoder()
        self.session = 0
        self.reply = 0
        self.events: list[LiveEvent | FrameError] = []
        self.errors: list[FrameError] = []
        self._answers: deque[Packet] = deque()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, packet: Packet) -> None:
        self.sock.sendall(encode(packet))

    def next_reply(self) -> int:
        reply, self.reply = self.reply, self.reply + 1
        return reply

    def receive(self) -> Packet:
        """The next packet that is not a live event; TimeoutError if none comes,
        ConnectionError if the terminal closed the connection."""
        while not self._answers:
            self._pump()
        return self._answers.popleft()

    def _pump(self) -> None:
        """Read what the socket has: live events into `events`, the rest kept for `receive`."""
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the terminal closed the connection")
        for item in self.decoder.feed(data):
            if isinstance(item, FrameError):
                self.errors.append(item)
            elif item.command == CMD_REG_EVENT:
                self.events.append(parse_live_event(item.data))
                if self.ack_events:
                    self.send(event_ack(item, self.session))
            else:
                self._answers.append(item)

    def ask(self, packet: Packet) -> Packet:
        """Send ``packet`` and return the answer carrying its reply id."""
        self.send(packet)
        while True:
            answer = self.receive()
            if answer.reply == packet.reply:
                return answer

    def command(self, command: int, data: bytes = b"") -> Packet:
        return self.ask(Packet(command, self.session, self.next_reply(), data))

    def connect(self, key: int | None = None) -> Packet:
        """CONNECT, then AUTH with ``key`` if the terminal asks for it; the last answer."""
        answer = self.command(CMD_CONNECT)
        self.session = answer.session
        if answer.command == CMD_ACK_UNAUTH and key is not None:
            answer = self.ask(auth_packet(key, self.session, self.next_reply()))
        return answer

    def wait_events(self, count: int) -> list[LiveEvent | FrameError]:
        """Read until ``count`` live events have come (TimeoutError if they do not)."""
        while len(self.events) < count:
            self._pump()
        return self.events[:count]

    def read_log(self) -> list[AttendanceRecord | FrameError]:
        """The whole attendance log (ATTLOG_RRQ, then FREE_DATA)."""
        request = Packet(CMD_ATTLOG_RRQ, self.session, self.next_reply())
        reader = DataReader(request.reply)
        self.send(request)
        while True:
            result = reader.feed(self.receive())
            if result is not None:
                break
        self.command(CMD_FREE_DATA)
        if isinstance(result, FrameError):
            return [result]
        return parse_attlog(result)
