"""`hallkeeper bench disk`: how often the disk under the store holds up a commit.

Every call, ticket and rating waits for its commit, and a commit waits for
the disk's fsync (the store is synchronous=FULL, so nothing is told before
it would survive a power cut). A disk that now and then takes hundreds of
milliseconds over one fsync shows in the tail of key to screen however fast
the daemon is. This writes through the daemon's own store (`Store`, with its
checkpointer) in a scratch folder on the disk given, one event a commit at
the pace of a 300-window hall in full swing, and prints one JSON object: the
commit time's p50, p99 and max, how many commits took over 50, 100 and
250 ms, and when the slowest came.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from daemon.bench.bus import spread
from daemon.events.document import event_record
from daemon.queue.model import DomainEvent
from daemon.queue.state import Change
from daemon.store.checkpoints import Checkpointer
from daemon.store.store import EventRecord, Store

#: Commit times (ms) counted, here and in the daemon's by `hallkeeper bench
#: hall` (each one of the buckets of its commit histogram).
SLOW_COMMITS = (50, 100, 250)


def run_disk_bench(folder: Path, minutes: float, rate: float) -> None:
    print(json.dumps(measure_disk(folder, minutes * 60, rate), ensure_ascii=False))


def measure_disk(folder: Path, seconds: float, rate: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hallkeeper-bench-disk-", dir=folder) as scratch:
        path = Path(scratch) / "bench.sqlite3"
        store = Store(path, "bench-disk")
        checkpoints = Checkpointer(path).start()
        try:
            commits = commit_at_pace(store, seconds, rate)
        finally:
            checkpoints.stop()
            store.close()
    durations = [ms for _, ms in commits]
    return {
        "bench": "disk",
        "folder": str(folder),
        "seconds": seconds,
        "commits_per_second": rate,
        "commits": len(commits),
        "commit_ms": spread(durations, digits=2),
        **{f"over_{ms}_ms": sum(d > ms for d in durations) for ms in SLOW_COMMITS},
        "slowest": [
            {"after_seconds": round(at, 1), "ms": round(ms, 1)}
            for at, ms in sorted(commits, key=lambda commit: -commit[1])[:5]
        ],
    }


def commit_at_pace(store: Store, seconds: float, rate: float) -> list[tuple[float, float]]:
    """Commit one event every 1/`rate` s for `seconds`: (seconds since the
    start, ms) of each commit. A late commit does not make the next ones
    hurry, as a hall's clerks do not press faster after a stall."""
    start = due = time.monotonic()
    commits: list[tuple[float, float]] = []
    while due < start + seconds:
        time.sleep(max(0.0, due - time.monotonic()))
        began = time.perf_counter()
        store.write([(Change(), [_event(len(commits) + 1)])])
        commits.append((time.monotonic() - start, (time.perf_counter() - began) * 1000))
        due = max(due + 1 / rate, time.monotonic())
    return commits


def _event(seq: int) -> EventRecord:
    """A call's event, stored as the daemon stores it."""
    ticket, window = f"A{seq % 1000:03d}", 1 + seq % 300
    fields = {
        "ticket": ticket,
        "service": "service-a",
        "window": window,
        "staff": "S0001",
        "texts": {"zh": f"请{ticket}号到{window}号窗口", "en": f"{ticket} to window {window}"},
    }
    called = DomainEvent("ticket.called", dt.datetime.now(dt.UTC), fields)
    return event_record("bench-disk", seq, called)
