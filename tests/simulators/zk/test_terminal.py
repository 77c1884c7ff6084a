"""The terminal model without I/O: bytes in, bytes out, as a link drives it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from drivers.codec import FrameError
from drivers.zk.codec import (
    CMD_ACK_ERROR,
    CMD_ACK_OK,
    CMD_ACK_UNAUTH,
    CMD_ACK_UNKNOWN,
    CMD_ATTLOG_RRQ,
    CMD_CONNECT,
    CMD_DATA,
    CMD_DISABLEDEVICE,
    CMD_EXIT,
    CMD_GET_TIME,
    CMD_PREPARE_DATA,
    CMD_REG_EVENT,
    CMD_SET_TIME,
    EF_ATTLOG,
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
    parse_time,
    reg_event_packet,
    set_time_packet,
)
from simulators.zk import FAULTS, SimulatedTerminal, User
from tests.simulators.zk.conftest import Monotonic, WallClock

CONNECT = bytes.fromhex("50 50 82 7d 08 00 00 00 e8 03 17 fc 00 00 00 00")
ACK_OK = bytes.fromhex("50 50 82 7d 08 00 00 00 d0 07 ff fc 2f fb 00 00")
USERS = [User(1, "1001", "张伟"), User(2, "1002", "王芳"), User(3, "1003", "李娜")]
KEY = 123456


class Wire:
    """The host end of a connection to a terminal, without a socket."""

    def __init__(self, terminal: SimulatedTerminal) -> None:
        self.terminal = terminal
        self.decoder = Decoder()
        self.session = 0
        self.reply = 0
        terminal.connection_opened()

    def send(self, packet: Packet) -> list[Packet]:
        """Send ``packet``; the terminal's answers."""
        return self._decode(self.terminal.receive(encode(packet)))

    def command(self, command: int, data: bytes = b"") -> list[Packet]:
        packet = Packet(command, self.session, self.reply, data)
        self.reply += 1
        return self.send(packet)

    def connect(self) -> Packet:
        [answer] = self.command(CMD_CONNECT)
        self.session = answer.session
        return answer

    def outgoing(self) -> list[Packet]:
        return self._decode(self.terminal.take_outgoing())

    def _decode(self, data: bytes) -> list[Packet]:
        items = self.decoder.feed(data)
        assert all(isinstance(item, Packet) for item in items), items
        return items  # type: ignore[return-value]


def terminal(wall: WallClock, monotonic: Monotonic, **options: object) -> SimulatedTerminal:
    settings: dict[str, object] = {"first_session": 0xFB2F, **options}
    return SimulatedTerminal(
        "gate-1",
        users=USERS,
        clock=wall,
        monotonic=monotonic,
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture
def term(wall: WallClock, monotonic: Monotonic) -> SimulatedTerminal:
    return terminal(wall, monotonic)


@pytest.fixture
def wire(term: SimulatedTerminal) -> Wire:
    wire = Wire(term)
    wire.connect()
    return wire


# --- connecting ---------------------------------------------------------------------


def test_the_golden_connect_is_answered_with_the_golden_ack(term: SimulatedTerminal) -> None:
    term.connection_opened()
    assert term.receive(CONNECT) == ACK_OK
    assert term.snapshot()["connection"]["session"] == 0xFB2F


def test_each_connection_gets_the_next_session_id_a_second_connect_keeps_it(
    term: SimulatedTerminal,
) -> None:
    first = Wire(term)
    assert first.connect() == Packet(CMD_ACK_OK, 0xFB2F, 0)
    assert first.connect() == Packet(CMD_ACK_OK, 0xFB2F, 1)
    term.connection_closed()
    assert Wire(term).connect().session == 0xFB30


def test_a_comm_key_asks_for_auth_and_the_right_key_with_any_ticks_opens(
    wall: WallClock, monotonic: Monotonic
) -> None:
    term = terminal(wall, monotonic, comm_key=KEY)
    wire = Wire(term)
    assert wire.connect() == Packet(CMD_ACK_UNAUTH, 0xFB2F, 0)
    assert wire.command(CMD_GET_TIME) == [Packet(CMD_ACK_UNAUTH, 0xFB2F, 1)]
    for ticks in (50, 0, 255):
        assert wire.send(auth_packet(KEY, wire.session, 2, ticks)) == [
            Packet(CMD_ACK_OK, 0xFB2F, 2)
        ]
    [answer] = wire.command(CMD_GET_TIME)
    assert parse_time(answer) == wall.now


@pytest.mark.parametrize("key", [KEY + 1, 0])
def test_a_wrong_key_is_refused_and_so_is_everything_after_it(
    wall: WallClock, monotonic: Monotonic, key: int
) -> None:
    term = terminal(wall, monotonic, comm_key=KEY)
    wire = Wire(term)
    wire.connect()
    assert wire.send(auth_packet(key, wire.session, 1)) == [Packet(CMD_ACK_UNAUTH, 0xFB2F, 1)]
    assert wire.command(CMD_ATTLOG_RRQ)[0].command == CMD_ACK_UNAUTH
    assert term.counters["auth_failures"] == 1


def test_a_key_for_another_session_is_refused(wall: WallClock, monotonic: Monotonic) -> None:
    term = terminal(wall, monotonic, comm_key=KEY)
    wire = Wire(term)
    wire.connect()
    [answer] = wire.send(auth_packet(KEY, 0xFB2F + 0x100, 1))
    assert answer.command == CMD_ACK_UNAUTH
    # The scrambled key drops the low byte of key + session: for a neighbouring
    # session id (no carry) it is the same four bytes, which no terminal can tell apart.
    assert auth_packet(KEY, 0xFB2F + 1, 2).data == auth_packet(KEY, 0xFB2F, 2).data


def test_commands_before_connect_or_in_another_session_are_unauthorized(
    term: SimulatedTerminal,
) -> None:
    wire = Wire(term)
    assert wire.command(CMD_GET_TIME) == [Packet(CMD_ACK_UNAUTH, 0, 0)]
    wire.connect()
    assert wire.send(Packet(CMD_GET_TIME, 0x1234, 5)) == [Packet(CMD_ACK_UNAUTH, 0xFB2F, 5)]
    assert term.counters["unauthorized"] == 2


def test_exit_ends_the_session(wire: Wire) -> None:
    assert wire.command(CMD_EXIT) == [Packet(CMD_ACK_OK, 0xFB2F, 1)]
    assert wire.command(CMD_GET_TIME)[0].command == CMD_ACK_UNAUTH


def test_unknown_commands_and_commands_without_their_data(wire: Wire) -> None:
    assert wire.command(1100)[0].command == CMD_ACK_UNKNOWN  # GET_VERSION
    assert wire.command(CMD_SET_TIME, b"\x01")[0].command == CMD_ACK_ERROR
    assert wire.command(CMD_REG_EVENT)[0].command == CMD_ACK_ERROR
    assert wire.command(CMD_DISABLEDEVICE)[0].command == CMD_ACK_OK
    assert wire.terminal.snapshot()["connection"]["enabled"] is False


def test_garbage_from_the_host_is_counted_and_not_answered(wire: Wire) -> None:
    bad = bytearray(encode(Packet(CMD_GET_TIME, wire.session, 1)))
    bad[10] ^= 1
    assert wire.terminal.receive(bytes(bad)) == b""
    assert wire.terminal.counters["frame_errors"] == 1


# --- time ---------------------------------------------------------------------------


def test_get_time_reads_the_terminal_clock_and_set_time_moves_it(
    wire: Wire, wall: WallClock
) -> None:
    [answer] = wire.command(CMD_GET_TIME)
    assert parse_time(answer) == dt.datetime(2026, 11, 25, 9, 0, 0)
    target = dt.datetime(2027, 2, 28, 23, 59, 50)
    assert wire.send(set_time_packet(wire.session, 9, target)) == [Packet(CMD_ACK_OK, 0xFB2F, 9)]
    wall.advance(15)  # the terminal's clock runs on from where it was set
    [answer] = wire.command(CMD_GET_TIME)
    assert parse_time(answer) == dt.datetime(2027, 3, 1, 0, 0, 5)


def test_set_time_with_a_value_that_is_not_a_date_is_an_error(wire: Wire) -> None:
    day = 86400
    [answer] = wire.command(CMD_SET_TIME, ((31 + 29) * day).to_bytes(4, "little"))
    assert answer.command == CMD_ACK_ERROR
    [answer] = wire.command(CMD_GET_TIME)
    assert parse_time(answer) == dt.datetime(2026, 11, 25, 9)


def test_punches_are_stamped_with_the_terminal_clock(
    term: SimulatedTerminal, wall: WallClock
) -> None:
    term.set_time(dt.datetime(2026, 1, 1, 8, 0))
    wall.advance(90.5)
    record = term.punch("1002", status=15, punch=1)
    assert record == AttendanceRecord(2, "1002", 15, 1, dt.datetime(2026, 1, 1, 8, 1, 30))


# --- the attendance log -------------------------------------------------------------------


def pull_log(wire: Wire) -> list[AttendanceRecord | FrameError]:
    answers = wire.command(CMD_ATTLOG_RRQ)
    reader = DataReader(wire.reply - 1)
    results = [reader.feed(packet) for packet in answers]
    data = results[-1]
    assert isinstance(data, bytes), results
    return parse_attlog(data)


def test_a_small_log_comes_in_one_data_packet(wire: Wire, wall: WallClock) -> None:
    term = wire.terminal
    made = [term.punch("1001"), term.punch("1002", punch=1), term.punch("1001", punch=1)]
    answers = wire.command(CMD_ATTLOG_RRQ)
    assert [packet.command for packet in answers] == [CMD_DATA]
    assert parse_attlog(answers[0].data) == made
    assert term.counters["attlog_reads"] == 1


def test_a_large_log_comes_prepared_in_chunks_and_complete(wire: Wire, wall: WallClock) -> None:
    term = wire.terminal
    made = []
    for index in range(60):
        wall.advance(61)
        made.append(term.punch(USERS[index % 3].user_id, punch=index % 2))
    answers = wire.command(CMD_ATTLOG_RRQ)
    assert answers[0].command == CMD_PREPARE_DATA and len(answers) > 3
    assert pull_log(wire) == made == term.log


def test_an_empty_log(wire: Wire) -> None:
    assert pull_log(wire) == []


def test_only_enrolled_users_can_punch(term: SimulatedTerminal) -> None:
    with pytest.raises(ValueError, match="no user '4242'"):
        term.punch("4242")
    with pytest.raises(ValueError):
        term.punch("1001", status=256)
    assert term.log == []


def test_users_are_unique(term: SimulatedTerminal) -> None:
    with pytest.raises(ValueError):
        term.add_user(User(1, "9999"))
    with pytest.raises(ValueError):
        term.add_user(User(9, "1001"))
    with pytest.raises(ValueError):
        term.add_user(User(0, "9999"))
    term.add_user(User(9, "9999", "刘洋"))
    assert term.punch("9999").uid == 9


# --- live events -------------------------------------------------------------------------


def test_live_events_need_reg_event(wire: Wire) -> None:
    wire.terminal.punch("1001")
    assert wire.outgoing() == []
    assert wire.send(reg_event_packet(wire.session, 1)) == [Packet(CMD_ACK_OK, 0xFB2F, 1)]
    record = wire.terminal.punch("1003", status=15, punch=1)
    [event] = wire.outgoing()
    assert (event.command, event.session, event.reply) == (CMD_REG_EVENT, EF_ATTLOG, 0)
    assert parse_live_event(event.data) == LiveEvent("1003", 15, 1, record.timestamp)
    assert wire.terminal.log[-1] == record


def test_events_are_counted_as_acknowledged_when_the_host_acks_them(wire: Wire) -> None:
    term = wire.terminal
    wire.send(reg_event_packet(wire.session, 1))
    for user in USERS:
        term.punch(user.user_id)
    events = wire.outgoing()
    assert len(events) == 3
    assert term.snapshot()["connection"]["events_unacked"] == 3
    for event in events[:2]:
        assert wire.send(event_ack(event, wire.session)) == []  # an ack is not answered
    assert term.counters["events_sent"] == 3 and term.counters["events_acked"] == 2
    assert term.snapshot()["connection"]["events_unacked"] == 1


def test_acks_in_another_session_or_with_nothing_to_ack_are_bad(wire: Wire) -> None:
    term = wire.terminal
    wire.send(reg_event_packet(wire.session, 1))
    term.punch("1001")
    [event] = wire.outgoing()
    wire.send(event_ack(event, wire.session + 1))
    wire.send(event_ack(event, wire.session))
    wire.send(event_ack(event, wire.session))
    assert term.counters["events_acked"] == 1 and term.counters["bad_acks"] == 2


def test_reg_event_0_turns_live_events_off(wire: Wire) -> None:
    wire.send(reg_event_packet(wire.session, 1))
    wire.send(reg_event_packet(wire.session, 2, flags=0))
    wire.terminal.punch("1001")
    assert wire.outgoing() == []


def test_a_closed_connection_takes_its_live_events_with_it(wire: Wire) -> None:
    term = wire.terminal
    wire.send(reg_event_packet(wire.session, 1))
    term.punch("1001")
    term.connection_closed()
    assert term.take_outgoing() == b""
    term.punch("1002")
    assert term.take_outgoing() == b""
    assert len(term.log) == 2


def test_watchers_hear_of_queued_events_and_fault_changes(wire: Wire) -> None:
    heard: list[str] = []
    wire.terminal.watch(lambda: heard.append("woken"))
    wire.terminal.punch("1001")  # no live events: nothing to send
    wire.send(reg_event_packet(wire.session, 1))
    wire.terminal.punch("1001")
    wire.terminal.set_fault("silent")
    assert heard == ["woken", "woken"]


# --- faults --------------------------------------------------------------------------------


def test_reboot_forgets_the_connection_and_keeps_log_users_and_clock(
    wire: Wire, monotonic: Monotonic, wall: WallClock
) -> None:
    term = wire.terminal
    wire.send(reg_event_packet(wire.session, 1))
    wire.send(set_time_packet(wire.session, 2, dt.datetime(2026, 12, 1, 8)))
    term.punch("1001")
    term.set_fault("reboot")
    assert term.faults == {"reboot"} and not term.accepting and term.boot == 1
    assert term.take_outgoing() == b""  # the event not yet sent is lost with the connection
    assert term.receive(encode(Packet(CMD_GET_TIME, wire.session, 3))) == b""
    during = term.punch("1002")
    assert term.take_outgoing() == b""
    monotonic.now += 1.5
    assert term.reboot_seconds_left() == pytest.approx(0.5)
    monotonic.now += 0.5
    assert term.accepting and term.faults == frozenset() and term.reboot_seconds_left() is None
    after = Wire(term)
    assert after.connect().session == 0xFB30
    assert [record.user_id for record in pull_log(after)] == ["1001", "1002"]
    assert term.log[-1] == during and during.timestamp == dt.datetime(2026, 12, 1, 8)
    assert term.users == USERS
    assert term.counters["reboots"] == 1


def test_reboot_seconds_is_configurable(wall: WallClock, monotonic: Monotonic) -> None:
    term = terminal(wall, monotonic, reboot_seconds=30)
    term.set_fault("reboot")
    monotonic.now += 29
    assert not term.accepting
    monotonic.now += 1
    assert term.accepting


def test_ok_ends_a_reboot_at_once(term: SimulatedTerminal) -> None:
    term.set_fault("reboot")
    term.set_fault("ok")
    assert term.accepting and term.faults == frozenset()


def test_a_silent_terminal_answers_nothing_but_logs_punches(wire: Wire) -> None:
    term = wire.terminal
    wire.send(reg_event_packet(wire.session, 1))
    term.set_fault("silent")
    assert wire.command(CMD_GET_TIME) == []
    term.punch("1001")
    assert term.take_outgoing() == b""
    assert term.counters["bytes_ignored"] == 16
    term.set_fault("ok")
    [answer] = wire.command(CMD_GET_TIME)
    assert answer.command == CMD_ACK_OK  # the session survived the silence
    term.punch("1002")
    assert [parse_live_event(event.data).user_id for event in wire.outgoing()] == ["1002"]  # type: ignore[union-attr]
    assert [record.user_id for record in term.log] == ["1001", "1002"]


def test_a_reboot_cures_silence(term: SimulatedTerminal, monotonic: Monotonic) -> None:
    term.set_fault("silent")
    term.set_fault("reboot")
    monotonic.now += 2
    assert term.faults == frozenset()


def test_an_unknown_fault_is_refused(term: SimulatedTerminal) -> None:
    with pytest.raises(ValueError, match="reboot, silent, ok"):
        term.set_fault("unplug")
    assert FAULTS == ("reboot", "silent", "ok")


# --- inspection --------------------------------------------------------------------------------


def test_the_snapshot_is_json_and_shows_what_matters(wire: Wire) -> None:
    term = wire.terminal
    wire.send(reg_event_packet(wire.session, 1))
    term.punch("1001")
    snapshot = json.loads(json.dumps(term.snapshot(), ensure_ascii=False))
    assert snapshot["id"] == "gate-1" and snapshot["kind"] == "terminal"
    assert snapshot["records"] == 1 and snapshot["users"] == 3
    assert snapshot["latest_records"] == [
        {"uid": 1, "user_id": "1001", "status": 1, "punch": 0, "timestamp": "2026-11-25 09:00:00"}
    ]
    assert snapshot["connection"] == {
        "open": True,
        "session": 0xFB2F,
        "authenticated": True,
        "live_events": True,
        "enabled": True,
        "events_unacked": 1,
    }
    assert snapshot["users_enrolled"][0] == {"uid": 1, "user_id": "1001", "name": "张伟"}
    assert snapshot["time"] == "2026-11-25 09:00:00" and snapshot["comm_key"] is False


@pytest.mark.parametrize(
    "options",
    [{"comm_key": -1}, {"reboot_seconds": -1}, {"first_session": 0}, {"first_session": 0x10000}],
)
def test_impossible_settings_are_refused(
    wall: WallClock, monotonic: Monotonic, options: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        terminal(wall, monotonic, **options)
