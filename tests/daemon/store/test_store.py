"""The SQLite store: durability settings, schema versions, round trips."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from daemon.config.model import HallConfig
from daemon.events.document import event_record
from daemon.queue.attendance import Attendance
from daemon.queue.engine import QueueEngine
from daemon.queue.model import PunchMethod
from daemon.queue.state import Change, QueueState
from daemon.store.rows import to_row
from daemon.store.schema import MIGRATIONS
from daemon.store.store import Store, StoreError
from tests.conftest import Clock


@pytest.fixture
def store(config: HallConfig) -> Store:
    s = Store(config.storage.path, config.hall.id)
    yield s
    s.close()


def run(engine: QueueEngine, state: QueueState, store: Store, change: Change, seq: int) -> int:
    """Apply and store a change with its events numbered from `seq`; the next seq."""
    records = [event_record("test-hall", seq + i, e) for i, e in enumerate(change.events)]
    store.write([(change, records)])
    state.apply(change)
    return seq + len(records)


def test_the_store_is_wal_with_full_sync(store: Store) -> None:
    other = sqlite3.connect(store.path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.schema_version == len(MIGRATIONS)


def test_a_store_from_a_newer_hallkeeper_is_refused(config: HallConfig) -> None:
    path = config.storage.path
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade hallkeeper"):
        Store(path, config.hall.id)


def test_a_store_belongs_to_one_hall(config: HallConfig) -> None:
    Store(config.storage.path, config.hall.id).close()
    with pytest.raises(StoreError, match="belongs to hall 'test-hall'"):
        Store(config.storage.path, "another-hall")


def test_an_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreError, match=r"dir\.sqlite3"):
        Store(tmp_path / "dir.sqlite3", "test-hall")


def test_state_written_is_state_loaded(config: HallConfig, store: Store, clock: Clock) -> None:
    engine, state = QueueEngine(config), QueueState()
    seq = run(engine, state, store, engine.start_day(state, clock()), 1)
    seq = run(engine, state, store, engine.open_window(state, clock.advance(), 1).change, seq)
    for service in ("social", "social", "tax", "fund"):
        seq = run(engine, state, store, engine.issue(state, clock.advance(), service).change, seq)
    seq = run(engine, state, store, engine.call_next(state, clock.advance(), 1).change, seq)
    seq = run(engine, state, store, engine.hold(state, clock.advance(), 1).change, seq)
    seq = run(engine, state, store, engine.call_next(state, clock.advance(), 1).change, seq)
    loaded = store.load_state()
    assert loaded.day == state.day
    assert loaded.tickets == state.tickets
    assert loaded.open_calls == state.open_calls
    assert loaded.windows == state.windows
    assert store.last_seq() == seq - 1
    # numbering carries on from the store
    assert engine.issue(loaded, clock.advance(), "social").value.code == "A003"


def test_a_ticket_code_cannot_name_two_tickets_on_one_day(
    config: HallConfig, store: Store, clock: Clock
) -> None:
    engine, state = QueueEngine(config), QueueState()
    run(engine, state, store, engine.start_day(state, clock()), 1)
    first = engine.issue(state, clock.advance(), "social").change
    run(engine, state, store, first, 100)
    again = engine.issue(QueueState(state.day), clock.advance(), "social").change  # A001 again
    with pytest.raises(sqlite3.IntegrityError, match="already issued today"):
        store.write([(again, [])])
    assert store.ticket(state.day, "A001") == first.tickets[0]


def test_events_are_served_in_seq_order_in_pages(
    config: HallConfig, store: Store, clock: Clock
) -> None:
    engine, state = QueueEngine(config), QueueState()
    seq = run(engine, state, store, engine.start_day(state, clock()), 1)
    for _ in range(5):
        seq = run(engine, state, store, engine.issue(state, clock.advance(), "tax").change, seq)
    everything = store.events_after(0, 1000)
    assert [e["seq"] for e in everything] == list(range(1, seq))
    page = store.events_after(2, 3)
    assert [e["seq"] for e in page] == [3, 4, 5]
    issued = [e for e in everything if e["type"] == "ticket.issued"]
    assert [e["ticket"] for e in issued] == ["B001", "B002", "B003", "B004", "B005"]
    assert all(e["hall"] == "test-hall" and e["at"].endswith("+08:00") for e in everything)


def test_a_failed_write_leaves_nothing_behind(
    config: HallConfig, store: Store, clock: Clock
) -> None:
    engine, state = QueueEngine(config), QueueState()
    run(engine, state, store, engine.start_day(state, clock()), 1)
    change = engine.issue(state, clock.advance(), "social").change
    clash = [event_record("test-hall", 1, change.events[0])]  # seq 1 is taken
    with pytest.raises(sqlite3.IntegrityError):
        store.write([(change, clash)])
    assert store.ticket(state.day, "A001") is None
    assert store.load_state().tickets == {}


def test_a_version_1_store_is_migrated_keeping_its_tickets(
    config: HallConfig, clock: Clock
) -> None:
    path = config.storage.path
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version = 1;\nCOMMIT;")
    old.execute("INSERT INTO meta (key, value) VALUES ('hall', ?)", (config.hall.id,))
    engine, state = QueueEngine(config), QueueState()
    state.apply(engine.start_day(state, clock()))
    ticket = engine.issue(state, clock.advance(), "social").value
    names = [n for n in ticket.__dataclass_fields__ if n != "print_state"]
    values = [to_row(ticket)[i] for i, n in enumerate(ticket.__dataclass_fields__) if n in names]
    quoted = ", ".join(f'"{n}"' for n in names)
    old.execute(f"INSERT INTO tickets ({quoted}) VALUES ({', '.join('?' for _ in names)})", values)
    old.close()

    store = Store(path, config.hall.id)
    try:
        assert store.schema_version == len(MIGRATIONS)
        assert store.ticket(ticket.day, ticket.code) == ticket  # print_state None
    finally:
        store.close()


def test_punches_and_fingerprints_are_stored_and_loaded(
    config: HallConfig, store: Store, clock: Clock
) -> None:
    engine, state = QueueEngine(config), QueueState()
    attendance = Attendance(engine)
    seq = run(engine, state, store, engine.start_day(state, clock()), 1)
    punched = attendance.punch(state, clock.advance(), "s1", "zk-1", PunchMethod.TERMINAL)
    seq = run(engine, state, store, punched.change, seq)
    enrolled = attendance.enroll(state, clock.advance(), "reader-1", 5, "s2")
    run(engine, state, store, enrolled.change, seq)

    loaded = store.load_state()
    assert loaded.punches == {punched.value.key: punched.value}
    assert loaded.fingerprints == {("reader-1", 5): "s2"}
    assert store.punches_of(state.day) == [punched.value]
    assert store.known_punches([punched.value.key, "zk-1:other"]) == {punched.value.key}
