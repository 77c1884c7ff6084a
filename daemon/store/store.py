"""The hall's SQLite store: the one source of truth for tickets, calls,
windows, ratings and events.

WAL mode with synchronous=FULL, so a committed change survives a power cut;
each change and its events go in one transaction. Reads use their own
connection per thread, which WAL lets run beside the writer. The WAL is
copied back into the database file by `daemon.store.checkpoints`, not in
the writer's commits.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.queue.model import Call, Fingerprint, Punch, Rating, Ticket, WindowState
from daemon.queue.state import Change, QueueState
from daemon.store.checkpoints import BACKSTOP_PAGES
from daemon.store.rows import columns, from_row, to_row
from daemon.store.schema import MIGRATIONS


class StoreError(Exception):
    """The store cannot be used: wrong hall, newer schema, unreadable file."""


@dataclass(frozen=True)
class EventRecord:
    seq: int
    type: str
    at: str
    document: dict[str, Any]

    @property
    def json(self) -> str:
        return json.dumps(self.document, ensure_ascii=False, separators=(",", ":"))


def _upsert(table: str, cls: type, key: tuple[str, ...]) -> str:
    names = columns(cls)
    quoted = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in key)
    conflict = ", ".join(f'"{k}"' for k in key)
    return (
        f"INSERT INTO {table} ({quoted}) VALUES ({marks}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )


def _insert(table: str, cls: type) -> str:
    names = columns(cls)
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' for _ in names)})"


_UPSERT_TICKET = _upsert("tickets", Ticket, ("day", "code"))
_UPSERT_CALL = _upsert("calls", Call, ("day", "code", "no"))
_UPSERT_WINDOW = _upsert("windows", WindowState, ("number",))
_INSERT_RATING = _insert("ratings", Rating)
_INSERT_PUNCH = _insert("punches", Punch).replace("INSERT", "INSERT OR IGNORE", 1)
_UPSERT_FINGERPRINT = _upsert("fingerprints", Fingerprint, ("reader", "page"))
_INSERT_EVENT = "INSERT INTO events (seq, type, at, body) VALUES (?, ?, ?, ?)"


def _select(table: str, cls: type, where: str) -> str:
    quoted = ", ".join(f'"{n}"' for n in columns(cls))
    return f"SELECT {quoted} FROM {table} WHERE {where}"


class Store:
    def __init__(self, path: Path, hall_id: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=FULL")
        self._writer.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        self._migrate()
        self._claim(hall_id)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        return conn

    def _migrate(self) -> None:
        version = self._writer.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.path} has schema version {version}, this hallkeeper knows "
                f"versions up to {len(MIGRATIONS)}: upgrade hallkeeper or restore a backup"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._writer.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    @property
    def schema_version(self) -> int:
        return int(self._writer.execute("PRAGMA user_version").fetchone()[0])

    def _claim(self, hall_id: str) -> None:
        row = self._writer.execute("SELECT value FROM meta WHERE key = 'hall'").fetchone()
        if row is None:
            self._writer.execute("INSERT INTO meta (key, value) VALUES ('hall', ?)", (hall_id,))
        elif row[0] != hall_id:
            raise StoreError(
                f"the store {self.path} belongs to hall {row[0]!r}, the config is for hall "
                f"{hall_id!r}"
            )

    def close(self) -> None:
        for conn in [self._writer, *self._readers]:
            conn.close()

    # -- writing -------------------------------------------------------------------

    def write(self, batch: Sequence[tuple[Change, Sequence[EventRecord]]]) -> None:
        """Write changes and their events in one transaction, durable on return."""
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            for change, events in batch:
                if change.day is not None:
                    conn.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('day', ?)",
                        (change.day.isoformat(),),
                    )
                conn.executemany(_UPSERT_TICKET, (to_row(t) for t in change.tickets))
                conn.executemany(_UPSERT_CALL, (to_row(c) for c in change.calls))
                conn.executemany(_UPSERT_WINDOW, (to_row(w) for w in change.windows))
                conn.executemany(_INSERT_RATING, (to_row(r) for r in change.ratings))
                conn.executemany(_INSERT_PUNCH, (to_row(p) for p in change.punches))
                conn.executemany(
                    _UPSERT_FINGERPRINT, (to_row(f) for f in change.fingerprints if f.staff)
                )
                conn.executemany(
                    "DELETE FROM fingerprints WHERE reader = ? AND page = ?",
                    ((f.reader, f.page) for f in change.fingerprints if f.staff is None),
                )
                conn.executemany(_INSERT_EVENT, ((e.seq, e.type, e.at, e.json) for e in events))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- reading -------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            self._readers.append(conn)
        return conn

    def load_state(self) -> QueueState:
        """The queue state as last committed: the current business day's tickets,
        the open calls and every window."""
        conn = self._reader()
        row = conn.execute("SELECT value FROM meta WHERE key = 'day'").fetchone()
        if row is None:
            return QueueState(None)
        day = dt.date.fromisoformat(row[0])
        state = QueueState(day)
        tickets = self.tickets_of(day)
        calls = [c for c in self.calls_of(day) if c.is_open]
        windows = [
            from_row(WindowState, r) for r in conn.execute(_select("windows", WindowState, "1"))
        ]
        fingerprints = [
            from_row(Fingerprint, r)
            for r in conn.execute(_select("fingerprints", Fingerprint, "1"))
        ]
        state.apply(
            Change(
                tickets=tickets,
                calls=calls,
                windows=windows,
                punches=self.punches_of(day),
                fingerprints=fingerprints,
            )
        )
        return state

    def last_seq(self) -> int:
        row = self._reader().execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def events_after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        rows = self._reader().execute(
            "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        )
        return [json.loads(body) for (body,) in rows]

    def ticket(self, day: dt.date, code: str) -> Ticket | None:
        row = (
            self._reader()
            .execute(_select("tickets", Ticket, "day = ? AND code = ?"), (day.isoformat(), code))
            .fetchone()
        )
        return from_row(Ticket, row) if row else None

    def tickets_of(self, day: dt.date) -> list[Ticket]:
        rows = self._reader().execute(
            _select("tickets", Ticket, "day = ? ORDER BY issued_at, number"), (day.isoformat(),)
        )
        return [from_row(Ticket, r) for r in rows]

    def calls_of(self, day: dt.date) -> list[Call]:
        rows = self._reader().execute(_select("calls", Call, "day = ?"), (day.isoformat(),))
        return [from_row(Call, r) for r in rows]

    def punches_of(self, day: dt.date) -> list[Punch]:
        rows = self._reader().execute(
            _select("punches", Punch, "day = ? ORDER BY at"), (day.isoformat(),)
        )
        return [from_row(Punch, r) for r in rows]

    def known_punches(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are stored already (a terminal's log repeats old punches)."""
        conn, found = self._reader(), set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            rows = conn.execute(f"SELECT key FROM punches WHERE key IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def get_meta(self, key: str) -> str | None:
        row = self._reader().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Keep a small fact (the MQTT session, the last event the broker has)
        durably, from any thread: on a connection of its own, beside the writer."""
        conn = self._connect()
        try:
            with conn:
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        finally:
            conn.close()

    def ratings_of(self, day: dt.date) -> list[Rating]:
        rows = self._reader().execute(_select("ratings", Rating, "day = ?"), (day.isoformat(),))
        return [from_row(Rating, r) for r in rows]
