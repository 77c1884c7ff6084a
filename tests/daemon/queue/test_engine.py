"""Each queue operation, and each way it is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from daemon.config.model import HallConfig
from daemon.queue import errors
from daemon.queue.engine import Outcome, QueueEngine, service_seconds
from daemon.queue.model import (
    Call,
    CallKind,
    CallOutcome,
    PrintState,
    Priority,
    TicketState,
    WindowStatus,
)
from daemon.queue.state import QueueState
from tests.conftest import Clock


class Hall:
    """The engine with a state that applies what each operation returns."""

    def __init__(self, config: HallConfig, clock: Clock) -> None:
        self.engine = QueueEngine(config)
        self.state = QueueState()
        self.clock = clock
        self.events: list[str] = []
        self.calls: list[Call] = []  # every version of every call, in order
        self.apply_outcome(Outcome(None, self.engine.start_day(self.state, clock())))

    def apply_outcome(self, outcome: Outcome[Any]) -> Any:
        self.state.apply(outcome.change)
        self.events += [e.type for e in outcome.change.events]
        self.calls += outcome.change.calls
        return outcome.value

    def do(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        """Run an engine operation one second after the last one."""
        now = self.clock.advance(1)
        if self.engine.business_day(now) != self.state.day:
            self.apply_outcome(Outcome(None, self.engine.start_day(self.state, now)))
        method: Callable[..., Outcome[Any]] = getattr(self.engine, operation)
        return self.apply_outcome(method(self.state, now, *args, **kwargs))

    def refused(self, error: type[errors.QueueError], operation: str, *args: Any) -> None:
        """The operation raises `error` and leaves the state as it was."""
        before = (dict(self.state.tickets), dict(self.state.windows), dict(self.state.open_calls))
        with pytest.raises(error):
            self.do(operation, *args)
        assert (self.state.tickets, self.state.windows, self.state.open_calls) == before

    def ticket(self, code: str):
        return self.state.tickets[code]


@pytest.fixture
def hall(config: HallConfig, clock: Clock) -> Hall:
    h = Hall(config, clock)
    for window in (1, 2, 3, 4):
        h.do("open_window", window)
    return h


# -- issuing -------------------------------------------------------------------------


def test_issue_numbers_from_first_with_prefix_and_padding(hall: Hall) -> None:
    codes = [hall.do("issue", "social").code for _ in range(3)]
    assert codes == ["A001", "A002", "A003"]
    assert hall.do("issue", "fund").code == "C01"  # range 1-20 gives two digits
    assert hall.events.count("ticket.issued") == 4


def test_issue_counts_tickets_waiting_ahead(hall: Hall) -> None:
    hall.do("issue", "social")
    hall.do("issue", "social")
    hall.do("issue", "tax")
    assert hall.do("issue", "social").waiting_ahead == 2
    hall.do("issue", "social", Priority.ELDERLY)
    # a priority ticket only waits behind priority tickets; a normal one behind all
    assert hall.do("issue", "social", Priority.DISABLED).waiting_ahead == 1
    assert hall.do("issue", "social").waiting_ahead == 5


def test_issue_refuses_an_unknown_service(hall: Hall) -> None:
    hall.refused(errors.UnknownService, "issue", "passport")


def test_issue_stops_at_the_daily_limit(hall: Hall) -> None:
    for _ in range(5):
        hall.do("issue", "fund")
    hall.refused(errors.DailyLimitReached, "issue", "fund")


def test_issue_outside_opening_hours_is_refused(make_config: Callable[..., HallConfig]) -> None:
    config = make_config(
        services=[
            {
                "id": "social",
                "names": {"zh": "社保", "en": "Social"},
                "prefix": "A",
                "opening_hours": [
                    {"days": ["mon", "tue", "wed"], "start": "09:00", "end": "12:00"}
                ],
            }
        ],
        windows=[{"number": 1, "services": ["social"]}],
    )
    clock = Clock(dt.datetime(2026, 11, 25, 8, 59, tzinfo=Clock().now.tzinfo))  # Wednesday
    hall = Hall(config, clock)
    with pytest.raises(errors.ServiceClosed, match="09:00-12:00"):
        hall.do("issue", "social")
    clock.advance(60)
    assert hall.do("issue", "social").code == "A001"
    clock.now += dt.timedelta(days=1)  # Thursday is not in its days
    with pytest.raises(errors.ServiceClosed):
        hall.do("issue", "social")


def test_numbers_wrap_past_the_range_but_never_repeat_in_a_day(
    make_config: Callable[..., HallConfig], clock: Clock
) -> None:
    config = make_config(
        services=[
            {
                "id": "social",
                "names": {"zh": "社保", "en": "Social"},
                "prefix": "A",
                "numbers": {"first": 3, "last": 9},
            }
        ],
        windows=[{"number": 1, "services": ["social"]}],
    )
    hall = Hall(config, clock)
    assert [hall.do("issue", "social").code for _ in range(2)] == ["A3", "A4"]
    # The range changes under a running hall (a config reload): numbering carries
    # on after the last number issued, wraps to `first`, and skips used numbers.
    narrower = make_config(
        services=[
            {
                "id": "social",
                "names": {"zh": "社保", "en": "Social"},
                "prefix": "A",
                "numbers": {"first": 1, "last": 4},
            }
        ],
        windows=[{"number": 1, "services": ["social"]}],
    )
    hall.engine = QueueEngine(narrower)
    assert [hall.do("issue", "social").code for _ in range(2)] == ["A1", "A2"]
    hall.refused(errors.DailyLimitReached, "issue", "social")  # 1-4 all used today


def test_a_new_day_restarts_numbering_and_expires_open_tickets(hall: Hall) -> None:
    waiting = hall.do("issue", "social")
    called = hall.do("issue", "tax")
    hall.do("call_ticket", 2, called.code)
    skipped = hall.do("issue", "social")
    hall.do("call_ticket", 1, skipped.code)
    hall.do("skip", 1)
    yesterday = hall.state.day
    hall.clock.now = hall.clock.now.replace(hour=4, minute=0, second=0) + dt.timedelta(days=1)
    fresh = hall.do("issue", "social")
    assert fresh.code == "A001" and fresh.day == yesterday + dt.timedelta(days=1)
    assert hall.events.count("ticket.expired") == 2  # waiting and called; a no-show stays one
    assert "hall.day_started" in hall.events
    assert set(hall.state.tickets) == {"A001"}
    assert all(w.status is WindowStatus.CLOSED for w in hall.state.windows.values())
    assert waiting.code not in hall.state.open_calls


def test_the_business_day_starts_at_day_starts_not_midnight(hall: Hall) -> None:
    late = hall.clock.now.replace(hour=23, minute=59) + dt.timedelta(days=1)
    assert hall.engine.business_day(late) == late.date()
    after_midnight = late + dt.timedelta(hours=3)  # 02:59 next calendar day
    assert hall.engine.business_day(after_midnight) == late.date()
    assert hall.engine.business_day(after_midnight + dt.timedelta(hours=1, minutes=1)) == (
        late.date() + dt.timedelta(days=1)
    )


# -- calling -------------------------------------------------------------------------


def test_call_next_takes_the_oldest_in_the_window_preference_order(hall: Hall) -> None:
    tax = hall.do("issue", "tax")
    social = hall.do("issue", "social")
    # window 1 prefers social, window 2 prefers tax, whatever arrived first
    assert hall.do("call_next", 1).called.code == social.code
    assert hall.do("call_next", 2).called.code == tax.code
    assert hall.do("call_next", 2).called is None


def test_call_next_completes_the_current_ticket(hall: Hall) -> None:
    first = hall.do("issue", "social")
    second = hall.do("issue", "social")
    hall.do("call_next", 1)
    result = hall.do("call_next", 1)
    assert result.completed.code == first.code and result.called.code == second.code
    assert hall.ticket(first.code).state is TicketState.DONE
    assert hall.state.windows[1].last_done == first.code
    assert hall.ticket(second.code).state is TicketState.CALLED


def test_priority_goes_first_but_never_more_than_the_cap_in_a_row(hall: Hall) -> None:
    normal = [hall.do("issue", "social") for _ in range(2)]
    priority = [hall.do("issue", "social", Priority.ELDERLY) for _ in range(4)]
    order = [hall.do("call_next", 1).called.code for _ in range(6)]
    p, n = [t.code for t in priority], [t.code for t in normal]
    assert order == [p[0], p[1], n[0], p[2], p[3], n[1]]


def test_priority_is_called_past_the_cap_when_no_normal_ticket_waits(hall: Hall) -> None:
    priority = [hall.do("issue", "social", Priority.APPOINTMENT) for _ in range(3)]
    assert [hall.do("call_next", 1).called.code for _ in range(3)] == [t.code for t in priority]


def test_call_next_is_refused_at_a_paused_or_closed_window(hall: Hall) -> None:
    hall.do("issue", "social")
    hall.do("pause", 1, "午休")
    with pytest.raises(errors.WindowNotOpen, match="午休"):
        hall.do("call_next", 1)
    hall.do("close", 2)
    hall.refused(errors.WindowNotOpen, "call_next", 2)
    hall.refused(errors.UnknownWindow, "call_next", 99)


def test_recall_counts_each_announcement(hall: Hall) -> None:
    hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("recall", 1)
    again = hall.do("recall", 1)
    assert again.recalls == 2
    assert hall.state.open_calls[again.code].recalls == 2
    assert hall.events.count("ticket.recalled") == 2
    hall.refused(errors.NoCurrentTicket, "recall", 2)


def test_start_service_then_complete_with_a_case_number(hall: Hall) -> None:
    ticket = hall.do("issue", "social")
    hall.do("call_next", 1)
    assert hall.do("start_service", 1).state is TicketState.SERVING
    hall.refused(errors.TicketStateConflict, "start_service", 1)
    done = hall.do("complete", 1, "2026-SB-0042")
    assert done.state is TicketState.DONE and done.case_number == "2026-SB-0042"
    assert ticket.code not in hall.state.open_calls
    assert hall.state.windows[1].current is None
    hall.refused(errors.NoCurrentTicket, "complete", 1)


def test_skip_then_call_again_within_the_tolerance(hall: Hall) -> None:
    ticket = hall.do("issue", "social")
    hall.do("call_next", 1)
    assert hall.do("skip", 1).state is TicketState.NO_SHOW
    hall.clock.advance(29 * 60)
    again = hall.do("call_ticket", 1, ticket.code)
    assert again.called.state is TicketState.CALLED and again.called.calls == 2


def test_a_skipped_ticket_past_the_tolerance_cannot_come_back(hall: Hall) -> None:
    ticket = hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("skip", 1)
    hall.clock.advance(31 * 60)
    hall.refused(errors.ToleranceExceeded, "call_ticket", 1, ticket.code)
    hall.refused(errors.ToleranceExceeded, "reactivate", ticket.code)


def test_reactivate_puts_a_skipped_ticket_at_the_end_of_its_queue(hall: Hall) -> None:
    late = hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("skip", 1)
    behind = hall.do("issue", "social")
    back = hall.do("reactivate", late.code)
    assert back.state is TicketState.WAITING
    assert hall.do("call_next", 1).called.code == behind.code
    assert hall.do("call_next", 1).called.code == late.code
    hall.refused(errors.TicketStateConflict, "reactivate", behind.code)


def test_call_a_specific_number_out_of_turn(hall: Hall) -> None:
    hall.do("issue", "social")
    wanted = hall.do("issue", "social")
    result = hall.do("call_ticket", 1, wanted.code)
    assert result.called.code == wanted.code
    assert hall.state.open_calls[wanted.code].kind is CallKind.SPECIFIC
    hall.refused(errors.TicketStateConflict, "call_ticket", 2, wanted.code)
    hall.refused(errors.UnknownTicket, "call_ticket", 2, "A999")


def test_hold_frees_the_window_and_callback_resumes_without_counting_held_time(
    hall: Hall,
) -> None:
    held = hall.do("issue", "social")
    other = hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("start_service", 1)
    hall.clock.advance(60)
    assert hall.do("hold", 1).state is TicketState.HELD
    assert hall.state.windows[1].current is None
    assert hall.do("call_next", 1).called.code == other.code
    hall.clock.advance(600)
    back = hall.do("callback", 1)
    assert back.called.code == held.code and back.called.state is TicketState.SERVING
    assert back.completed.code == other.code
    call = hall.state.open_calls[held.code]
    assert call.held_seconds == 602 and call.held_since is None
    hall.clock.advance(120)
    hall.do("complete", 1)
    ended = hall.calls[-1]
    assert ended.code == held.code and ended.outcome is CallOutcome.DONE
    # served from the start for 61 s before the hold and 121 s after the callback
    assert service_seconds(ended) == 61 + 121


def test_callback_without_a_held_ticket_is_refused(hall: Hall) -> None:
    hall.refused(errors.WindowStateConflict, "callback", 1)
    waiting = hall.do("issue", "social")
    hall.refused(errors.TicketStateConflict, "callback", 1, waiting.code)


def test_transfer_to_a_service_keeps_the_number_and_the_arrival_order(hall: Hall) -> None:
    moved = hall.do("issue", "social")
    later_tax = hall.do("issue", "tax")
    hall.do("call_next", 1)
    transferred = hall.do("transfer", 1, "tax")
    assert transferred.code == moved.code and transferred.service == "tax"
    assert transferred.state is TicketState.TRANSFERRED
    assert hall.state.open_calls.get(moved.code) is None
    # it arrived before the tax ticket, so it goes ahead of it there
    assert hall.do("call_next", 2).called.code == moved.code
    assert hall.do("call_next", 2).called.code == later_tax.code


def test_transfer_to_a_window_is_called_only_there(hall: Hall) -> None:
    moved = hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("transfer", 1, None, 3)  # window 3 serves only "fund"
    assert hall.do("call_next", 4).called is None  # window 4 serves social but not this one
    called = hall.do("call_next", 3).called
    assert called.code == moved.code and called.target_window is None


def test_transfer_is_refused_without_a_single_valid_target(hall: Hall) -> None:
    hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.refused(errors.InvalidRequest, "transfer", 1)
    hall.refused(errors.InvalidRequest, "transfer", 1, "tax", 2)
    hall.refused(errors.UnknownService, "transfer", 1, "passport")
    hall.refused(errors.InvalidRequest, "transfer", 1, None, 42)
    hall.refused(errors.TicketStateConflict, "transfer", 1, None, 1)
    hall.refused(errors.TicketStateConflict, "transfer", 1, "social")
    hall.refused(errors.NoCurrentTicket, "transfer", 2, "tax")


def test_cancel_only_a_waiting_ticket(hall: Hall) -> None:
    ticket = hall.do("issue", "social")
    assert hall.do("cancel", ticket.code).state is TicketState.CANCELLED
    assert hall.do("call_next", 1).called is None
    hall.refused(errors.TicketStateConflict, "cancel", ticket.code)


# -- windows and clerks --------------------------------------------------------------


def test_window_open_pause_resume_close(hall: Hall) -> None:
    paused = hall.do("pause", 1, "会议")
    assert paused.status is WindowStatus.PAUSED and paused.pause_reason == "会议"
    hall.refused(errors.WindowStateConflict, "pause", 1, None)
    hall.refused(errors.WindowStateConflict, "open_window", 1)
    resumed = hall.do("resume", 1)
    assert resumed.status is WindowStatus.OPEN and resumed.pause_reason is None
    hall.refused(errors.WindowStateConflict, "resume", 1)
    assert hall.do("close", 1).status is WindowStatus.CLOSED
    hall.refused(errors.WindowStateConflict, "close", 1)
    assert hall.events.count("window.state") >= 4


def test_a_window_with_a_ticket_cannot_close_or_lose_its_clerk(hall: Hall) -> None:
    hall.do("sign_in", 1, "s1")
    hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.refused(errors.CurrentTicketOpen, "close", 1)
    hall.refused(errors.CurrentTicketOpen, "sign_out", 1)
    hall.do("complete", 1)
    assert hall.do("sign_out", 1).status is WindowStatus.CLOSED


def test_sign_in_opens_a_closed_window_and_calls_carry_the_clerk(hall: Hall) -> None:
    hall.do("close", 1)
    window = hall.do("sign_in", 1, "s1")
    assert window.status is WindowStatus.OPEN and window.clerk == "s1"
    hall.do("issue", "social")
    called = hall.do("call_next", 1).called
    assert called.clerk == "s1" and hall.state.open_calls[called.code].clerk == "s1"


def test_sign_in_rules_for_a_and_b_clerks(hall: Hall) -> None:
    hall.refused(errors.UnknownStaff, "sign_in", 1, "nobody")
    hall.refused(errors.ClerkConflict, "sign_in", 1, "s3")  # not window 1's A or B
    hall.do("sign_in", 1, "s2")  # the B clerk while A is away
    hall.refused(errors.ClerkConflict, "sign_in", 1, "s1")  # the window is taken
    hall.refused(errors.ClerkConflict, "sign_in", 1, "s2")  # already there
    hall.refused(errors.ClerkConflict, "sign_in", 2, "s2")  # signed in at window 1
    hall.do("sign_out", 1)
    hall.refused(errors.ClerkConflict, "sign_out", 1)
    assert hall.do("sign_in", 4, "s4").clerk == "s4"  # window 4 has no posts: anyone


# -- ratings -------------------------------------------------------------------------


def test_rating_is_tied_to_ticket_window_clerk_and_case_number(hall: Hall) -> None:
    hall.do("sign_in", 1, "s1")
    ticket = hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("complete", 1, "CASE-7")
    rating = hall.do("rate", 1, 1, "pad-1")
    assert (rating.ticket, rating.window, rating.clerk, rating.case_number, rating.level) == (
        ticket.code,
        1,
        "s1",
        "CASE-7",
        1,
    )
    assert hall.ticket(ticket.code).rated
    hall.refused(errors.AlreadyRated, "rate", 1, 2, "pad-1")
    assert "rating.alert" not in hall.events


def test_a_dissatisfied_rating_raises_an_alert_and_no_key_is_unrated(hall: Hall) -> None:
    hall.do("issue", "social")
    hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("rate", 1, 4, "pad-1", "等太久")
    assert hall.events[-2:] == ["rating.given", "rating.alert"]
    hall.do("call_next", 1)
    unrated = hall.do("rate", 1, None, "pad-1")
    assert unrated.level is None
    assert hall.events.count("rating.alert") == 1


def test_rating_is_refused_with_nothing_to_rate_or_a_bad_level(hall: Hall) -> None:
    hall.refused(errors.NothingToRate, "rate", 1, 1, "pad-1")
    hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.refused(errors.InvalidRequest, "rate", 1, 6, "pad-1")


def test_errors_speak_chinese_and_english(hall: Hall) -> None:
    hall.do("pause", 1, "午休")
    with pytest.raises(errors.WindowNotOpen) as refused:
        hall.do("call_next", 1)
    assert refused.value.message("zh") == "1号窗口已暂停（午休）"
    assert refused.value.message("en") == "window 1 is paused (午休)"
    assert refused.value.status == 409


def test_each_stay_at_a_window_is_a_call_with_its_outcome(hall: Hall) -> None:
    ticket = hall.do("issue", "social")
    hall.do("call_next", 1)
    hall.do("transfer", 1, "tax")
    hall.do("call_next", 2)
    hall.do("skip", 2)
    ended = [c for c in hall.calls if c.code == ticket.code and c.outcome is not None]
    assert [(c.no, c.window, c.service, c.outcome) for c in ended] == [
        (1, 1, "social", CallOutcome.TRANSFERRED),
        (2, 2, "tax", CallOutcome.NO_SHOW),
    ]
    assert ticket.code not in hall.state.open_calls


def test_a_pad_rates_the_ticket_it_was_prompted_for(hall: Hall) -> None:
    first = hall.do("issue", "social").code
    second = hall.do("issue", "social").code
    hall.do("call_next", 1)
    hall.do("call_next", 1)  # completes the first; the pad was prompted for it
    rating = hall.do("rate", 1, 2, "pad-1", None, first)
    assert rating.ticket == first
    assert hall.ticket(first).rated and not hall.ticket(second).rated
    hall.refused(errors.TicketStateConflict, "rate", 2, 2, "pad-2", None, second)


# -- printing ------------------------------------------------------------------------


def test_a_kiosk_ticket_is_spooled_with_the_ticket(hall: Hall) -> None:
    spooled = hall.do("issue", "social", None, "kiosk-1", True)
    assert spooled.print_state is PrintState.QUEUED
    assert hall.do("issue", "social").print_state is None


def test_a_print_result_is_stored_and_a_failure_keeps_the_ticket(hall: Hall) -> None:
    ok = hall.do("issue", "social", None, "kiosk-1", True).code
    failed = hall.do("issue", "social", None, "kiosk-1", True).code
    hall.do("print_done", ok, "printer-1")
    hall.do("print_done", failed, "printer-1", "paper out while printing")
    assert hall.ticket(ok).print_state is PrintState.PRINTED
    assert hall.ticket(failed).print_state is PrintState.FAILED
    assert hall.ticket(failed).state is TicketState.WAITING
    assert hall.events[-2:] == ["ticket.printed", "ticket.print_failed"]
    assert hall.do("call_next", 1).called.code == ok


def test_reprint_spools_an_open_ticket_again_on_any_kiosk(hall: Hall) -> None:
    code = hall.do("issue", "social", None, "kiosk-1", True).code
    hall.do("print_done", code, "printer-1", "cover open")
    again = hall.do("reprint", code, "kiosk-2")
    assert (again.kiosk, again.print_state) == ("kiosk-2", PrintState.QUEUED)
    assert hall.events[-1] == "ticket.reprint"
    hall.do("cancel", code)
    hall.refused(errors.TicketStateConflict, "reprint", code, "kiosk-1")
