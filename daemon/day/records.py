"""What the hall recorded, read once the hall is at rest: store rows, the event
list, and what each simulated screen shows beside what the engine says it
should. Shared by a simulated day and the whole-hall benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass

from daemon.config.model import HallConfig, bus_devices, entries_of
from daemon.day.checks import Records
from daemon.day.hall_io import HallIO
from daemon.day.screens import expected_hall_waiting, expected_window_text
from devices.config import BusDeviceConfig, HallScreenConfig, WindowScreenConfig
from drivers.bus import refresh_period

#: Real seconds beyond the screens' own refresh that they get to catch up at the end.
SCREENS_MARGIN = 5.0
#: Real seconds without a new event that count as the hall at rest, and at most
#: how long to wait for that.
QUIET_SECONDS = 2.0
SETTLE_SECONDS = 20.0


@dataclass(frozen=True)
class Screens:
    """The screens to compare: window screen id -> its window, and hall screens."""

    windows: dict[str, int]
    halls: tuple[str, ...]

    @classmethod
    def of(cls, config: HallConfig) -> Screens:
        return cls(
            {s.id: s.window for s in entries_of(config, WindowScreenConfig)},
            tuple(h.id for h in entries_of(config, HallScreenConfig)),
        )


async def read_records(io: HallIO, config: HallConfig, screens: Screens) -> Records:
    await settled(io)
    records = Records()
    read_store(config, records)
    await read_events(io, records)
    await read_screens(io, config, screens, records)
    return records


async def settled(io: HallIO) -> None:
    """Wait until no event has been added for `QUIET_SECONDS` (the last finger
    or key may still be on its way to the store), at most `SETTLE_SECONDS`."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        status, answer = await io.api("GET", "/events?after=0&limit=1")
        seq = answer["last_seq"] if status == 200 else None
        if seq != last:
            last, since = seq, time.monotonic()
        elif time.monotonic() - since >= QUIET_SECONDS:
            return
        await asyncio.sleep(0.2)


def read_store(config: HallConfig, records: Records) -> None:
    path = config.storage.path
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT day, code, state FROM tickets ORDER BY day").fetchall()
        seen: Counter[tuple[str, str]] = Counter()
        for day, code, state in rows:
            seen[(day, code)] += 1
            records.tickets[code] = state
        records.duplicates = [f"{day} {code}" for (day, code), n in seen.items() if n > 1]
        records.called = {code for (code,) in db.execute("SELECT DISTINCT code FROM calls")}
        records.ratings = list(db.execute("SELECT ticket, level FROM ratings"))
        for staff, source, count in db.execute(
            "SELECT staff, source, count(*) FROM punches GROUP BY staff, source"
        ):
            records.punches[(staff, source)] = count


async def read_events(io: HallIO, records: Records) -> None:
    after = 0
    while True:
        status, answer = await io.api("GET", f"/events?after={after}&limit=1000")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/events answered {status}")
        records.last_seq = answer["last_seq"]
        seqs = [event["seq"] for event in answer["events"]]
        if not seqs:
            return
        records.seqs += seqs
        after = seqs[-1]


async def read_screens(io: HallIO, config: HallConfig, screens: Screens, records: Records) -> None:
    """Each screen against the engine's state, once they agree, or after the
    screens' refresh: an IMM screen never answers, so a frame it lost (a
    collision on the bus, a frame during its 100 ms of digesting) is only
    made good when the daemon re-sends its text every `refresh_seconds`."""
    started = time.monotonic()
    deadline = started + screens_catch_up(config) + SCREENS_MARGIN
    while True:
        compared = await compare_screens(io, config, screens)
        late = [screen for screen, shown, wanted in compared if shown != wanted]
        if not late:
            break
        if not records.screens_late:
            records.screens_late = [await _frames(io, screen) for screen in late]
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    records.screens = compared
    records.screens_waited = time.monotonic() - started


async def _frames(io: HallIO, screen: str) -> str:
    """A screen that disagreed, with what it did with the frames it was sent."""
    device = screen.split(" ")[0]
    counts = (await io.show(device)).get("frames", {})
    return f"{screen} ({', '.join(f'{k} {v}' for k, v in counts.items())})"


async def compare_screens(
    io: HallIO, config: HallConfig, screens: Screens
) -> list[tuple[str, str | None, str]]:
    """(screen, what it shows, what the engine's state says it should show)."""
    compared = []
    for screen, number in sorted(screens.windows.items()):
        window = await io.window(number)
        shown = (await io.show(screen)).get("text")
        wanted = expected_window_text(config, screen, window) if window else "?"
        compared.append((screen, shown, wanted))
    if screens.halls:
        status, queue = await io.api("GET", "/queue")
        for screen in screens.halls:
            shown = (await io.show(screen)).get("text")
            wanted = expected_hall_waiting(config, screen, queue) if status == 200 else "?"
            # the latest calls on the left are the screen's own history; the
            # waiting counts on the right are the engine's state
            tail = shown[len(shown) - len(wanted) :] if shown else shown
            compared.append((f"{screen} (waiting counts)", tail, wanted))
    return compared


def screens_catch_up(config: HallConfig) -> float:
    """The longest a screen can show a text it missed: its refresh period, and
    for a hall screen the wait for a change of the counts alone, each
    stretched on a bus crowded with devices (`drivers.bus.refresh_period`)."""
    links = {link.id: link for link in config.links}
    pictures = bus_devices(config)

    def on_its_bus(screen: BusDeviceConfig, seconds: float) -> float:
        spacing = links[screen.link].refresh_spacing_seconds
        return refresh_period(seconds, pictures[screen.link], spacing)

    periods = [on_its_bus(s, s.refresh_seconds) for s in entries_of(config, WindowScreenConfig)]
    periods += [
        on_its_bus(s, max(s.refresh_seconds, s.count_every_seconds))
        for s in entries_of(config, HallScreenConfig)
    ]
    return max(periods, default=0.0)
