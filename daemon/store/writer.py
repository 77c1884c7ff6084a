"""The store's writer thread: group commit for changes planned on the loop.

The loop plans an operation in microseconds, but a durable commit waits for
the disk. The writer takes every change that has queued up while the last
commit ran and writes them in one transaction, so one fsync acknowledges
many tickets, and the loop never waits for the disk.

After a failed commit the changes still queued were planned on top of the
lost one; they are failed too until the hall has rebuilt its state from the
store and calls `resume()`, which queues behind them.

Each commit's duration goes to `timers` (the metrics' histogram): every
change waits for the disk, so a slow fsync is a slow call and a slow rating.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from daemon.queue.state import Change
from daemon.store.store import EventRecord, Store

log = logging.getLogger(__name__)

MAX_BATCH = 500
_STOP = "stop"
_RESUME = "resume"


@dataclass
class Pending:
    change: Change
    events: Sequence[EventRecord]
    future: asyncio.Future[None] = field(repr=False)


class StoreWriter:
    def __init__(
        self,
        store: Store,
        loop: asyncio.AbstractEventLoop,
        on_committed: Callable[[list[Pending]], None],
        on_failed: Callable[[list[Pending], BaseException], None],
        timers: Sequence[Callable[[float], None]] = (),
    ) -> None:
        self._store = store
        self._loop = loop
        self._on_committed = on_committed
        self._on_failed = on_failed
        self._timers = timers
        self._queue: queue.SimpleQueue[Pending | str] = queue.SimpleQueue()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self.commits = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, change: Change, events: Sequence[EventRecord]) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(Pending(change, events, future))
        return future

    def resume(self) -> None:
        """Accept changes again after a failure, once the hall's state is rebuilt.
        Changes submitted before this call still fail."""
        self._queue.put(_RESUME)

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[Pending] = []
            while isinstance(item, Pending):
                batch.append(item)
                if len(batch) == MAX_BATCH:
                    item = None
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if batch:
                self._write(batch)
            if item == _STOP:
                return
            if item == _RESUME:
                self._failed = None

    def _write(self, batch: list[Pending]) -> None:
        if self._failed is not None:
            self._loop.call_soon_threadsafe(self._on_failed, batch, self._failed)
            return
        started = time.monotonic()
        try:
            self._store.write([(p.change, p.events) for p in batch])
        except Exception as exc:
            log.exception("store write of %d changes failed", len(batch))
            self._failed = exc
            self._loop.call_soon_threadsafe(self._on_failed, batch, exc)
        else:
            self.commits += 1
            for timer in self._timers:  # before the loop hears of it, which may read them
                timer(time.monotonic() - started)
            self._loop.call_soon_threadsafe(self._on_committed, batch)
