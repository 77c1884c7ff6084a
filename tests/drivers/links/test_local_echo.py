"""An adapter's copies of what the host writes, told from what devices send,
on the test's clock (sans-I/O)."""

from __future__ import annotations

from drivers.ff68 import codec as ff68
from drivers.links.local_echo import ECHO_WAIT, MISSES_TO_FORGET, LocalEcho

BYTE = 10 / 9600  # seconds per byte at 9600 baud, 8N1
SHOW = ff68.encode(ff68.show(1, 3, 7))  # a keypad echoes it as its answer
KEY = ff68.encode(ff68.key_press(2, ff68.KEY_CALL))  # the host echoes it to the keypad
FRAME = len(SHOW) * BYTE


def learned() -> LocalEcho:
    echo = LocalEcho(BYTE, "bus-1")
    echo.wrote(KEY, started=0.0, now=0.0)
    assert echo.received(KEY, now=len(KEY) * BYTE) == b""
    assert echo.on
    return echo


def test_a_copy_back_sooner_than_a_device_could_send_it_is_learned_and_dropped() -> None:
    echo = learned()
    echo.wrote(SHOW, started=1.0, now=1.0)
    # the copy in two reads, then the keypad's answer
    assert echo.received(SHOW[:4], now=1.0 + FRAME) == b""
    assert echo.received(SHOW[4:] + SHOW, now=1.0 + FRAME + BYTE) == SHOW


def test_a_device_answering_with_the_same_bytes_on_time_is_not_a_copy() -> None:
    echo = LocalEcho(BYTE, "bus-1")
    echo.wrote(SHOW, started=0.0, now=0.0)
    assert echo.received(SHOW, now=2 * FRAME) == SHOW
    assert not echo.on


def test_a_writer_held_up_after_its_write_does_not_make_an_answer_look_fast() -> None:
    echo = LocalEcho(BYTE, "bus-1")
    echo.wrote(SHOW, started=0.0, now=0.05)  # held up for 50 ms after the write
    assert echo.received(SHOW, now=0.0501) == SHOW
    assert not echo.on


def test_device_bytes_pass_when_a_copy_is_lost() -> None:
    echo = learned()
    echo.wrote(SHOW, started=1.0, now=1.0)
    assert echo.received(KEY, now=1.0 + FRAME) == KEY
    echo.wrote(SHOW, started=2.0, now=2.0)
    assert echo.received(SHOW, now=2.0 + FRAME + ECHO_WAIT + 0.01) == SHOW  # too late for a copy


def test_an_adapter_whose_copies_stop_coming_is_taken_not_to_echo() -> None:
    echo = learned()
    for turn in range(MISSES_TO_FORGET):
        at = 1.0 + turn
        echo.wrote(SHOW, started=at, now=at)
        assert echo.on
        assert echo.received(KEY, now=at + 2 * FRAME) == KEY  # no copy, a key press
    assert not echo.on
    echo.wrote(SHOW, started=9.0, now=9.0)
    assert echo.received(SHOW, now=9.0 + 2 * FRAME) == SHOW  # the keypad's answer again


def test_a_new_port_is_learned_again() -> None:
    echo = learned()
    echo.wrote(SHOW, started=1.0, now=1.0)
    echo.reset()  # maybe another adapter: what it hands back is not dropped unlearned
    assert not echo.on
    assert echo.received(SHOW, now=1.0 + FRAME) == SHOW
