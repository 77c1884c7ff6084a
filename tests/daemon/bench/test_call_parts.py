"""A call's time split into its parts, and the part that made a slow call slow."""

from __future__ import annotations

import pytest

from daemon.bench.call_parts import CallParts, call_parts, cause, medians


def test_the_parts_of_a_call_add_up_to_the_whole() -> None:
    parts = call_parts(pressed=10.0, sent_at=[10.005], stored=10.020, shown=10.065)
    assert parts is not None
    assert parts.ms() == {
        "bus_before_key_ms": 5.0,
        "key_resends_ms": 0.0,
        "key_to_stored_ms": 15.0,
        "stored_to_screen_ms": 45.0,
    }
    whole = parts.bus_before_key + parts.key_resends + parts.key_to_stored + parts.stored_to_screen
    assert whole == pytest.approx(0.065)


def test_a_key_sent_again_counts_from_its_first_send_to_the_send_that_was_stored() -> None:
    # The first send was lost; the second was stored; a third went out after
    # the call was stored (its acknowledgement was lost) and changed nothing.
    parts = call_parts(pressed=1.0, sent_at=[1.004, 1.264, 1.600], stored=1.280, shown=1.330)
    assert parts is not None
    assert list(parts.ms().values()) == [4.0, 260.0, 16.0, 50.0]


def test_sends_of_another_press_are_not_this_call_s() -> None:
    assert call_parts(pressed=5.0, sent_at=[4.0], stored=5.02, shown=5.06) is None
    assert call_parts(pressed=5.0, sent_at=[], stored=5.02, shown=5.06) is None


def test_a_slow_call_is_blamed_on_the_part_furthest_above_its_median() -> None:
    usual = CallParts(0.005, 0.0, 0.015, 0.045)
    calls = [usual] * 9 + [CallParts(0.006, 0.0, 0.015, 0.090)]
    typical = medians(calls)
    assert typical == usual
    # stored_to_screen is the largest part of every call; only the excess counts
    assert cause(CallParts(0.050, 0.0, 0.015, 0.046), typical) == "bus_before_key"
    assert cause(CallParts(0.005, 0.262, 0.016, 0.045), typical) == "key_resends"
    assert cause(CallParts(0.005, 0.0, 0.400, 0.045), typical) == "key_to_stored"
    assert cause(calls[-1], typical) == "stored_to_screen"
    assert medians([]) is None
