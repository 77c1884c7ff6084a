"""The fault schedule of a simulated day, fixed in the day file or drawn from the
seed, and playing it: each fault is put on at its hall time and taken off
after its minutes.

Kinds: ``device-silent`` (a keypad, pad or screen stops answering),
``bus-unplug`` (an RS-485 adapter pulled out), ``bus-echo`` (an adapter
that hands back what the daemon sends swapped in), ``paper-out`` and
``cover-open`` (a kiosk printer), ``broker-down`` (the MQTT broker of
`hallkeeper simulate` stopped) and ``daemon-kill`` (the daemon SIGKILLed,
restarted when the fault ends).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from daemon.day.clock import DayClock, minutes_after
from daemon.day.layout import BROKER, DAEMON, Layout
from daemon.day.ledger import FaultDone, Ledger
from daemon.day.settings import DaySettings, FaultKind

#: Random faults start this many minutes after opening at the earliest, and end
#: this many before closing at the latest.
MARGIN_MINUTES = 10.0

#: What the control endpoint is told to put a fault on, and to take it off.
SIM_FAULTS: dict[str, tuple[str, str]] = {
    "device-silent": ("silent", "ok"),
    "bus-unplug": ("unplug", "ok"),
    "bus-echo": ("echo", "ok"),
    "paper-out": ("paper-out", "ok"),
    "cover-open": ("cover-open", "ok"),
    "broker-down": ("down", "ok"),
}


@dataclass(frozen=True)
class PlannedFault:
    at: float  # minutes after opening
    kind: FaultKind
    target: str
    minutes: float

    @property
    def ends(self) -> float:
        return self.at + self.minutes


def plan_faults(
    settings: DaySettings, layout: Layout, broker: bool, daemon: bool
) -> list[PlannedFault]:
    """The day's faults in order; the same seed gives the same schedule. Kinds the
    processes cannot do (no broker to stop) are left out of the random ones;
    fixed ones that cannot be done are kept and noted when played."""
    rng = random.Random(f"faults-{settings.seed}")
    planned = []
    for fixed in settings.faults.fixed:
        targets = layout.targets(fixed.kind, broker=True, daemon=True)
        target = fixed.target or (rng.choice(targets) if targets else "")
        at = minutes_after(settings.opens, fixed.at)
        planned.append(PlannedFault(at, fixed.kind, target, fixed.minutes))
    wanted = settings.faults.random
    kinds = [k for k in wanted.kinds if layout.targets(k, broker, daemon)]
    if kinds and wanted.count:
        # every kind once (as far as the count goes), then any
        drawn = kinds[: wanted.count] + [
            rng.choice(kinds) for _ in range(wanted.count - len(kinds))
        ]
        rng.shuffle(drawn)
        for kind in drawn:
            fault = _place(rng, kind, layout, settings, planned, broker, daemon)
            if fault is not None:
                planned.append(fault)
    return sorted(planned, key=lambda f: (f.at, f.target))


def _place(
    rng: random.Random,
    kind: FaultKind,
    layout: Layout,
    settings: DaySettings,
    planned: list[PlannedFault],
    broker: bool,
    daemon: bool,
) -> PlannedFault | None:
    """A fault of `kind` at a random time on a random target that no other fault
    holds then (so one fault's end cannot clear another's start)."""
    span = settings.faults.random.minutes
    targets = layout.targets(kind, broker, daemon)
    for _ in range(50):
        minutes = round(rng.uniform(span.min, span.max), 1)
        latest = settings.day_minutes - MARGIN_MINUTES - minutes
        if latest < MARGIN_MINUTES:
            return None
        at = round(rng.uniform(MARGIN_MINUTES, latest), 1)
        target = rng.choice(targets)
        if not any(
            other.target == target and other.at < at + minutes and at < other.ends
            for other in planned
        ):
            return PlannedFault(at, kind, target, minutes)
    return None


Action = Callable[[], Awaitable[str]]


class FaultPlayer:
    """Plays a schedule. `daemon_kill` and `daemon_restart` act on the daemon's
    process; `sim_fault(target, kind)` on the simulators; each returns a note
    ('' when done). `broker`: whether the simulation runs a broker to stop."""

    def __init__(
        self,
        clock: DayClock,
        ledger: Ledger,
        sim_fault: Callable[[str, str], Awaitable[str]],
        daemon_kill: Action,
        daemon_restart: Action,
        broker: bool,
    ) -> None:
        self.clock = clock
        self.ledger = ledger
        self.sim_fault = sim_fault
        self.daemon_kill = daemon_kill
        self.daemon_restart = daemon_restart
        self.broker = broker

    async def play(self, faults: list[PlannedFault]) -> None:
        await asyncio.gather(*(self._one(fault) for fault in faults))

    async def _one(self, fault: PlannedFault) -> None:
        await self.clock.until(fault.at)
        started = self.clock.label()
        note = await self._on(fault)
        if not note:
            try:
                await self.clock.sleep(fault.minutes)
            finally:
                note = await self._off(fault)
        self.ledger.faults.append(FaultDone(started, fault.kind, fault.target, fault.minutes, note))

    async def _on(self, fault: PlannedFault) -> str:
        if fault.kind == "daemon-kill":
            return await self.daemon_kill()
        if fault.kind == "broker-down" and not self.broker:
            return "skipped: hallkeeper simulate runs no broker for this hall (mosquitto)"
        target = BROKER if fault.kind == "broker-down" else fault.target
        return await self.sim_fault(target, SIM_FAULTS[fault.kind][0])

    async def _off(self, fault: PlannedFault) -> str:
        if fault.target == DAEMON:
            return await self.daemon_restart()
        target = BROKER if fault.kind == "broker-down" else fault.target
        return await self.sim_fault(target, SIM_FAULTS[fault.kind][1])
