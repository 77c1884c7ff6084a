"""The terminal on TCP, driven by a small host built on the codec and a socket."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from drivers.zk.codec import (
    CMD_ACK_OK,
    CMD_ACK_UNAUTH,
    CMD_EXIT,
    CMD_GET_TIME,
    AttendanceRecord,
    LiveEvent,
    Packet,
    parse_time,
    reg_event_packet,
    set_time_packet,
)
from simulators.zk import SimulatedTerminal, TerminalLink, User
from tests.simulators.zk.host import Host

USERS = [User(1, "1001", "张伟"), User(2, "1002", "王芳")]
KEY = 123456
#: How long a host waits for something that must not come.
QUIET = 0.3


def wait_for(condition: Callable[[], object], timeout: float = 3.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return bool(condition())


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=QUIET).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def started() -> Iterator[Callable[[SimulatedTerminal], TerminalLink]]:
    """Start a terminal's link; it is stopped after the test."""
    links: list[TerminalLink] = []

    def start(terminal: SimulatedTerminal) -> TerminalLink:
        link = TerminalLink(terminal)
        link.start()
        links.append(link)
        return link

    yield start
    for link in links:
        link.stop()


@pytest.fixture
def hosts() -> Iterator[Callable[..., Host]]:
    """Connect hosts; they are closed after the test."""
    opened: list[Host] = []

    def connect(port: int, **options: object) -> Host:
        host = Host(port, **options)  # type: ignore[arg-type]
        opened.append(host)
        return host

    yield connect
    for host in opened:
        host.close()


@pytest.fixture
def terminal() -> SimulatedTerminal:
    return SimulatedTerminal("gate-1", users=USERS)


@pytest.fixture
def link(
    terminal: SimulatedTerminal, started: Callable[[SimulatedTerminal], TerminalLink]
) -> TerminalLink:
    return started(terminal)


def test_it_listens_on_a_free_loopback_port(link: TerminalLink) -> None:
    assert link.port > 0
    assert link.url == link.where == f"tcp://127.0.0.1:{link.port}"
    assert link.describe()["where"] == link.url


def test_connect_without_a_comm_key(link: TerminalLink, hosts: Callable[..., Host]) -> None:
    host = hosts(link.port)
    answer = host.connect()
    assert answer.command == CMD_ACK_OK and answer.reply == 0 and answer.session != 0
    assert host.command(CMD_EXIT).command == CMD_ACK_OK


def test_connect_with_a_comm_key(
    started: Callable[[SimulatedTerminal], TerminalLink], hosts: Callable[..., Host]
) -> None:
    link = started(SimulatedTerminal("gate-2", users=USERS, comm_key=KEY))
    for key in (None, KEY + 1):  # no key given, the wrong key
        with Host(link.port) as refused_host:
            assert refused_host.connect(key).command == CMD_ACK_UNAUTH
    host = hosts(link.port)
    assert host.connect(KEY) == Packet(CMD_ACK_OK, host.session, 1)
    assert parse_time(host.command(CMD_GET_TIME)) == link.terminal.now()


def test_live_events_arrive_and_are_acknowledged(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    host = hosts(link.port)
    host.connect()
    assert host.ask(reg_event_packet(host.session, host.next_reply())).command == CMD_ACK_OK
    made = [terminal.punch("1001"), terminal.punch("1002", punch=1), terminal.punch("1001")]
    events = host.wait_events(3)
    assert events == [LiveEvent(r.user_id, r.status, r.punch, r.timestamp) for r in made]
    assert wait_for(lambda: terminal.counters["events_acked"] == 3)
    assert terminal.snapshot()["connection"]["events_unacked"] == 0


def test_events_a_host_does_not_acknowledge_show_as_unacknowledged(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    host = hosts(link.port, ack_events=False)
    host.connect()
    host.ask(reg_event_packet(host.session, host.next_reply()))
    terminal.punch("1001")
    host.wait_events(1)
    time.sleep(QUIET)
    assert terminal.snapshot()["connection"]["events_unacked"] == 1
    assert terminal.counters["events_acked"] == 0


def test_the_log_pull_returns_every_punch(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    start = dt.datetime(2026, 11, 25, 8, 0)
    made = [
        terminal.punch(USERS[i % 2].user_id, punch=i % 2, when=start + dt.timedelta(minutes=i))
        for i in range(100)  # 4004 bytes: PREPARE_DATA and four DATA packets
    ]
    host = hosts(link.port)
    host.connect()
    assert host.read_log() == made
    assert host.errors == []


def test_time_set_and_get(link: TerminalLink, hosts: Callable[..., Host]) -> None:
    host = hosts(link.port)
    host.connect()
    target = dt.datetime(2026, 12, 31, 23, 59, 58)
    assert host.ask(set_time_packet(host.session, host.next_reply(), target)).command == CMD_ACK_OK
    now = parse_time(host.command(CMD_GET_TIME))
    assert isinstance(now, dt.datetime)
    assert target <= now <= target + dt.timedelta(seconds=2)


def test_a_reboot_drops_the_connection_silently_and_punches_during_it_are_only_logged(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    host = hosts(link.port, timeout=QUIET)
    host.connect()
    host.ask(reg_event_packet(host.session, host.next_reply()))
    before = terminal.punch("1001")
    host.wait_events(1)

    started = time.monotonic()
    terminal.set_fault("reboot")
    during = terminal.punch("1002")
    # Not a word: no event, no answer, no FIN, no RST; the host only times out.
    host.send(Packet(CMD_GET_TIME, host.session, host.next_reply()))
    with pytest.raises(TimeoutError):
        host.receive()
    assert len(host.events) == 1
    assert refused(link.port)
    assert terminal.snapshot()["faults"] == ["reboot"]

    # Back after reboot_seconds (default 2) on the same port; the connection it
    # forgot, with the host's bytes waiting on it, is reset.
    assert wait_for(lambda: not refused(link.port), timeout=4)
    assert time.monotonic() - started >= terminal.reboot_seconds - 0.1
    with pytest.raises(ConnectionResetError):
        host.receive()

    again = hosts(link.port)
    again.connect()
    assert again.read_log() == [before, during]
    assert host.events == [LiveEvent("1001", before.status, before.punch, before.timestamp)]
    assert terminal.counters["events_sent"] == 1
    assert wait_for(lambda: link.counters["connections_reset"] == 1)


def test_a_host_that_only_listens_for_events_notices_nothing_of_a_reboot(
    started: Callable[[SimulatedTerminal], TerminalLink], hosts: Callable[..., Host]
) -> None:
    terminal = SimulatedTerminal("gate-3", users=USERS, reboot_seconds=0.2)
    link = started(terminal)
    host = hosts(link.port, timeout=QUIET)
    host.connect()
    host.ask(reg_event_packet(host.session, host.next_reply()))
    terminal.set_fault("reboot")
    assert wait_for(lambda: terminal.accepting)
    terminal.punch("1001")  # after the reboot: the terminal has no host for it
    with pytest.raises(TimeoutError):  # no event, no end of file, no reset
        host.wait_events(1)
    assert terminal.counters["events_sent"] == 0 and len(terminal.log) == 1


def test_a_silent_terminal_accepts_and_answers_nothing(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    terminal.set_fault("silent")
    host = hosts(link.port, timeout=QUIET)
    with pytest.raises(TimeoutError):
        host.connect()
    terminal.set_fault("ok")
    host.reply = 0
    assert host.connect().command == CMD_ACK_OK


def test_one_host_at_a_time_the_next_waits_in_the_backlog(
    link: TerminalLink, hosts: Callable[..., Host]
) -> None:
    first = hosts(link.port)
    first.connect()
    second = hosts(link.port, timeout=QUIET)
    with pytest.raises(TimeoutError):
        second.connect()
    first.close()
    second.sock.settimeout(2.0)
    answer = second.receive()  # the CONNECT it sent is answered once it is served
    assert answer.command == CMD_ACK_OK and answer.session != first.session


def test_the_snapshot_tells_where_and_what(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    host = hosts(link.port)
    host.connect()
    terminal.punch("1001", when=dt.datetime(2026, 11, 25, 9))
    snapshot = json.loads(json.dumps(link.snapshot()))
    assert snapshot["where"] == link.url and snapshot["link"] == "tcp"
    assert snapshot["connection"]["open"] is True
    assert snapshot["latest_records"][0]["user_id"] == "1001"
    assert snapshot["link_counters"]["connections"] == 1


def test_stop_closes_the_port_and_is_safe_to_repeat(link: TerminalLink) -> None:
    link.stop()
    assert refused(link.port)
    link.stop()


def test_a_link_starts_once(link: TerminalLink) -> None:
    with pytest.raises(RuntimeError):
        link.start()


def test_records_in_the_log_keep_their_uid(
    link: TerminalLink, terminal: SimulatedTerminal, hosts: Callable[..., Host]
) -> None:
    terminal.punch("1002", status=15, punch=5, when=dt.datetime(2026, 11, 25, 12, 30))
    host = hosts(link.port)
    host.connect()
    assert host.read_log() == [
        AttendanceRecord(2, "1002", 15, 5, dt.datetime(2026, 11, 25, 12, 30))
    ]
