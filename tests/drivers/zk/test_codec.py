"""ZK codec: golden vectors both ways, checksum, stream decoding, faults, time,
records, live events, the comm key, data sets, fuzzing."""

from __future__ import annotations

import datetime as dt
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codec import FrameError
from drivers.zk.codec import (
    CMD_ACK_ERROR,
    CMD_ACK_OK,
    CMD_ATTLOG_RRQ,
    CMD_AUTH,
    CMD_CONNECT,
    CMD_DATA,
    CMD_GET_TIME,
    CMD_PREPARE_DATA,
    CMD_REG_EVENT,
    CMD_SET_TIME,
    DATA_CHUNK,
    EF_ATTLOG,
    MAX_LENGTH,
    START,
    AttendanceRecord,
    DataReader,
    Decoder,
    LiveEvent,
    Packet,
    auth_packet,
    checksum,
    data_answer,
    decode_time,
    encode,
    encode_attlog,
    encode_attlog_record,
    encode_live_event,
    encode_time,
    event_ack,
    event_packet,
    make_commkey,
    parse_attlog,
    parse_live_event,
    parse_time,
    reg_event_packet,
    set_time_packet,
)
from tests.drivers.streams import apply_edits, edits, feed_chunks, merged

Item = Packet | FrameError

# --- golden vectors (PROTOCOLS.md §4) ----------------------------------------------

CONNECT = bytes.fromhex("50 50 82 7d 08 00 00 00 e8 03 17 fc 00 00 00 00")
ACK_OK = bytes.fromhex("50 50 82 7d 08 00 00 00 d0 07 ff fc 2f fb 00 00")
#: The host's first command: CONNECT, no session yet, reply id 0.
CONNECT_PACKET = Packet(CMD_CONNECT, session=0, reply=0)
#: The terminal's answer: session 0xfb2f, the request's reply id 0. The same bytes
#: are a host's acknowledgement of a live event in session 0xfb2f (events carry reply 0).
ACK_PACKET = Packet(CMD_ACK_OK, session=0xFB2F, reply=0)


def test_connect_golden_vector_both_ways() -> None:
    assert encode(CONNECT_PACKET) == CONNECT
    assert Decoder().feed(CONNECT) == [CONNECT_PACKET]


def test_ack_ok_golden_vector_both_ways() -> None:
    assert encode(ACK_PACKET) == ACK_OK
    assert Decoder().feed(ACK_OK) == [ACK_PACKET]


def test_the_ack_golden_vector_is_also_a_live_event_acknowledgement() -> None:
    event = event_packet(LiveEvent("1001", 1, 0, dt.datetime(2026, 11, 25, 9, 0)))
    assert encode(event_ack(event, 0xFB2F)) == ACK_OK


# adrobinoga/zk-protocol's checksum test vectors (packets without the TCP prefix):
# an odd-length reply (ACK_OK, data 09) and an OPTIONS_RRQ for "ZKFaceVersion".
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("d0 07 29 6a f3 8d 0a 00 09", 0x6A29),
        ("0b 00 5a 17 f3 8d 03 00 5a 4b 46 61 63 65 56 65 72 73 69 6f 6e 00", 0x175A),
    ],
)
def test_published_checksum_vectors(body: str, expected: int) -> None:
    raw = bytes.fromhex(body)
    command, sent, session, reply = struct.unpack_from("<4H", raw)
    assert sent == expected
    assert checksum(command, session, reply, raw[8:]) == expected
    wire = START + struct.pack("<I", len(raw)) + raw
    assert Decoder().feed(wire) == [Packet(command, session, reply, raw[8:])]


def end_around_checksum(words: bytes) -> int:
    """The checksum as adrobinoga/zk-protocol describes it: a 32-bit sum of the
    16-bit words (odd data zero-padded), the carries folded back in, inverted."""
    padded = words + b"\0" * (len(words) % 2)
    total = sum(struct.unpack(f"<{len(padded) // 2}H", padded))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total ^ 0xFFFF


def pyzk_checksum(command: int, session: int, reply: int, data: bytes) -> int:
    """The checksum as pyzk's arithmetic produces it: summed over the reply id
    before it was incremented, subtracting 65535 for each carry, complemented as
    ``~sum`` plus 65535 until not negative."""
    previous = reply - 1 if reply else 0xFFFE
    words = struct.pack("<4H", command, 0, session, previous) + data
    total = 0
    for index in range(0, len(words) - 1, 2):
        total += words[index] | words[index + 1] << 8
        if total > 0xFFFF:
            total -= 0xFFFF
    if len(words) % 2:
        total += words[-1]
    while total > 0xFFFF:
        total -= 0xFFFF
    result = ~total
    while result < 0:
        result += 0xFFFF
    return result


header_fields = st.tuples(
    st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFE), st.binary(max_size=64)
)


@settings(max_examples=300)
@given(fields=header_fields)
def test_checksum_matches_the_end_around_carry_description(
    fields: tuple[int, int, int, bytes],
) -> None:
    command, session, reply, data = fields
    words = struct.pack("<4H", command, 0, session, reply) + data
    assert checksum(command, session, reply, data) == end_around_checksum(words)


@settings(max_examples=300)
@given(fields=header_fields)
def test_pyzk_two_slips_cancel_except_for_an_all_zero_packet(
    fields: tuple[int, int, int, bytes],
) -> None:
    command, session, reply, data = fields
    if not (command or session or reply or any(data)):
        # Command 0 does not exist; pyzk would send 0000 where the terminal computes ffff.
        assert pyzk_checksum(command, session, reply, data) == 0
        assert checksum(command, session, reply, data) == 0xFFFF
    else:
        assert checksum(command, session, reply, data) == pyzk_checksum(*fields)


@pytest.mark.parametrize(
    "packet",
    [
        Packet(-1),
        Packet(0x10000),
        Packet(CMD_ACK_OK, session=0x10000),
        Packet(CMD_ACK_OK, reply=-1),
        Packet(CMD_DATA, data=bytes(MAX_LENGTH - 7)),
    ],
)
def test_encode_refuses_what_cannot_be_sent(packet: Packet) -> None:
    with pytest.raises(ValueError):
        encode(packet)


def test_the_largest_packet_goes_both_ways() -> None:
    packet = Packet(CMD_DATA, 1, 2, (bytes(range(256)) * 256)[: MAX_LENGTH - 8])
    wire = encode(packet)
    assert wire[4:8] == MAX_LENGTH.to_bytes(4, "little")
    assert Decoder().feed(wire) == [packet]


# --- stream decoding -----------------------------------------------------------------------

GET_TIME = Packet(CMD_GET_TIME, 0xFB2F, 1)
TIME_REPLY = Packet(CMD_ACK_OK, 0xFB2F, 1, bytes.fromhex("90 ff 87 33"))
STREAM_PACKETS = [CONNECT_PACKET, GET_TIME, TIME_REPLY, Packet(CMD_DATA, 7, 3, b"odd")]
STREAM = b"".join(encode(packet) for packet in STREAM_PACKETS)


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
    assert decoder.feed(ACK_OK[:11]) == []
    assert decoder.buffered == ACK_OK[:11]
    assert decoder.feed(ACK_OK[11:]) == [ACK_PACKET]
    assert decoder.buffered == b""


def test_garbage_before_between_and_after_packets_is_reported() -> None:
    stream = b"\x00\x50" + CONNECT + b"\x50\x50\x82\x00" + ACK_OK + b"\x7d\x82"
    assert Decoder().feed(stream) == [
        FrameError("garbage", b"\x00\x50"),
        CONNECT_PACKET,
        FrameError("garbage", b"\x50\x50\x82\x00"),
        ACK_PACKET,
        FrameError("garbage", b"\x7d\x82"),
    ]


@pytest.mark.parametrize("kept", [1, 2, 3])
def test_a_trailing_part_of_a_start_is_kept(kept: int) -> None:
    decoder = Decoder()
    assert decoder.feed(b"\x01" + CONNECT[:kept]) == [FrameError("garbage", b"\x01")]
    assert decoder.buffered == CONNECT[:kept]
    assert decoder.feed(CONNECT[kept:]) == [CONNECT_PACKET]


def test_reset_drops_a_partial_packet() -> None:
    decoder = Decoder()
    decoder.feed(CONNECT[:10])
    decoder.reset()
    assert decoder.buffered == b""
    assert decoder.feed(CONNECT[10:] + ACK_OK) == [
        FrameError("garbage", CONNECT[10:]),
        ACK_PACKET,
    ]


def test_a_start_inside_the_data_of_a_good_packet_is_data() -> None:
    packet = Packet(CMD_DATA, 1, 1, b"x" + ACK_OK + b"y")
    assert Decoder().feed(encode(packet) + CONNECT) == [packet, CONNECT_PACKET]


@pytest.mark.parametrize("length", [0, 7, MAX_LENGTH + 1, 0xFFFFFFFF])
def test_an_impossible_length_is_reported_at_once_and_the_next_packet_decodes(
    length: int,
) -> None:
    bad = START + struct.pack("<I", length)
    items = Decoder().feed(bad + CONNECT)
    assert items == [
        FrameError(f"length {length} outside 8..{MAX_LENGTH}", bad),
        CONNECT_PACKET,
    ]


def test_an_impossible_length_needs_no_more_bytes_to_be_reported() -> None:
    bad = START + struct.pack("<I", MAX_LENGTH + 1)
    assert Decoder().feed(bad) == [FrameError(f"length {MAX_LENGTH + 1} outside 8..65536", bad)]


def test_a_bad_checksum_is_reported_with_the_whole_packet() -> None:
    bad = CONNECT[:10] + b"\x18" + CONNECT[11:]
    assert Decoder().feed(bad + ACK_OK) == [
        FrameError("checksum fc18, should be fc17", bad),
        ACK_PACKET,
    ]


def test_a_packet_starting_inside_a_truncated_one_is_not_lost() -> None:
    # The first packet lost its last four bytes; its length runs into the next one.
    truncated = encode(TIME_REPLY)[:-4]
    items = Decoder().feed(truncated + CONNECT)
    assert isinstance(items[0], FrameError) and items[0].reason.startswith("checksum")
    assert items[-1] == CONNECT_PACKET
    assert not any(isinstance(item, Packet) and item != CONNECT_PACKET for item in items)


def test_a_fault_split_across_feeds_is_reported_once() -> None:
    bad = CONNECT[:10] + b"\x18" + CONNECT[11:]
    decoder = Decoder()
    assert decoder.feed(bad[:12]) == []
    assert decoder.feed(bad[12:] + ACK_OK) == [
        FrameError("checksum fc18, should be fc17", bad),
        ACK_PACKET,
    ]


def _edits_of_the_middle_packet() -> list[tuple[str, bytes]]:
    """STREAM with its second packet damaged by every one-byte flip, insertion, deletion."""
    first = len(encode(STREAM_PACKETS[0]))
    middle = range(first, first + len(encode(STREAM_PACKETS[1])))
    edits: list[tuple[str, bytes]] = []
    for at in middle:
        edits.append((f"delete {at}", STREAM[:at] + STREAM[at + 1 :]))
        for value in range(256):
            if value != STREAM[at]:
                edits.append(
                    (f"set {at}={value:02x}", STREAM[:at] + bytes([value]) + STREAM[at + 1 :])
                )
            if at > middle.start:  # an insertion before the packet is only garbage
                edits.append(
                    (f"insert {at}={value:02x}", STREAM[:at] + bytes([value]) + STREAM[at:])
                )
    return edits


def test_any_one_byte_damage_to_a_packet_loses_at_most_that_packet() -> None:
    first, second, *rest = STREAM_PACKETS
    for name, stream in _edits_of_the_middle_packet():
        decoder = Decoder()
        items = decoder.feed(stream)
        if decoder.buffered:
            # The damage made a plausible length: what follows waits until that
            # many bytes have come (here noise), then the checksum fails.
            items += decoder.feed(bytes(MAX_LENGTH))
        packets = [item for item in items if isinstance(item, Packet)]
        assert packets[0] == first and packets[len(packets) - len(rest) :] == rest, name
        middle = packets[1 : len(packets) - len(rest)]
        if encode(second) in stream:  # e.g. a stray 50 inserted before its start
            assert middle == [second], name
        else:
            assert second not in middle, name
            check_packets_came_from(middle, stream)
        assert any(isinstance(item, FrameError) for item in items), name


def test_the_checksum_cannot_see_a_packet_shifted_by_one_byte() -> None:
    # A zero byte inserted into the length's high bytes leaves the length at 8
    # and moves the header one byte on. Ones'-complement sums are blind to that
    # rotation (256 * 256 = 1 modulo 65535), so a bogus packet passes: a host
    # checks the command and session it expects, not only the checksum.
    wire = encode(GET_TIME)
    shifted = wire[:5] + b"\0" + wire[5:-1]
    [bogus] = Decoder().feed(shifted)
    assert isinstance(bogus, Packet) and bogus != GET_TIME
    assert bogus.command == 0xC900  # 00 c9: the length's last zero, GET_TIME's low byte


# --- properties --------------------------------------------------------------------------


def check_packets_came_from(items: list[Item], stream: bytes) -> None:
    """Every decoded packet was on the wire byte for byte, with its right checksum."""
    for item in items:
        if isinstance(item, FrameError):
            assert item.data, item
            continue
        assert isinstance(item, Packet)
        wire = encode(item)  # recomputes the checksum field
        assert wire in stream


packets = st.builds(
    Packet,
    command=st.integers(0, 0xFFFF),
    session=st.integers(0, 0xFFFF),
    reply=st.integers(0, 0xFFFF),
    data=st.binary(max_size=40),
)
#: Streams that look like ZK traffic: start sequences and their fragments, lengths,
#: whole packets and noise, so the decoder's every branch gets exercised.
pieces = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([START, START[:1], START[:2], START[:3], CONNECT, ACK_OK]),
    st.integers(0, 80).map(lambda n: START + struct.pack("<I", n)),
    packets.map(encode),
)
cut_lists = st.lists(st.integers(min_value=0, max_value=2000), max_size=12)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(pieces, max_size=12), cuts=cut_lists)
def test_random_streams_never_raise_and_decode_the_same_however_chunked(
    parts: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(parts)
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    decoder = Decoder()
    items = feed_chunks(decoder, stream, cuts)
    check_packets_came_from(items, stream)
    assert merged(items) == merged(Decoder().feed(stream))


@settings(max_examples=200, deadline=None)
@given(stream=st.binary(max_size=300))
def test_random_bytes_never_raise(stream: bytes) -> None:
    check_packets_came_from(Decoder().feed(stream), stream)


@settings(max_examples=300, deadline=None)
@given(
    sent=st.lists(packets, min_size=1, max_size=5),
    changes=edits,
    noise=st.binary(max_size=6),
    cuts=cut_lists,
)
def test_damaged_streams_never_raise_and_yield_only_packets_on_the_wire(
    sent: list[Packet], changes: list[tuple[str, int, int]], noise: bytes, cuts: list[int]
) -> None:
    clean = b"".join(encode(packet) for packet in sent)
    stream = apply_edits(noise + clean, changes)
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    items = feed_chunks(Decoder(), stream, cuts)
    check_packets_came_from(items, stream)
    if not changes and START not in noise:
        assert [item for item in items if isinstance(item, Packet)] == sent


# --- time ----------------------------------------------------------------------------------

DAY = 86400


@pytest.mark.parametrize(
    ("when", "value"),
    [
        (dt.datetime(2000, 1, 1), 0),
        (dt.datetime(2000, 1, 1, 0, 0, 1), 1),
        (dt.datetime(2000, 1, 31, 23, 59, 59), 30 * DAY + DAY - 1),
        # Every month is 31 days long: February starts on day 31, March on day 62
        # even in a leap year.
        (dt.datetime(2000, 2, 1), 31 * DAY),
        (dt.datetime(2000, 3, 1), 62 * DAY),
        (dt.datetime(2000, 12, 31, 23, 59, 59), (11 * 31 + 30) * DAY + DAY - 1),
        (dt.datetime(2001, 1, 1), 372 * DAY),
        (dt.datetime(2024, 2, 29, 12), (24 * 372 + 31 + 28) * DAY + 12 * 3600),
        (dt.datetime(2026, 11, 25, 9), (26 * 372 + 10 * 31 + 24) * DAY + 9 * 3600),
        (dt.datetime(2099, 12, 31, 23, 59, 59), (99 * 372 + 11 * 31 + 30) * DAY + DAY - 1),
    ],
)
def test_time_values_both_ways(when: dt.datetime, value: int) -> None:
    assert encode_time(when) == value
    assert decode_time(value) == when


def test_encode_time_ignores_the_time_zone_and_microseconds() -> None:
    when = dt.datetime(2026, 11, 25, 9, 0, 0, 999_999, tzinfo=dt.UTC)
    assert encode_time(when) == encode_time(dt.datetime(2026, 11, 25, 9))


@pytest.mark.parametrize("year", [1999, 2100])
def test_encode_time_refuses_years_it_cannot_hold(year: int) -> None:
    with pytest.raises(ValueError):
        encode_time(dt.datetime(year, 6, 1))


@pytest.mark.parametrize(
    "value",
    [
        (31 + 29) * DAY,  # 2000-02-30
        (372 + 31 + 28) * DAY,  # 2001-02-29: not a leap year
        (3 * 31 + 30) * DAY,  # 2000-04-31
        100 * 372 * DAY,  # 2100-01-01
        0xFFFFFFFF,
        -1,
    ],
)
def test_decode_time_refuses_values_that_are_not_dates(value: int) -> None:
    with pytest.raises(ValueError):
        decode_time(value)


@given(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31, 23, 59, 59)))
def test_every_date_round_trips(when: dt.datetime) -> None:
    when = when.replace(microsecond=0)
    assert decode_time(encode_time(when)) == when


@given(st.integers(0, 0xFFFFFFFF))
def test_every_value_decodes_to_a_date_that_encodes_back_or_is_refused(value: int) -> None:
    try:
        when = decode_time(value)
    except ValueError:
        return
    assert encode_time(when) == value


# --- attendance records -------------------------------------------------------------------

NINE = dt.datetime(2026, 11, 25, 9)
RECORD = AttendanceRecord(uid=7, user_id="1001", status=1, punch=0, timestamp=NINE)
#: uid 7 | "1001" padded to 24 | status 1 | 2026-11-25 09:00:00 (864550800) | punch 0 | tail
RECORD_BYTES = (
    bytes.fromhex("07 00")
    + b"1001".ljust(24, b"\0")
    + bytes.fromhex("01 90 ff 87 33 00 00 00 00 00 ff 00 00 00")
)


def test_a_record_has_the_40_byte_layout() -> None:
    assert len(RECORD_BYTES) == 40
    assert encode_attlog_record(RECORD) == RECORD_BYTES
    assert parse_attlog(struct.pack("<I", 40) + RECORD_BYTES) == [RECORD]


def test_a_log_round_trips_in_order() -> None:
    records = [
        RECORD,
        AttendanceRecord(8, "20001", 15, 1, dt.datetime(2026, 11, 25, 17, 30, 5)),
        AttendanceRecord(65535, "x" * 24, 255, 255, dt.datetime(2099, 12, 31, 23, 59, 59)),
    ]
    data = encode_attlog(records)
    assert data[:4] == struct.pack("<I", 120)
    assert parse_attlog(data) == records


def test_an_empty_log() -> None:
    assert encode_attlog([]) == bytes(4)
    assert parse_attlog(bytes(4)) == []


def test_a_record_that_is_not_a_date_becomes_an_error_in_its_place() -> None:
    bad = bytearray(RECORD_BYTES)
    bad[27:31] = struct.pack("<I", (31 + 29) * DAY)  # 2000-02-30
    data = encode_attlog([RECORD]) + bytes(bad) + RECORD_BYTES
    data = struct.pack("<I", 120) + data[4:]
    items = parse_attlog(data)
    assert items[0] == RECORD and items[2] == RECORD
    assert isinstance(items[1], FrameError) and items[1].data == bytes(bad)
    assert items[1].reason.startswith("record 1:")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x28\x00", "attendance log without its size field"),
        (struct.pack("<I", 80) + RECORD_BYTES, "log declares 80 bytes, has 40"),
        (struct.pack("<I", 45) + RECORD_BYTES + b"12345", "5 bytes after the last record"),
        (struct.pack("<I", 40) + RECORD_BYTES + b"!", "bytes after the log"),
    ],
)
def test_a_log_that_does_not_add_up_keeps_its_whole_records(data: bytes, reason: str) -> None:
    items = parse_attlog(data)
    assert isinstance(items[-1], FrameError) and items[-1].reason == reason
    assert all(item == RECORD for item in items[:-1])
    assert len(items) == (1 if len(data) < 4 else 2)


@pytest.mark.parametrize(
    "record",
    [
        AttendanceRecord(-1, "1", 0, 0, NINE),
        AttendanceRecord(65536, "1", 0, 0, NINE),
        AttendanceRecord(1, "", 0, 0, NINE),
        AttendanceRecord(1, "x" * 25, 0, 0, NINE),
        AttendanceRecord(1, "a\0b", 0, 0, NINE),
        AttendanceRecord(1, "1", 256, 0, NINE),
        AttendanceRecord(1, "1", 0, -1, NINE),
        AttendanceRecord(1, "1", 0, 0, dt.datetime(2100, 1, 1)),
    ],
)
def test_a_record_that_does_not_fit_is_refused(record: AttendanceRecord) -> None:
    with pytest.raises(ValueError):
        encode_attlog_record(record)


records = st.builds(
    AttendanceRecord,
    uid=st.integers(0, 0xFFFF),
    user_id=st.text(st.characters(codec="ascii", exclude_characters="\0"), min_size=1, max_size=24),
    status=st.integers(0, 255),
    punch=st.integers(0, 255),
    timestamp=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)).map(
        lambda when: when.replace(microsecond=0)
    ),
)


@settings(max_examples=100)
@given(st.lists(records, max_size=30))
def test_any_log_round_trips(log: list[AttendanceRecord]) -> None:
    assert parse_attlog(encode_attlog(log)) == log


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_parse_attlog_never_raises(data: bytes) -> None:
    for item in parse_attlog(data):
        assert isinstance(item, AttendanceRecord | FrameError)


# --- live events ---------------------------------------------------------------------------

EVENT = LiveEvent("1001", status=1, punch=0, timestamp=NINE)
#: "1001" padded to 24 | status 1 | punch 0 | 26 11 25 09 00 00
EVENT_BYTES = b"1001".ljust(24, b"\0") + bytes.fromhex("01 00 1a 0b 19 09 00 00")


def test_a_live_event_has_the_32_byte_layout() -> None:
    assert encode_live_event(EVENT) == EVENT_BYTES
    assert parse_live_event(EVENT_BYTES) == EVENT


def test_a_live_event_packet_carries_the_event_code_and_reply_id_0() -> None:
    packet = event_packet(EVENT)
    assert (packet.command, packet.session, packet.reply) == (CMD_REG_EVENT, EF_ATTLOG, 0)
    assert Decoder().feed(encode(packet)) == [packet]
    assert parse_live_event(packet.data) == EVENT


TIME_HEX = "01 00 1a 0b 19 09 00 00"


@pytest.mark.parametrize(
    ("data", "user_id"),
    [
        (bytes.fromhex("e9 03") + bytes.fromhex(TIME_HEX), "1001"),  # 10 bytes
        (bytes.fromhex("a1 86 01 00") + bytes.fromhex(TIME_HEX), "100001"),  # 12 bytes
        (bytes.fromhex("e9 03") + bytes.fromhex(TIME_HEX) + bytes(4), "1001"),  # 14 bytes
        (EVENT_BYTES + bytes(4), "1001"),  # 36 bytes
        (EVENT_BYTES + bytes(5), "1001"),  # 37 bytes
        (EVENT_BYTES + bytes(20), "1001"),  # 52 bytes
    ],
)
def test_live_events_of_other_firmware_parse(data: bytes, user_id: str) -> None:
    assert parse_live_event(data) == LiveEvent(user_id, 1, 0, NINE)


@pytest.mark.parametrize("size", [0, 9, 11, 13, 15, 31, 33, 38, 51])
def test_live_events_of_unknown_length_are_errors(size: int) -> None:
    data = (EVENT_BYTES * 2)[:size]
    assert parse_live_event(data) == FrameError(f"live event of {size} bytes", data)


def test_a_live_event_that_is_not_a_date_is_an_error() -> None:
    data = EVENT_BYTES[:26] + bytes.fromhex("1a 02 1e 09 00 00")  # 2026-02-30
    result = parse_live_event(data)
    assert isinstance(result, FrameError) and result.data == data


@settings(max_examples=200)
@given(st.binary(max_size=80))
def test_parse_live_event_never_raises(data: bytes) -> None:
    assert isinstance(parse_live_event(data), LiveEvent | FrameError)


# --- the comm key --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "session", "ticks", "expected"),
    [
        # Worked by hand: 0 + 0 = 00 00 00 00, XOR "ZKSO" = 5a 4b 53 4f, halves
        # swapped = 53 4f 5a 4b, XOR 0x32 except the third byte, which is 0x32.
        (0, 0, 50, "61 7d 32 79"),
        # Computed with pyzk's make_commkey.
        (123456, 0xFB2F, 50, "29 7f 32 02"),
        (999999, 1, 0, "11 b3 00 bb"),
        (1, 0xFFFF, 255, "ac 30 ff 4b"),
    ],
)
def test_commkey_vectors(key: int, session: int, ticks: int, expected: str) -> None:
    assert make_commkey(key, session, ticks) == bytes.fromhex(expected)


def test_auth_packet_carries_the_scrambled_key_in_the_session() -> None:
    packet = auth_packet(123456, 0xFB2F, 1)
    assert packet == Packet(CMD_AUTH, 0xFB2F, 1, bytes.fromhex("29 7f 32 02"))


@pytest.mark.parametrize(("key", "session"), [(-1, 0), (1 << 32, 0), (0, -1), (0, 0x10000)])
def test_commkey_refuses_out_of_range_values(key: int, session: int) -> None:
    with pytest.raises(ValueError):
        make_commkey(key, session)


# --- host requests and answers -----------------------------------------------------------------


def test_reg_event_and_set_time_requests() -> None:
    assert reg_event_packet(5, 2) == Packet(CMD_REG_EVENT, 5, 2, b"\x01\x00\x00\x00")
    assert reg_event_packet(5, 3, 0).data == bytes(4)
    assert set_time_packet(5, 4, NINE) == Packet(CMD_SET_TIME, 5, 4, bytes.fromhex("90 ff 87 33"))


def test_parse_time_reads_the_answer_to_get_time() -> None:
    assert parse_time(TIME_REPLY) == NINE
    refused = parse_time(Packet(CMD_ACK_ERROR, 1, 1))
    assert isinstance(refused, FrameError)
    impossible = parse_time(Packet(CMD_ACK_OK, 1, 1, struct.pack("<I", (31 + 29) * DAY)))
    assert isinstance(impossible, FrameError)


def collect(reader: DataReader, answer: list[Packet]) -> list[bytes | FrameError | None]:
    return [reader.feed(packet) for packet in answer]


def test_a_small_data_set_is_one_data_packet() -> None:
    data = encode_attlog([RECORD])
    answer = data_answer(9, 4, data)
    assert answer == [Packet(CMD_DATA, 9, 4, data)]
    assert collect(DataReader(4), answer) == [data]


@pytest.mark.parametrize("size", [DATA_CHUNK, DATA_CHUNK + 1, 3 * DATA_CHUNK, 5000])
def test_data_sets_over_one_chunk_are_prepared_and_sent_in_chunks(size: int) -> None:
    data = bytes(index % 251 for index in range(size))
    answer = data_answer(9, 4, data)
    if size <= DATA_CHUNK:
        assert [packet.command for packet in answer] == [CMD_DATA]
    else:
        chunks = -(-size // DATA_CHUNK)
        assert [packet.command for packet in answer] == [
            CMD_PREPARE_DATA,
            *[CMD_DATA] * chunks,
            CMD_ACK_OK,
        ]
        assert answer[0].data == struct.pack("<I", size) + bytes(4)
        assert all(len(packet.data) <= DATA_CHUNK for packet in answer)
    assert all((packet.session, packet.reply) == (9, 4) for packet in answer)
    results = collect(DataReader(4), answer)
    assert results[:-1] == [None] * (len(answer) - 1) and results[-1] == data


def test_the_reader_passes_over_live_events_and_other_replies() -> None:
    data = bytes(3000)
    prepare, *rest = data_answer(9, 4, data)
    reader = DataReader(4)
    assert reader.feed(prepare) is None
    assert reader.feed(event_packet(EVENT)) is None
    assert reader.feed(Packet(CMD_DATA, 9, 3, b"stale")) is None
    assert collect(reader, rest)[-1] == data


@pytest.mark.parametrize(
    "answer",
    [
        [Packet(CMD_ACK_ERROR, 9, 4)],
        [Packet(CMD_PREPARE_DATA, 9, 4, b"\x01")],
        [Packet(CMD_PREPARE_DATA, 9, 4, struct.pack("<I", 2)), Packet(CMD_DATA, 9, 4, b"abc")],
        [
            Packet(CMD_PREPARE_DATA, 9, 4, struct.pack("<I", 4)),
            Packet(CMD_DATA, 9, 4, b"abc"),
            Packet(CMD_ACK_OK, 9, 4),
        ],
        [Packet(CMD_PREPARE_DATA, 9, 4, struct.pack("<I", 4)), Packet(CMD_ACK_ERROR, 9, 4)],
    ],
)
def test_a_refused_or_inconsistent_data_set_is_an_error(answer: list[Packet]) -> None:
    assert isinstance(collect(DataReader(4), answer)[-1], FrameError)


def test_an_attlog_request_is_a_bare_command() -> None:
    assert encode(Packet(CMD_ATTLOG_RRQ, 0xFB2F, 5))[8:10] == b"\x0d\x00"
