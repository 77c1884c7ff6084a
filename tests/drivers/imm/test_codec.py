"""IMM screen codec: golden vector both ways, stream decoding, faults, bounds, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codec import FrameError
from drivers.imm.codec import DEFAULT_MAX_FRAME, Decoder, ScreenText, Selector, encode
from tests.drivers.streams import apply_edits, edits, feed_chunks, merged

Item = ScreenText | FrameError

# Golden vector (PROTOCOLS.md §2). Its checksum byte happens to be ff, the end byte.
WINDOW_3 = bytes.fromhex("aa 03 bb 51 54 ff 01 00 99 00 63 c7 eb 41 30 30 31 ba c5 ff")
WINDOW_3_TEXT = ScreenText(3, Selector.WINDOW, "请A001号")
# Worked out by hand: hall screen 0 showing "A"; CS = 08+02+99+00+63+41+ff = 0x246 -> 46.
HALL_A = bytes.fromhex("aa 00 bb 51 54 46 08 02 99 00 63 41 ff")
HALL_A_TEXT = ScreenText(0, Selector.HALL, "A")


def frame_bytes(addr: int, sel: bytes, body: bytes) -> bytes:
    """A frame with a correct checksum around arbitrary ``sel`` and ``body`` (marker + text)."""
    checked = sel + body + b"\xff"
    return bytes([0xAA, addr]) + b"\xbb\x51\x54" + bytes([sum(checked) % 256]) + checked


def test_golden_vector_encodes_exactly() -> None:
    assert encode(WINDOW_3_TEXT) == WINDOW_3


def test_golden_vector_decodes() -> None:
    assert Decoder().feed(WINDOW_3) == [WINDOW_3_TEXT]


def test_hall_selector_both_ways() -> None:
    assert encode(HALL_A_TEXT) == HALL_A
    assert Decoder().feed(HALL_A) == [HALL_A_TEXT]


def test_selector_bytes() -> None:
    assert Selector.WINDOW.value == b"\x01\x00" and Selector.HALL.value == b"\x08\x02"


def test_empty_text_is_the_smallest_frame() -> None:
    wire = encode(ScreenText(7, Selector.WINDOW, ""))
    assert wire == bytes.fromhex("aa 07 bb 51 54 fc 01 00 99 00 63 ff")
    assert Decoder().feed(wire) == [ScreenText(7, Selector.WINDOW, "")]


def test_text_gbk_cannot_encode_is_refused_naming_the_character() -> None:
    with pytest.raises(ValueError, match=r"'😀' \(U\+1F600\) at position 2"):
        encode(ScreenText(1, Selector.WINDOW, "请A😀"))


@pytest.mark.parametrize("addr", [-1, 256])
def test_an_address_outside_a_byte_is_refused(addr: int) -> None:
    with pytest.raises(ValueError):
        encode(ScreenText(addr, Selector.WINDOW, "A"))


def test_max_frame_below_the_smallest_frame_is_refused() -> None:
    with pytest.raises(ValueError):
        Decoder(max_frame=11)


# --- stream decoding -------------------------------------------------------------


STREAM = WINDOW_3 + HALL_A + WINDOW_3
STREAM_TEXTS = [WINDOW_3_TEXT, HALL_A_TEXT, WINDOW_3_TEXT]


def test_several_frames_in_one_feed() -> None:
    assert Decoder().feed(STREAM) == STREAM_TEXTS


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_a_stream_split_at_any_byte_decodes_identically(cut: int) -> None:
    decoder = Decoder()
    assert feed_chunks(decoder, STREAM, [cut]) == STREAM_TEXTS
    assert decoder.buffered == b""


def test_a_stream_fed_one_byte_at_a_time_decodes_identically() -> None:
    assert feed_chunks(Decoder(), STREAM, range(1, len(STREAM))) == STREAM_TEXTS


def test_garbage_before_and_between_frames_is_skipped_and_reported() -> None:
    near_misses = b"\xaa\x01\xbb\x51\x00" + b"\xaa\xaa"  # an aa without bb 51 54 after the address
    stream = b"\x00\xff" + WINDOW_3 + near_misses + HALL_A + b"\x41"
    assert Decoder().feed(stream) == [
        FrameError("garbage", b"\x00\xff"),
        WINDOW_3_TEXT,
        FrameError("garbage", near_misses),
        HALL_A_TEXT,
        FrameError("garbage", b"\x41"),
    ]


def test_a_possible_header_at_the_end_of_a_feed_is_kept() -> None:
    decoder = Decoder()
    assert decoder.feed(b"\x01" + WINDOW_3[:4]) == [FrameError("garbage", b"\x01")]
    assert decoder.buffered == WINDOW_3[:4]
    assert decoder.feed(WINDOW_3[4:]) == [WINDOW_3_TEXT]


def test_reset_drops_a_partial_frame() -> None:
    decoder = Decoder()
    decoder.feed(WINDOW_3[:9])
    decoder.reset()
    assert decoder.feed(HALL_A) == [HALL_A_TEXT]


# --- faults ----------------------------------------------------------------------------


def test_a_bad_checksum_is_reported_with_the_frame_and_the_next_frame_decodes() -> None:
    bad = WINDOW_3[:5] + b"\xfe" + WINDOW_3[6:]
    assert Decoder().feed(bad + HALL_A) == [
        FrameError("checksum fe, should be ff", bad),
        HALL_A_TEXT,
    ]


def test_damaged_text_fails_the_checksum() -> None:
    bad = WINDOW_3.replace(b"A001", b"A002")
    [error, text] = Decoder().feed(bad + HALL_A)
    assert error == FrameError("checksum ff, should be 00", bad) and text == HALL_A_TEXT


def test_an_unknown_selector_is_reported() -> None:
    bad = frame_bytes(3, b"\x02\x00", b"\x99\x00\x63A")
    assert Decoder().feed(bad + HALL_A) == [
        FrameError("unknown selector 02 00", bad),
        HALL_A_TEXT,
    ]


def test_a_missing_99_00_63_is_reported() -> None:
    bad = frame_bytes(3, b"\x01\x00", b"\x99\x00\x64A")
    assert Decoder().feed(bad + HALL_A) == [
        FrameError("no 99 00 63 after the selector", bad),
        HALL_A_TEXT,
    ]


@pytest.mark.parametrize(
    "text", [b"\xc7", b"A\x81\x20", b"\x80", b"\xfe\x7f"], ids=["cut", "bad-trail", "80", "7f"]
)
def test_text_that_is_not_gbk_is_reported(text: bytes) -> None:
    bad = frame_bytes(3, b"\x01\x00", b"\x99\x00\x63" + text)
    [error, good] = Decoder().feed(bad + WINDOW_3)
    assert isinstance(error, FrameError) and error.data == bad
    assert error.reason.startswith("text is not GBK") and good == WINDOW_3_TEXT


def test_a_frame_ending_before_its_text_is_reported() -> None:
    bad = bytes.fromhex("aa 03 bb 51 54 00 01 00 ff")
    assert Decoder().feed(bad + HALL_A) == [
        FrameError("frame ends before its text", bad),
        HALL_A_TEXT,
    ]


def test_a_frame_starting_inside_a_bad_one_is_not_lost() -> None:
    # A frame cut off before its ff runs into the next one; the next one still decodes.
    truncated = WINDOW_3[:12]
    items = Decoder().feed(truncated + HALL_A)
    assert items[-1] == HALL_A_TEXT
    assert isinstance(items[0], FrameError) and items[0].data == truncated + HALL_A
    assert len(items) == 2


def test_an_overlong_frame_is_dropped_and_the_decoder_resyncs() -> None:
    header = WINDOW_3[:11]
    overlong = header + b"A" * 40
    decoder = Decoder(max_frame=32)
    assert decoder.feed(overlong + HALL_A) == [
        FrameError("no ff within 32 bytes", overlong[:32]),
        FrameError("garbage", overlong[32:]),
        HALL_A_TEXT,
    ]


def test_a_frame_of_exactly_max_frame_bytes_decodes_and_one_more_does_not() -> None:
    fits = encode(ScreenText(1, Selector.WINDOW, "A" * 20))
    assert len(fits) == 32
    assert Decoder(max_frame=32).feed(fits) == [ScreenText(1, Selector.WINDOW, "A" * 20)]
    too_long = encode(ScreenText(1, Selector.WINDOW, "A" * 21))
    [error, *_] = Decoder(max_frame=32).feed(too_long)
    assert error == FrameError("no ff within 32 bytes", too_long[:32])


def test_noise_after_a_header_cannot_grow_the_buffer_without_bound() -> None:
    decoder = Decoder()
    decoder.feed(WINDOW_3[:11])
    for _ in range(50):
        decoder.feed(b"\x41" * 100)
        assert len(decoder.buffered) < DEFAULT_MAX_FRAME
    assert decoder.feed(HALL_A)[-1] == HALL_A_TEXT


# --- properties ------------------------------------------------------------------------------


def check_texts_came_from(items: list[Item], stream: bytes) -> None:
    """Every decoded message is a well-formed frame that was on the wire byte for byte."""
    for item in items:
        if isinstance(item, FrameError):
            assert item.data, item
            continue
        assert isinstance(item, ScreenText)
        wire = encode(item)
        assert wire in stream
        assert wire[0] == 0xAA and wire[2:5] == b"\xbb\x51\x54" and wire[8:11] == b"\x99\x00\x63"
        assert wire[5] == sum(wire[6:]) % 256
        assert wire.index(b"\xff", 6) == len(wire) - 1


cut_lists = st.lists(st.integers(min_value=0, max_value=400), max_size=12)


@settings(max_examples=150, deadline=None)
@given(stream=st.binary(max_size=200), cuts=cut_lists, max_frame=st.sampled_from([12, 40, 512]))
def test_random_bytes_never_raise_and_decode_the_same_however_chunked(
    stream: bytes, cuts: list[int], max_frame: int
) -> None:
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    decoder = Decoder(max_frame)
    items = feed_chunks(decoder, stream, cuts)
    check_texts_came_from(items, stream)
    assert merged(items) == merged(Decoder(max_frame).feed(stream))
    assert len(decoder.buffered) < max_frame


texts = st.builds(
    ScreenText,
    addr=st.integers(0, 255),
    selector=st.sampled_from(Selector),
    text=st.text(st.characters(codec="gbk"), max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(
    sent=st.lists(texts, min_size=1, max_size=4),
    changes=edits,
    noise=st.binary(max_size=4),
    cuts=cut_lists,
)
def test_damaged_streams_never_raise_and_yield_only_texts_that_were_sent(
    sent: list[ScreenText], changes: list[tuple[str, int, int]], noise: bytes, cuts: list[int]
) -> None:
    clean = b"".join(encode(message) for message in sent)
    stream = apply_edits(noise + clean, changes)
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    items = feed_chunks(Decoder(), stream, cuts)
    check_texts_came_from(items, stream)
    if not changes and not noise:
        assert items == sent
