"""Device faults: silent, garble, split, and ok to clear them."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.rs485 import KeypadSim, PadSim, ScreenSim, SimulatedBus
from simulators.rs485.port import SPLIT_PAUSE
from tests.simulators.rs485.conftest import BYTE_TIME, Host, wait_for

MakeBus = Callable[..., SimulatedBus]
OpenHost = Callable[[SimulatedBus], Host]

KEYPAD_1_CALL = bytes.fromhex("ff 68 03 03 68 01 01 0c 0e 16")
PAD_5_KEY_1 = bytes.fromhex("ff 68 03 03 68 05 11 01 17 16")


def press(device: KeypadSim | PadSim) -> bool:
    return device.press("call") if isinstance(device, KeypadSim) else device.rate(2)


def key_frame(device: KeypadSim | PadSim) -> bytes:
    return KEYPAD_1_CALL if isinstance(device, KeypadSim) else PAD_5_KEY_1


def command(device: KeypadSim | PadSim) -> ff68.Frame:
    return ff68.show(1, 4, 5) if isinstance(device, KeypadSim) else ff68.show_stars(5, 3)


@pytest.fixture(params=["keypad", "pad"])
def device(request: pytest.FixtureRequest) -> KeypadSim | PadSim:
    """A keypad or a pad that gives a press up after two sends 50 ms apart."""
    if request.param == "keypad":
        return KeypadSim("kp", 1, resend_after=0.05, max_sends=2)
    return PadSim("pad", 5, keys=4, resend_after=0.05, max_sends=2)


def test_a_silent_device_hears_nothing_and_sends_nothing(
    make_bus: MakeBus, open_host: OpenHost, device: KeypadSim | PadSim
) -> None:
    host = open_host(make_bus(device))
    device.set_fault("silent")
    assert device.faults == {"silent"}
    assert press(device) is False
    host.write(command(device))
    host.listen(0.3)
    assert host.raw == b""
    snapshot = device.snapshot()
    assert snapshot["presses"]["dropped"] == 1 and snapshot["frames"]["received"] == 0
    assert snapshot["faults"] == ["silent"]

    device.set_fault("ok")
    assert device.faults == set()
    host.write(command(device))
    wire = ff68.encode(command(device))
    assert host.expect_bytes(len(wire)) == wire


def test_going_silent_loses_the_press_in_flight(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.1, max_sends=5)
    host = open_host(make_bus(keypad))
    keypad.press("call")
    keypad.press("recall")
    host.expect_frames(1)
    keypad.set_fault("silent")
    host.listen(0.3)
    assert host.raw == KEYPAD_1_CALL  # no resend, and the recall never goes out
    presses = keypad.snapshot()["presses"]
    assert (presses["dropped"], presses["pending"], presses["failed"]) == (2, 0, 0)


def test_a_garbling_device_sends_frames_the_host_refuses(
    make_bus: MakeBus, open_host: OpenHost, device: KeypadSim | PadSim
) -> None:
    host = open_host(make_bus(device))
    device.set_fault("garble")
    press(device)
    assert wait_for(lambda: device.snapshot()["presses"]["failed"] == 1)
    host.listen(0.1)
    good = key_frame(device)
    assert len(host.raw) == 2 * len(good)  # sent twice (max_sends), damaged both times
    assert host.frames() == []
    assert host.errors() and all("checksum" in error.reason for error in host.errors())
    # One byte differs per frame.
    for copy in (host.raw[: len(good)], host.raw[len(good) :]):
        assert sum(a != b for a, b in zip(copy, good, strict=True)) == 1

    device.set_fault("ok")
    host.clear()
    press(device)
    [frame] = host.expect_frames(1)
    assert ff68.encode(frame) == good


def test_a_garbling_keypad_damages_its_echoes_too(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    keypad.set_fault("garble")
    host.write(ff68.show(1, 4, 5))
    echoed = host.expect_bytes(15)
    assert echoed != ff68.encode(ff68.show(1, 4, 5))
    assert host.frames() == []
    assert (keypad.waiting, keypad.number) == (4, 5)  # it heard the command all the same


def test_a_splitting_device_sends_each_frame_in_two_parts(
    make_bus: MakeBus, open_host: OpenHost, device: KeypadSim | PadSim
) -> None:
    device.resend_after = 1.0
    host = open_host(make_bus(device))
    device.set_fault("split")
    pressed_at = time.monotonic()
    press(device)
    # The host reassembles the two parts into the frame.
    [frame] = host.expect_frames(1)
    whole_at = time.monotonic()
    assert ff68.encode(frame) == key_frame(device)
    # Ten byte times plus the pause is the least it can take.
    assert whole_at - pressed_at >= 10 * BYTE_TIME + SPLIT_PAUSE

    device.set_fault("ok")
    host.clear()
    host.write(command(device))  # the echo now comes in one piece, at once
    wire = ff68.encode(command(device))
    assert host.expect_bytes(len(wire)) == wire


def test_faults_add_up_until_ok(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1, resend_after=1.0)
    host = open_host(make_bus(keypad))
    keypad.set_fault("garble")
    keypad.set_fault("split")
    assert keypad.faults == {"garble", "split"}
    keypad.press("call")
    assert host.expect_bytes(10) != KEYPAD_1_CALL
    keypad.set_fault("ok")
    assert keypad.snapshot()["faults"] == []


def test_a_silent_screen_stops_updating(make_bus: MakeBus, open_host: OpenHost) -> None:
    screen = ScreenSim("scr", 3, busy_after_frame=0.0)
    host = open_host(make_bus(screen))
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A001号")))
    assert wait_for(lambda: screen.text == "请A001号")
    screen.set_fault("silent")
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A002号")))
    time.sleep(0.15)
    assert screen.text == "请A001号"
    screen.set_fault("ok")
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A003号")))
    assert wait_for(lambda: screen.text == "请A003号")


def test_a_garbling_screen_fails_to_decode_what_it_receives(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3, busy_after_frame=0.0)
    host = open_host(make_bus(screen))
    screen.set_fault("garble")
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A001号")))
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A002号")))
    assert wait_for(lambda: screen.snapshot()["frames"]["decode_errors"] == 2)
    assert screen.text is None
    screen.set_fault("ok")
    host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A003号")))
    assert wait_for(lambda: screen.text == "请A003号")


def test_a_screen_cannot_split_what_it_never_sends() -> None:
    screen = ScreenSim("scr", 3)
    with pytest.raises(ValueError, match="does not support fault 'split'"):
        screen.set_fault("split")
    assert screen.faults == set()


@pytest.mark.parametrize("kind", ["unplug", "paper-out", "reboot", ""])
def test_faults_a_device_does_not_have_are_refused(kind: str) -> None:
    keypad = KeypadSim("kp", 1)
    with pytest.raises(ValueError, match="does not support fault"):
        keypad.set_fault(kind)
