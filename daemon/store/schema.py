"""The store's schema, as a list of migrations; `PRAGMA user_version` is the
number of migrations applied. Append a migration to change the schema; never
edit one that has shipped."""

MIGRATIONS: list[str] = [
    # 1: tickets, calls at windows, windows, ratings, the event outbox
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE tickets (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        number INTEGER NOT NULL,
        issued_service TEXT NOT NULL,
        service TEXT NOT NULL,
        priority TEXT,
        state TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        state_since TEXT NOT NULL,
        waiting_ahead INTEGER NOT NULL,
        kiosk TEXT,
        "window" INTEGER,
        target_window INTEGER,
        clerk TEXT,
        calls INTEGER NOT NULL,
        recalls INTEGER NOT NULL,
        case_number TEXT,
        rated INTEGER NOT NULL,
        PRIMARY KEY (day, code)
    ) WITHOUT ROWID;
    -- A code names one ticket per day: an update may change its state, never
    -- which ticket it is, so a number can not be reissued on the same day.
    CREATE TRIGGER tickets_keep_identity BEFORE UPDATE ON tickets
    WHEN NEW.issued_at IS NOT OLD.issued_at OR NEW.number IS NOT OLD.number
    BEGIN
        SELECT RAISE(ABORT, 'ticket code already issued today');
    END;
    CREATE TABLE calls (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        no INTEGER NOT NULL,
        "window" INTEGER NOT NULL,
        clerk TEXT,
        service TEXT NOT NULL,
        kind TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        called_at TEXT NOT NULL,
        serving_at TEXT,
        ended_at TEXT,
        outcome TEXT,
        recalls INTEGER NOT NULL,
        held_seconds REAL NOT NULL,
        held_since TEXT,
        case_number TEXT,
        PRIMARY KEY (day, code, no)
    ) WITHOUT ROWID;
    CREATE TABLE windows (
        number INTEGER PRIMARY KEY,
        status TEXT NOT NULL,
        since TEXT NOT NULL,
        pause_reason TEXT,
        clerk TEXT,
        current TEXT,
        last_done TEXT,
        priority_streak INTEGER NOT NULL
    );
    CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        at TEXT NOT NULL,
        "window" INTEGER NOT NULL,
        clerk TEXT,
        ticket TEXT,
        case_number TEXT,
        level INTEGER,
        source TEXT NOT NULL,
        reason TEXT
    );
    CREATE INDEX ratings_by_day ON ratings (day);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    """,
    # 2: kiosk tickets remember their paper, so spooled jobs survive a restart
    """
    ALTER TABLE tickets ADD COLUMN print_state TEXT;
    CREATE INDEX tickets_to_print ON tickets (print_state) WHERE print_state = 'queued';
    """,
    # 3: attendance: punches (keyed by their source, so one read twice is one) and
    # the fingerprint templates of each reader
    """
    CREATE TABLE punches (
        key TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        at TEXT NOT NULL,
        staff TEXT NOT NULL,
        source TEXT NOT NULL,
        method TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX punches_by_day ON punches (day, staff, at);
    CREATE TABLE fingerprints (
        reader TEXT NOT NULL,
        page INTEGER NOT NULL,
        staff TEXT,
        enrolled_at TEXT NOT NULL,
        PRIMARY KEY (reader, page)
    ) WITHOUT ROWID;
    """,
]
