"""Checkpoints of the store's write-ahead log, off the path of the writer.

A checkpoint copies what the WAL holds back into the database file and
fsyncs it. SQLite by default runs one inside the commit that takes the WAL
past 1000 pages: that commit then writes up to 4 MB and waits for a second
fsync, and every call, ticket and rating queued behind it waits as well.
Here a thread with a connection of its own checkpoints every
`CHECKPOINT_SECONDS` instead, PASSIVE, so it never holds up the writer or a
reader; the writer's own automatic checkpoint stays as a backstop, at
`BACKSTOP_PAGES`, for a WAL this thread has not kept small.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 5.0
#: The writer checkpoints in its commit only once the WAL is this long (40 MB).
BACKSTOP_PAGES = 10_000


class Checkpointer:
    def __init__(self, path: Path, every: float = CHECKPOINT_SECONDS) -> None:
        self._path = path
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-checkpoints", daemon=True)
        self._failing = False

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._every):
                self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            # The database file is fsynced after the copy, as the writer's would be.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            if not self._failing:  # logged once each way, like a device's health
                log.warning("store %s: checkpoint failed: %s", self._path, exc)
            self._failing = True
            return
        if self._failing:
            log.info("store %s: checkpoints work again", self._path)
        self._failing = False
