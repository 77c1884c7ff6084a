"""What `hallkeeper bench hall` does to the hall, and what it times.

Citizens take tickets at the two kiosks a little faster than the windows
serve them (the queues never run dry); at each window a clerk presses call,
serves for about `service_seconds`, presses the rate key, and the citizen
reads the pad and rates; a moment later the clerk calls the next. Keys go at
a person's pace: a key pressed within milliseconds of what the hall just
showed would fall among the frames the host sends in answer (the pad's stars,
the keypads' new counts), which no clerk or citizen does. Everything goes
through the simulated devices (`hallkeeper simulate`) and the daemon's API,
as in a hall.

Three timings, all on the machine's monotonic clock (or its wall clock for
the printer, which stamps its cuts so), which the processes share; a key's
moment is the simulator's, so a pause of this process does not count:

- key to screen: from the call key to the last byte of the window screen's
  frame with the new call, as the simulated screen heard it;
- issue to cut: from the kiosk's request to the printer's cut of that ticket;
- rating key to stored: from the pad key to the `rating.given` event on the
  ZeroMQ feed, which the daemon publishes only after the rating is stored.

Every call is split into parts at the moments its key frame went on the wire
and its `ticket.called` event arrived (`daemon.bench.call_parts`); a call
slower than twice its wire time is listed with its parts.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import zmq
import zmq.asyncio

from daemon.bench.bus import call_wire_seconds
from daemon.bench.call_parts import CallParts, call_parts
from daemon.bench.hall_layout import BAUD, BenchHall, bus_of
from daemon.day.hall_io import HallIO
from daemon.day.ledger import Ledger, RatingGiven, Received

#: Real seconds a call's screen frame, a pad's prompt or a stored rating get.
SHOW_SECONDS = 5.0
POLL = 0.1
#: Citizens come this much faster than the windows serve, and each window
#: starts with this many waiting.
SURPLUS = 1.1
BACKLOG_PER_WINDOW = 2
#: A call slower than this many wire times is listed with where its time went.
SLOW = 2.0
#: Seconds a citizen reads the pad's prompt before pressing a key, and a
#: clerk takes after the rating before pressing call (uniform between).
CITIZEN_READS = (1.0, 4.0)
CLERK_REACTS = (0.5, 2.0)
#: Pad keys pressed, by rating level (1 非常满意 … 4 不满意 on a four-key pad).
LEVEL_WEIGHTS = {1: 70, 2: 20, 3: 7, 4: 3}

T = TypeVar("T")


@dataclass
class Timings:
    key_to_screen_ms: list[float] = field(default_factory=list)
    ratio_to_wire: list[float] = field(default_factory=list)
    wire_ms: list[float] = field(default_factory=list)
    issue_to_cut_ms: list[float] = field(default_factory=list)
    rating_to_stored_ms: list[float] = field(default_factory=list)
    #: What did not go as a hall would want: calls that never showed, ratings
    #: never stored, tickets not printed.
    misses: Counter[str] = field(default_factory=Counter)
    #: Call keys pressed while nobody waited for the window (the screen stays).
    idle_calls: int = 0
    #: Where each call's time went (calls whose moments were all known).
    call_parts: list[CallParts] = field(default_factory=list)
    #: Calls that took more than twice the wire time.
    slow_calls: list[SlowCall] = field(default_factory=list)


@dataclass(frozen=True)
class SlowCall:
    window: int
    seconds: float
    parts: CallParts | None


class EventFeed:
    """The daemon's ZeroMQ event feed: when each call and each rating was
    published, which the daemon does only once it is stored."""

    CALLED, RATED = "ticket.called", "rating.given"

    def __init__(self, endpoint: str) -> None:
        self._context = zmq.asyncio.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        for kind in (self.CALLED, self.RATED):
            self._socket.setsockopt(zmq.SUBSCRIBE, kind.encode())
        self._socket.connect(endpoint)
        #: (event type, ticket) -> the monotonic time its first event arrived
        self._arrived: dict[tuple[str, str], float] = {}
        self._waiting: dict[tuple[str, str], asyncio.Future[float]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    def expect(self, kind: str, ticket: str) -> asyncio.Future[float]:
        """Resolves to the time the next event `kind` of `ticket` arrives."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[(kind, ticket)] = future
        return future

    def arrived(self, kind: str, ticket: str) -> float | None:
        return self._arrived.get((kind, ticket))

    async def _listen(self) -> None:
        while True:
            topic, body = await self._socket.recv_multipart()
            at = time.monotonic()
            key = (topic.decode(), json.loads(body).get("ticket"))
            self._arrived.setdefault(key, at)
            future = self._waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(at)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._socket.close()
        self._context.term()


class Workload:
    def __init__(
        self,
        hall: BenchHall,
        io: HallIO,
        feed: EventFeed,
        ledger: Ledger,
        seed: int,
        service_seconds: float,
    ) -> None:
        self.hall = hall
        self.io = io
        self.feed = feed
        self.ledger = ledger
        self.seed = seed
        self.service_seconds = service_seconds
        self.timings = Timings()
        #: The ticket each window serves when the measured minutes start.
        self._serving: dict[int, str | None] = {}

    # --- before the clock starts ---------------------------------------------------

    async def prepare(self) -> None:
        """The hall in full swing: every window open and serving a citizen, a line
        waiting for each (tickets booked ahead, not printed), the printers online."""
        for window in self.hall.serves:
            await self._post(f"/windows/{window}/open")
        for window, service in self.hall.serves.items():
            for _ in range(BACKLOG_PER_WINDOW + 1):
                await self._issue(service, None, f"backlog of window {window}")
        for window in self.hall.serves:
            called = (await self._post(f"/windows/{window}/call-next"))["called"]
            self._serving[window] = called["code"] if called else None
        for kiosk in self.hall.kiosks:
            await self._online(self.hall.printer(kiosk))

    async def _post(self, path: str) -> dict[str, Any]:
        status, answer = await self.io.api("POST", path)
        if status != 200:
            raise RuntimeError(f"POST {path} answered {status}: {answer}")
        return answer

    async def _online(self, printer: str) -> None:
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            status, health = await self.io.api("GET", "/health")
            states = {d["id"]: d["state"] for d in health["devices"]} if status == 200 else {}
            if states.get(printer) == "online":
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{printer} did not come online within 30 s")

    async def _issue(self, service: str, kiosk: str | None, what: str) -> dict[str, Any] | None:
        body: dict[str, Any] = {"service": service}
        if kiosk is not None:
            body["kiosk"] = kiosk
        token = self.io.kiosk if kiosk else self.io.admin
        status, ticket = await self.io.api("POST", "/tickets", body, token=token)
        if status != 201:
            self.timings.misses[f"{what}: POST /tickets answered {status}"] += 1
            return None
        citizen = len(self.ledger.received) + 1
        self.ledger.received.append(Received(ticket["code"], citizen, kiosk or "booked"))
        return ticket

    # --- the measured minutes --------------------------------------------------------

    async def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        await asyncio.gather(
            *(self._kiosk(kiosk, end) for kiosk in self.hall.kiosks),
            *(self._window(window, end) for window in self.hall.serves),
        )

    async def _kiosk(self, kiosk: str, end: float) -> None:
        rng = random.Random(f"{self.seed}-{kiosk}")
        rate = SURPLUS * self.hall.windows / self.service_seconds / len(self.hall.kiosks)
        # a service drawn by its windows, so each window's line grows alike
        services = list(self.hall.serves.values())
        while (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, rng.expovariate(rate)))
            if time.monotonic() < end:
                await self._print(kiosk, rng.choice(services))

    async def _print(self, kiosk: str, service: str) -> None:
        started = time.time()
        ticket = await self._issue(service, kiosk, kiosk)
        if ticket is None:
            return
        shown = (await self.io.show(self.hall.printer(kiosk))).get("ticket") or {}
        if ticket["code"] not in shown.get("lines", []) or not shown.get("cut_at"):
            self.timings.misses[f"{kiosk}: a ticket not printed and cut"] += 1
            return
        self.timings.issue_to_cut_ms.append((shown["cut_at"] - started) * 1000)

    async def _window(self, window: int, end: float) -> None:
        """A clerk's cycle: rate, call, serve. Each window starts at a random point
        of its first service, so calls come at the hall's steady pace from the
        first second; a service that would end after the measured minutes is
        not finished."""
        rng = random.Random(f"{self.seed}-window-{window}")
        ticket = self._serving[window]
        serving = rng.uniform(0, self.service_seconds)
        while time.monotonic() + serving < end:
            await asyncio.sleep(serving)
            if ticket is not None:
                await self._rate(window, ticket, rng)
                await asyncio.sleep(rng.uniform(*CLERK_REACTS))
            ticket = await self._call(window)
            serving = self.service_seconds * rng.uniform(0.5, 1.5) if ticket else 1.0

    async def _call(self, window: int) -> str | None:
        """Press call; the ticket called, once the window screen shows it."""
        screen = self.hall.screen(window)
        before = (await self.io.show(screen)).get("text")
        pressing = await self.io.sim("press", keypad=self.hall.keypad(window), key="call")
        if not pressing.get("sent"):
            self.timings.misses["call key not sent"] += 1
            return None
        pressed = pressing["at"]
        shown = await self._screen_change(screen, pressed, before)
        status, state = await self.io.api("GET", f"/windows/{window}")
        if status != 200:
            self.timings.misses[f"GET /windows/N answered {status}"] += 1
            return None
        current = state.get("current")
        if current is None:  # the screen went idle, or stayed so
            self.timings.idle_calls += 1
            return None
        if shown is None:
            self.timings.misses["call not on the screen within 5 s"] += 1
            return current
        at, text = shown
        wire = call_wire_seconds(bus_of(window, self.hall.windows_per_bus)[1], text, BAUD)
        self.timings.key_to_screen_ms.append((at - pressed) * 1000)
        self.timings.ratio_to_wire.append((at - pressed) / wire)
        self.timings.wire_ms.append(wire * 1000)
        parts = await self._parts(window, current, pressed, at)
        if parts is not None:
            self.timings.call_parts.append(parts)
        if at - pressed > SLOW * wire:
            self.timings.slow_calls.append(SlowCall(window, at - pressed, parts))
        return current

    async def _parts(
        self, window: int, ticket: str, pressed: float, shown: float
    ) -> CallParts | None:
        """Where the call's time went, if its event has arrived and the keypad
        still holds this press as its last."""
        stored = self.feed.arrived(EventFeed.CALLED, ticket)
        press = (await self.io.show(self.hall.keypad(window))).get("last_press")
        if stored is None or press is None:
            return None
        return call_parts(pressed, press["sent_at"], stored, shown)

    async def _screen_change(
        self, screen: str, pressed: float, before: str | None
    ) -> tuple[float, str] | None:
        """(when, text) of the first frame after `pressed` that changed the screen."""

        async def changed() -> tuple[float, str] | None:
            for entry in (await self.io.show(screen)).get("history", []):
                if entry["at"] > pressed and entry["text"] != before:
                    return entry["at"], entry["text"]
            return None

        return await _within(changed)

    async def _rate(self, window: int, ticket: str, rng: random.Random) -> None:
        """The clerk asks for a rating; the citizen presses a key once the pad asks."""
        pad = self.hall.pad(window)
        if not await self.io.press(self.hall.keypad(window), "rate"):
            self.timings.misses["rate key not acknowledged"] += 1
            return

        async def prompted() -> dict[str, Any] | None:
            state = await self.io.show(pad)
            return state if state.get("prompted") else None

        asking = await _within(prompted)
        if asking is None:
            self.timings.misses["pad not prompted within 5 s"] += 1
            return
        await asyncio.sleep(rng.uniform(*CITIZEN_READS))
        acknowledged = asking.get("presses", {}).get("acknowledged", 0)
        level = rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]
        stored = self.feed.expect(EventFeed.RATED, ticket)
        rating = await self.io.sim("rate", pad=pad, level=level)
        if not rating.get("sent"):
            self.timings.misses["pad key not sent"] += 1
            return
        try:
            at = await asyncio.wait_for(stored, SHOW_SECONDS)
        except TimeoutError:
            self.timings.misses["rating not stored within 5 s"] += 1
        else:
            self.timings.rating_to_stored_ms.append((at - rating["at"]) * 1000)
        delivered = await self.io.settled(pad, acknowledged)
        self.ledger.ratings.append(RatingGiven(ticket, level, pad, delivered))


async def _within(probe: Callable[[], Awaitable[T | None]]) -> T | None:
    """The first answer of `probe` that is not None, polled for `SHOW_SECONDS`."""
    deadline = time.monotonic() + SHOW_SECONDS
    while True:
        found = await probe()
        if found is not None or time.monotonic() > deadline:
            return found
        await asyncio.sleep(POLL)
