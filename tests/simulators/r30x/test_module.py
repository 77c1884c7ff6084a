"""The fingerprint module without its link: bytes in, answers out, with a clock moved by hand."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from drivers.codec import FrameError
from drivers.r30x import codec as r30x
from drivers.r30x.codec import Result
from simulators.r30x import FINGER_SECONDS, SimulatedFingerprintModule, Stranger
from tests.simulators.r30x.conftest import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def module(clock: FakeClock) -> SimulatedFingerprintModule:
    module = SimulatedFingerprintModule("reader-1", capacity=10, clock=clock)
    module.enroll(2, "s1")
    return module


def answers(module: SimulatedFingerprintModule, *sent: r30x.Packet | bytes) -> list[r30x.Ack]:
    """Send each packet; the acks, one per packet."""
    acks = []
    for packet in sent:
        wire = r30x.encode(packet) if isinstance(packet, r30x.Packet) else packet
        [item] = r30x.Decoder().feed(module.receive(wire))
        assert isinstance(item, r30x.Packet)
        parsed = r30x.parse_ack(item)
        assert isinstance(parsed, r30x.Ack)
        acks.append(parsed)
    return acks


def codes(module: SimulatedFingerprintModule, *sent: r30x.Packet | bytes) -> list[int]:
    return [answer.code for answer in answers(module, *sent)]


def test_a_finger_nobody_images_is_lifted_after_its_time(
    module: SimulatedFingerprintModule, clock: FakeClock
) -> None:
    module.place("s1")
    clock.now += FINGER_SECONDS - 0.1
    assert module.snapshot()["finger"] == {"print": "s1", "seconds_left": 0.1}
    clock.now += 0.1
    assert codes(module, r30x.gen_img()) == [Result.NO_FINGER]
    assert module.snapshot()["finger"] is None


def test_a_finger_can_be_placed_for_longer(
    module: SimulatedFingerprintModule, clock: FakeClock
) -> None:
    module.place("s1", seconds=60)
    clock.now += 59
    assert codes(module, r30x.gen_img()) == [Result.OK]


def test_lift_takes_the_finger_away(module: SimulatedFingerprintModule) -> None:
    module.place("s1")
    module.lift()
    assert codes(module, r30x.gen_img()) == [Result.NO_FINGER]


def test_img2tz_after_gen_img_found_no_finger_has_no_image(
    module: SimulatedFingerprintModule,
) -> None:
    module.place("s1")
    # The image of s1 is gone once a later GenImg found no finger.
    assert codes(module, r30x.gen_img(), r30x.gen_img(), r30x.img2tz(1)) == [
        Result.OK,
        Result.NO_FINGER,
        Result.NO_IMAGE,
    ]
    assert codes(SimulatedFingerprintModule("fresh"), r30x.img2tz(1)) == [Result.NO_IMAGE]


def test_each_unknown_finger_is_a_different_stranger(module: SimulatedFingerprintModule) -> None:
    first = module.place_unknown()
    assert codes(module, r30x.gen_img(), r30x.img2tz(1)) == [Result.OK, Result.OK]
    second = module.place_unknown()
    assert first != second and isinstance(second, Stranger)
    assert codes(module, r30x.gen_img(), r30x.img2tz(2), r30x.reg_model()) == [
        Result.OK,
        Result.OK,
        Result.COMBINE_FAILED,
    ]


def test_a_failed_img2tz_leaves_the_buffer_as_it_was(module: SimulatedFingerprintModule) -> None:
    module.place("s1")
    codes(module, r30x.gen_img(), r30x.img2tz(1))
    module.place_poor()
    assert codes(module, r30x.gen_img(), r30x.img2tz(1)) == [Result.OK, Result.TOO_FEW_FEATURES]
    assert module.snapshot()["buffers"] == {"1": "s1", "2": None}


@pytest.mark.parametrize(
    ("start", "count", "code"),
    [
        (0, 10, Result.OK),
        (2, 1, Result.OK),
        (0, 2, Result.NOT_FOUND),  # pages 0-1
        (3, 7, Result.NOT_FOUND),
        (0, 1000, Result.OK),  # cut short at the library's end
        (10, 1, Result.BAD_PAGE),
    ],
)
def test_search_looks_only_in_its_range(
    module: SimulatedFingerprintModule, start: int, count: int, code: int
) -> None:
    module.place("s1")
    codes(module, r30x.gen_img(), r30x.img2tz(1))
    assert codes(module, r30x.search(1, start, count)) == [code]


def test_searching_an_empty_buffer_finds_nobody(module: SimulatedFingerprintModule) -> None:
    assert codes(module, r30x.search(2, 0, 10)) == [Result.NOT_FOUND]


def test_search_prefers_the_lowest_page(module: SimulatedFingerprintModule) -> None:
    module.enroll(7, "s1")
    module.enroll(1, "s1")
    module.place("s1")
    codes(module, r30x.gen_img(), r30x.img2tz(1))
    [answer] = answers(module, r30x.search(1, 0, 10))
    hit = r30x.parse_search(answer)
    assert isinstance(hit, r30x.SearchHit) and hit.page == 1


def test_store_checks_the_page_and_the_buffer(module: SimulatedFingerprintModule) -> None:
    assert codes(module, r30x.store(1, 3)) == [Result.INVALID_TEMPLATE]
    module.place("s2")
    codes(module, r30x.gen_img(), r30x.img2tz(1))
    assert codes(module, r30x.store(1, 10), r30x.store(1, 9)) == [Result.BAD_PAGE, Result.OK]
    assert module.library == {2: "s1", 9: "s2"}


def test_delete_clears_pages_and_the_count_follows(module: SimulatedFingerprintModule) -> None:
    module.enroll(3, "s2")
    module.enroll(9, "s3")
    assert codes(module, r30x.delete(8, 3)) == [Result.BAD_PAGE]
    assert module.library == {2: "s1", 3: "s2", 9: "s3"}
    assert codes(module, r30x.delete(2, 2)) == [Result.OK]
    [answer] = answers(module, r30x.template_count())
    assert r30x.parse_count(answer) == 1
    assert module.library == {9: "s3"}


@pytest.mark.parametrize(
    "command",
    [
        r30x.img2tz(3),
        r30x.search(0, 0, 10),
        r30x.store(3, 1),
        r30x.Packet(r30x.DEFAULT_ADDRESS, r30x.PacketType.COMMAND, b"\x42"),  # unknown
        r30x.Packet(r30x.DEFAULT_ADDRESS, r30x.PacketType.COMMAND, b"\x02\x01\x01"),  # too long
    ],
)
def test_commands_it_cannot_carry_out_answer_01(
    module: SimulatedFingerprintModule, command: r30x.Packet
) -> None:
    assert codes(module, command) == [Result.PACKET_ERROR]


def test_packets_that_are_not_commands_are_ignored(module: SimulatedFingerprintModule) -> None:
    data = r30x.Packet(r30x.DEFAULT_ADDRESS, r30x.PacketType.DATA, b"\x00" * 32)
    assert module.receive(r30x.encode(data) + r30x.encode(r30x.ack(0))) == b""
    assert module.counters == {
        "commands": 0,
        "acks": 0,
        "errors": 0,
        "ignored": 2,
        "bytes_dropped": 0,
    }


def test_several_commands_in_one_write_are_answered_in_order(
    module: SimulatedFingerprintModule,
) -> None:
    module.place("s1")
    wire = b"".join(r30x.encode(p) for p in (r30x.gen_img(), r30x.gen_img(), r30x.img2tz(1)))
    items = r30x.Decoder().feed(module.receive(wire))
    assert [r30x.parse_ack(item) for item in items if isinstance(item, r30x.Packet)] == [
        r30x.Ack(Result.OK),
        r30x.Ack(Result.NO_FINGER),
        r30x.Ack(Result.NO_IMAGE),
    ]


def test_garble_damages_every_answer(module: SimulatedFingerprintModule) -> None:
    module.set_fault("garble")
    items = r30x.Decoder().feed(module.receive(r30x.encode(r30x.gen_img()) * 2))
    assert len(items) == 2
    assert all(isinstance(item, FrameError) and "SUM" in item.reason for item in items)
    assert module.counters["acks"] == 2


def test_silent_drops_what_it_receives_and_keeps_the_finger(
    module: SimulatedFingerprintModule,
) -> None:
    module.place("s1")
    module.set_fault("silent")
    # Half a packet before the fault clears is not finished by the rest after it.
    assert module.receive(r30x.encode(r30x.gen_img())[:5]) == b""
    module.set_fault("ok")
    assert module.receive(r30x.encode(r30x.gen_img())[5:]) == b""
    assert module.counters["bytes_dropped"] == 5
    assert codes(module, r30x.gen_img()) == [Result.OK]


def test_faults_it_does_not_have_are_refused(module: SimulatedFingerprintModule) -> None:
    with pytest.raises(ValueError, match="supported: silent, garble, ok"):
        module.set_fault("paper-out")
    module.set_fault("silent")
    module.set_fault("garble")
    assert module.faults == {"silent", "garble"}
    module.set_fault("ok")
    assert module.faults == frozenset()


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: SimulatedFingerprintModule(""), "needs an id"),
        (lambda: SimulatedFingerprintModule("r", address=1 << 32), "outside 32 bits"),
        (lambda: SimulatedFingerprintModule("r", password=-1), "32-bit"),
        (lambda: SimulatedFingerprintModule("r", capacity=0), "capacity 0"),
        (lambda: SimulatedFingerprintModule("r").enroll(200, "s1"), "outside the library"),
        (lambda: SimulatedFingerprintModule("r").place(""), "needs an identity"),
        (lambda: SimulatedFingerprintModule("r").place_poor(seconds=0), "more than 0 s"),
    ],
)
def test_what_a_module_cannot_be_is_refused(build: Callable[[], object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        build()


def test_the_snapshot_is_json_and_says_what_a_person_would_check(
    module: SimulatedFingerprintModule,
) -> None:
    module.place("s1")
    codes(module, r30x.gen_img(), r30x.img2tz(1), r30x.search(1, 0, 10))
    module.place_poor()
    module.set_fault("garble")
    snapshot = json.loads(json.dumps(module.snapshot()))
    assert snapshot == {
        "id": "reader-1",
        "kind": "fingerprint-reader",
        "model": "r30x",
        "address": 0xFFFFFFFF,
        "templates": 1,
        "faults": ["garble"],
        "capacity": 10,
        "password_set": False,
        "verified": True,
        "finger": {"print": "poor", "seconds_left": FINGER_SECONDS},
        "image": "s1",
        "buffers": {"1": "s1", "2": None},
        "library": {"2": "s1"},
        "counters": {"commands": 3, "acks": 3, "errors": 0, "ignored": 0, "bytes_dropped": 0},
    }
    module.place_unknown()
    assert module.snapshot()["finger"]["print"] == "unknown #1"
