"""R30x codec: golden vectors both ways, stream decoding, faults, typed messages, fuzzing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codec import FrameError
from drivers.r30x.codec import (
    DEFAULT_ADDRESS,
    MAX_PAYLOAD,
    Ack,
    Command,
    Decoder,
    Instruction,
    Packet,
    PacketType,
    Result,
    SearchHit,
    ack,
    count_ack,
    delete,
    encode,
    gen_img,
    high_speed_search,
    img2tz,
    parse_ack,
    parse_command,
    parse_count,
    parse_search,
    reg_model,
    search,
    search_ack,
    store,
    template_count,
    verify_password,
)
from tests.drivers.streams import apply_edits, edits, feed_chunks, merged

Item = Packet | FrameError
BROADCAST = DEFAULT_ADDRESS

# --- golden vectors (PROTOCOLS.md §3) --------------------------------------------------

GEN_IMG = bytes.fromhex("ef 01 ff ff ff ff 01 00 03 01 00 05")
ACK_OK = bytes.fromhex("ef 01 ff ff ff ff 07 00 03 00 00 0a")
ACK_NO_FINGER = bytes.fromhex("ef 01 ff ff ff ff 07 00 03 02 00 0c")

# Not from PROTOCOLS.md: derived by hand from its LEN and SUM rules. SUM adds the
# type, both LEN bytes and the payload; the address is not in it.
COMMANDS: list[tuple[str, Packet, bytes, Command]] = [
    # 01 + 00 04 + 02 01 = 08
    (
        "Img2Tz(1)",
        img2tz(1),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 04 02 01 00 08"),
        Command(Instruction.IMG2TZ, buffer=1),
    ),
    # 01 + 00 04 + 02 02 = 09
    (
        "Img2Tz(2)",
        img2tz(2),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 04 02 02 00 09"),
        Command(Instruction.IMG2TZ, buffer=2),
    ),
    # 01 + 00 08 + 04 01 00 00 00 c8 = d6
    (
        "Search(1, 0, 200)",
        search(1, 0, 200),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 08 04 01 00 00 00 c8 00 d6"),
        Command(Instruction.SEARCH, buffer=1, start=0, count=200),
    ),
    # 01 + 00 08 + 1b 01 00 00 00 c8 = ed
    (
        "HighSpeedSearch(1, 0, 200)",
        high_speed_search(1, 0, 200),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 08 1b 01 00 00 00 c8 00 ed"),
        Command(Instruction.HIGH_SPEED_SEARCH, buffer=1, start=0, count=200),
    ),
    # 01 + 00 08 + 1b 01 00 00 03 e8 = 0110: SUM's high byte in use
    (
        "HighSpeedSearch(1, 0, 1000)",
        high_speed_search(1, 0, 1000),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 08 1b 01 00 00 03 e8 01 10"),
        Command(Instruction.HIGH_SPEED_SEARCH, buffer=1, start=0, count=1000),
    ),
    # 01 + 00 03 + 05 = 09
    (
        "RegModel",
        reg_model(),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 03 05 00 09"),
        Command(Instruction.REG_MODEL),
    ),
    # 01 + 00 06 + 06 01 00 07 = 15
    (
        "Store(1, 7)",
        store(1, 7),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 06 06 01 00 07 00 15"),
        Command(Instruction.STORE, buffer=1, page=7),
    ),
    # 01 + 00 07 + 0c 00 07 00 01 = 1c
    (
        "Delete(7, 1)",
        delete(7, 1),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 07 0c 00 07 00 01 00 1c"),
        Command(Instruction.DELETE, page=7, count=1),
    ),
    # 01 + 00 07 + 13 00 00 00 00 = 1b
    (
        "VerifyPassword(0)",
        verify_password(0),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 07 13 00 00 00 00 00 1b"),
        Command(Instruction.VERIFY_PASSWORD, password=0),
    ),
    # 01 + 00 07 + 13 12 34 56 78 = 012f
    (
        "VerifyPassword(0x12345678)",
        verify_password(0x12345678),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 07 13 12 34 56 78 01 2f"),
        Command(Instruction.VERIFY_PASSWORD, password=0x12345678),
    ),
    # 01 + 00 03 + 1d = 21
    (
        "TemplateCount",
        template_count(),
        bytes.fromhex("ef 01 ff ff ff ff 01 00 03 1d 00 21"),
        Command(Instruction.TEMPLATE_COUNT),
    ),
    # the address is outside SUM: same SUM as the golden GenImg
    (
        "GenImg to module 12345678",
        gen_img(0x12345678),
        bytes.fromhex("ef 01 12 34 56 78 01 00 03 01 00 05"),
        Command(Instruction.GEN_IMG),
    ),
]

# Derived by hand too: 07 + 00 07 + 00 00 07 00 78 = 8d (page 7, score 120);
# 07 + 00 05 + 00 00 02 = 0e (two templates); 07 + 00 03 + 09 = 13; 07 + 00 03 + 13 = 1d.
SEARCH_HIT_7 = bytes.fromhex("ef 01 ff ff ff ff 07 00 07 00 00 07 00 78 00 8d")
COUNT_2 = bytes.fromhex("ef 01 ff ff ff ff 07 00 05 00 00 02 00 0e")
ACK_NOT_FOUND = bytes.fromhex("ef 01 ff ff ff ff 07 00 03 09 00 13")
ACK_WRONG_PASSWORD = bytes.fromhex("ef 01 ff ff ff ff 07 00 03 13 00 1d")


def test_gen_img_golden_vector_both_ways() -> None:
    assert encode(gen_img()) == GEN_IMG
    [packet] = Decoder().feed(GEN_IMG)
    assert packet == Packet(BROADCAST, PacketType.COMMAND, b"\x01")
    assert isinstance(packet, Packet)
    assert parse_command(packet) == Command(Instruction.GEN_IMG)


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (ACK_OK, Result.OK),
        (ACK_NO_FINGER, Result.NO_FINGER),
        (ACK_NOT_FOUND, Result.NOT_FOUND),
        (ACK_WRONG_PASSWORD, Result.WRONG_PASSWORD),
    ],
)
def test_plain_acks_both_ways(wire: bytes, code: Result) -> None:
    assert encode(ack(code)) == wire
    [packet] = Decoder().feed(wire)
    assert packet == Packet(BROADCAST, PacketType.ACK, bytes([code]))
    assert isinstance(packet, Packet)
    assert parse_ack(packet) == Ack(code)


@pytest.mark.parametrize(
    ("name", "packet", "wire", "command"), COMMANDS, ids=[c[0] for c in COMMANDS]
)
def test_every_instruction_both_ways(
    name: str, packet: Packet, wire: bytes, command: Command
) -> None:
    assert encode(packet) == wire
    assert Decoder().feed(wire) == [packet]
    assert parse_command(packet) == command


def test_a_search_hit_both_ways() -> None:
    assert encode(search_ack(7, 120)) == SEARCH_HIT_7
    [packet] = Decoder().feed(SEARCH_HIT_7)
    assert isinstance(packet, Packet)
    answer = parse_ack(packet)
    assert answer == Ack(Result.OK, bytes.fromhex("00 07 00 78"))
    assert isinstance(answer, Ack) and answer.ok
    assert parse_search(answer) == SearchHit(page=7, score=120)


def test_a_template_count_both_ways() -> None:
    assert encode(count_ack(2)) == COUNT_2
    [packet] = Decoder().feed(COUNT_2)
    assert isinstance(packet, Packet)
    answer = parse_ack(packet)
    assert isinstance(answer, Ack)
    assert parse_count(answer) == 2


def test_constants_match_the_protocol() -> None:
    assert [int(i) for i in Instruction] == [0x01, 0x02, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x1B, 0x1D]
    assert [int(t) for t in PacketType] == [0x01, 0x02, 0x07, 0x08]
    named = {
        Result.OK: 0x00,
        Result.PACKET_ERROR: 0x01,
        Result.NO_FINGER: 0x02,
        Result.IMAGE_FAILED: 0x03,
        Result.IMAGE_MESSY: 0x06,
        Result.TOO_FEW_FEATURES: 0x07,
        Result.NOT_FOUND: 0x09,
        Result.WRONG_PASSWORD: 0x13,
    }
    assert all(code == value for code, value in named.items())


# --- stream decoding -------------------------------------------------------------------


STREAM = GEN_IMG + SEARCH_HIT_7 + ACK_NO_FINGER
STREAM_PACKETS = [gen_img(), search_ack(7, 120), ack(Result.NO_FINGER)]


def test_several_packets_in_one_feed() -> None:
    assert Decoder().feed(STREAM) == STREAM_PACKETS


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_a_stream_split_at_any_byte_decodes_identically(cut: int) -> None:
    decoder = Decoder()
    assert feed_chunks(decoder, STREAM, [cut]) == STREAM_PACKETS
    assert decoder.buffered == b""


def test_a_stream_fed_one_byte_at_a_time_decodes_identically() -> None:
    assert feed_chunks(Decoder(), STREAM, range(1, len(STREAM))) == STREAM_PACKETS


def test_a_partial_packet_is_kept_until_the_rest_arrives() -> None:
    decoder = Decoder()
    assert decoder.feed(SEARCH_HIT_7[:10]) == []
    assert decoder.buffered == SEARCH_HIT_7[:10]
    assert decoder.feed(SEARCH_HIT_7[10:]) == [search_ack(7, 120)]
    assert decoder.buffered == b""


def test_garbage_before_between_and_after_packets_is_skipped_and_reported() -> None:
    stream = b"\x00\x01\xef" + GEN_IMG + b"\x55\xef\xef" + ACK_OK + b"\x01"
    assert Decoder().feed(stream) == [
        FrameError("garbage", b"\x00\x01\xef"),
        gen_img(),
        FrameError("garbage", b"\x55\xef\xef"),
        ack(Result.OK),
        FrameError("garbage", b"\x01"),
    ]


def test_a_trailing_ef_is_kept_as_a_possible_start() -> None:
    decoder = Decoder()
    assert decoder.feed(b"\x42\xef") == [FrameError("garbage", b"\x42")]
    assert decoder.buffered == b"\xef"
    assert decoder.feed(GEN_IMG[1:]) == [gen_img()]


def test_line_noise_of_a_whole_read_is_one_error() -> None:
    noise = bytes(range(0x80, 0xE0))
    assert Decoder().feed(noise) == [FrameError("garbage", noise)]


def test_reset_drops_a_partial_packet() -> None:
    decoder = Decoder()
    decoder.feed(SEARCH_HIT_7[:12])
    decoder.reset()
    assert decoder.buffered == b""
    assert decoder.feed(ACK_OK) == [ack(Result.OK)]


def test_packets_to_any_address_decode() -> None:
    other = encode(ack(Result.OK, address=0x0000_0001))
    assert Decoder().feed(other + ACK_OK) == [ack(Result.OK, address=1), ack(Result.OK)]


# --- faults -------------------------------------------------------------------------------


def test_a_wrong_sum_is_reported_with_the_whole_packet_and_the_next_decodes() -> None:
    bad = ACK_NO_FINGER[:-1] + b"\x0d"
    assert Decoder().feed(bad + ACK_OK) == [
        FrameError("SUM 000d, should be 000c", bad),
        ack(Result.OK),
    ]


def test_an_unknown_packet_type_is_reported_with_the_header_so_far() -> None:
    bad = bytes.fromhex("ef 01 ff ff ff ff 05 00 03 00 00 08")
    assert Decoder().feed(bad + ACK_OK) == [
        FrameError("packet type 05 is not 01, 02, 07 or 08", bad[:7]),
        FrameError("garbage", bad[7:]),
        ack(Result.OK),
    ]


@pytest.mark.parametrize("length", [0, 1, 2, MAX_PAYLOAD + 3, 0xFFFF])
def test_an_impossible_len_is_reported_at_once(length: int) -> None:
    header = bytes.fromhex("ef 01 ff ff ff ff 07") + length.to_bytes(2, "big")
    decoder = Decoder()
    # Reported when LEN arrives, not after waiting for up to 64 KiB.
    assert decoder.feed(header) == [FrameError(f"LEN {length} outside 3..258", header)]
    assert decoder.buffered == b""
    assert decoder.feed(ACK_OK) == [ack(Result.OK)]


def test_the_longest_packet_decodes() -> None:
    data = Packet(BROADCAST, PacketType.DATA, bytes(range(256)))
    wire = encode(data)
    assert wire[7:9] == b"\x01\x02"  # LEN 258
    assert Decoder().feed(wire) == [data]


def test_a_packet_inside_a_cut_short_one_is_not_lost() -> None:
    # The first ack lost its last four bytes; its LEN runs into the next packet.
    truncated = SEARCH_HIT_7[:-4]
    error, packet = Decoder().feed(truncated + ACK_OK)
    assert isinstance(error, FrameError) and error.reason.startswith("SUM")
    assert error.data == (truncated + ACK_OK)[: len(SEARCH_HIT_7)]
    assert packet == ack(Result.OK)


def test_a_fault_split_across_feeds_is_reported_once() -> None:
    bad = ACK_NO_FINGER[:-1] + b"\x0d"
    decoder = Decoder()
    assert decoder.feed(bad[:8]) == []
    assert decoder.feed(bad[8:] + ACK_OK) == [
        FrameError("SUM 000d, should be 000c", bad),
        ack(Result.OK),
    ]


MIDDLE_AT = len(GEN_IMG)


def _edits_of_the_middle_packet() -> list[tuple[str, bytes]]:
    """The stream with its middle packet damaged by every one-byte change, insertion
    and deletion."""
    edits: list[tuple[str, bytes]] = []
    for at in range(MIDDLE_AT, MIDDLE_AT + len(SEARCH_HIT_7)):
        edits.append((f"delete {at}", STREAM[:at] + STREAM[at + 1 :]))
        for value in range(256):
            if value != STREAM[at]:
                edits.append(
                    (f"set {at}={value:02x}", STREAM[:at] + bytes([value]) + STREAM[at + 1 :])
                )
            edits.append((f"insert {at}={value:02x}", STREAM[:at] + bytes([value]) + STREAM[at:]))
    return edits


def test_any_one_byte_damage_to_a_packet_never_yields_a_wrong_packet() -> None:
    """The damaged packet is lost (or, if the change kept it valid, decodes as what is
    on the wire); the packet before it always decodes. The one after it decodes too,
    unless a damaged LEN still in range keeps the decoder waiting for more bytes."""
    first, _, last = STREAM_PACKETS
    for name, stream in _edits_of_the_middle_packet():
        decoder = Decoder()
        items = decoder.feed(stream)
        packets = [item for item in items if isinstance(item, Packet)]
        assert packets[0] == first, name
        for packet in packets:
            assert encode(packet) in stream, name
        if packets[-1] != last:
            assert decoder.buffered, name
            # What a host does at its deadline: the next answer decodes.
            decoder.reset()
            assert decoder.feed(ACK_OK) == [ack(Result.OK)], name


# --- typed messages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (ack(Result.OK), "not a command"),
        (Packet(BROADCAST, PacketType.COMMAND, b"\x42"), "unknown instruction 42"),
        (Packet(BROADCAST, PacketType.COMMAND, b"\x02"), "IMG2TZ takes 1 parameter bytes, got 0"),
        (Packet(BROADCAST, PacketType.COMMAND, b"\x01\x00"), "GEN_IMG takes 0 parameter bytes"),
        (Packet(BROADCAST, PacketType.COMMAND, b"\x04\x01\x00\x00\x00"), "SEARCH takes 5"),
        (Packet(BROADCAST, PacketType.COMMAND, b""), "without an instruction"),
    ],
)
def test_malformed_commands_are_errors_carrying_the_packet(packet: Packet, reason: str) -> None:
    result = parse_command(packet)
    assert isinstance(result, FrameError) and reason in result.reason
    assert result.data.startswith(b"\xef\x01") and result.data[9:-2] == packet.payload


@pytest.mark.parametrize(
    "packet",
    [
        gen_img(),
        Packet(BROADCAST, PacketType.ACK, b""),
        Packet(BROADCAST, PacketType.DATA, b"\x00"),
    ],
)
def test_what_is_not_an_ack_is_an_error(packet: Packet) -> None:
    assert isinstance(parse_ack(packet), FrameError)


def test_an_ack_keeps_its_data() -> None:
    assert parse_ack(ack(Result.OK, b"\x01\x02\x03")) == Ack(0, b"\x01\x02\x03")
    assert parse_ack(ack(0x42)) == Ack(0x42)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Ack(Result.NOT_FOUND), "search ack has result 09, no hit"),
        (Ack(Result.OK), "search ack with 0 data bytes, not 4"),
        (Ack(Result.OK, b"\x00\x07\x00"), "3 data bytes"),
        (Ack(Result.OK, b"\x00\x07\x00\x78\x00"), "5 data bytes"),
    ],
)
def test_a_search_ack_without_a_hit_is_an_error(answer: Ack, reason: str) -> None:
    result = parse_search(answer)
    assert isinstance(result, FrameError) and reason in result.reason
    assert result.data == bytes([answer.code]) + answer.data


@pytest.mark.parametrize(
    "answer", [Ack(Result.PACKET_ERROR), Ack(Result.OK), Ack(Result.OK, b"\x00\x00\x02")]
)
def test_a_count_ack_without_a_count_is_an_error(answer: Ack) -> None:
    assert isinstance(parse_count(answer), FrameError)


# --- builders and encode validation -------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: img2tz(256),
        lambda: img2tz(-1),
        lambda: search(1, 0x10000, 1),
        lambda: store(1, -1),
        lambda: delete(0, 0x10000),
        lambda: verify_password(1 << 32),
        lambda: gen_img(1 << 32),
        lambda: gen_img(-1),
        lambda: ack(256),
        lambda: ack(Result.OK, bytes(MAX_PAYLOAD)),  # code + 256 bytes
        lambda: search_ack(0x10000, 1),
        lambda: search_ack(1, -1),
        lambda: count_ack(0x10000),
    ],
)
def test_builders_refuse_what_cannot_be_sent(build: Callable[[], Packet]) -> None:
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize(
    "packet",
    [
        Packet(BROADCAST, 0x03, b"\x01"),
        Packet(BROADCAST, PacketType.COMMAND, b""),
        Packet(BROADCAST, PacketType.DATA, bytes(MAX_PAYLOAD + 1)),
        Packet(1 << 32, PacketType.COMMAND, b"\x01"),
    ],
)
def test_encode_refuses_packets_no_module_sends(packet: Packet) -> None:
    with pytest.raises(ValueError):
        encode(packet)


def test_builders_take_the_module_address() -> None:
    for packet in (img2tz(1, 7), search(1, 0, 10, 7), store(1, 0, 7), ack(0, address=7)):
        assert packet.address == 7
        assert encode(packet)[2:6] == b"\x00\x00\x00\x07"


# --- properties ------------------------------------------------------------------------------


def check_packets_came_from(items: list[Item], stream: bytes) -> None:
    """Every decoded packet was on the wire byte for byte, with a correct LEN and SUM."""
    for item in items:
        if isinstance(item, FrameError):
            assert item.data, item
            continue
        assert isinstance(item, Packet)
        wire = encode(item)
        assert wire in stream
        length = int.from_bytes(wire[7:9], "big")
        assert 3 <= length <= MAX_PAYLOAD + 2 and length == len(wire) - 9
        assert int.from_bytes(wire[-2:], "big") == sum(wire[6:-2]) & 0xFFFF


cut_lists = st.lists(st.integers(min_value=0, max_value=600), max_size=12)


@settings(max_examples=200, deadline=None)
@given(stream=st.binary(max_size=300), cuts=cut_lists)
def test_random_bytes_never_raise_and_decode_the_same_however_chunked(
    stream: bytes, cuts: list[int]
) -> None:
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    decoder = Decoder()
    items = feed_chunks(decoder, stream, cuts)
    check_packets_came_from(items, stream)
    assert merged(items) == merged(Decoder().feed(stream))
    assert len(decoder.buffered) < 9 + MAX_PAYLOAD + 2


@settings(max_examples=200, deadline=None)
@given(
    stream=st.binary(max_size=40).map(lambda tail: b"\xef\x01\xff\xff\xff\xff\x07" + tail),
)
def test_random_bytes_after_a_plausible_header_never_raise(stream: bytes) -> None:
    check_packets_came_from(Decoder().feed(stream), stream)


packets = st.builds(
    Packet,
    address=st.sampled_from([DEFAULT_ADDRESS, 0, 1, 0xEF01EF01]),
    type=st.sampled_from(list(PacketType)),
    payload=st.binary(min_size=1, max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(
    sent=st.lists(packets, min_size=1, max_size=5),
    changes=edits,
    noise=st.binary(max_size=4),
    cuts=cut_lists,
)
def test_damaged_streams_never_raise_and_yield_only_packets_that_were_sent(
    sent: list[Packet], changes: list[tuple[str, int, int]], noise: bytes, cuts: list[int]
) -> None:
    clean = b"".join(encode(packet) for packet in sent)
    stream = apply_edits(noise + clean, changes)
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    items = feed_chunks(Decoder(), stream, cuts)
    check_packets_came_from(items, stream)
    if not changes and not noise:
        assert items == sent


@settings(max_examples=200, deadline=None)
@given(packet=packets)
def test_parsers_never_raise(packet: Packet) -> None:
    command = parse_command(packet)
    assert isinstance(command, Command | FrameError)
    answer = parse_ack(packet)
    assert isinstance(answer, Ack | FrameError)
    if isinstance(answer, Ack):
        assert isinstance(parse_search(answer), SearchHit | FrameError)
        assert isinstance(parse_count(answer), int | FrameError)
