"""The hall on its loop: nothing is told before it is durable; restarts lose nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence

import pytest

from daemon.config.model import HallConfig
from daemon.hall import Hall, StoreUnavailable, UnknownKiosk
from daemon.queue.errors import WindowNotOpen
from daemon.queue.model import TicketState
from daemon.store.store import EventRecord, Store
from tests.conftest import Clock

pytestmark = pytest.mark.anyio


class GatedStore(Store):
    """A store whose writes wait until the test opens the gate."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.gate.set()
        self.fail_next = False

    def write(self, batch: Sequence) -> None:  # type: ignore[override]
        self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise sqlite3.OperationalError("disk I/O error")
        super().write(batch)


@pytest.fixture
async def store(config: HallConfig) -> AsyncIterator[GatedStore]:
    s = GatedStore(config.storage.path, config.hall.id)
    yield s
    s.gate.set()
    s.close()


@pytest.fixture
async def hall(config: HallConfig, store: GatedStore, clock: Clock) -> AsyncIterator[Hall]:
    h = Hall(config, store, clock=clock)
    await h.start(day_timer=False)
    yield h
    await h.stop()


def stored_codes(store: Store) -> set[str]:
    conn = sqlite3.connect(store.path)
    try:
        return {code for (code,) in conn.execute("SELECT code FROM tickets")}
    finally:
        conn.close()


async def test_an_issued_ticket_is_in_the_store_when_issue_returns(hall: Hall) -> None:
    ticket = await hall.issue("social")
    assert stored_codes(hall.store) == {ticket.code}
    assert (await hall.ticket(ticket.code)).state is TicketState.WAITING


async def test_nothing_is_told_before_the_commit(hall: Hall, store: GatedStore) -> None:
    told: list[EventRecord] = []
    hall.subscribe(told.extend)
    store.gate.clear()
    issuing = asyncio.create_task(hall.issue("social"))
    await asyncio.sleep(0.05)
    assert not issuing.done()
    assert told == [] and hall.committed.tickets == {}
    assert "A001" in hall.planned.tickets  # the number is taken already
    second = asyncio.create_task(hall.issue("social"))
    await asyncio.sleep(0.05)
    store.gate.set()
    assert (await issuing).code == "A001" and (await second).code == "A002"
    assert [e.document["ticket"] for e in told] == ["A001", "A002"]
    assert set(hall.committed.tickets) == {"A001", "A002"}


async def test_concurrent_changes_share_a_commit(hall: Hall, store: GatedStore) -> None:
    assert hall._writer is not None
    before = hall._writer.commits
    store.gate.clear()
    issuing = [asyncio.create_task(hall.issue("tax")) for _ in range(50)]
    await asyncio.sleep(0.05)
    store.gate.set()
    tickets = await asyncio.gather(*issuing)
    assert sorted(t.number for t in tickets) == list(range(1, 51))
    assert hall._writer.commits - before <= 3  # one fsync for many tickets


async def test_each_commit_is_timed_with_the_wait_for_the_disk_in_it(
    hall: Hall, store: GatedStore
) -> None:
    """A commit held up (a slow fsync) is timed as long as it took: the metrics
    show the disk's share of a slow call."""
    timed: list[float] = []
    hall.commit_timers.append(timed.append)
    store.gate.clear()
    issuing = [asyncio.create_task(hall.issue("tax")) for _ in range(5)]
    await asyncio.sleep(0.1)
    store.gate.set()
    await asyncio.gather(*issuing)
    await hall.issue("tax")
    assert 2 <= len(timed) <= 3  # the five share one or two commits, the sixth its own
    assert max(timed) >= 0.09


async def test_events_are_gap_free_and_written_with_their_change(hall: Hall) -> None:
    told: list[EventRecord] = []
    hall.subscribe(told.extend)
    await hall.perform(hall.engine.open_window, 1)
    await hall.issue("social")
    await hall.perform(hall.engine.call_next, 1)
    await hall.perform(hall.engine.complete, 1, "CASE-1")
    events = hall.store.events_after(0, 1000)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e.seq for e in told] == [e["seq"] for e in events[-len(told) :]]
    assert [e.type for e in told] == [
        "window.state",
        "ticket.issued",
        "ticket.called",
        "ticket.done",
    ]
    assert events[-1]["case_number"] == "CASE-1" and events[-1]["hall"] == "test-hall"


async def test_a_refused_operation_changes_nothing(hall: Hall) -> None:
    seq = hall.committed_seq
    with pytest.raises(WindowNotOpen):
        await hall.perform(hall.engine.call_next, 1)
    with pytest.raises(UnknownKiosk):
        await hall.issue("social", kiosk="kiosk-9")
    assert hall.committed_seq == seq and hall.planned.tickets == {}


async def test_a_subscriber_that_fails_does_not_stop_the_others(hall: Hall) -> None:
    told: list[EventRecord] = []

    def broken(events: Sequence[EventRecord]) -> None:
        raise RuntimeError("consumer bug")

    hall.subscribe(broken)
    hall.subscribe(told.extend)
    await hall.issue("social")
    assert [e.type for e in told] == ["ticket.issued"]


async def test_a_restart_keeps_every_ticket_and_continues_numbering(
    config: HallConfig, store: GatedStore, clock: Clock
) -> None:
    first = Hall(config, store, clock=clock)
    await first.start(day_timer=False)
    issued = [await first.issue("social") for _ in range(3)]
    await first.perform(first.engine.open_window, 1)
    await first.perform(first.engine.call_next, 1)
    await first.stop()
    again = Hall(config, store, clock=clock)
    await again.start(day_timer=False)
    try:
        assert set(again.committed.tickets) == {t.code for t in issued}
        assert again.committed.windows == first.committed.windows
        assert (await again.issue("social")).code == "A004"
        assert again.committed_seq == first.committed_seq + 1
    finally:
        await again.stop()


async def test_a_failed_write_is_reported_and_the_hall_recovers(
    hall: Hall, store: GatedStore
) -> None:
    await hall.issue("social")
    store.fail_next = True
    with pytest.raises(StoreUnavailable, match="disk I/O error"):
        await hall.issue("social")
    assert hall.health()["state"] == "failed"
    for _ in range(100):  # the hall reloads its state from the store
        if not hall._rebuilding:
            break
        await asyncio.sleep(0.01)
    ticket = await hall.issue("social")
    assert ticket.code == "A002"  # A002 was never acknowledged, so it is free
    assert stored_codes(store) == {"A001", "A002"}
    assert hall.health()["state"] == "ok"
    seqs = [e["seq"] for e in store.events_after(0, 1000)]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_the_day_changes_at_day_starts(hall: Hall, clock: Clock) -> None:
    await hall.issue("social")
    clock.now = clock.now.replace(hour=3, minute=59) + dt.timedelta(days=1)
    assert (await hall.issue("social")).code == "A002"  # still the same business day
    clock.advance(60)
    ticket = await hall.issue("social")
    assert ticket.code == "A001" and ticket.day == clock.now.date()
    old = await hall.ticket("A001", clock.now.date() - dt.timedelta(days=1))
    assert old.state is TicketState.EXPIRED


async def test_the_day_timer_sleeps_until_the_next_day_starts(hall: Hall, clock: Clock) -> None:
    clock.now = clock.now.replace(hour=3, minute=0, second=0)
    assert hall._seconds_to_next_day() == pytest.approx(3600.5)
    clock.now = clock.now.replace(hour=5)
    assert hall._seconds_to_next_day() == pytest.approx(23 * 3600 + 0.5)
