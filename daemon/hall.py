"""The hall: the queue engine, its state and its store, on the event loop.

Operations are planned on the loop against `planned`, the state including
changes not yet durable, so numbers are never handed out twice. Nothing is
told about a change (no response, no event) until the store writer reports
it committed; then `committed` catches up and subscribers get its events.
Readers see `committed` only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from daemon.config.model import HallConfig, printers
from daemon.events.document import event_record
from daemon.queue import errors
from daemon.queue.attendance import Attendance
from daemon.queue.engine import Outcome, QueueEngine
from daemon.queue.model import Priority, Ticket
from daemon.queue.state import Change, QueueState
from daemon.store.store import EventRecord, Store
from daemon.store.writer import Pending, StoreWriter

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")
Operation = Callable[Concatenate[QueueState, dt.datetime, P], Outcome[T]]
Subscriber = Callable[[Sequence[EventRecord]], None]


class StoreUnavailable(Exception):
    """The store failed to write; the operation was not done."""


class UnknownKiosk(errors.QueueError):
    status = 422
    code = "unknown_kiosk"

    def __init__(self, kiosk: str) -> None:
        super().__init__(f"没有自助取号机 {kiosk}", f"there is no kiosk {kiosk!r}")


class Hall:
    def __init__(
        self,
        config: HallConfig,
        store: Store,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.engine = QueueEngine(config)
        self.attendance = Attendance(self.engine)
        self._clock = clock or (lambda: dt.datetime.now(config.hall.zone))
        self.planned = QueueState()
        self.committed = QueueState()
        self.kiosks: dict[str, str] = {}
        self.use_devices(config)
        self.committed_seq = 0
        self._next_seq = 1
        self._subscribers: list[Subscriber] = []
        self._writer: StoreWriter | None = None
        #: called on the writer thread with each commit's duration, in seconds
        self.commit_timers: list[Callable[[float], None]] = []
        self._rebuilding = False
        self._day_timer: asyncio.Task[None] | None = None
        self.store_error: str | None = None

    def use_devices(self, config: HallConfig) -> None:
        """Take the device sections of `config` (a reload; the rest is unchanged)."""
        self.config = config
        self.kiosks = {printer.kiosk: printer.id for printer in printers(config)}

    def now(self) -> dt.datetime:
        return self._clock()

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call `subscriber` on the loop with the events of each committed batch, in order."""
        self._subscribers.append(subscriber)

    @property
    def last_seq(self) -> int:
        """The seq of the last event committed or planned."""
        return self._next_seq - 1

    @property
    def pending_events(self) -> int:
        """Events planned but not yet durable."""
        return self.last_seq - self.committed_seq

    # -- lifecycle -----------------------------------------------------------------

    async def start(self, day_timer: bool = True) -> None:
        await self._load()
        self._writer = StoreWriter(
            self.store,
            asyncio.get_running_loop(),
            self._committed_batch,
            self._failed_batch,
            self.commit_timers,
        )
        self._writer.start()
        await self._execute(lambda state, now: Outcome(None, self.engine.sync_windows(state, now)))
        if day_timer:
            self._day_timer = asyncio.create_task(self._run_day_timer(), name="day-timer")

    async def stop(self) -> None:
        if self._day_timer is not None:
            self._day_timer.cancel()
        writer, self._writer = self._writer, None  # what comes later is refused, not lost
        if writer is not None:
            await asyncio.to_thread(writer.stop)

    async def _load(self) -> None:
        state = await asyncio.to_thread(self.store.load_state)
        self.planned = state
        self.committed = state.copy()
        self.committed_seq = await asyncio.to_thread(self.store.last_seq)
        self._next_seq = self.committed_seq + 1

    # -- operations ----------------------------------------------------------------

    async def issue(
        self, service: str, priority: Priority | None = None, kiosk: str | None = None
    ) -> Ticket:
        if kiosk is not None and kiosk not in self.kiosks:
            raise UnknownKiosk(kiosk)
        # a kiosk's ticket is spooled for its printer in the same transaction
        return await self.perform(self.engine.issue, service, priority, kiosk, kiosk is not None)

    async def perform(self, operation: Operation[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one engine operation; returns once its change is durable."""
        return await self._execute(lambda state, now: operation(state, now, *args, **kwargs))

    async def _execute(self, operation: Callable[[QueueState, dt.datetime], Outcome[T]]) -> T:
        if self._writer is None:
            raise StoreUnavailable("the hall is not running (starting or stopping)")
        if self._rebuilding:
            raise StoreUnavailable("the store is recovering from a failed write")
        now = self._clock()
        if self.engine.business_day(now) != self.planned.day:
            # nobody awaits the new day's change; a failure is logged by the writer
            started = self._submit(self.engine.start_day(self.planned, now))
            started.add_done_callback(lambda f: f.cancelled() or f.exception())
        outcome = operation(self.planned, now)
        await self._submit(outcome.change)
        return outcome.value

    async def durable(self) -> None:
        """Return once every change planned so far is stored: an empty change
        queued behind them commits after them."""
        if self.pending_events and self._writer is not None:
            await self._submit(Change())

    def _submit(self, change: Change) -> asyncio.Future[None]:
        assert self._writer is not None
        records = [
            event_record(self.config.hall.id, self._next_seq + i, event)
            for i, event in enumerate(change.events)
        ]
        self._next_seq += len(records)
        self.planned.apply(change)
        return self._writer.submit(change, records)

    def _committed_batch(self, batch: list[Pending]) -> None:
        events: list[EventRecord] = []
        for pending in batch:
            self.committed.apply(pending.change)
            events.extend(pending.events)
            if not pending.future.done():
                pending.future.set_result(None)
        if events:
            self.committed_seq = events[-1].seq
        self.store_error = None
        for subscriber in self._subscribers:
            try:
                subscriber(events)
            except Exception:
                log.exception("event subscriber %r failed", subscriber)

    def _failed_batch(self, batch: list[Pending], exc: BaseException) -> None:
        self.store_error = f"{type(exc).__name__}: {exc}"
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(StoreUnavailable(f"the store failed: {exc}"))
        if not self._rebuilding:
            self._rebuilding = True
            asyncio.get_running_loop().create_task(self._rebuild(), name="store-rebuild")

    async def _rebuild(self) -> None:
        """Drop what was planned but not committed and start again from the store."""
        assert self._writer is not None
        while True:
            try:
                await self._load()
                break
            except Exception:
                log.exception("reloading the hall state from the store failed; retrying")
                await asyncio.sleep(1.0)
        self._writer.resume()
        self._rebuilding = False

    async def _run_day_timer(self) -> None:
        """Start each business day at `day_starts`, even when nothing happens."""
        while True:
            await asyncio.sleep(self._seconds_to_next_day())
            try:
                await self._execute(_nothing)
            except StoreUnavailable:
                log.warning("could not start the business day yet; retrying in a minute")
                await asyncio.sleep(60)

    def _seconds_to_next_day(self) -> float:
        now = self._clock().astimezone(self.config.hall.zone)
        starts = self.config.hall.day_starts
        boundary = now.replace(hour=starts.hour, minute=starts.minute, second=0, microsecond=0)
        if boundary <= now:
            boundary += dt.timedelta(days=1)
        return (boundary - now).total_seconds() + 0.5

    # -- reading -------------------------------------------------------------------

    async def ticket(self, code: str, day: dt.date | None = None) -> Ticket:
        """A ticket as committed; today's unless `day` is given."""
        today = self.committed.day
        if day is None or day == today:
            ticket = self.committed.tickets.get(code)
        else:
            ticket = await asyncio.to_thread(self.store.ticket, day, code)
        if ticket is None:
            raise errors.UnknownTicket(code, day or today or self.engine.business_day(self.now()))
        return ticket

    def health(self) -> dict[str, Any]:
        return {
            "state": "failed" if self.store_error else "ok",
            "error": self.store_error,
            "path": str(self.store.path),
            "last_seq": self.committed_seq,
            "pending_events": self.pending_events,
        }


def _nothing(state: QueueState, now: dt.datetime) -> Outcome[None]:
    return Outcome(None, Change())
