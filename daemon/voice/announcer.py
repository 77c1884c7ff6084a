"""Between the hall and its speakers: a committed call or recall becomes an
announcement on every speaker whose zone covers the window, and what each
speaker did with it goes on record as an `announcement` event."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

from daemon.hall import Hall, StoreUnavailable
from daemon.store.store import EventRecord
from daemon.voice.script import phrases
from devices.announcements import Announcement, Result
from devices.speaker import Speaker

log = logging.getLogger(__name__)

SAID_FOR = {"ticket.called": "call", "ticket.recalled": "recall"}


class Announcer:
    def __init__(self, hall: Hall, speakers: Sequence[Speaker]) -> None:
        self.hall = hall
        self.speakers = list(speakers)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Say the calls committed from now on (not those before a restart)."""
        self.hall.subscribe(self.on_events)

    def use(self, speakers: Sequence[Speaker]) -> None:
        """Say calls on `speakers` from now on (a reloaded config)."""
        self.speakers = list(speakers)

    async def drain(self) -> None:
        """Wait until what the speakers did is stored (at shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def on_events(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            kind = SAID_FOR.get(event.type)
            if kind is not None:
                doc = event.document
                at = dt.datetime.fromisoformat(doc["at"])
                self.announce(doc["ticket"], doc["window"], kind, at)

    def announce(
        self,
        ticket: str,
        window: int,
        kind: str,
        at: dt.datetime | None = None,
        speaker: str | None = None,
    ) -> dict[str, asyncio.Future[Result]]:
        """Queue `ticket` for `window` on the speakers that cover the window
        (or on `speaker` alone); their results, by speaker id, once known."""
        at = at or self.hall.now()
        voice = self.hall.config.voice
        template = "recall" if kind == "recall" else "call"
        results: dict[str, asyncio.Future[Result]] = {}
        for device in self.speakers_for(window, speaker):
            future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
            said = phrases(voice, device.languages, template, ticket, window)

            def done(
                result: Result, device: Speaker = device, future: asyncio.Future[Result] = future
            ) -> None:
                if not future.done():
                    future.set_result(result)
                self._record(device.id, ticket, window, kind, result)

            device.announce(Announcement(window, ticket, kind, at, said, voice.repeats, done))
            results[device.id] = future
        return results

    def speakers_for(self, window: int, speaker: str | None = None) -> list[Speaker]:
        if speaker is not None:
            return [s for s in self.speakers if s.id == speaker]
        return [s for s in self.speakers if s.config.says_window(window)]

    def _record(self, speaker: str, ticket: str, window: int, kind: str, result: Result) -> None:
        task = asyncio.get_running_loop().create_task(
            self._store(speaker, ticket, window, kind, result)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(
        self, speaker: str, ticket: str, window: int, kind: str, result: Result
    ) -> None:
        try:
            await self.hall.perform(
                self.hall.engine.announced,
                speaker,
                ticket,
                window,
                kind,
                result.outcome.value,
                result.rounds,
                result.reason,
            )
        except StoreUnavailable as exc:
            log.warning(
                "speaker %s: %s at window %s not on record: %s", speaker, ticket, window, exc
            )
