"""The end-of-day checks on crafted records: each names what is at fault."""

from collections import Counter

from daemon.day.checks import (
    Records,
    all_checks,
    check_events,
    check_punches,
    check_ratings,
    check_screens,
    check_tickets,
)
from daemon.day.ledger import FingerGiven, Ledger, RatingGiven, Received


def good() -> tuple[Ledger, Records]:
    ledger = Ledger(
        received=[Received("A001", 1, "kiosk-1"), Received("B001", 2, "kiosk-2")],
        ratings=[RatingGiven("A001", 2, "pad-1", delivered=True)],
        fingers=[FingerGiven("reader-1", "s01", True), FingerGiven("zk-door", "s01", True)],
    )
    records = Records(
        tickets={"A001": "done", "B001": "no_show", "C001": "waiting"},
        called={"A001", "B001"},
        ratings=[("A001", 2), ("C009", None)],
        punches=Counter({("s01", "reader-1"): 1, ("s01", "zk-door"): 1}),
        seqs=[1, 2, 3, 4],
        last_seq=4,
        screens=[("screen-1", "请A001号到1号窗口", "请A001号到1号窗口")],
    )
    return ledger, records


def test_a_day_where_everything_was_recorded_passes():
    ledger, records = good()
    results = all_checks(ledger, records)
    assert [r.id for r in results] == ["tickets", "ratings", "punches", "screens", "events"]
    assert all(r.ok for r in results), [r.problems for r in results]


def test_a_ticket_never_called_is_named():
    ledger, records = good()
    records.called.discard("B001")
    records.tickets["B001"] = "waiting"
    assert check_tickets(ledger, records).problems == (
        "B001: never called, still waiting / 未叫号，仍为 waiting",
    )


def test_with_the_hall_still_open_a_waiting_ticket_is_not_a_fault_but_a_lost_one_is():
    ledger, records = good()
    records.called.discard("B001")
    records.tickets["B001"] = "waiting"
    ledger.received.append(Received("D001", 3, "kiosk-1"))
    result = check_tickets(ledger, records, hall_open=True)
    assert result.problems == ("D001: received but not in the store / 市民取到但未存储",)
    assert "1 still waiting" in result.detail


def test_an_expired_ticket_is_settled_without_a_call():
    ledger, records = good()
    records.called.discard("B001")
    records.tickets["B001"] = "expired"
    assert check_tickets(ledger, records).ok


def test_a_ticket_handed_to_two_citizens_or_missing_from_the_store_is_named():
    ledger, records = good()
    ledger.received.append(Received("A001", 7, "kiosk-2"))
    ledger.received.append(Received("D004", 8, "kiosk-1"))
    records.duplicates = ["2026-12-03 B001"]
    assert check_tickets(ledger, records).problems == (
        "A001: handed to citizens 1, 7 / 发给了多位市民",
        "D004: received but not in the store / 市民取到但未存储",
        "2026-12-03 B001: issued twice in the store / 存储中重号",
    )


def test_a_delivered_rating_stored_with_another_level_or_not_at_all_is_named():
    ledger, records = good()
    ledger.ratings.append(RatingGiven("B001", 1, "pad-2", delivered=True))
    records.ratings = [("A001", 3)]
    assert check_ratings(ledger, records).problems == (
        "A001: level 2 on pad-1 was acknowledged but stored as [3] / 评价已确认但未按此存储",
        "B001: level 1 on pad-2 was acknowledged but not stored / 评价已确认但未按此存储",
    )


def test_a_rating_the_pad_never_delivered_is_not_owed():
    ledger, records = good()
    ledger.ratings.append(RatingGiven("B001", 5, "pad-2", delivered=False))
    result = check_ratings(ledger, records)
    assert result.ok
    assert "1 pressed while the pad could not deliver" in result.detail


def test_two_ratings_of_one_level_need_two_stored():
    ledger, records = good()
    ledger.ratings.append(RatingGiven("A001", 2, "pad-1", delivered=True))
    assert not check_ratings(ledger, records).ok


def test_a_punch_missing_is_named_and_an_unread_finger_is_not_owed():
    ledger, records = good()
    ledger.fingers.append(FingerGiven("reader-1", "s01", True))
    ledger.fingers.append(FingerGiven("reader-door", "s02", False))
    assert check_punches(ledger, records).problems == (
        "s01 at reader-1: 2 punch(es) given, 1 stored / 打卡未全部记录",
    )


def test_a_screen_that_disagrees_with_the_engine_is_named():
    _, records = good()
    records.screens.append(("screen-2", "请B001号到2号窗口", "2号窗口 暂停服务"))
    assert check_screens(records).problems == (
        "screen-2: shows '请B001号到2号窗口', the engine says '2号窗口 暂停服务' "
        "/ 屏幕内容与叫号状态不符",
    )


def test_a_gap_in_the_events_is_named():
    _, records = good()
    records.seqs = [1, 2, 5, 6]
    records.last_seq = 7
    assert check_events(records).problems == (
        "event seq 5 follows 2: 3..4 missing / 事件序号不连续",
        "the list ends at 6, the store's last is 7",
    )
