"""Between the hall and its devices: committed hall events become pictures on
screens and keypads, prompts on pads and beeps; keys become hall operations.

Pictures are derived from the committed state on every batch of events, not
patched event by event, so a screen always ends up showing what the hall
holds, including after a missed update or a reconnect. Devices send only
what changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence

from daemon.hall import Hall, StoreUnavailable
from daemon.hardware import Hardware
from daemon.queue.errors import QueueError
from daemon.queue.model import AT_WINDOW, QUEUED, PunchMethod, Ticket, WindowStatus
from daemon.queue.state import QueueState
from daemon.store.store import EventRecord
from daemon.terminal_punches import store_punches
from devices.events import (
    DeviceEvent,
    FingerIdentified,
    FingerUnknown,
    HallView,
    KeypadAction,
    KeyPressed,
    RatingEntered,
    TerminalPunches,
    WindowView,
)

log = logging.getLogger(__name__)

RECENT_CALLS = 20
ARRIVALS = {"ticket.issued", "ticket.transferred", "ticket.reactivated"}


class Router:
    def __init__(self, hall: Hall) -> None:
        self.hall = hall
        self.hardware: Hardware | None = None
        self.recent_calls: deque[tuple[str, int]] = deque(maxlen=RECENT_CALLS)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, hardware: Hardware) -> None:
        """Show the hall's state on every device, and follow it from now on."""
        self.hardware = hardware
        called = [t for t in self.hall.committed.tickets.values() if t.state in AT_WINDOW]
        for ticket in sorted(called, key=lambda t: t.state_since):
            self.recent_calls.appendleft((ticket.code, ticket.window or 0))
        self.hall.subscribe(self.on_events)
        self.refresh()

    def use(self, hardware: Hardware) -> None:
        """Drive `hardware` from now on (a reloaded config): new devices get
        the hall's pictures at once."""
        self.hardware = hardware
        self.refresh()

    async def drain(self) -> None:
        """Wait for the hall operations devices asked for (at shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- hall events to devices ----------------------------------------------------

    def on_events(self, events: Sequence[EventRecord]) -> None:
        recalls: set[int] = set()
        prompts: list[tuple[int, str]] = []
        arrivals: list[str] = []
        for event in events:
            doc = event.document
            if event.type == "ticket.called":
                self.recent_calls.appendleft((doc["ticket"], doc["window"]))
            elif event.type == "ticket.recalled":
                recalls.add(doc["window"])
            elif event.type == "ticket.done":
                prompts.append((doc["window"], doc["ticket"]))
            elif event.type in ARRIVALS:
                arrivals.append(doc["ticket"])
        self.refresh(recalls)
        for window, ticket in prompts:
            self._prompt(window, ticket)
        for code in arrivals:
            self._beep_idle_windows(code)

    def refresh(self, recalls: set[int] | None = None) -> None:
        """Bring every picture in line with the committed state."""
        hardware = self._hardware()
        state = self.hall.committed
        for window in self.hall.config.windows:
            displays = hardware.window_displays.get(window.number, [])
            keypads = hardware.keypads.get(window.number, [])
            if not displays and not keypads:
                continue
            view = self.window_view(state, window.number)
            for display in displays:
                display.show(view, recall=window.number in (recalls or ()))
            for keypad in keypads:
                keypad.show(view)
        if hardware.hall_displays:
            hall_view = self.hall_view(state)
            for display in hardware.hall_displays:
                display.show(hall_view)

    def window_view(self, state: QueueState, number: int) -> WindowView:
        window = state.windows[number]
        ticket = state.tickets.get(window.current) if window.current else None
        clerk = self.hall.config.staff_by_id.get(window.clerk) if window.clerk else None
        return WindowView(
            number=number,
            status=window.status,
            reason=window.pause_reason,
            ticket=ticket.code if ticket else None,
            number_of_ticket=ticket.number if ticket else None,
            waiting=self._waiting_for(state, number),
            clerk_name=clerk.name if clerk else None,
            staff_no=clerk.staff_no if clerk else None,
        )

    def hall_view(self, state: QueueState) -> HallView:
        waiting = tuple(
            (s.names, sum(state.waiting("service", s.id, p) for p in (True, False)))
            for s in self.hall.config.services
        )
        return HallView(calls=tuple(self.recent_calls), waiting=waiting)

    def _waiting_for(self, state: QueueState, number: int) -> int:
        services = self.hall.config.windows_by_number[number].services
        keys = [("window", number)] + [("service", s) for s in services]
        return sum(state.waiting(kind, target, p) for kind, target in keys for p in (True, False))

    def _prompt(self, window: int, ticket: str) -> None:
        for pad in self._hardware().pads.get(window, []):
            pad.prompt(ticket)

    def _beep_idle_windows(self, code: str) -> None:
        """A ticket arrived: beep the keypads of open windows that are free to call it."""
        state = self.hall.committed
        ticket = state.tickets.get(code)
        if ticket is None or ticket.state not in QUEUED:
            return
        for number in self._windows_for(ticket):
            window = state.windows.get(number)
            if window and window.status is WindowStatus.OPEN and window.current is None:
                for keypad in self._hardware().keypads.get(number, []):
                    keypad.beep()

    def _windows_for(self, ticket: Ticket) -> list[int]:
        if ticket.target_window is not None:
            return [ticket.target_window]
        return [w.number for w in self.hall.config.windows if ticket.service in w.services]

    # -- device events to the hall -------------------------------------------------

    def handle(self, event: DeviceEvent) -> None:
        """Called by devices on the loop; the hall operation runs as a task."""
        task = asyncio.get_running_loop().create_task(self._perform(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _perform(self, event: DeviceEvent) -> None:
        try:
            match event:
                case KeyPressed():
                    await self._key(event)
                case RatingEntered():
                    await self._rating(event)
                case FingerIdentified() | FingerUnknown():
                    await self._finger(event)
                case TerminalPunches():
                    await self._terminal_punches(event)
        except QueueError as exc:
            log.info("%s: %s", event, exc.en)
        except StoreUnavailable as exc:
            log.warning("%s: not done: %s", event, exc)

    async def _key(self, key: KeyPressed) -> None:
        hall, engine, window = self.hall, self.hall.engine, key.window
        match key.action:
            case KeypadAction.CALL:
                await hall.perform(engine.call_next, window)
            case KeypadAction.RECALL:
                await hall.perform(engine.recall, window)
            case KeypadAction.SKIP:
                await hall.perform(engine.skip, window)
            case KeypadAction.HOLD:
                await hall.perform(engine.hold, window)
            case KeypadAction.CALLBACK:
                await hall.perform(engine.callback, window)
            case KeypadAction.TRANSFER:
                if key.target is None:
                    log.info("%s: transfer without a target window", key.device)
                    return
                await hall.perform(engine.transfer, window, None, key.target)
            case KeypadAction.PAUSE:
                paused = hall.committed.windows[window].status is WindowStatus.PAUSED
                if paused:
                    await hall.perform(engine.resume, window)
                else:
                    await hall.perform(engine.pause, window, None)
            case KeypadAction.RATE:
                state = hall.committed.windows[window]
                ticket = state.current or state.last_done
                if ticket is not None:
                    self._prompt(window, ticket)

    async def _rating(self, rating: RatingEntered) -> None:
        """Store the rating, then let the pad know; a rating the store could not
        take is not settled, so the pad sends it again."""
        try:
            await self.hall.perform(
                self.hall.engine.rate,
                rating.window,
                rating.level,
                rating.device,
                None,
                rating.ticket,
            )
        except QueueError:
            # refused for good (already rated, nothing to rate), judged on what is
            # planned: settled once that is stored
            await self.hall.durable()
            rating.settled()
            raise
        rating.settled()

    async def _finger(self, event: FingerIdentified | FingerUnknown) -> None:
        """A punch, and at a window's reader a sign-in or sign-out; a finger
        whose template is not in the hall's records counts as unknown."""
        hall = self.hall
        staff = None
        if isinstance(event, FingerIdentified):
            staff = hall.committed.fingerprints.get((event.reader, event.page))
        if staff is None:
            await hall.perform(hall.attendance.unknown_finger, event.reader)
            return
        reader = self._hardware().reader(event.reader)
        window = reader.config.window if reader else None
        if window is None:
            await hall.perform(hall.attendance.punch, staff, event.reader, PunchMethod.FINGER)
        else:
            await hall.perform(hall.attendance.clock_at_window, window, staff, event.reader)

    async def _terminal_punches(self, event: TerminalPunches) -> None:
        await store_punches(self.hall, event.terminal, event.punches)

    def _hardware(self) -> Hardware:
        assert self.hardware is not None, "the router has not been started"
        return self.hardware
