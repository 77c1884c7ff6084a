"""The fingerprint module on its pty, driven as the daemon drives it: pyserial and the codec."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.codec import FrameError
from drivers.r30x import codec as r30x
from drivers.r30x.codec import Result
from simulators.r30x import SerialFingerprintLink, SimulatedFingerprintModule
from tests.simulators.r30x.conftest import Host

StartLink = Callable[[SimulatedFingerprintModule], Host]
CAPACITY = 200


@pytest.fixture
def module() -> SimulatedFingerprintModule:
    module = SimulatedFingerprintModule("reader-1")
    module.enroll(0, "s1")
    module.enroll(5, "s2")
    return module


@pytest.fixture
def host(module: SimulatedFingerprintModule, start_link: StartLink) -> Host:
    return start_link(module)


def test_the_path_is_a_symlink_to_a_pty_and_stop_removes_it(
    module: SimulatedFingerprintModule, tmp_path: Path
) -> None:
    link = SerialFingerprintLink(module, tmp_path / "reader-1")
    link.start()
    try:
        assert link.path.is_symlink()
        assert os.readlink(link.path) == link.tty
        assert link.describe()["path"] == str(link.path)
    finally:
        link.stop()
    assert not os.path.lexists(link.path)
    link.stop()  # safe to repeat


def test_no_finger_answers_02_with_the_golden_bytes(host: Host) -> None:
    assert host.ask(r30x.gen_img()).code == Result.NO_FINGER
    assert bytes(host.raw) == bytes.fromhex("ef 01 ff ff ff ff 07 00 03 02 00 0c")


def test_identify_finds_the_page_holding_the_finger(
    host: Host, module: SimulatedFingerprintModule
) -> None:
    module.place("s2")
    hit = host.identify(CAPACITY)
    assert isinstance(hit, r30x.SearchHit)
    assert hit.page == 5
    assert 50 <= hit.score <= 200
    module.place("s1")
    hit = host.identify(CAPACITY)
    assert isinstance(hit, r30x.SearchHit) and hit.page == 0


def test_high_speed_search_finds_it_too(host: Host, module: SimulatedFingerprintModule) -> None:
    module.place("s2")
    assert host.capture(1) == Result.OK
    answer = host.ask(r30x.high_speed_search(1, 0, CAPACITY))
    hit = r30x.parse_search(answer)
    assert isinstance(hit, r30x.SearchHit) and hit.page == 5


def test_an_enrolled_finger_is_identified_afterwards(
    host: Host, module: SimulatedFingerprintModule
) -> None:
    # The person places the finger, lifts it, and places it again.
    module.place("s3")
    assert host.capture(1) == Result.OK
    module.place("s3")
    assert host.capture(2) == Result.OK
    assert host.ask(r30x.reg_model()).code == Result.OK
    assert host.ask(r30x.store(1, 7)).code == Result.OK
    assert r30x.parse_count(host.ask(r30x.template_count())) == 3
    assert module.library == {0: "s1", 5: "s2", 7: "s3"}

    module.place("s3")
    hit = host.identify(CAPACITY)
    assert isinstance(hit, r30x.SearchHit) and hit.page == 7


def test_two_different_fingers_do_not_combine(
    host: Host, module: SimulatedFingerprintModule
) -> None:
    module.place("s3")
    assert host.capture(1) == Result.OK
    module.place("s4")
    assert host.capture(2) == Result.OK
    assert host.ask(r30x.reg_model()).code == Result.COMBINE_FAILED


def test_an_unknown_finger_is_not_found(host: Host, module: SimulatedFingerprintModule) -> None:
    module.place_unknown()
    assert host.identify(CAPACITY) == Result.NOT_FOUND


def test_a_poor_finger_fails_at_img2tz(host: Host, module: SimulatedFingerprintModule) -> None:
    module.place_poor()
    assert host.ask(r30x.gen_img()).code == Result.OK
    assert host.ask(r30x.img2tz(1)).code in (Result.IMAGE_MESSY, Result.TOO_FEW_FEATURES)


def test_a_placed_finger_is_seen_by_one_identify_loop_once(
    host: Host, module: SimulatedFingerprintModule
) -> None:
    """An identify loop polling GenImg far faster than a real one gets one image."""
    module.place("s1")
    codes = []
    for _ in range(30):
        codes.append(host.ask(r30x.gen_img()).code)
        time.sleep(0.005)
    assert codes.count(Result.OK) == 1
    assert codes.count(Result.NO_FINGER) == 29


def test_a_silent_module_answers_nothing_until_the_fault_clears(
    host: Host, module: SimulatedFingerprintModule
) -> None:
    module.set_fault("silent")
    assert host.exchange(r30x.gen_img(), deadline=0.3) is None
    assert host.raw == b""
    module.set_fault("ok")
    assert host.ask(r30x.gen_img()).code == Result.NO_FINGER


def test_a_garbled_answer_fails_its_checksum_on_the_host(
    host: Host, module: SimulatedFingerprintModule
) -> None:
    module.set_fault("garble")
    module.place("s2")
    answer = host.exchange(r30x.gen_img())
    assert isinstance(answer, FrameError) and answer.reason.startswith("SUM")
    # The command was carried out all the same: the finger was imaged.
    module.set_fault("ok")
    assert host.ask(r30x.img2tz(1)).code == Result.OK


def test_a_module_with_a_password_wants_it_verified_first(start_link: StartLink) -> None:
    module = SimulatedFingerprintModule("reader-2", password=0x1234)
    host = start_link(module)
    assert host.ask(r30x.gen_img()).code == Result.VERIFY_PASSWORD_FIRST
    assert host.ask(r30x.verify_password(0x4321)).code == Result.WRONG_PASSWORD
    assert host.ask(r30x.gen_img()).code == Result.VERIFY_PASSWORD_FIRST
    assert host.ask(r30x.verify_password(0x1234)).code == Result.OK
    assert host.ask(r30x.gen_img()).code == Result.NO_FINGER


def test_the_default_password_is_0_and_needs_no_handshake(host: Host) -> None:
    assert host.ask(r30x.verify_password(0)).code == Result.OK
    assert host.ask(r30x.verify_password(1)).code == Result.WRONG_PASSWORD
    assert host.ask(r30x.gen_img()).code == Result.NO_FINGER


def test_a_module_answers_only_its_own_address(start_link: StartLink) -> None:
    module = SimulatedFingerprintModule("reader-3", address=0x0000_0007)
    host = start_link(module)
    assert host.exchange(r30x.gen_img(), deadline=0.3) is None
    assert host.ask(r30x.gen_img(7)).code == Result.NO_FINGER
    assert module.counters["ignored"] == 1


def test_a_command_with_a_bad_checksum_answers_01(host: Host) -> None:
    damaged = r30x.encode(r30x.gen_img())[:-1] + b"\x06"
    assert host.ask(damaged).code == Result.PACKET_ERROR


def test_line_noise_gets_no_answer(host: Host, module: SimulatedFingerprintModule) -> None:
    assert host.exchange(b"\x00\x55\xaa\x13", deadline=0.3) is None
    assert host.ask(r30x.gen_img()).code == Result.NO_FINGER
    assert module.counters["errors"] == 1
