"""The IMM screen simulator: text from frames, overruns, addresses and selectors, errors."""

from __future__ import annotations

import time
from collections.abc import Callable

from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.rs485 import KeypadSim, ScreenSim, SimulatedBus
from tests.simulators.rs485.conftest import Host, wait_for

MakeBus = Callable[..., SimulatedBus]
OpenHost = Callable[[SimulatedBus], Host]

# PROTOCOLS.md §2.
WINDOW_3 = bytes.fromhex("aa 03 bb 51 54 ff 01 00 99 00 63 c7 eb 41 30 30 31 ba c5 ff")


def window(addr: int, text: str) -> bytes:
    return imm.encode(imm.ScreenText(addr, imm.Selector.WINDOW, text))


def test_a_frame_sets_the_text_and_is_never_answered(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3)
    host = open_host(make_bus(screen))
    assert screen.text is None
    sent_at = host.write(WINDOW_3)
    assert wait_for(lambda: screen.text == "请A001号")
    [(at, text)] = list(screen.history)
    assert text == "请A001号" and at > sent_at
    host.listen(0.1)
    assert host.raw == b""
    snapshot = screen.snapshot()
    assert snapshot["text"] == "请A001号" and snapshot["model"] == "imm-window-screen"
    assert snapshot["history"] == [{"at": at, "text": "请A001号"}]


def test_a_frame_within_100_ms_of_the_last_is_an_overrun(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3)
    host = open_host(make_bus(screen))
    # Back to back: the second frame ends 20 byte times (about 21 ms) after the first.
    host.write(window(3, "请A001号") + window(3, "请A002号"))
    assert wait_for(lambda: screen.snapshot()["frames"]["overruns"] == 1)
    assert screen.text == "请A001号"
    [(accepted_at, _)] = list(screen.history)
    # Once the screen has had its 100 ms, the next frame is taken.
    assert wait_for(lambda: time.monotonic() > accepted_at + 0.1)
    host.write(window(3, "请A003号"))
    assert wait_for(lambda: screen.text == "请A003号")
    frames = screen.snapshot()["frames"]
    assert frames == {"frames": 3, "accepted": 2, "overruns": 1, "decode_errors": 0}


def test_frames_spaced_by_more_than_the_busy_time_are_all_taken(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3, busy_after_frame=0.02)
    host = open_host(make_bus(screen))
    # Each 20-byte frame takes about 21 ms on the wire, more than the 20 ms busy time.
    host.write(window(3, "请A001号") + window(3, "请A002号") + window(3, "请A003号"))
    assert wait_for(lambda: screen.snapshot()["frames"]["accepted"] == 3)
    assert [text for _, text in screen.history] == ["请A001号", "请A002号", "请A003号"]


def test_a_screen_takes_only_frames_for_its_address_and_selector(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    window_3 = ScreenSim("win-3", 3)
    hall = ScreenSim("hall", 3, imm.Selector.HALL)
    host = open_host(make_bus(window_3, hall))
    host.write(window(4, "请A009号"))
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.HALL, "请A001号到3号窗口")))
    assert wait_for(lambda: hall.text == "请A001号到3号窗口")
    assert window_3.text is None
    assert hall.model == "imm-hall-screen"
    assert window_3.snapshot()["frames"]["frames"] == 0


def test_decoder_errors_are_counted_but_keypad_traffic_is_not(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3)
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(screen, keypad))
    host.write(ff68.show(1, 2, 3))
    host.write(ff68.beep(1))
    broken = bytearray(WINDOW_3)
    broken[12] ^= 0x01  # a text byte: the checksum no longer matches
    host.write(bytes(broken))
    host.write(window(3, "请A002号"))
    assert wait_for(lambda: screen.text == "请A002号")
    assert keypad.beeps == 1
    assert screen.snapshot()["frames"]["decode_errors"] == 1
