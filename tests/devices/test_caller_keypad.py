from __future__ import annotations

import pytest

from devices.caller_keypad import CallerKeypad
from devices.config import KeypadConfig
from devices.events import KeypadAction, KeyPressed, WindowView
from drivers.bus import Priority
from drivers.ff68 import codec as ff68
from tests.devices.conftest import Hall, settle

pytestmark = pytest.mark.anyio


def keypad(hall: Hall, **config: object) -> CallerKeypad:
    settings = {"id": "keypad-2", "model": "ff68-keypad", "link": "bus-1", "address": 2}
    return CallerKeypad(KeypadConfig(**(settings | {"window": 2} | config)), hall.bus, hall.context)  # type: ignore[arg-type]


def view(waiting: int, number: int | None) -> WindowView:
    ticket = None if number is None else f"A{number:03d}"
    return WindowView(2, "open", None, ticket, number, waiting, None, None)


async def press(hall: Hall, device: CallerKeypad, key: int, *digits: int) -> None:
    device.frame_received(ff68.key_press(2, key, digits))
    await settle()


@pytest.mark.parametrize(
    ("key", "digits", "action", "target"),
    [
        (ff68.KEY_CALL, (), KeypadAction.CALL, None),
        (ff68.KEY_RECALL, (), KeypadAction.RECALL, None),
        (ff68.KEY_RATE, (), KeypadAction.RATE, None),
        (ff68.KEY_PAUSE, (), KeypadAction.PAUSE, None),
        (ff68.KEY_TRANSFER, (1, 2), KeypadAction.TRANSFER, 12),
        (ff68.KEY_CONFIRM, (ff68.CONFIRM_SKIP,), KeypadAction.SKIP, None),
        (ff68.KEY_CONFIRM, (ff68.CONFIRM_HOLD,), KeypadAction.HOLD, None),
        (ff68.KEY_CONFIRM, (ff68.CONFIRM_CALLBACK,), KeypadAction.CALLBACK, None),
    ],
)
async def test_the_key_table(
    hall: Hall, key: int, digits: tuple[int, ...], action: KeypadAction, target: int | None
) -> None:
    device = keypad(hall)
    await press(hall, device, key, *digits)
    assert hall.events == [KeyPressed("keypad-2", 2, action, target)]


@pytest.mark.parametrize(("key", "digits"), [(0x0E, ()), (ff68.KEY_CONFIRM, (5,))])
async def test_a_key_it_does_not_know_is_counted_not_acted_on(
    hall: Hall, key: int, digits: tuple[int, ...]
) -> None:
    device = keypad(hall)
    await press(hall, device, key, *digits)
    assert hall.events == []
    assert device.details()["unknown_keys"] == 1


async def test_key_frames_are_echoed_and_its_own_echoes_are_not_keys(hall: Hall) -> None:
    device = keypad(hall)
    frame = ff68.key_press(2, ff68.KEY_CALL)
    assert device.acknowledge(frame) == frame
    assert device.is_event(frame)
    assert not device.is_event(ff68.show(2, 1, 1))
    assert not device.is_event(ff68.beep(2))


async def test_a_new_number_goes_at_once_with_the_count(hall: Hall) -> None:
    device = keypad(hall)
    device.show(view(5, None))
    device.show(view(4, 1))
    assert [c.data for c in hall.bus.slot("display")] == [
        ff68.encode(ff68.show(2, 5, None)),
        ff68.encode(ff68.show(2, 4, 1)),
    ]
    sent = hall.bus.sent[-1]
    assert (sent.priority, sent.within) == (Priority.DISPLAY, None), "a new number goes at once"
    assert sent.expect == sent.data, "the keypad's echo confirms it"


async def test_a_count_change_alone_may_wait_for_the_keypads_next_frame(hall: Hall) -> None:
    device = keypad(hall, count_every_seconds=45)
    device.show(view(5, 1))
    device.show(view(6, 1))
    device.show(view(0, 1))  # nobody left: the clerk should see it now
    device.show(view(2, 1))  # and see citizens arriving again
    device.show(view(3, 1))
    assert [(c.data, c.within) for c in hall.bus.slot("display")] == [
        (ff68.encode(ff68.show(2, 5, 1)), None),
        (ff68.encode(ff68.show(2, 6, 1)), 45),
        (ff68.encode(ff68.show(2, 0, 1)), None),
        (ff68.encode(ff68.show(2, 2, 1)), None),
        (ff68.encode(ff68.show(2, 3, 1)), 45),
    ]
    assert {c.refresh for c in hall.bus.slot("display")} == {60.0}, "it rides with the probe"
    assert device.details()["waiting"] == 3


async def test_beep(hall: Hall) -> None:
    keypad(hall).beep()
    assert [c.data for c in hall.bus.slot("beep")] == [ff68.encode(ff68.beep(2))]
