"""The simulated bus end to end: the pty path, byte timing, serialised device frames,
carrier sense, collisions, unplug and replug, and cleaning up."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import serial

from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.rs485 import KeypadSim, PadSim, ScreenSim, SimulatedBus
from tests.simulators.rs485.conftest import BYTE_TIME, Host, wait_for

MakeBus = Callable[..., SimulatedBus]
OpenHost = Callable[[SimulatedBus], Host]

WINDOW_3 = bytes.fromhex("aa 03 bb 51 54 ff 01 00 99 00 63 c7 eb 41 30 30 31 ba c5 ff")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# --- the path -------------------------------------------------------------------------


def test_the_path_is_a_symlink_to_a_raw_pty(make_bus: MakeBus) -> None:
    bus = make_bus()
    assert bus.path.is_symlink()
    assert os.readlink(bus.path) == bus.tty
    assert bus.tty is not None and bus.tty.startswith("/dev/pts/")
    assert bus.plugged


def test_an_old_symlink_is_replaced_but_a_file_is_not(tmp_path: Path) -> None:
    stale = tmp_path / "stale.tty"
    stale.symlink_to("/dev/null")
    bus = SimulatedBus("bus", stale)
    bus.start()
    try:
        assert os.readlink(stale) == bus.tty
    finally:
        bus.stop()
    assert not os.path.lexists(stale)

    regular = tmp_path / "regular"
    regular.write_text("keep me")
    refused = SimulatedBus("bus", regular)
    with pytest.raises(FileExistsError):
        refused.start()
    assert regular.read_text() == "keep me"


def test_stop_removes_the_path_closes_everything_and_can_repeat(tmp_path: Path) -> None:
    before = open_fds()
    bus = SimulatedBus("bus", tmp_path / "bus.tty")
    keypad = bus.add(KeypadSim("kp", 1))
    bus.start()
    host = Host(bus.path)
    keypad.press("call")
    host.expect_frames(1)
    bus.unplug()
    bus.replug()
    host.close()
    bus.stop()
    bus.stop()
    assert not os.path.lexists(bus.path)
    assert not bus.plugged
    assert open_fds() == before
    with pytest.raises(RuntimeError):
        bus.start()


def test_devices_must_not_share_an_id_or_the_frames_they_take() -> None:
    bus = SimulatedBus("bus", "/nonexistent/bus.tty")
    keypad = bus.add(KeypadSim("kp", 1))
    assert bus.get("kp") is keypad and bus.devices == (keypad,)
    with pytest.raises(ValueError, match="already has"):
        bus.add(KeypadSim("kp", 2))
    with pytest.raises(ValueError, match="address 1"):
        bus.add(PadSim("pad", 1))
    bus.add(ScreenSim("scr", 1))  # another protocol may use the address
    bus.add(ScreenSim("hall", 1, imm.Selector.HALL))  # and another selector
    with pytest.raises(KeyError):
        bus.get("nope")


# --- timing -----------------------------------------------------------------------


def test_a_20_byte_frame_takes_20_byte_times_to_reach_a_screen(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3)
    host = open_host(make_bus(screen))
    assert len(WINDOW_3) == 20
    written_at = host.write(WINDOW_3)
    assert wait_for(lambda: screen.text is not None)
    [(delivered_at, _)] = list(screen.history)
    assert delivered_at - written_at >= 20 * BYTE_TIME  # about 20.8 ms at 9600 baud


def test_a_keypad_frame_takes_its_byte_times_too(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    written_at = host.write(ff68.show(1, 1, 2))
    host.expect_bytes(15)
    [record] = list(keypad.received)
    assert record.frame == ff68.show(1, 1, 2)
    assert record.at - written_at >= 15 * BYTE_TIME
    # The echo starts when the host's frame has left the wire.
    [sent] = list(keypad.sent)
    assert sent.at >= record.at


def test_an_adapter_with_local_echo_hands_the_host_its_own_frame_before_the_answer(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    keypad = KeypadSim("kp", 1)
    bus = make_bus(keypad)
    bus.local_echo = True
    host = open_host(bus)
    show = ff68.encode(ff68.show(1, 1, 2))
    written_at = host.write(show)
    assert host.read_until(lambda: len(host.raw) >= 2 * len(show))
    assert bytes(host.raw) == show + show  # the adapter's copy, then the keypad's echo
    [sent] = list(keypad.sent)
    assert sent.at - written_at >= len(show) * BYTE_TIME


def test_devices_ready_together_are_sent_one_after_the_other(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    devices = [KeypadSim("kp-1", 1), KeypadSim("kp-2", 2), KeypadSim("kp-3", 3), PadSim("pad", 4)]
    host = open_host(make_bus(*devices))
    for keypad in devices[:3]:
        keypad.press("call")
    devices[3].rate(1)
    frames = host.expect_frames(4)
    host.listen(0.05)
    assert host.errors() == []
    assert sorted(frame.addr for frame in frames) == [1, 2, 3, 4]
    # The bytes are whole frames one after another, never interleaved.
    assert host.raw == b"".join(ff68.encode(frame) for frame in frames)
    starts = sorted(device.sent[0].at for device in devices)
    assert all(later - earlier >= 10 * BYTE_TIME for earlier, later in itertools.pairwise(starts))
    assert all(device.snapshot()["presses"]["sent"] == 1 for device in devices)


def test_carrier_sense_holds_a_key_until_the_hosts_long_frame_has_passed(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    screen = ScreenSim("scr", 3)
    keypad = KeypadSim("kp", 1, resend_after=1.0)
    bus = make_bus(screen, keypad)
    host = open_host(bus)
    long_frame = imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "请A001号到3号窗口" + "." * 270))
    assert len(long_frame) >= 290  # about 300 ms on the wire
    host.write(long_frame)
    assert wait_for(lambda: bus.counters["host_bytes"] >= len(long_frame))
    pressed_at = time.monotonic()
    keypad.press("call")
    [frame] = host.expect_frames(1)
    assert frame == ff68.key_press(1, ff68.KEY_CALL)
    [(frame_end, _)] = list(screen.history)
    assert pressed_at < frame_end, "the test pressed too late to check carrier sense"
    assert keypad.sent[0].at >= frame_end
    assert bus.counters["collisions"] == 0
    assert host.errors() == []


def test_a_device_hears_what_the_host_wrote_while_the_bus_thread_was_late(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    """The bus thread is held up (a busy machine) while the host writes a screen
    frame and a key is pressed: when the thread runs again, the host's bytes came
    first, so the keypad waits for them instead of talking over them."""
    screen = ScreenSim("scr", 3)
    keypad = KeypadSim("kp", 1, resend_after=1.0)
    bus = make_bus(screen, keypad)
    host = open_host(bus)
    held = threading.Event()

    def hold(now: float) -> None:
        held.set()
        time.sleep(0.05)

    bus.call_at(time.monotonic(), hold)
    assert held.wait(1.0)
    written_at = host.write(WINDOW_3)
    keypad.press("call")
    [frame] = host.expect_frames(1)
    assert frame == ff68.key_press(1, ff68.KEY_CALL)
    assert screen.text == "请A001号"
    assert keypad.sent[0].at > written_at
    assert bus.counters["collisions"] == 0
    assert host.errors() == []


def test_a_host_frame_while_a_device_talks_collides(make_bus: MakeBus, open_host: OpenHost) -> None:
    """The keypad's split frame holds the wire for about 40 ms; the host writes a screen
    frame into it. Both sides then get damaged bytes. (The test retries if it is too slow
    to write while the keypad talks, which a loaded machine may be.)"""
    keypad = KeypadSim("kp", 1, resend_after=0.05, max_sends=1)
    screen = ScreenSim("scr", 3, busy_after_frame=0.0)
    bus = make_bus(keypad, screen)
    host = open_host(bus)
    keypad.set_fault("split")
    for attempt in range(5):
        host.clear()
        keypad.press("call")
        assert wait_for(lambda: bus.transmitting)
        host.write(imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, f"请A00{attempt}号" * 6)))
        assert wait_for(lambda: keypad.snapshot()["presses"]["pending"] == 0)
        host.listen(0.1)
        if bus.counters["collisions"]:
            break
    else:
        pytest.fail("no collision in five attempts")
    assert len(host.raw) == 10
    assert host.frames() == [] and host.errors()  # the key frame arrived damaged
    assert screen.text is None or not screen.text.startswith(f"请A00{attempt}号")


# --- unplug and replug ---------------------------------------------------------------


def test_unplug_breaks_the_hosts_port_and_replug_lets_it_reopen(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.5)
    bus = make_bus(keypad)
    host = open_host(bus)
    host.write(ff68.show(1, 3, 7))
    host.expect_bytes(15)
    first_tty = bus.tty

    bus.unplug()
    assert not bus.plugged
    assert not os.path.lexists(bus.path)
    assert bus.describe()["faults"] == ["unplug"]
    with pytest.raises(serial.SerialException):
        host.port.read(1)
    with pytest.raises(serial.SerialException):
        host.port.write(b"\x00")
    with pytest.raises(serial.SerialException):
        serial.Serial(str(bus.path), 9600)
    host.close()

    bus.replug()
    assert bus.plugged and os.readlink(bus.path) == bus.tty
    assert bus.describe()["faults"] == []
    again = open_host(bus)
    keypad.press("call")
    [frame] = again.expect_frames(1)
    assert frame == ff68.key_press(1, ff68.KEY_CALL)
    # The devices kept their state across the unplug.
    assert (keypad.waiting, keypad.number) == (3, 7)
    assert bus.counters["unplugs"] == 1 and bus.counters["replugs"] == 1
    assert first_tty is not None


def test_what_devices_send_while_unplugged_is_lost(make_bus: MakeBus) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.02, max_sends=2)
    bus = make_bus(keypad)
    bus.unplug()
    keypad.press("call")
    assert wait_for(lambda: keypad.snapshot()["presses"]["failed"] == 1)
    assert bus.counters["device_bytes_lost"] == 20


def test_unplug_and_replug_repeat_harmlessly(make_bus: MakeBus) -> None:
    bus = make_bus()
    bus.unplug()
    bus.unplug()
    bus.replug()
    bus.replug()
    assert bus.plugged and bus.counters["unplugs"] == 1 and bus.counters["replugs"] == 1
