"""The store's WAL reaches the database file by the checkpoint thread, not in
the writer's commits."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from daemon.config.model import HallConfig
from daemon.queue.engine import QueueEngine
from daemon.queue.state import QueueState
from daemon.store.checkpoints import BACKSTOP_PAGES, Checkpointer
from daemon.store.store import Store
from tests.conftest import Clock

WAIT = 5.0


def file_alone_has(store: Store, code: str, scratch: Path) -> bool:
    """Whether the database file, copied without its WAL (a careless backup),
    holds ticket `code`."""
    copy = scratch / "copy.sqlite3"
    shutil.copyfile(store.path, copy)
    conn = sqlite3.connect(copy)
    try:
        return conn.execute("SELECT 1 FROM tickets WHERE code = ?", (code,)).fetchone() is not None
    except sqlite3.DatabaseError:  # copied while a checkpoint was writing it
        return False
    finally:
        conn.close()
        copy.unlink()


def test_the_writer_checkpoints_in_a_commit_only_as_a_backstop(config: HallConfig) -> None:
    store = Store(config.storage.path, config.hall.id)
    try:
        pages = store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    finally:
        store.close()
    assert pages == BACKSTOP_PAGES


def test_a_stored_ticket_reaches_the_database_file_at_the_next_checkpoint(
    config: HallConfig, clock: Clock, tmp_path: Path
) -> None:
    store = Store(config.storage.path, config.hall.id)
    engine, state = QueueEngine(config), QueueState()
    for make in (engine.start_day, lambda s, t: engine.issue(s, t, "social").change):
        change = make(state, clock())
        store.write([(change, [])])
        state.apply(change)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    checkpointer = Checkpointer(store.path, every=0.05)
    try:
        assert not file_alone_has(store, "A001", scratch), "only in the WAL before a checkpoint"
        checkpointer.start()
        deadline = time.monotonic() + WAIT
        while not file_alone_has(store, "A001", scratch) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert file_alone_has(store, "A001", scratch)
    finally:
        checkpointer.stop()
        store.close()


def test_a_failing_checkpoint_is_logged_once_with_the_store_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hall.sqlite3"
    path.write_bytes(b"not a database " * 100)
    checkpointer = Checkpointer(path, every=0.02).start()
    deadline = time.monotonic() + WAIT
    with caplog.at_level(logging.WARNING, logger="daemon.store.checkpoints"):
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # several more attempts
    checkpointer.stop()
    [record] = caplog.records  # one warning, not one every 20 ms
    assert str(path) in record.getMessage() and "not a database" in record.getMessage()
