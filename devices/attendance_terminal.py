"""A ZKTeco attendance terminal on TCP: one thread keeps a session, takes the
live punches (each acknowledged) and, after every (re)connect, reads the
terminal's attendance log so punches made while the link was down are not
lost; the hall stores each punch once, so the log's repeats are harmless.

A terminal that reboots says nothing: its events just stop. So a session
with no packet for `silence_seconds` asks the terminal's time; no answer
within the deadline is a dead session, and the thread reconnects with
backoff. The terminal's clock is set from the gateway's on every connect
and daily at `time_sync`.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from devices.attendance_config import TerminalConfig
from devices.bus_device import DeviceContext
from devices.events import DeviceEvent, TerminalPunches
from devices.health import DeviceCounters, DeviceHealth, DeviceState, HealthTracker
from drivers.codec import FrameError
from drivers.zk import codec as zk

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 3.0
CONNECT_TIMEOUT = 3.0
REOPEN_FIRST, REOPEN_MAX = 1.0, 30.0


class SessionLost(Exception):
    """The terminal closed the session, refused it, or stopped answering."""


class ZkSession:
    """One TCP session with a terminal, blocking with deadlines, on one thread.
    Live events arriving between answers go to `on_event` (after their ack)."""

    def __init__(self, host: str, port: int, on_event: Callable[[zk.LiveEvent], None]) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise SessionLost(f"cannot connect to {host}:{port}: {exc}") from exc
        self.on_event = on_event
        self.decoder = zk.Decoder()
        self.session = 0
        self._reply = 0
        self._answers: deque[zk.Packet] = deque()
        self.last_packet = time.monotonic()
        self.errors = 0

    def close(self) -> None:
        self.sock.close()

    def next_reply(self) -> int:
        self._reply = (self._reply + 1) & 0xFFFF
        return self._reply

    def connect(self, comm_key: int) -> None:
        answer = self.command(zk.CMD_CONNECT)
        self.session = answer.session
        if answer.command == zk.CMD_ACK_UNAUTH:
            answer = self.ask(zk.auth_packet(comm_key, self.session, self.next_reply()))
        if answer.command != zk.CMD_ACK_OK:
            raise SessionLost(f"the terminal refused the session ({answer.name}): check comm_key")

    def command(self, command: int, data: bytes = b"") -> zk.Packet:
        return self.ask(zk.Packet(command, self.session, self.next_reply(), data))

    def ask(self, packet: zk.Packet) -> zk.Packet:
        self.send(packet)
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            while self._answers:
                answer = self._answers.popleft()
                if answer.reply == packet.reply:
                    return answer
            self.pump(deadline - time.monotonic())

    def read_log(self) -> list[zk.AttendanceRecord]:
        request = zk.Packet(zk.CMD_ATTLOG_RRQ, self.session, self.next_reply())
        reader = zk.DataReader(request.reply)
        self.send(request)
        deadline = time.monotonic() + REPLY_TIMEOUT
        result: bytes | FrameError | None = None
        while result is None:
            while self._answers and result is None:
                result = reader.feed(self._answers.popleft())
            if result is None:
                self.pump(deadline - time.monotonic())
        self.command(zk.CMD_FREE_DATA)
        if isinstance(result, FrameError):
            raise SessionLost(f"the attendance log did not come whole: {result}")
        records = zk.parse_attlog(result)
        self.errors += sum(isinstance(r, FrameError) for r in records)
        return [r for r in records if isinstance(r, zk.AttendanceRecord)]

    def send(self, packet: zk.Packet) -> None:
        """A reset connection (a terminal back from a reboot) is a lost session."""
        try:
            self.sock.sendall(zk.encode(packet))
        except OSError as exc:
            raise SessionLost(str(exc)) from exc

    def pump(self, timeout: float) -> bool:
        """Read what arrives within `timeout`; False if nothing did."""
        if timeout <= 0:
            raise SessionLost("the terminal did not answer in time")
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except OSError as exc:
            raise SessionLost(str(exc)) from exc
        if not data:
            raise SessionLost("the terminal closed the connection")
        self.last_packet = time.monotonic()
        for item in self.decoder.feed(data):
            if isinstance(item, FrameError):
                self.errors += 1
            elif item.command == zk.CMD_REG_EVENT:
                self.send(zk.event_ack(item, self.session))
                event = zk.parse_live_event(item.data)
                if isinstance(event, FrameError):
                    self.errors += 1
                else:
                    self.on_event(event)
            else:
                self._answers.append(item)
        return True


class AttendanceTerminal:
    kind = "attendance-terminal"

    def __init__(self, config: TerminalConfig, context: DeviceContext, url: str | None) -> None:
        """`url` (tcp://host:port) replaces the configured address, for a simulator."""
        self.config = config
        self.context = context
        if url is not None:
            host, _, port = url.removeprefix("tcp://").rpartition(":")
            self.address = (host, int(port))
        else:
            self.address = (config.tcp.host, config.tcp.port)
        where = f"tcp {self.address[0]}:{self.address[1]}"
        self.tracker = HealthTracker(config.id, self.kind, config.model, where, context.clock)
        self.counters = DeviceCounters()
        self.received = {"live": 0, "from_log": 0}
        self._synced_on: dt.date | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"zk-{config.id}", daemon=True)

    @property
    def id(self) -> str:
        return self.config.id

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def health(self) -> DeviceHealth:
        health = self.tracker.health
        health.counters = self.counters
        synced = self._synced_on.isoformat() if self._synced_on else None
        health.details = {**self.received, "clock_synced_on": synced}
        return health

    # -- the terminal's thread -----------------------------------------------------

    def _run(self) -> None:
        backoff = REOPEN_FIRST
        while not self._stop.is_set():
            try:
                self._session()
            except SessionLost as exc:
                self._report(DeviceState.OFFLINE, str(exc))
                self._stop.wait(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, REOPEN_MAX)
                continue
            backoff = REOPEN_FIRST

    def _session(self) -> None:
        session = ZkSession(*self.address, self._live)
        try:
            session.connect(self.config.comm_key)
            self.counters.reconnects += 1
            self._sync_clock(session, force=True)
            records = session.read_log()  # what happened while we were away
            self.received["from_log"] += len(records)
            self._emit(records, live=False)
            session.ask(zk.reg_event_packet(session.session, session.next_reply()))
            self._report(DeviceState.ONLINE, None)
            while not self._stop.is_set():
                quiet = not session.pump(1.0)
                if quiet and time.monotonic() - session.last_packet > self.config.silence_seconds:
                    session.command(zk.CMD_GET_TIME)  # alive? SessionLost if not
                self._sync_clock(session, force=False)
                self.counters.errors = session.errors
                self.context.loop.call_soon_threadsafe(self.tracker.seen)
        finally:
            session.close()

    def _sync_clock(self, session: ZkSession, force: bool) -> None:
        now = self.context.clock()
        today = now.date()
        due = now.time() >= self.config.time_sync and self._synced_on != today
        if force or due:
            local = now.replace(tzinfo=None)
            session.ask(zk.set_time_packet(session.session, session.next_reply(), local))
            self._synced_on = today

    def _live(self, event: zk.LiveEvent) -> None:
        self.received["live"] += 1
        self.counters.frames_in += 1
        record = zk.AttendanceRecord(0, event.user_id, event.status, event.punch, event.timestamp)
        self._emit([record], live=True)

    def _emit(self, records: list[zk.AttendanceRecord], live: bool) -> None:
        if not records:
            return
        punches = tuple((r.user_id, r.timestamp) for r in records)
        event: DeviceEvent = TerminalPunches(self.id, punches, live)
        self.context.loop.call_soon_threadsafe(self.context.emit, event)

    def _report(self, state: DeviceState, reason: str | None) -> None:
        self.context.loop.call_soon_threadsafe(self.tracker.set, state, reason)
