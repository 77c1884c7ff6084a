"""The caller keypad simulator, driven by a host on pyserial: keys, resends, show, beep."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from drivers.ff68 import codec as ff68
from simulators.rs485 import KeypadSim, SimulatedBus
from tests.simulators.rs485.conftest import BYTE_TIME, Host, wait_for

MakeBus = Callable[..., SimulatedBus]
OpenHost = Callable[[SimulatedBus], Host]

# PROTOCOLS.md §1 and the codec tests' hand-worked vectors.
SHOW_023 = bytes.fromhex("ff 68 08 08 68 01 02 0a 0a 0a 00 02 03 26 16")
BEEP_1 = bytes.fromhex("ff 68 02 02 68 01 03 04 16")
KEYPAD_1_CALL = bytes.fromhex("ff 68 03 03 68 01 01 0c 0e 16")
KEYPAD_2_TRANSFER_12 = bytes.fromhex("ff 68 05 05 68 02 01 01 02 13 19 16")
KEYPAD_7_SKIP = bytes.fromhex("ff 68 04 04 68 07 01 06 0f 1d 16")


@pytest.mark.parametrize(
    ("address", "key", "digits", "wire"),
    [
        (1, "call", (), KEYPAD_1_CALL),
        (2, "transfer", (1, 2), KEYPAD_2_TRANSFER_12),
        (7, "skip", (), KEYPAD_7_SKIP),
        (1, "recall", (), ff68.encode(ff68.key_press(1, ff68.KEY_RECALL))),
        (1, "rate", (), ff68.encode(ff68.key_press(1, ff68.KEY_RATE))),
        (1, "pause", (), ff68.encode(ff68.key_press(1, ff68.KEY_PAUSE))),
        (1, "hold", (), ff68.encode(ff68.key_press(1, ff68.KEY_CONFIRM, (0,)))),
        (1, "callback", (), ff68.encode(ff68.key_press(1, ff68.KEY_CONFIRM, (3,)))),
        (1, "call", (4, 2), ff68.encode(ff68.key_press(1, ff68.KEY_CALL, (4, 2)))),
    ],
)
def test_a_key_press_puts_its_frame_on_the_wire(
    make_bus: MakeBus,
    open_host: OpenHost,
    address: int,
    key: str,
    digits: tuple[int, ...],
    wire: bytes,
) -> None:
    keypad = KeypadSim("kp", address)
    host = open_host(make_bus(keypad))
    assert keypad.press(key, digits) is True
    assert host.expect_bytes(len(wire)) == wire
    snapshot = keypad.snapshot()
    assert (snapshot["last_key"], snapshot["last_digits"]) == (key, list(digits))
    assert snapshot["presses"]["sent"] == 1


def test_without_an_echo_the_frame_is_resent_then_the_press_fails(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.05, max_sends=3)
    host = open_host(make_bus(keypad))
    keypad.press("call")
    assert host.read_until(lambda: keypad.snapshot()["presses"]["failed"] == 1)
    host.listen(0.2)  # nothing more may come after the press has failed
    assert host.raw == KEYPAD_1_CALL * 3
    snapshot = keypad.snapshot()
    assert snapshot["presses"] == {
        "pressed": 1,
        "sent": 1,
        "acknowledged": 0,
        "failed": 1,
        "dropped": 0,
        "pending": 0,
    }
    assert (snapshot["frames"]["key_frames_sent"], snapshot["frames"]["resends"]) == (3, 2)
    # Each resend waits for the previous frame to leave the wire, then resend_after.
    starts = [record.at for record in keypad.sent]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 10 * BYTE_TIME + 0.05 for gap in gaps), gaps
    assert snapshot["last_press"] == {"sent_at": starts, "acknowledged_at": None}


def test_an_echo_acknowledges_the_press_and_stops_the_resends(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.5, max_sends=5)
    host = open_host(make_bus(keypad))
    keypad.press("call")
    [frame] = host.expect_frames(1)
    echoed = time.monotonic()
    host.write(ff68.echo(frame))
    host.listen(1.2)
    # One frame only: no resend, and the keypad does not answer the echo.
    assert host.raw == KEYPAD_1_CALL
    snapshot = keypad.snapshot()
    presses = snapshot["presses"]
    assert (presses["acknowledged"], presses["failed"], presses["pending"]) == (1, 0, 0)
    [sent_at] = snapshot["last_press"]["sent_at"]
    assert (
        sent_at + len(KEYPAD_1_CALL) * BYTE_TIME
        <= echoed
        < snapshot["last_press"]["acknowledged_at"]
    )


def test_presses_wait_for_the_one_in_flight(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.5)
    host = open_host(make_bus(keypad))
    keypad.press("call")
    keypad.press("recall")
    [first] = host.expect_frames(1)
    host.listen(0.15)
    assert host.frames() == [ff68.key_press(1, ff68.KEY_CALL)]
    assert keypad.snapshot()["presses"]["pending"] == 2
    host.write(ff68.echo(first))
    frames = host.expect_frames(2)
    assert frames[1] == ff68.key_press(1, ff68.KEY_RECALL)
    host.write(ff68.echo(frames[1]))
    assert wait_for(lambda: keypad.snapshot()["presses"]["acknowledged"] == 2)


def test_an_echo_of_another_frame_is_a_stray_ack(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1, resend_after=0.05, max_sends=2)
    host = open_host(make_bus(keypad))
    keypad.press("call")
    host.expect_frames(1)
    host.write(ff68.key_press(1, ff68.KEY_RECALL))  # not what the keypad sent
    assert wait_for(lambda: keypad.snapshot()["presses"]["failed"] == 1)
    snapshot = keypad.snapshot()
    assert snapshot["frames"]["stray_acks"] == 1
    assert snapshot["presses"]["acknowledged"] == 0


@pytest.mark.parametrize(
    ("frame", "waiting", "number", "display"),
    [
        (ff68.show(1, None, 23), None, 23, "   023"),
        (ff68.show(1, 5, 123), 5, 123, "005123"),
        (ff68.show(1, 0, None), 0, None, "000   "),
    ],
)
def test_show_updates_the_display_and_is_echoed(
    make_bus: MakeBus,
    open_host: OpenHost,
    frame: ff68.Frame,
    waiting: int | None,
    number: int | None,
    display: str,
) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    host.write(frame)
    assert host.expect_bytes(15) == ff68.encode(frame)
    assert (keypad.waiting, keypad.number) == (waiting, number)
    snapshot = keypad.snapshot()
    assert (snapshot["waiting"], snapshot["number"], snapshot["display"]) == (
        waiting,
        number,
        display,
    )
    assert snapshot["frames"]["echoed"] == 1


def test_the_show_golden_vector(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    host.write(SHOW_023)
    assert host.expect_bytes(len(SHOW_023)) == SHOW_023
    assert keypad.number == 23 and keypad.waiting is None


def test_beep_counts_and_is_echoed(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    host.write(BEEP_1)
    host.write(BEEP_1)
    assert host.expect_bytes(2 * len(BEEP_1)) == BEEP_1 * 2
    assert keypad.beeps == 2
    # The echo of a beep has L = 2, which the host's decoder refuses from a device:
    # the host recognises it by its bytes.
    assert host.frames() == []
    assert all(error.data == BEEP_1 for error in host.errors())


def test_frames_for_another_address_are_ignored_and_every_device_hears_every_frame(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    one, two = KeypadSim("kp-1", 1), KeypadSim("kp-2", 2)
    host = open_host(make_bus(one, two))
    host.write(ff68.show(2, 4, 56))
    expected = ff68.encode(ff68.show(2, 4, 56))
    assert host.expect_bytes(len(expected)) == expected
    host.listen(0.1)
    assert host.raw == expected  # only keypad 2 answered
    assert (two.waiting, two.number) == (4, 56)
    assert (one.waiting, one.number, one.snapshot()["frames"]["received"]) == (None, None, 0)


def test_a_command_it_cannot_carry_out_is_counted_and_not_echoed(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    host.write(ff68.Frame(1, ff68.FUNC_SHOW, bytes([1, 2, 3, 4, 5])))  # five digits, not six
    host.write(ff68.Frame(1, ff68.FUNC_SHOW, bytes([1, 2, 3, 4, 5, 11])))  # 0b is no digit
    host.write(ff68.Frame(1, 0x07, b"\x01"))  # a func keypads do not have
    assert wait_for(lambda: keypad.snapshot()["frames"]["received"] == 3)
    host.listen(0.1)
    assert host.raw == b""
    frames = keypad.snapshot()["frames"]
    assert (frames["bad_commands"], frames["unknown_commands"], frames["echoed"]) == (2, 1, 0)
    assert keypad.snapshot()["display"] == "      "


def test_a_broken_host_frame_is_a_decode_error(make_bus: MakeBus, open_host: OpenHost) -> None:
    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    broken = bytearray(SHOW_023)
    broken[-2] ^= 0x01  # checksum
    host.write(bytes(broken) + SHOW_023)
    assert host.expect_bytes(len(SHOW_023)) == SHOW_023
    assert keypad.snapshot()["frames"]["decode_errors"] == 1


@pytest.mark.parametrize(
    ("key", "digits", "message"),
    [
        ("dance", (), "unknown keypad key"),
        ("skip", (1,), "takes no digits"),
        ("transfer", (), "needs the digits"),
        ("call", (10,), "0-9"),
        ("transfer", (1, 2, 3, 4, 5, 6), "at most 5 digits"),
    ],
)
def test_a_press_it_cannot_send_is_refused(key: str, digits: tuple[int, ...], message: str) -> None:
    keypad = KeypadSim("kp", 1)
    with pytest.raises(ValueError, match=message):
        keypad.press(key, digits)


def test_a_keypad_off_the_bus_cannot_press() -> None:
    with pytest.raises(RuntimeError, match="not on a bus"):
        KeypadSim("kp", 1).press("call")


def test_the_snapshot_is_json_safe(make_bus: MakeBus, open_host: OpenHost) -> None:
    import json

    keypad = KeypadSim("kp", 1)
    host = open_host(make_bus(keypad))
    keypad.press("transfer", (1, 2))
    host.expect_frames(1)
    snapshot = json.loads(json.dumps(keypad.snapshot()))
    assert snapshot["id"] == "kp" and snapshot["model"] == "ff68-keypad"
    assert snapshot["bus"] == "bus-1" and snapshot["address"] == 1 and snapshot["faults"] == []
    assert snapshot["last_sent_at"] is not None
