from __future__ import annotations

import pytest

from devices.config import HallScreenConfig, WindowScreenConfig
from devices.events import HallView, WindowView
from devices.screens import HallDisplay, WindowDisplay, gbk_safe
from drivers.bus import Priority
from drivers.imm import codec as imm
from tests.devices.conftest import Hall

pytestmark = pytest.mark.anyio


def window_view(**changes: object) -> WindowView:
    view = {
        "number": 3,
        "status": "open",
        "reason": None,
        "ticket": None,
        "number_of_ticket": None,
        "waiting": 4,
        "clerk_name": None,
        "staff_no": None,
    }
    return WindowView(**{**view, **changes})  # type: ignore[arg-type]


def window_display(hall: Hall, **config: object) -> WindowDisplay:
    settings = {"id": "screen-3", "model": "imm-window-screen", "link": "bus-1"}
    settings |= {"address": 3, "window": 3} | config
    return WindowDisplay(WindowScreenConfig(**settings), hall.bus, hall.context)  # type: ignore[arg-type]


def shown(hall: Hall) -> list[str]:
    """The texts of the frames sent, decoded as the screen would."""
    texts = []
    for command in hall.bus.slot("text"):
        items = imm.Decoder().feed(command.data)
        assert len(items) == 1 and isinstance(items[0], imm.ScreenText), items
        texts.append(items[0].text)
    return texts


async def test_a_call_reads_as_the_hall_says_it(hall: Hall) -> None:
    screen = window_display(hall)
    screen.show(window_view(ticket="A001", number_of_ticket=1))
    assert shown(hall) == ["请A001号到3号窗口"]
    assert hall.bus.sent[-1].priority is Priority.CALL


async def test_idle_paused_and_closed_windows(hall: Hall) -> None:
    screen = window_display(hall)
    screen.show(window_view())
    screen.show(window_view(status="paused", reason="lunch"))
    screen.show(window_view())
    screen.show(window_view(status="closed"))
    assert shown(hall) == ["3号窗口 欢迎您", "暂停服务", "3号窗口 欢迎您", "暂停服务"]
    assert {c.priority for c in hall.bus.sent} == {Priority.DISPLAY}


async def test_a_closed_window_in_english(hall: Hall) -> None:
    window_display(hall, language="en").show(window_view(status="closed"))
    assert shown(hall) == ["Window closed"]


async def test_english_screen_with_the_clerk(hall: Hall) -> None:
    screen = window_display(hall, language="en", show_clerk=True)
    screen.show(window_view(ticket="B012", number_of_ticket=12, clerk_name="Li", staff_no="07"))
    assert shown(hall) == ["Number B012 to window 3 Li No. 07"]


async def test_the_same_text_is_not_sent_twice_but_a_recall_is(hall: Hall) -> None:
    screen = window_display(hall)
    call = window_view(ticket="A001", number_of_ticket=1)
    screen.show(call)
    screen.show(window_view(ticket="A001", number_of_ticket=1, waiting=9))
    assert len(shown(hall)) == 1
    screen.show(call, recall=True)
    assert len(shown(hall)) == 2
    assert hall.bus.sent[-1].priority is Priority.CALL


async def test_the_picture_is_a_standing_one(hall: Hall) -> None:
    """Screens do not answer: the text is re-sent periodically and after a reconnect."""
    screen = window_display(hall, refresh_seconds=20)
    screen.show(window_view())
    assert hall.bus.sent[-1].refresh == 20
    assert hall.bus.sent[-1].expect is None


async def test_what_gbk_cannot_encode_shows_as_question_marks() -> None:
    assert gbk_safe("请A001号 བོད") == "请A001号 ???"


def hall_display(hall: Hall, **config: object) -> HallDisplay:
    settings = {"id": "hall-screen", "model": "imm-hall-screen", "link": "bus-1", "address": 9}
    return HallDisplay(HallScreenConfig(**(settings | config)), hall.bus, hall.context)  # type: ignore[arg-type]


SOCIAL = {"zh": "社保", "en": "Social security"}


async def test_the_hall_screen_shows_the_latest_calls_and_the_queues(hall: Hall) -> None:
    screen = hall_display(hall, calls=2)
    calls = (("A003", 1), ("A002", 2), ("A001", 1))
    screen.show(HallView(calls=calls, waiting=((SOCIAL, 5),)))
    assert shown(hall) == ["A003请到1号  A002请到2号  社保等候5人"]


async def test_the_hall_screen_lets_a_count_change_alone_wait_for_its_next_frame(
    hall: Hall,
) -> None:
    screen = hall_display(hall, count_every_seconds=10)
    calls = (("A001", 1),)
    screen.show(HallView(calls=calls, waiting=((SOCIAL, 5),)))
    screen.show(HallView(calls=calls, waiting=((SOCIAL, 6),)))
    screen.show(HallView(calls=(("A002", 2), *calls), waiting=((SOCIAL, 5),)))
    assert shown(hall) == [
        "A001请到1号  社保等候5人",
        "A001请到1号  社保等候6人",
        "A002请到2号  A001请到1号  社保等候5人",
    ]
    assert [c.within for c in hall.bus.slot("text")] == [None, 10, None], "a call goes at once"
