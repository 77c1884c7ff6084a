"""The serial link against a real pseudo-terminal and a real TCP socket."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.ff68 import codec as ff68
from drivers.links.serial_link import LinkError, SerialLink, low_latency_mode


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A pty pair: the master fd (the far end) and the slave's path (the port)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    yield master, path
    with contextlib.suppress(OSError):
        os.close(master)


@pytest.fixture
def link(pty: tuple[int, str]) -> Iterator[SerialLink]:
    serial_link = SerialLink(pty[1], 9600)
    serial_link.open()
    yield serial_link
    serial_link.dispose()


def test_bytes_travel_both_ways(pty: tuple[int, str], link: SerialLink) -> None:
    master, _ = pty
    os.write(master, b"\xff\x68\x02")
    assert link.read(1.0) == b"\xff\x68\x02"
    link.write(b"\xaa\x03")
    assert os.read(master, 10) == b"\xaa\x03"


def test_a_pty_has_no_low_latency_mode_and_works_without_it(
    pty: tuple[int, str], link: SerialLink
) -> None:
    assert link.low_latency is False
    master, _ = pty
    os.write(master, b"\xff")
    assert link.read(1.0) == b"\xff"


class AdapterPort:
    """What pyserial's posix port does with ASYNC_LOW_LATENCY on a USB adapter
    whose driver has the setting (an FTDI chip); no such adapter is here."""

    def __init__(self) -> None:
        self.low_latency: bool | None = None

    def set_low_latency_mode(self, on: bool) -> None:
        self.low_latency = on


def test_low_latency_mode_is_asked_for_where_the_driver_has_it() -> None:
    port = AdapterPort()
    assert low_latency_mode(port) is True
    assert port.low_latency is True
    assert low_latency_mode(object()) is False  # socket:// and other handlers


def test_a_read_that_times_out_is_empty_not_an_error(link: SerialLink) -> None:
    began = time.monotonic()
    assert link.read(0.05) == b""
    assert time.monotonic() - began >= 0.045


def test_wake_ends_a_waiting_read(link: SerialLink) -> None:
    threading.Timer(0.05, link.wake).start()
    began = time.monotonic()
    assert link.read(5.0) == b""
    assert time.monotonic() - began < 4


def test_a_vanished_port_is_a_link_error(pty: tuple[int, str], link: SerialLink) -> None:
    master, path = pty
    os.close(master)  # as when the USB adapter is pulled out
    with pytest.raises(LinkError, match=path):
        link.read(1.0)
    with pytest.raises(LinkError):
        link.write(b"\x00")


def test_a_missing_port_names_the_url(tmp_path: Path) -> None:
    link = SerialLink(str(tmp_path / "ttyUSB9"), 9600)
    with pytest.raises(LinkError, match="ttyUSB9"):
        link.open()
    link.dispose()


def test_the_port_is_opened_exclusively(pty: tuple[int, str], link: SerialLink) -> None:
    other = SerialLink(pty[1], 9600)
    with pytest.raises(LinkError, match="exclusively"):
        other.open()
    other.dispose()


def test_wire_time_follows_the_baud_rate() -> None:
    link = SerialLink("loop://", 9600)
    assert link.byte_seconds(96) == pytest.approx(0.1)
    link.dispose()


def test_a_socket_link_reads_writes_and_sees_the_far_end_close() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    link = SerialLink(f"socket://127.0.0.1:{port}", 9600)
    link.open()
    far, _ = server.accept()
    try:
        far.sendall(b"\x16")
        assert link.read(1.0) == b"\x16"
        link.write(b"\xff")
        assert far.recv(1) == b"\xff"
        assert link.read(0.02) == b""
        far.close()
        with pytest.raises(LinkError, match="disconnected"):
            link.read(1.0)
    finally:
        link.dispose()
        server.close()


KEY_FRAME = ff68.encode(ff68.key_press(1, ff68.KEY_CALL))  # the host echoes a key press
SHOW_FRAME = ff68.encode(ff68.show(1, 3, 7))  # which a keypad echoes as its answer


def far_end_reads(master: int, count: int) -> bytes:
    got = b""
    while len(got) < count:
        got += os.read(master, count - len(got))
    return got


def test_an_adapter_that_echoes_is_learned_from_its_first_copy_and_its_copies_dropped(
    pty: tuple[int, str], link: SerialLink
) -> None:
    master, _ = pty
    link.write(KEY_FRAME)
    os.write(master, far_end_reads(master, len(KEY_FRAME)))  # the adapter's copy, at once
    assert link.read(0.1) == b""
    assert link.local_echo is True

    link.write(SHOW_FRAME)  # the copy and then the keypad's answer, in one piece
    os.write(master, far_end_reads(master, len(SHOW_FRAME)) + SHOW_FRAME)
    assert link.read(1.0) == SHOW_FRAME

    link.write(KEY_FRAME)  # a copy that never came: a device's different frame passes
    far_end_reads(master, len(KEY_FRAME))
    os.write(master, SHOW_FRAME)
    assert link.read(1.0) == SHOW_FRAME

    link.close()
    link.open()  # maybe another adapter: learned again
    assert link.local_echo is False


def test_a_device_answering_with_the_same_bytes_is_not_taken_for_an_echo(
    pty: tuple[int, str], link: SerialLink
) -> None:
    master, _ = pty
    link.write(SHOW_FRAME)
    far_end_reads(master, len(SHOW_FRAME))
    # a device waits for the host's frame to end, then sends as many bytes
    time.sleep(link.byte_seconds(2 * len(SHOW_FRAME)))
    os.write(master, SHOW_FRAME)
    assert link.read(1.0) == SHOW_FRAME
    assert link.local_echo is False


def test_an_answer_read_late_because_the_writer_was_held_up_is_no_echo(
    pty: tuple[int, str], link: SerialLink
) -> None:
    """The thread is held up right after its write (a busy machine) while a
    device answers on time: the answer is read at once after, and must not look
    like a copy that came back too fast for a device."""
    master, _ = pty
    port = link._port
    assert port is not None
    flush = port.flush

    def flush_then_held_up() -> None:
        flush()
        far_end_reads(master, len(SHOW_FRAME))
        time.sleep(link.byte_seconds(2 * len(SHOW_FRAME)))
        os.write(master, SHOW_FRAME)  # the keypad's answer, on time
        time.sleep(0.05)

    port.flush = flush_then_held_up  # type: ignore[method-assign]
    link.write(SHOW_FRAME)
    assert link.read(1.0) == SHOW_FRAME
    assert link.local_echo is False
