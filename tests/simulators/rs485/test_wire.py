"""The wire model without threads or clocks: pacing, carrier sense, collisions, split frames."""

from __future__ import annotations

import pytest

from drivers.ff68 import codec as ff68
from drivers.imm import codec as imm
from simulators.rs485.wire import COLLISION_XOR, Wire

BT = 10 / 9600
WINDOW_3 = bytes.fromhex("aa 03 bb 51 54 ff 01 00 99 00 63 c7 eb 41 30 30 31 ba c5 ff")
SHOW_023 = bytes.fromhex("ff 68 08 08 68 01 02 0a 0a 0a 00 02 03 26 16")
BEEP_1 = bytes.fromhex("ff 68 02 02 68 01 03 04 16")
KEY_1_CALL = bytes.fromhex("ff 68 03 03 68 01 01 0c 0e 16")


def xor(data: bytes) -> bytes:
    return bytes(b ^ COLLISION_XOR for b in data)


def test_a_byte_takes_ten_bit_times() -> None:
    assert Wire(9600).byte_time == pytest.approx(BT)
    assert Wire(115200).byte_time == pytest.approx(10 / 115200)
    with pytest.raises(ValueError):
        Wire(0)


def test_a_frame_is_delivered_when_its_last_byte_has_crossed_the_wire() -> None:
    wire = Wire(9600)
    wire.host_write(WINDOW_3, now=1.0)
    assert wire.due_host(1.0 + 19.5 * BT) == []
    assert wire.due_host(1.0 + 20 * BT) == [(WINDOW_3, pytest.approx(1.0 + 20 * BT))]
    assert wire.due_host(5.0) == []


def test_bytes_written_while_the_wire_is_busy_queue_behind_the_earlier_ones() -> None:
    wire = Wire(9600)
    wire.host_write(SHOW_023, now=0.0)
    wire.host_write(BEEP_1, now=2 * BT)  # arrives while the show frame is on the wire
    assert wire.host_end == pytest.approx((15 + 9) * BT)
    delivered = wire.due_host(1.0)
    assert delivered == [
        (SHOW_023, pytest.approx(15 * BT)),
        (BEEP_1, pytest.approx(24 * BT)),
    ]


def test_bytes_after_an_idle_wire_start_when_they_arrive() -> None:
    wire = Wire(9600)
    wire.host_write(BEEP_1, now=0.0)
    wire.host_write(BEEP_1, now=1.0)
    assert [at for _, at in wire.due_host(2.0)] == [
        pytest.approx(9 * BT),
        pytest.approx(1.0 + 9 * BT),
    ]


def test_frames_in_one_write_are_delivered_each_at_its_own_end() -> None:
    wire = Wire(9600)
    stream = SHOW_023 + WINDOW_3 + BEEP_1
    wire.host_write(stream, now=0.0)
    assert wire.due_host(1.0) == [
        (SHOW_023, pytest.approx(15 * BT)),
        (WINDOW_3, pytest.approx(35 * BT)),
        (BEEP_1, pytest.approx(44 * BT)),
    ]


def test_bytes_no_codec_recognises_are_still_delivered_at_the_end_of_the_write() -> None:
    wire = Wire(9600)
    wire.host_write(b"\x01\x02\x03", now=0.0)
    assert wire.due_host(1.0) == [(b"\x01\x02\x03", pytest.approx(3 * BT))]


def test_carrier_sense_waits_for_the_hosts_last_byte() -> None:
    wire = Wire(9600)
    assert wire.idle(0.0)
    wire.host_write(SHOW_023, now=0.0)
    assert not wire.idle(14 * BT)
    assert wire.next_deadline(want_to_send=True) == pytest.approx(15 * BT)
    assert wire.idle(15 * BT)


def test_a_device_frame_leaves_byte_by_byte_and_holds_the_wire() -> None:
    wire = Wire(9600)
    tx = wire.start("tag", KEY_1_CALL, now=0.0)
    assert tx.started == 0.0
    assert not wire.idle(0.0)
    assert wire.due_tx(0.5 * BT) == (b"", None)
    assert wire.due_tx(3.5 * BT) == (KEY_1_CALL[:3], None)
    assert wire.next_deadline(want_to_send=False) == pytest.approx(4 * BT)
    data, finished = wire.due_tx(10 * BT)
    assert (data, finished) == (KEY_1_CALL[3:], tx)
    assert tx.finished == pytest.approx(10 * BT)
    assert wire.idle(10 * BT)
    assert wire.collisions == 0


def test_a_split_frame_pauses_before_its_second_part() -> None:
    wire = Wire(9600)
    wire.start("tag", KEY_1_CALL, now=0.0, split_at=5, pause=0.03)
    assert wire.due_tx(5 * BT)[0] == KEY_1_CALL[:5]
    assert wire.due_tx(0.03 + 5.9 * BT) == (b"", None)
    data, finished = wire.due_tx(0.03 + 10 * BT)
    assert data == KEY_1_CALL[5:]
    assert finished is not None and finished.finished == pytest.approx(0.03 + 10 * BT)


def test_host_bytes_on_a_talking_wire_collide_and_damage_both_frames() -> None:
    wire = Wire(9600)
    tx = wire.start("tag", KEY_1_CALL, now=0.0)
    assert wire.due_tx(3 * BT)[0] == KEY_1_CALL[:3]  # these reached the host intact
    wire.host_write(BEEP_1, now=3.5 * BT)  # starts while device byte 3 is on the wire
    assert wire.collisions == 1
    assert tx.collided_at == 3
    data, finished = wire.due_tx(1.0)
    assert finished is tx
    # The rest of the device frame is damaged from the byte the host met.
    assert data == xor(KEY_1_CALL[3:])
    # Host bytes on the wire with the device's (it ends at 10 BT) reach the devices damaged.
    [(delivered, _)] = wire.due_host(1.0)
    overlapping = 7  # host bytes starting at 3.5, 4.5, ... 9.5 BT
    assert delivered == xor(BEEP_1[:overlapping]) + BEEP_1[overlapping:]


def test_host_bytes_in_a_split_frames_pause_do_not_collide_if_they_end_before_it() -> None:
    wire = Wire(9600)
    wire.start("tag", KEY_1_CALL, now=0.0, split_at=5, pause=0.03)
    wire.host_write(BEEP_1, now=6 * BT)  # ends at 15 BT, the second part starts at 30 ms
    assert wire.collisions == 0
    assert wire.due_host(1.0) == [(BEEP_1, pytest.approx(15 * BT))]
    data, _ = wire.due_tx(1.0)
    assert data == KEY_1_CALL


def test_a_long_host_frame_in_the_pause_runs_into_the_second_part() -> None:
    wire = Wire(9600)
    tx = wire.start("tag", KEY_1_CALL, now=0.0, split_at=5, pause=0.03)
    wire.due_tx(5 * BT)
    long_frame = imm.encode(imm.ScreenText(3, imm.Selector.WINDOW, "A" * 40))
    wire.host_write(long_frame, now=6 * BT)
    assert wire.collisions == 1
    assert tx.collided_at == 5
    data, _ = wire.due_tx(1.0)
    assert data == xor(KEY_1_CALL[5:])
    [(delivered, _)] = wire.due_host(1.0)
    # Host bytes on the wire at the same time as the second part reach the screen damaged.
    part_2 = (0.03 + 5 * BT, 0.03 + 10 * BT)
    overlapping = [
        j for j in range(len(long_frame)) if (6 + j) * BT < part_2[1] and (7 + j) * BT > part_2[0]
    ]
    damaged = [i for i, (a, b) in enumerate(zip(delivered, long_frame, strict=True)) if a != b]
    assert damaged == overlapping and len(damaged) == 6  # 5 bytes, not aligned: 6 overlap
    assert not any(isinstance(item, imm.ScreenText) for item in imm.Decoder().feed(delivered))


def test_dropping_host_bytes_forgets_what_was_not_delivered() -> None:
    wire = Wire(9600)
    wire.host_write(SHOW_023, now=0.0)
    wire.drop_host(now=3 * BT)
    assert wire.due_host(1.0) == []
    assert wire.idle(3 * BT)
    # The scanner starts afresh: a frame after the drop is delivered on its own.
    wire.host_write(BEEP_1, now=1.0)
    assert wire.due_host(2.0) == [(BEEP_1, pytest.approx(1.0 + 9 * BT))]


def test_frame_end_batches_do_not_change_the_bytes() -> None:
    """However the stream is cut into writes, the devices get the same bytes in order."""
    stream = SHOW_023 + WINDOW_3 + b"\x00\xff" + KEY_1_CALL + BEEP_1
    for cut in range(1, len(stream)):
        wire = Wire(9600)
        wire.host_write(stream[:cut], now=0.0)
        wire.host_write(stream[cut:], now=0.001)
        assert b"".join(data for data, _ in wire.due_host(1.0)) == stream
    decoded = ff68.Decoder(from_device=False).feed(stream)
    assert ff68.Frame(1, 3, b"") in decoded


def test_a_device_listens_for_silence_before_it_talks() -> None:
    wire = Wire(9600, listen_bytes=3.5)
    wire.host_write(BEEP_1, now=0.0)
    assert not wire.idle(9 * BT)  # the host's frame has just ended
    assert wire.due_host(9 * BT) == [(BEEP_1, pytest.approx(9 * BT))]
    assert not wire.idle(12 * BT)
    assert wire.next_deadline(want_to_send=True) == pytest.approx(12.5 * BT)
    assert wire.idle(12.5 * BT)
    tx = wire.start("tag", KEY_1_CALL, now=12.5 * BT)
    assert wire.due_tx(1.0)[1] is tx
    assert not wire.idle(tx.ends[-1] + 3 * BT)
    assert wire.idle(tx.ends[-1] + 3.5 * BT)
