"""DLE EOT status answers, with the bit meanings of PROTOCOLS.md section 5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.escpos.status import PrinterStatus, Request, StatusError, parse, request

HEALTHY = {kind: 0x12 for kind in Request}


def test_requests_are_dle_eot_n() -> None:
    assert [request(kind) for kind in Request] == [
        bytes.fromhex("10 04 01"),
        bytes.fromhex("10 04 02"),
        bytes.fromhex("10 04 03"),
        bytes.fromhex("10 04 04"),
    ]


def test_a_healthy_printer() -> None:
    status = parse(HEALTHY)
    assert status == PrinterStatus()
    assert status.can_print and status.problems == []


@pytest.mark.parametrize(
    ("answers", "problems", "can_print"),
    [
        ({Request.PAPER: 0x1E}, ["paper near end"], True),
        ({Request.PAPER: 0x72}, ["paper out"], False),
        ({Request.PRINTER: 0x1A, Request.OFFLINE_CAUSE: 0x16}, ["cover open"], False),
        ({Request.PRINTER: 0x1A, Request.OFFLINE_CAUSE: 0x32}, ["paper out"], False),
        ({Request.PRINTER: 0x1A, Request.ERROR_CAUSE: 0x1A}, ["cutter error", "offline"], False),
        ({Request.ERROR_CAUSE: 0x32}, ["unrecoverable error"], False),
        ({Request.PRINTER: 0x1A}, ["offline"], False),
        ({Request.PAPER: 0x7E}, ["paper out"], False),
    ],
)
def test_each_problem(answers: dict[Request, int], problems: list[str], can_print: bool) -> None:
    status = parse(HEALTHY | answers)
    assert status.problems == problems
    assert status.can_print is can_print


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x02, 0x92])
def test_a_byte_not_of_the_status_form_is_refused(byte: int) -> None:
    with pytest.raises(StatusError, match=f"DLE EOT 4 answer {byte:02x}"):
        parse(HEALTHY | {Request.PAPER: byte})


@given(st.dictionaries(st.sampled_from(list(Request)), st.integers(0, 255)))
def test_any_byte_is_a_status_or_a_status_error(answers: dict[Request, int]) -> None:
    fits = all(byte & 0b1001_0011 == 0b0001_0010 for byte in answers.values())
    if fits:
        parse(answers)
    else:
        with pytest.raises(StatusError):
            parse(answers)
