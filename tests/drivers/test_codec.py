"""The pieces every codec shares: FrameError and hexdump."""

from __future__ import annotations

import dataclasses

import pytest

from drivers.codec import STR_LIMIT, FrameError, hexdump


def test_hexdump_writes_lower_case_pairs_separated_by_spaces() -> None:
    assert hexdump(bytes.fromhex("FF6803AB")) == "ff 68 03 ab"
    assert hexdump(b"") == ""


def test_hexdump_abbreviates_past_the_limit() -> None:
    assert hexdump(bytes(range(5)), limit=2) == "00 01 ... (+3 bytes)"
    assert hexdump(bytes(range(2)), limit=2) == "00 01"


def test_a_frame_error_reads_as_its_reason_and_its_bytes_in_hex() -> None:
    error = FrameError("checksum 00, should be 17", bytes.fromhex("ff 68 03 03 68 05 11 01 00 16"))
    assert str(error) == "checksum 00, should be 17: ff 68 03 03 68 05 11 01 00 16"


def test_a_long_frame_error_is_abbreviated_when_printed_but_keeps_all_bytes() -> None:
    error = FrameError("garbage", bytes(1000))
    text = str(error)
    assert text.startswith("garbage: 00 00") and text.endswith(f"(+{1000 - STR_LIMIT} bytes)")
    assert len(error.data) == 1000


def test_a_frame_error_is_a_value_not_an_exception() -> None:
    error = FrameError("garbage", b"\x01")
    assert not isinstance(error, BaseException)
    assert error == FrameError("garbage", b"\x01") and error != FrameError("garbage", b"\x02")
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.reason = "other"  # type: ignore[misc]
