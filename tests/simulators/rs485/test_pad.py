"""The evaluation pad simulator: prompted, rated, acknowledged, stars shown."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drivers.ff68 import codec as ff68
from simulators.rs485 import PadSim, SimulatedBus
from tests.simulators.rs485.conftest import Host, wait_for

MakeBus = Callable[..., SimulatedBus]
OpenHost = Callable[[SimulatedBus], Host]

# PROTOCOLS.md §1.
PAD_5_KEY_1 = bytes.fromhex("ff 68 03 03 68 05 11 01 17 16")
PAD_5_ACK_1 = bytes.fromhex("ff 68 03 03 68 05 01 01 07 16")
PAD_5_START = bytes.fromhex("ff 68 03 03 68 05 01 0b 11 16")


def test_start_rating_prompts_the_pad_and_is_echoed(make_bus: MakeBus, open_host: OpenHost) -> None:
    pad = PadSim("pad", 5)
    host = open_host(make_bus(pad))
    assert pad.prompted is False
    host.write(PAD_5_START)
    assert host.expect_bytes(len(PAD_5_START)) == PAD_5_START
    assert pad.prompted is True
    assert host.frames() == [ff68.start_rating(5)]


def test_a_rating_sends_the_key_and_the_ack_settles_it(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    pad = PadSim("pad", 5, resend_after=0.5)
    host = open_host(make_bus(pad))
    host.write(PAD_5_START)
    host.expect_bytes(len(PAD_5_START))
    host.clear()
    assert pad.rate(2) is True  # 满意 is key 1
    assert pad.prompted is False  # a key press clears the prompt
    assert host.expect_bytes(len(PAD_5_KEY_1)) == PAD_5_KEY_1
    [frame] = host.frames()
    assert ff68.parse_pad_key(frame) == ff68.PadKey(5, 1)
    host.write(PAD_5_ACK_1)
    host.listen(1.1)
    assert host.raw == PAD_5_KEY_1  # no resend, and the ack is not answered
    snapshot = pad.snapshot()
    assert snapshot["presses"]["acknowledged"] == 1 and snapshot["presses"]["pending"] == 0
    assert (snapshot["last_key"], snapshot["last_level"], snapshot["last_meaning"]) == (
        1,
        2,
        "满意",
    )


def test_without_an_ack_the_rating_is_resent_then_fails(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    pad = PadSim("pad", 5, resend_after=0.05, max_sends=4)
    host = open_host(make_bus(pad))
    pad.rate(2)
    assert host.read_until(lambda: pad.snapshot()["presses"]["failed"] == 1)
    host.listen(0.2)
    assert host.raw == PAD_5_KEY_1 * 4


def test_an_ack_for_another_key_does_not_settle_the_rating(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    pad = PadSim("pad", 5, resend_after=0.1, max_sends=5)
    host = open_host(make_bus(pad))
    pad.rate(2)
    host.expect_frames(1)
    host.write(ff68.pad_ack(ff68.PadKey(5, 2)))  # key 2, but the pad sent key 1
    frames = host.expect_frames(2)  # so it sends again
    assert frames[1] == ff68.pad_key(5, 1)
    host.write(PAD_5_ACK_1)
    assert wait_for(lambda: pad.snapshot()["presses"]["acknowledged"] == 1)
    assert pad.snapshot()["frames"]["stray_acks"] == 1


@pytest.mark.parametrize("level", [1, 3, 5])
def test_show_stars_sets_the_level_shown_and_is_echoed(
    make_bus: MakeBus, open_host: OpenHost, level: int
) -> None:
    pad = PadSim("pad", 5)
    host = open_host(make_bus(pad))
    host.write(ff68.show_stars(5, level))
    wire = ff68.encode(ff68.show_stars(5, level))
    assert host.expect_bytes(len(wire)) == wire
    assert pad.stars == level and pad.snapshot()["stars"] == level


def test_stars_out_of_range_are_refused_without_an_echo(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    pad = PadSim("pad", 5)
    host = open_host(make_bus(pad))
    host.write(ff68.Frame(5, ff68.FUNC_SHOW, b"\x06"))
    host.write(ff68.Frame(5, ff68.FUNC_ACK, b"\x09"))  # neither a prompt nor an ack
    assert wait_for(lambda: pad.snapshot()["frames"]["received"] == 2)
    host.listen(0.1)
    assert host.raw == b""
    assert pad.stars is None and pad.snapshot()["frames"]["bad_commands"] == 2


def test_a_four_key_pad_has_no_level_5_and_a_five_key_pad_does(
    make_bus: MakeBus, open_host: OpenHost
) -> None:
    four, five = PadSim("pad-4", 4), PadSim("pad-5", 5, keys=5)
    host = open_host(make_bus(four, five))
    with pytest.raises(ValueError, match="4-key pad has no key for level 5"):
        four.rate(5)
    five.rate(5)
    [frame] = host.expect_frames(1)
    assert frame == ff68.pad_key(5, 4)


@pytest.mark.parametrize("level", [0, 6, -1, True, "2"])
def test_levels_outside_1_to_5_are_refused(level: object) -> None:
    with pytest.raises(ValueError, match="1-5"):
        PadSim("pad", 5).rate(level)  # type: ignore[arg-type]


@pytest.mark.parametrize("keys", [3, 6])
def test_a_pad_has_four_or_five_keys(keys: int) -> None:
    with pytest.raises(ValueError):
        PadSim("pad", 5, keys=keys)
