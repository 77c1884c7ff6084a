"""Clerks: each signs in at the door and at the window, calls with the keypad,
serves, sometimes transfers or pauses, has the citizen rate, and signs out
when the hall is empty.

A key counts once the window shows its effect through the API (the keypad's
own acknowledgement only says the daemon heard it); a key whose effect does
not show is pressed again, as a clerk would. One citizen at a time per
window: the next call waits until the previous citizen has rated (and the
rating is stored) or left, so a rating cannot land on the next ticket.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from daemon.day.clock import DayClock
from daemon.day.crowd import Citizen, Crowd
from daemon.day.hall_io import HallIO
from daemon.day.layout import Layout, Post
from daemon.day.ledger import FingerGiven, Ledger, RatingGiven
from daemon.day.settings import DaySettings, Span

#: Real seconds a key's effect gets to show, and how often a key is tried.
EFFECT_SECONDS = 3.0
KEY_TRIES = 40
RETRY_SECONDS = 0.5
#: Hall minutes between calls at an idle window, and at least this many real seconds.
IDLE_MINUTES = 2.0
IDLE_SECONDS = 0.5
#: Hall minutes a clerk waits for a called citizen after recalling.
RECALL_MINUTES = 1.0

Check = Callable[[dict[str, Any]], bool]


class Floor:
    """What clerks share: whether citizens can still come, and who is busy."""

    def __init__(self) -> None:
        self.arrivals_over = False
        self.busy: set[int] = set()


class Clerk:
    def __init__(
        self,
        post: Post,
        io: HallIO,
        clock: DayClock,
        crowd: Crowd,
        ledger: Ledger,
        settings: DaySettings,
        layout: Layout,
        floor: Floor,
    ) -> None:
        self.post = post
        self.io = io
        self.clock = clock
        self.crowd = crowd
        self.ledger = ledger
        self.settings = settings
        self.layout = layout
        self.floor = floor
        self.rng = random.Random(f"clerk-{settings.seed}-{post.window}")

    async def work(self) -> None:
        await self._door()
        await self._sign_in()
        while True:
            code = await self._call()
            if code is None:
                if await self._finished():
                    break
                await asyncio.sleep(max(IDLE_SECONDS, self.clock.real_seconds(IDLE_MINUTES)))
                continue
            self.floor.busy.add(self.post.window)
            try:
                await self._attend(code)
            finally:
                self.floor.busy.discard(self.post.window)
        await self._sign_out()
        await self._door()

    # --- signing in and out ------------------------------------------------------

    async def _door(self) -> None:
        if not self.layout.doors:
            return
        door = self.rng.choice(self.layout.doors)
        staff = self.post.clerk
        if door in self.layout.terminals:
            user = self.layout.terminal_users.get(staff)
            if user is not None and await self.io.punch(door, user):
                self.ledger.fingers.append(FingerGiven(door, staff, True))
            return
        for _ in range(KEY_TRIES):
            taken = await self.io.finger(door, staff)
            self.ledger.fingers.append(FingerGiven(door, staff, taken))
            if taken:
                return
            await asyncio.sleep(RETRY_SECONDS)

    async def _sign_in(self) -> None:
        clerk = self.post.clerk
        await self._signed(lambda w: w.get("clerk") == clerk and w.get("status") == "open", "in")

    async def _sign_out(self) -> None:
        await self._signed(lambda w: w.get("clerk") is None, "out")

    async def _signed(self, done: Check, way: str) -> None:
        """Sign in or out: a finger on the window's reader, else the API."""
        number, clerk = self.post.window, self.post.clerk
        for _ in range(KEY_TRIES):
            window = await self.io.window(number)
            if window is not None and done(window):
                return
            if window is not None and self.post.reader:
                taken = await self.io.finger(self.post.reader, clerk)
                self.ledger.fingers.append(FingerGiven(self.post.reader, clerk, taken))
                if taken and await self._shows(done):
                    return
            elif window is not None:
                body = {"staff": clerk} if way == "in" else None
                await self.io.api("POST", f"/windows/{number}/sign-{way}", body)
            await asyncio.sleep(RETRY_SECONDS)
        self.ledger.counts[f"clerk {clerk} could not sign {way} at window {number}"] += 1

    # --- calling and serving -----------------------------------------------------

    async def _call(self) -> str | None:
        """Press call until the window moves on; the ticket called, or None."""
        for _ in range(KEY_TRIES):
            before = await self.io.window(self.post.window)
            if before is None:
                await asyncio.sleep(RETRY_SECONDS)
                continue
            previous = before.get("current")
            if await self.io.press(self.post.keypad, "call"):
                after = await self._shows(
                    lambda w, p=previous: (
                        w.get("current") != p or w.get("last_done") == p
                        if p
                        else w.get("current") is not None
                    ),
                    seconds=EFFECT_SECONDS if previous else 1.0,
                )
                if after is not None:
                    return after.get("current")
                if previous is None:
                    return None  # heard, and nobody waits
            await asyncio.sleep(RETRY_SECONDS)
        return None

    async def _attend(self, code: str) -> None:
        citizen = self.crowd.answer(code)
        if citizen is None:
            await self.io.press(self.post.keypad, "recall")
            await self.clock.sleep(RECALL_MINUTES)
            citizen = self.crowd.answer(code)
        if citizen is None:
            await self._key("skip", lambda w: w.get("current") != code)
            self.ledger.counts["called but not there (skipped)"] += 1
            return
        await self.clock.sleep(self._draw(self._service_minutes(citizen)))
        others = [
            p.window
            for p in self.layout.posts
            if p.window != self.post.window and citizen.plan.service in p.services
        ]
        if others and self.rng.random() < self.settings.clerks.transfer:
            target = self.rng.choice(others)
            if await self._key("transfer", lambda w: w.get("current") != code, str(target)):
                self.ledger.counts["transferred"] += 1
                self.crowd.wait(citizen)
                return
        await self._rating(citizen, code)
        self.ledger.counts["served"] += 1
        pausing = self.rng.random() < self.settings.clerks.pause
        if pausing and await self._key("pause", lambda w: w.get("status") == "paused"):
            self.ledger.counts["pauses"] += 1
            await self.clock.sleep(self._draw(self.settings.clerks.pause_minutes))
            await self._key("pause", lambda w: w.get("status") == "open")

    async def _rating(self, citizen: Citizen, code: str) -> None:
        """Ask for a rating; the citizen rates or leaves. Returns once the rating
        is stored (or the pad did not deliver it), so the next call comes after."""
        pad, wanted = self.post.pad, citizen.plan.rating
        self.crowd.leave(citizen)
        if pad is None or wanted is None:
            self.ledger.counts["left without rating"] += 1
            return
        prompted = False
        for _ in range(KEY_TRIES):
            if await self.io.press(self.post.keypad, "rate"):
                prompted = True
                break
            await asyncio.sleep(RETRY_SECONDS)
        if not prompted:
            self.ledger.counts["pad never prompted: left without rating"] += 1
            return
        levels = self.post.pad_levels
        key = min(range(len(levels)), key=lambda k: abs(levels[k] - wanted))
        delivered = await self.io.rate(pad, key + 1)
        self.ledger.ratings.append(RatingGiven(code, levels[key], pad, delivered))
        if delivered:
            await self._stored_rating(code)

    async def _stored_rating(self, code: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EFFECT_SECONDS
        while loop.time() < deadline:
            status, ticket = await self.io.api("GET", f"/tickets/{code}")
            if status == 200 and ticket.get("rated"):
                return
            await asyncio.sleep(0.05)

    async def _key(self, key: str, done: Check, digits: str | None = None) -> bool:
        """Press `key` until the window shows `done`."""
        for _ in range(KEY_TRIES):
            if await self.io.press(self.post.keypad, key, digits) and await self._shows(done):
                return True
            window = await self.io.window(self.post.window)
            if window is not None and done(window):
                return True
            await asyncio.sleep(RETRY_SECONDS)
        self.ledger.counts[f"key {key} at window {self.post.window} never took"] += 1
        return False

    async def _shows(self, done: Check, seconds: float = EFFECT_SECONDS) -> dict[str, Any] | None:
        """The window once it shows `done`, or None after `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            window = await self.io.window(self.post.window)
            if window is not None and done(window):
                return window
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.05)

    async def _finished(self) -> bool:
        """Whether the day is over for this clerk: no citizen can come any more,
        nothing waits, and no other window is serving (it might transfer)."""
        if self.clock.minutes() > self.settings.day_minutes + self.settings.overtime_minutes:
            return True
        if not self.floor.arrivals_over or self.floor.busy:
            return False
        status, queue = await self.io.api("GET", "/queue")
        if status != 200:
            return False
        waiting = sum(s["waiting"] + s["waiting_priority"] for s in queue["services"])
        waiting += sum(len(w["waiting"]) + len(w["held"]) for w in queue["windows"])
        return waiting == 0

    def _service_minutes(self, citizen: Citizen) -> Span:
        clerks = self.settings.clerks
        return clerks.service_minutes.get(citizen.plan.service, clerks.default_minutes)

    def _draw(self, span: Span) -> float:
        return self.rng.uniform(span.min, span.max)
