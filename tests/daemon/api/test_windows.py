"""Every key a clerk presses, through POST /api/v1/windows/{n}/..."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.daemon.api.conftest import V1, Api

pytestmark = pytest.mark.anyio


async def window(api: Api, number: int) -> dict:
    response = await api.monitor.get(f"{V1}/windows/{number}")
    assert response.status_code == 200, response.text
    return response.json()


# -- opening, signing in and out --------------------------------------------------------


async def test_every_window_starts_the_day_closed(api: Api) -> None:
    response = await api.display.get(f"{V1}/windows")

    assert response.status_code == 200
    windows = response.json()
    assert [w["number"] for w in windows] == [1, 2, 3, 4]
    assert {w["status"] for w in windows} == {"closed"}
    assert windows[0]["names"] == {"zh": "1号窗口", "en": "Window 1"}
    assert windows[0]["services"] == ["social", "tax"]


async def test_open_then_open_again_is_409(api: Api) -> None:
    response = await api.window_op(4, "open")

    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["clerk"] is None
    again = await api.window_op(4, "open")
    assert again.status_code == 409
    assert again.json()["code"] == "window_state"


async def test_sign_in_opens_the_window_with_the_clerk(api: Api) -> None:
    api.clock.advance(30)
    response = await api.clerk("s1").post(f"{V1}/windows/1/sign-in")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open"
    assert body["clerk"] == "s1"
    assert body["clerk_name"] == "张伟"
    assert dt.datetime.fromisoformat(body["since"]) == api.clock()
    events = await api.events(types={"window.state"})
    assert events[-1]["window"] == 1
    assert events[-1]["clerk"] == "s1"
    assert events[-1]["status"] == "open"


async def test_b_clerk_may_sign_in_where_a_is_absent(api: Api) -> None:
    body = await api.sign_in(1, "s2")

    assert body["clerk"] == "s2"


async def test_clerk_without_a_post_at_the_window_is_refused(api: Api) -> None:
    response = await api.clerk("s3").post(f"{V1}/windows/1/sign-in")

    assert response.status_code == 409
    assert response.json()["code"] == "clerk_conflict"
    assert (await window(api, 1))["clerk"] is None


async def test_second_clerk_cannot_sign_in_over_the_first(api: Api) -> None:
    await api.sign_in(1, "s1")

    response = await api.clerk("s2").post(f"{V1}/windows/1/sign-in")

    assert response.status_code == 409
    assert response.json()["code"] == "clerk_conflict"
    assert (await window(api, 1))["clerk"] == "s1"


async def test_clerk_signed_in_at_one_window_cannot_sign_in_at_another(api: Api) -> None:
    await api.sign_in(1, "s1")

    response = await api.clerk("s1").post(f"{V1}/windows/2/sign-in")

    assert response.status_code == 409
    assert response.json()["code"] == "clerk_conflict"
    assert (await window(api, 2))["clerk"] is None


async def test_admin_signs_in_a_named_clerk_and_unknown_staff_is_422(api: Api) -> None:
    response = await api.window_op(4, "sign-in", {"staff": "s4"})
    unknown = await api.window_op(2, "sign-in", {"staff": "s99"})
    nobody = await api.window_op(2, "sign-in")

    assert response.status_code == 200
    assert response.json()["clerk"] == "s4"
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_staff"
    assert nobody.status_code == 422  # an admin token has no clerk of its own


async def test_sign_out_closes_the_window(api: Api) -> None:
    await api.sign_in(1, "s1")

    response = await api.window_op(1, "sign-out", client=api.clerk("s1"))

    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["clerk"] is None
    again = await api.window_op(1, "sign-out")
    assert again.status_code == 409
    assert again.json()["code"] == "clerk_conflict"


async def test_sign_out_with_a_ticket_at_the_window_is_409(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)

    response = await api.window_op(1, "sign-out", client=api.clerk("s1"))

    assert response.status_code == 409
    assert response.json()["code"] == "current_ticket_open"
    assert (await window(api, 1))["clerk"] == "s1"


# -- calling ----------------------------------------------------------------------------


async def test_call_next_calls_the_oldest_ticket_first(api: Api) -> None:
    for _ in range(3):
        await api.issue("social")
        api.clock.advance(10)
    await api.sign_in(1, "s1")

    first = await api.call_next(1, client=api.clerk("s1"))
    second = await api.call_next(1, client=api.clerk("s1"))

    assert first["called"]["code"] == "A001"
    assert first["called"]["state"] == "called"
    assert first["called"]["window"] == 1
    assert first["completed"] is None
    assert first["message"] is None
    assert second["called"]["code"] == "A002"
    # call-next completes the ticket the window had
    assert second["completed"]["code"] == "A001"
    assert second["completed"]["state"] == "done"
    assert (await api.ticket("A001"))["state"] == "done"


async def test_call_next_follows_the_windows_service_preference(api: Api) -> None:
    await api.issue("tax")  # older, but window 1 prefers social
    api.clock.advance(10)
    await api.issue("social")
    await api.sign_in(1, "s1")
    await api.sign_in(2, "s2")

    at_1 = await api.call_next(1)
    await api.issue("social")
    at_2 = await api.call_next(2)

    assert at_1["called"]["code"] == "A001"
    assert at_2["called"]["code"] == "B001"


async def test_priority_goes_first_but_at_most_two_in_a_row(api: Api) -> None:
    await api.issue("social")  # A001, normal, oldest
    for _ in range(3):
        api.clock.advance(10)
        await api.issue("social", priority="elderly")  # A002-A004
    await api.sign_in(1, "s1")

    order = [(await api.call_next(1))["called"]["code"] for _ in range(4)]

    assert order == ["A002", "A003", "A001", "A004"]


async def test_priority_keeps_going_first_when_no_normal_ticket_waits(api: Api) -> None:
    for _ in range(3):
        api.clock.advance(10)
        await api.issue("social", priority="appointment")
    await api.sign_in(1, "s1")

    order = [(await api.call_next(1))["called"]["code"] for _ in range(3)]

    assert order == ["A001", "A002", "A003"]


async def test_call_next_with_nothing_waiting_calls_nobody_and_says_so(api: Api) -> None:
    await api.sign_in(1, "s1")

    response = await api.window_op(1, "call-next")

    assert response.status_code == 200
    body = response.json()
    assert body["called"] is None
    assert body["completed"] is None
    assert body["message"]


async def test_call_next_at_a_closed_window_is_409_window_not_open(api: Api) -> None:
    await api.issue()

    response = await api.window_op(4, "call-next")

    assert response.status_code == 409
    assert response.json()["code"] == "window_not_open"
    assert (await api.ticket("A001"))["state"] == "waiting"


async def test_call_by_number_calls_out_of_turn(api: Api) -> None:
    for _ in range(3):
        await api.issue()
        api.clock.advance(5)
    await api.sign_in(1, "s1")

    response = await api.window_op(1, "call", {"ticket": "A003"}, client=api.clerk("s1"))

    assert response.status_code == 200
    assert response.json()["called"]["code"] == "A003"
    assert (await api.call_next(1))["called"]["code"] == "A001"


async def test_call_by_number_of_an_unknown_or_finished_ticket_is_refused(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "complete")

    unknown = await api.window_op(1, "call", {"ticket": "A404"})
    done = await api.window_op(1, "call", {"ticket": "A001"})

    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_ticket"
    assert done.status_code == 409
    assert done.json()["code"] == "ticket_state"


async def test_a_ticket_called_at_one_window_cannot_be_called_at_another(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.sign_in(2, "s2")
    await api.call_next(1)

    response = await api.window_op(2, "call", {"ticket": "A001"}, client=api.clerk("s2"))

    assert response.status_code == 409
    assert response.json()["code"] == "ticket_state"
    assert (await api.ticket("A001"))["window"] == 1
    assert (await window(api, 2))["current"] is None


async def test_recall_announces_again_and_counts(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)

    first = await api.window_op(1, "recall", client=api.clerk("s1"))
    second = await api.window_op(1, "recall", client=api.clerk("s1"))

    assert first.status_code == 200 and second.status_code == 200
    assert first.json()["recalls"] == 1
    assert second.json()["recalls"] == 2
    assert (await api.ticket("A001"))["recalls"] == 2
    recalled = await api.events(types={"ticket.recalled"})
    assert [e["recalls"] for e in recalled] == [1, 2]
    assert all(e["ticket"] == "A001" and e["window"] == 1 for e in recalled)


async def test_recall_with_nobody_called_is_409(api: Api) -> None:
    await api.sign_in(1, "s1")

    response = await api.window_op(1, "recall")

    assert response.status_code == 409
    assert response.json()["code"] == "no_current_ticket"


# -- serving ----------------------------------------------------------------------------


async def test_start_then_complete_with_a_case_number(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    api.clock.advance(20)

    started = await api.window_op(1, "start", client=api.clerk("s1"))
    api.clock.advance(300)
    done = await api.window_op(1, "complete", {"case_number": "2026-SB-00123"}, api.clerk("s1"))

    assert started.status_code == 200
    assert started.json()["state"] == "serving"
    assert done.status_code == 200
    assert done.json()["state"] == "done"
    assert done.json()["case_number"] == "2026-SB-00123"
    assert (await window(api, 1))["current"] is None
    assert (await window(api, 1))["last_done"] == "A001"
    event = (await api.events(types={"ticket.done"}))[-1]
    assert event["case_number"] == "2026-SB-00123"
    assert event["service_seconds"] == 300


async def test_start_twice_is_409(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "start")

    response = await api.window_op(1, "start")

    assert response.status_code == 409
    assert response.json()["code"] == "ticket_state"


async def test_complete_without_a_body_and_with_nobody_called(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)

    done = await api.window_op(1, "complete")
    again = await api.window_op(1, "complete")

    assert done.status_code == 200
    assert done.json()["case_number"] is None
    assert again.status_code == 409
    assert again.json()["code"] == "no_current_ticket"


async def test_skip_then_call_again_within_the_tolerance(api: Api) -> None:
    await api.issue()
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)

    skipped = await api.window_op(1, "skip", client=api.clerk("s1"))
    assert skipped.status_code == 200
    assert skipped.json()["state"] == "no_show"
    assert (await window(api, 1))["current"] is None
    api.clock.advance(29 * 60)  # tolerance is 30 minutes

    again = await api.window_op(1, "call", {"ticket": "A001"}, client=api.clerk("s1"))

    assert again.status_code == 200
    assert again.json()["called"]["code"] == "A001"
    assert again.json()["called"]["calls"] == 2


async def test_skipped_ticket_cannot_be_called_after_the_tolerance(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "skip")
    api.clock.advance(31 * 60)

    response = await api.window_op(1, "call", {"ticket": "A001"})

    assert response.status_code == 409
    assert response.json()["code"] == "no_show_tolerance_exceeded"
    assert (await api.ticket("A001"))["state"] == "no_show"


async def test_reactivated_ticket_rejoins_the_end_of_the_queue(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "skip")
    api.clock.advance(60)
    await api.issue()  # A002 arrives before A001 comes back
    api.clock.advance(60)

    back = await api.kiosk.post(f"{V1}/tickets/A001/reactivate")

    assert back.status_code == 200
    assert back.json()["state"] == "waiting"
    assert (await api.call_next(1))["called"]["code"] == "A002"
    assert (await api.call_next(1))["called"]["code"] == "A001"


async def test_hold_frees_the_window_and_callback_brings_the_ticket_back(api: Api) -> None:
    await api.issue()
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "start")

    held = await api.window_op(1, "hold", client=api.clerk("s1"))
    assert held.status_code == 200
    assert held.json()["state"] == "held"
    w = await window(api, 1)
    assert w["current"] is None
    assert w["held"] == ["A001"]

    # the window serves someone else meanwhile
    other = await api.call_next(1)
    assert other["called"]["code"] == "A002"
    await api.window_op(1, "complete")
    api.clock.advance(600)

    back = await api.window_op(1, "callback", client=api.clerk("s1"))

    assert back.status_code == 200
    assert back.json()["called"]["code"] == "A001"
    assert back.json()["called"]["state"] == "serving"  # it had been started before the hold
    w = await window(api, 1)
    assert w["current"] == "A001"
    assert w["held"] == []


async def test_callback_names_the_held_ticket_and_refuses_others(api: Api) -> None:
    await api.issue()
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "hold")
    await api.call_next(1)
    await api.window_op(1, "hold")

    wrong = await api.window_op(1, "callback", {"ticket": "A404"})
    right = await api.window_op(1, "callback", {"ticket": "A002"})

    assert wrong.status_code == 404
    assert right.status_code == 200
    assert right.json()["called"]["code"] == "A002"
    assert (await window(api, 1))["held"] == ["A001"]


async def test_callback_with_nothing_held_is_409(api: Api) -> None:
    await api.sign_in(1, "s1")

    response = await api.window_op(1, "callback")

    assert response.status_code == 409
    assert response.json()["code"] == "window_state"


async def test_transfer_to_a_service_keeps_the_number_and_the_arrival_order(api: Api) -> None:
    await api.issue("tax")  # B001, 09:00:00
    api.clock.advance(10)
    await api.issue("social")  # A001, 09:00:10
    api.clock.advance(10)
    await api.issue("tax")  # B002, 09:00:20
    await api.sign_in(1, "s1")
    await api.sign_in(2, "s2")
    assert (await api.call_next(1))["called"]["code"] == "A001"
    api.clock.advance(60)

    moved = await api.window_op(1, "transfer", {"service": "tax"}, client=api.clerk("s1"))

    assert moved.status_code == 200
    assert moved.json()["code"] == "A001"
    assert moved.json()["state"] == "transferred"
    assert moved.json()["service"] == "tax"
    assert moved.json()["issued_service"] == "social"
    assert (await window(api, 1))["current"] is None
    # at window 2 (tax first), A001 goes ahead of B002, who arrived after it
    order = [(await api.call_next(2))["called"]["code"] for _ in range(3)]
    assert order == ["B001", "A001", "B002"]
    event = (await api.events(types={"ticket.transferred"}))[-1]
    assert event["ticket"] == "A001"
    assert event["from_service"] == "social" and event["to_service"] == "tax"


async def test_transfer_to_a_window_is_called_there(api: Api) -> None:
    await api.issue("social")
    await api.sign_in(1, "s1")
    await api.sign_in(3, "s3")
    await api.call_next(1)

    moved = await api.window_op(1, "transfer", {"window": 3})

    assert moved.status_code == 200
    assert moved.json()["code"] == "A001"
    assert moved.json()["target_window"] == 3
    # window 3 serves only fund, but takes the ticket sent to it
    called = await api.call_next(3, client=api.clerk("s3"))
    assert called["called"]["code"] == "A001"
    assert called["called"]["window"] == 3
    assert called["called"]["clerk"] == "s3"


async def test_transfer_requests_that_make_no_sense_are_refused(api: Api) -> None:
    await api.issue("social")
    await api.sign_in(1, "s1")
    await api.call_next(1)

    both = await api.window_op(1, "transfer", {"service": "tax", "window": 2})
    neither = await api.window_op(1, "transfer", {})
    same_service = await api.window_op(1, "transfer", {"service": "social"})
    same_window = await api.window_op(1, "transfer", {"window": 1})
    no_window = await api.window_op(1, "transfer", {"window": 77})
    no_service = await api.window_op(1, "transfer", {"service": "visa"})

    assert both.status_code == 422
    assert neither.status_code == 422
    assert same_service.status_code == 409
    assert same_window.status_code == 409
    assert no_window.status_code == 422
    assert no_service.status_code == 422
    assert no_service.json()["code"] == "unknown_service"
    assert (await window(api, 1))["current"] == "A001"


# -- pausing and closing ----------------------------------------------------------------


async def test_pause_with_a_reason_refuses_calls_until_resumed(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")

    paused = await api.window_op(1, "pause", {"reason": "午休"}, client=api.clerk("s1"))
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["reason"] == "午休"
    assert paused.json()["clerk"] == "s1"

    refused = await api.window_op(1, "call-next", client=api.clerk("s1"))
    assert refused.status_code == 409
    assert refused.json()["code"] == "window_not_open"
    assert "午休" in refused.json()["message"]
    assert (await api.ticket("A001"))["state"] == "waiting"

    resumed = await api.window_op(1, "resume", client=api.clerk("s1"))
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "open"
    assert resumed.json()["reason"] is None
    assert (await api.call_next(1))["called"]["code"] == "A001"


async def test_pause_without_a_body_and_resume_of_an_open_window(api: Api) -> None:
    await api.sign_in(1, "s1")

    resume_open = await api.window_op(1, "resume")
    paused = await api.window_op(1, "pause")

    assert resume_open.status_code == 409
    assert resume_open.json()["code"] == "window_state"
    assert paused.status_code == 200
    assert paused.json()["reason"] is None


async def test_call_by_number_at_a_paused_window_is_409(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.window_op(1, "pause", {"reason": "开会"})

    response = await api.window_op(1, "call", {"ticket": "A001"})

    assert response.status_code == 409
    assert response.json()["code"] == "window_not_open"


async def test_close_with_a_current_ticket_is_409_and_without_one_closes(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)

    refused = await api.window_op(1, "close", client=api.clerk("s1"))
    assert refused.status_code == 409
    assert refused.json()["code"] == "current_ticket_open"
    assert "A001" in refused.json()["messages"]["en"]
    assert (await window(api, 1))["status"] == "open"

    await api.window_op(1, "complete")
    closed = await api.window_op(1, "close", client=api.clerk("s1"))
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["clerk"] is None
    after = await api.window_op(1, "call-next")
    assert after.status_code == 409
    assert after.json()["code"] == "window_not_open"


# -- ratings ----------------------------------------------------------------------------


async def test_rating_the_ticket_just_completed(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "complete", {"case_number": "SB-1"})

    response = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 1})

    assert response.status_code == 201
    rating = response.json()
    assert rating["ticket"] == "A001"
    assert rating["window"] == 1
    assert rating["clerk"] == "s1"
    assert rating["case_number"] == "SB-1"
    assert rating["level"] == 1
    assert rating["label"] == {"zh": "非常满意", "en": "very satisfied"}
    assert (await api.ticket("A001"))["rated"] is True
    given = await api.events(types={"rating.given", "rating.alert"})
    assert [e["type"] for e in given] == ["rating.given"]


@pytest.mark.parametrize("level", [4, 5])
async def test_dissatisfied_rating_raises_an_alert_event(api: Api, level: int) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "complete", {"case_number": "SB-2"})

    response = await api.admin.post(
        f"{V1}/windows/1/rating", json={"level": level, "reason": "等候时间太长"}
    )

    assert response.status_code == 201
    alerts = await api.events(types={"rating.alert"})
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["ticket"] == "A001"
    assert alert["window"] == 1
    assert alert["clerk"] == "s1"
    assert alert["case_number"] == "SB-2"
    assert alert["level"] == level
    assert alert["reason"] == "等候时间太长"


async def test_rating_the_same_ticket_twice_is_409(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "complete")
    first = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 2})

    second = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 5})

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "already_rated"
    assert await api.events(types={"rating.alert"}) == []


async def test_rating_with_nothing_to_rate_and_out_of_range_levels(api: Api) -> None:
    await api.sign_in(1, "s1")

    nothing = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 1})
    zero = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 0})
    six = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 6})
    unknown = await api.kiosk.post(f"{V1}/windows/9/rating", json={"level": 1})

    assert nothing.status_code == 409
    assert nothing.json()["code"] == "nothing_to_rate"
    assert zero.status_code == 422 and six.status_code == 422
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_window"


async def test_unrated_is_recorded_as_unrated_not_satisfied(api: Api) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)
    await api.window_op(1, "complete")

    response = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": None})

    assert response.status_code == 201
    assert response.json()["level"] is None
    assert response.json()["label"] is None
    stats = (await api.admin.get(f"{V1}/stats")).json()
    assert stats["hall"]["satisfaction"]["unrated"] == 1
    assert stats["hall"]["satisfaction"]["rated"] == 0
    assert stats["hall"]["satisfaction"]["rate"] is None


async def test_unknown_window_is_404_for_every_operation(api: Api) -> None:
    for op in ("open", "call-next", "recall", "skip", "hold", "pause", "resume", "close"):
        response = await api.window_op(5, op)
        assert response.status_code == 404, op
        assert response.json()["code"] == "unknown_window", op
