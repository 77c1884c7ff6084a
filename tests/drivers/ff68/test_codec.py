"""FF68 codec: golden vectors both ways, stream decoding, faults, typed messages, fuzzing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codec import FrameError
from drivers.ff68.codec import (
    CONFIRM_CALLBACK,
    CONFIRM_HOLD,
    CONFIRM_SKIP,
    KEY_CALL,
    KEY_CONFIRM,
    KEY_PAUSE,
    KEY_RATE,
    KEY_RECALL,
    KEY_TRANSFER,
    Decoder,
    Frame,
    KeyPress,
    PadKey,
    beep,
    echo,
    encode,
    key_press,
    pad_ack,
    pad_key,
    parse_key_press,
    parse_pad_key,
    show,
    show_stars,
    start_rating,
)
from tests.drivers.streams import apply_edits, edits, feed_chunks, merged

Item = Frame | FrameError

# --- golden vectors (PROTOCOLS.md §1) ----------------------------------------

SHOW_023 = bytes.fromhex("ff 68 08 08 68 01 02 0a 0a 0a 00 02 03 26 16")
BEEP_1 = bytes.fromhex("ff 68 02 02 68 01 03 04 16")
PAD_5_KEY_1 = bytes.fromhex("ff 68 03 03 68 05 11 01 17 16")
PAD_5_ACK_1 = bytes.fromhex("ff 68 03 03 68 05 01 01 07 16")
PAD_5_START = bytes.fromhex("ff 68 03 03 68 05 01 0b 11 16")
# Not from PROTOCOLS.md, worked out by hand: keypad 2 types 1 2 then transfer
# (CS = 02 + 01 + 01 + 02 + 13 = 19); keypad 7 types 6 then confirm (CS = 07 + 01 + 06 + 0f).
KEYPAD_2_TRANSFER_12 = bytes.fromhex("ff 68 05 05 68 02 01 01 02 13 19 16")
KEYPAD_7_SKIP = bytes.fromhex("ff 68 04 04 68 07 01 06 0f 1d 16")
KEYPAD_1_CALL = bytes.fromhex("ff 68 03 03 68 01 01 0c 0e 16")

HOST_GOLDEN: list[tuple[str, Frame, bytes]] = [
    ("show ticket 023, no count", show(1, None, 23), SHOW_023),
    ("beep", beep(1), BEEP_1),
    ("pad ack", pad_ack(pad_key(5, 1)), PAD_5_ACK_1),
    ("start rating", start_rating(5), PAD_5_START),
]


@pytest.mark.parametrize(("name", "frame", "wire"), HOST_GOLDEN, ids=[g[0] for g in HOST_GOLDEN])
def test_host_golden_vectors_encode_exactly(name: str, frame: Frame, wire: bytes) -> None:
    assert encode(frame) == wire


@pytest.mark.parametrize(("name", "frame", "wire"), HOST_GOLDEN, ids=[g[0] for g in HOST_GOLDEN])
def test_host_golden_vectors_decode_on_the_device_side(
    name: str, frame: Frame, wire: bytes
) -> None:
    assert Decoder(from_device=False).feed(wire) == [frame]


def test_show_golden_vector_decodes_to_the_digits_on_the_wire() -> None:
    [frame] = Decoder(from_device=False).feed(SHOW_023)
    assert frame == Frame(1, 0x02, bytes([0x0A, 0x0A, 0x0A, 0, 2, 3]))
    assert frame.checksum == 0x26


def test_beep_and_start_rating_golden_vectors_decode_to_their_fields() -> None:
    assert Decoder(from_device=False).feed(BEEP_1 + PAD_5_START) == [
        Frame(1, 0x03, b""),
        Frame(5, 0x01, b"\x0b"),
    ]


def test_pad_key_golden_vector_both_ways() -> None:
    assert encode(pad_key(5, 1)) == PAD_5_KEY_1
    [frame] = Decoder(from_device=True).feed(PAD_5_KEY_1)
    assert frame == Frame(5, 0x11, b"\x01")
    assert parse_pad_key(frame) == PadKey(5, 1)


def test_pad_ack_golden_vector_from_the_frame_and_from_the_message() -> None:
    [frame] = Decoder(from_device=True).feed(PAD_5_KEY_1)
    assert encode(pad_ack(frame)) == PAD_5_ACK_1
    assert encode(pad_ack(PadKey(5, 1))) == PAD_5_ACK_1
    # The ack's checksum is the pad frame's minus 0x10, as PROTOCOLS.md says.
    assert pad_ack(frame).checksum == frame.checksum - 0x10


@pytest.mark.parametrize(
    ("wire", "built", "message"),
    [
        (KEYPAD_2_TRANSFER_12, key_press(2, KEY_TRANSFER, (1, 2)), KeyPress(2, (1, 2), 0x13)),
        (KEYPAD_7_SKIP, key_press(7, KEY_CONFIRM, (CONFIRM_SKIP,)), KeyPress(7, (6,), 0x0F)),
        (KEYPAD_1_CALL, key_press(1, KEY_CALL), KeyPress(1, (), 0x0C)),
    ],
)
def test_keypad_frames_both_ways(wire: bytes, built: Frame, message: KeyPress) -> None:
    assert encode(built) == wire
    [frame] = Decoder(from_device=True).feed(wire)
    assert frame == built
    assert parse_key_press(frame) == message
    # The host acknowledges a keypad frame by echoing it unchanged.
    assert encode(echo(frame)) == wire


def test_key_constants_match_the_protocol_table() -> None:
    assert (KEY_CALL, KEY_RECALL, KEY_RATE, KEY_PAUSE, KEY_TRANSFER, KEY_CONFIRM) == (
        0x0C,
        0x0D,
        0x0B,
        0x12,
        0x13,
        0x0F,
    )
    assert (CONFIRM_SKIP, CONFIRM_HOLD, CONFIRM_CALLBACK) == (6, 0, 3)


# --- stream decoding -----------------------------------------------------------


STREAM = PAD_5_KEY_1 + KEYPAD_2_TRANSFER_12 + KEYPAD_7_SKIP
STREAM_FRAMES = [pad_key(5, 1), key_press(2, KEY_TRANSFER, (1, 2)), key_press(7, KEY_CONFIRM, (6,))]


def test_several_frames_in_one_feed() -> None:
    assert Decoder(from_device=True).feed(STREAM) == STREAM_FRAMES


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_a_stream_split_at_any_byte_decodes_identically(cut: int) -> None:
    decoder = Decoder(from_device=True)
    assert feed_chunks(decoder, STREAM, [cut]) == STREAM_FRAMES
    assert decoder.buffered == b""


def test_a_stream_fed_one_byte_at_a_time_decodes_identically() -> None:
    assert feed_chunks(Decoder(True), STREAM, range(1, len(STREAM))) == STREAM_FRAMES


def test_a_partial_frame_is_kept_until_the_rest_arrives() -> None:
    decoder = Decoder(from_device=True)
    assert decoder.feed(PAD_5_KEY_1[:6]) == []
    assert decoder.buffered == PAD_5_KEY_1[:6]
    assert decoder.feed(PAD_5_KEY_1[6:]) == [pad_key(5, 1)]
    assert decoder.buffered == b""


def test_garbage_before_and_between_frames_is_skipped_and_reported() -> None:
    stream = b"\x00\x16\x68" + PAD_5_KEY_1 + b"\xff\xff\x01" + KEYPAD_1_CALL + b"\x16"
    assert Decoder(from_device=True).feed(stream) == [
        FrameError("garbage", b"\x00\x16\x68"),
        pad_key(5, 1),
        FrameError("garbage", b"\xff\xff\x01"),
        key_press(1, KEY_CALL),
        FrameError("garbage", b"\x16"),
    ]


def test_a_trailing_ff_is_kept_as_a_possible_start() -> None:
    decoder = Decoder(from_device=True)
    assert decoder.feed(b"\x01\xff") == [FrameError("garbage", b"\x01")]
    assert decoder.feed(PAD_5_KEY_1[1:]) == [pad_key(5, 1)]


def test_garbage_is_coalesced_into_one_error_per_feed() -> None:
    decoder = Decoder(from_device=True)
    assert decoder.feed(bytes(range(0x20))) == [FrameError("garbage", bytes(range(0x20)))]
    assert decoder.feed(b"\x68\xff\x00") == [FrameError("garbage", b"\x68\xff\x00")]


def test_reset_drops_a_partial_frame() -> None:
    decoder = Decoder(from_device=True)
    decoder.feed(PAD_5_KEY_1[:5])
    decoder.reset()
    assert decoder.buffered == b""
    assert decoder.feed(PAD_5_KEY_1[5:] + KEYPAD_1_CALL) == [
        FrameError("garbage", PAD_5_KEY_1[5:]),
        key_press(1, KEY_CALL),
    ]


# --- faults ---------------------------------------------------------------------


def test_mismatched_length_copies_are_reported_and_the_next_frame_decodes() -> None:
    bad = bytes.fromhex("ff 68 03 04 68 05 11 01 17 16")
    assert Decoder(from_device=True).feed(bad + KEYPAD_1_CALL) == [
        FrameError("length copies differ (3 != 4)", bad[:4]),
        FrameError("garbage", bad[4:]),
        key_press(1, KEY_CALL),
    ]


def test_length_above_8_is_reported_and_the_next_frame_decodes() -> None:
    bad = bytes.fromhex("ff 68 09 09 68 01 02 00 00 00 00 00 00 00 0b 16")
    assert Decoder(from_device=False).feed(bad + BEEP_1) == [
        FrameError("length 9 > 8", bad[:3]),
        FrameError("garbage", bad[3:]),
        beep(1),
    ]


def test_a_missing_68_after_the_lengths_is_reported() -> None:
    bad = bytes.fromhex("ff 68 03 03 69 05 11 01 17 16")
    items = Decoder(from_device=True).feed(bad + PAD_5_KEY_1)
    assert items[0] == FrameError("no 68 after the length (got 69)", bad[:5])
    assert items[-1] == pad_key(5, 1)


def test_length_2_is_refused_from_a_device_but_accepted_from_the_host() -> None:
    # A Beep is a host frame: a device never sends a frame without data.
    assert Decoder(from_device=True).feed(BEEP_1 + PAD_5_KEY_1) == [
        FrameError("length 2 too short for a device frame", BEEP_1),
        pad_key(5, 1),
    ]
    assert Decoder(from_device=False).feed(BEEP_1 + PAD_5_START) == [beep(1), start_rating(5)]


@pytest.mark.parametrize("from_device", [True, False])
@pytest.mark.parametrize("length", [0, 1])
def test_lengths_below_addr_and_func_are_refused_on_both_sides(
    from_device: bool, length: int
) -> None:
    bad = bytes([0xFF, 0x68, length, length, 0x68]) + bytes(length) + b"\x00\x16"
    items = Decoder(from_device).feed(bad + PAD_5_KEY_1)
    assert items == [FrameError(items[0].reason, bad), pad_key(5, 1)]  # type: ignore[union-attr]
    assert "too short" in items[0].reason  # type: ignore[union-attr]


def test_a_wrong_end_byte_is_reported_with_the_whole_frame() -> None:
    bad = PAD_5_KEY_1[:-1] + b"\x17"
    assert Decoder(from_device=True).feed(bad + KEYPAD_1_CALL) == [
        FrameError("end byte 17, not 16", bad),
        key_press(1, KEY_CALL),
    ]


def test_a_bad_checksum_is_reported_with_the_whole_frame() -> None:
    bad = bytes.fromhex("ff 68 03 03 68 05 11 01 18 16")
    assert Decoder(from_device=True).feed(bad + KEYPAD_1_CALL) == [
        FrameError("checksum 18, should be 17", bad),
        key_press(1, KEY_CALL),
    ]


def test_a_frame_starting_inside_a_truncated_one_is_not_lost() -> None:
    # The pad's frame was cut short; its would-be bytes run into the next frame.
    truncated = PAD_5_KEY_1[:7]
    items = Decoder(from_device=True).feed(truncated + KEYPAD_1_CALL)
    assert items == [
        FrameError("end byte 03, not 16", (truncated + KEYPAD_1_CALL)[:10]),
        key_press(1, KEY_CALL),
    ]


def test_a_fault_split_across_feeds_is_reported_once() -> None:
    bad = bytes.fromhex("ff 68 03 03 68 05 11 01 18 16")
    decoder = Decoder(from_device=True)
    assert decoder.feed(bad[:8]) == []
    assert decoder.feed(bad[8:] + PAD_5_KEY_1) == [
        FrameError("checksum 18, should be 17", bad),
        pad_key(5, 1),
    ]


MIDDLE_AT = len(PAD_5_KEY_1)


def _edits_of_the_middle_frame() -> list[tuple[str, bytes]]:
    """The stream with its middle frame damaged by every one-byte flip, insertion, deletion."""
    middle = range(MIDDLE_AT, MIDDLE_AT + len(KEYPAD_2_TRANSFER_12))
    edits: list[tuple[str, bytes]] = []
    for at in middle:
        edits.append((f"delete {at}", STREAM[:at] + STREAM[at + 1 :]))
        for value in range(256):
            if value != STREAM[at]:
                edits.append(
                    (f"set {at}={value:02x}", STREAM[:at] + bytes([value]) + STREAM[at + 1 :])
                )
            edits.append((f"insert {at}={value:02x}", STREAM[:at] + bytes([value]) + STREAM[at:]))
    return edits


def test_any_one_byte_damage_to_a_frame_loses_only_that_frame() -> None:
    first, _, last = STREAM_FRAMES
    for name, stream in _edits_of_the_middle_frame():
        items = Decoder(from_device=True).feed(stream)
        frames = [item for item in items if isinstance(item, Frame)]
        assert frames[0] == first and frames[-1] == last, name
        assert any(isinstance(item, FrameError) for item in items), name
        for frame in frames:
            assert encode(frame) in stream, name


# --- typed messages ----------------------------------------------------------------


def test_digits_typed_before_transfer_are_the_target_window() -> None:
    message = parse_key_press(key_press(3, KEY_TRANSFER, [1, 0]))
    assert message == KeyPress(3, (1, 0), KEY_TRANSFER)
    assert isinstance(message, KeyPress) and message.number == 10


@pytest.mark.parametrize("digit", [CONFIRM_SKIP, CONFIRM_HOLD, CONFIRM_CALLBACK])
def test_confirm_carries_its_digit(digit: int) -> None:
    assert parse_key_press(Frame(4, 0x01, bytes([digit, 0x0F]))) == KeyPress(4, (digit,), 0x0F)


def test_a_key_alone_has_no_digits() -> None:
    message = parse_key_press(Frame(4, 0x01, b"\x0d"))
    assert message == KeyPress(4, (), KEY_RECALL)
    assert isinstance(message, KeyPress) and message.number is None


def test_keypad_frames_with_another_func_are_still_key_presses() -> None:
    assert parse_key_press(Frame(4, 0x05, b"\x12")) == KeyPress(4, (), KEY_PAUSE)


@pytest.mark.parametrize(
    "frame",
    [
        Frame(4, 0x01, b"\x0a\x13"),  # 0a is not a digit
        Frame(4, 0x01, b"\x01\xff\x0f"),
        Frame(4, 0x01, b""),  # no key
        Frame(4, 0x11, b"\x01"),  # an evaluation pad's frame
    ],
)
def test_malformed_keypad_frames_are_errors_carrying_the_frame(frame: Frame) -> None:
    result = parse_key_press(frame)
    assert isinstance(result, FrameError) and result.data == encode(frame)


@pytest.mark.parametrize("key", range(5))
def test_pad_keys_0_to_4_parse(key: int) -> None:
    assert parse_pad_key(Frame(9, 0x11, bytes([key]))) == PadKey(9, key)


@pytest.mark.parametrize(
    "frame",
    [
        Frame(9, 0x01, b"\x01"),  # not func 11
        Frame(9, 0x11, b""),
        Frame(9, 0x11, b"\x01\x02"),
        Frame(9, 0x11, b"\x05"),
    ],
)
def test_malformed_pad_frames_are_errors_carrying_the_frame(frame: Frame) -> None:
    result = parse_pad_key(frame)
    assert isinstance(result, FrameError) and result.data == encode(frame)


# --- builders and encode validation ---------------------------------------------------


@pytest.mark.parametrize(
    ("waiting", "number", "digits"),
    [
        (None, None, "0a 0a 0a 0a 0a 0a"),
        (5, 7, "00 00 05 00 00 07"),
        (0, 999, "00 00 00 09 09 09"),
        (1000, 123456, "09 09 09 09 09 09"),
        (42, None, "00 04 02 0a 0a 0a"),
    ],
)
def test_show_digits(waiting: int | None, number: int | None, digits: str) -> None:
    assert show(1, waiting, number).data == bytes.fromhex(digits)


def test_show_stars_sends_the_level() -> None:
    assert encode(show_stars(5, 4)) == bytes.fromhex("ff 68 03 03 68 05 02 04 0b 16")


@pytest.mark.parametrize(
    "build",
    [
        lambda: show(1, -1, None),
        lambda: show_stars(5, 0),
        lambda: show_stars(5, 6),
        lambda: key_press(1, KEY_TRANSFER, (1, 10)),
        lambda: key_press(1, KEY_TRANSFER, (1, 2, 3, 4, 5, 6)),  # L = 9
        lambda: key_press(1, 256),
        lambda: pad_key(5, 5),
        lambda: pad_ack(key_press(5, KEY_CALL)),
        lambda: beep(256),
    ],
)
def test_builders_refuse_what_cannot_be_sent(build: Callable[[], Frame]) -> None:
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize(
    "frame",
    [
        Frame(256, 0x01, b"\x0c"),
        Frame(-1, 0x01, b"\x0c"),
        Frame(1, 0x100, b"\x0c"),
        Frame(1, 0x01, [0x0C, 300]),  # type: ignore[arg-type]
        Frame(1, 0x01, bytes(7)),  # L = 9
    ],
)
def test_encode_refuses_out_of_range_fields(frame: Frame) -> None:
    with pytest.raises(ValueError):
        encode(frame)


def test_encode_accepts_the_longest_frame() -> None:
    assert encode(Frame(1, 0x02, bytes(6)))[2:4] == b"\x08\x08"


# --- properties --------------------------------------------------------------------------


def check_frames_came_from(items: list[Item], stream: bytes, from_device: bool) -> None:
    """Every decoded frame is a well-formed frame that was on the wire byte for byte."""
    for item in items:
        if isinstance(item, FrameError):
            assert item.data, item
            continue
        assert isinstance(item, Frame)
        wire = encode(item)
        assert wire in stream
        length = wire[2]
        assert (3 if from_device else 2) <= length <= 8
        assert wire[3] == length == 2 + len(item.data)
        assert wire[-2] == (item.addr + item.func + sum(item.data)) % 256
        assert wire[-1] == 0x16


cut_lists = st.lists(st.integers(min_value=0, max_value=400), max_size=12)


@settings(max_examples=150, deadline=None)
@given(stream=st.binary(max_size=200), cuts=cut_lists, from_device=st.booleans())
def test_random_bytes_never_raise_and_decode_the_same_however_chunked(
    stream: bytes, cuts: list[int], from_device: bool
) -> None:
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    decoder = Decoder(from_device)
    items = feed_chunks(decoder, stream, cuts)
    check_frames_came_from(items, stream, from_device)
    assert merged(items) == merged(Decoder(from_device).feed(stream))
    assert len(decoder.buffered) <= 15


frames = st.builds(
    Frame,
    addr=st.integers(0, 255),
    func=st.integers(0, 255),
    data=st.binary(min_size=1, max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(
    sent=st.lists(frames, min_size=1, max_size=5),
    changes=edits,
    noise=st.binary(max_size=4),
    cuts=cut_lists,
)
def test_damaged_streams_never_raise_and_yield_only_frames_that_were_sent(
    sent: list[Frame], changes: list[tuple[str, int, int]], noise: bytes, cuts: list[int]
) -> None:
    clean = b"".join(encode(frame) for frame in sent)
    stream = apply_edits(noise + clean, changes)
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    items = feed_chunks(Decoder(from_device=True), stream, cuts)
    check_frames_came_from(items, stream, from_device=True)
    if not changes and not noise:
        assert items == sent
