"""Citizens: when they come and for what (drawn from the seed), and what they do.

A citizen takes a ticket at a kiosk through the API and reads it off the
kiosk's printer; a printer that cannot print sends them to the next kiosk,
and with none left they go home without a ticket. Then they wait for their
number until their patience runs out. A clerk who calls their number finds
them through `Crowd.answer`; at the window they rate on the pad, or leave
without rating.
"""

from __future__ import annotations

import asyncio
import bisect
import random
from dataclasses import dataclass, field

from daemon.day.clock import DayClock, minutes_after
from daemon.day.hall_io import HallIO
from daemon.day.ledger import Ledger, Received
from daemon.day.settings import DaySettings

#: How often, and how far apart in real seconds, a citizen tries a kiosk whose
#: daemon does not answer before going home.
KIOSK_TRIES = 10
KIOSK_RETRY_SECONDS = 1.0
#: Real seconds a citizen watches a printer for a ticket that is still printing.
PRINT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class CitizenPlan:
    number: int
    arrives: float  # minutes after opening
    service: str
    kiosk: str
    patience: float  # minutes
    rating: int | None  # None: leaves without rating


def plan_crowd(
    settings: DaySettings, services: dict[str, float], kiosks: tuple[str, ...]
) -> list[CitizenPlan]:
    """The day's citizens in order of arrival; the same seed gives the same crowd."""
    rng = random.Random(f"crowd-{settings.seed}")
    crowd = settings.crowd
    day = settings.day_minutes
    spans = []  # (start, end, weight) in minutes after opening
    points = crowd.curve
    for index, point in enumerate(points):
        start = max(0.0, minutes_after(settings.opens, point.at))
        end = (
            minutes_after(settings.opens, points[index + 1].at) if index + 1 < len(points) else day
        )
        end = min(end, day)
        if end > start and point.weight > 0:
            spans.append((start, end, point.weight * (end - start)))
    if not spans:
        spans = [(0.0, day, 1.0)]
    cumulative = []
    total = 0.0
    for _, _, weight in spans:
        total += weight
        cumulative.append(total)
    arrivals = []
    for _ in range(crowd.citizens):
        index = min(bisect.bisect(cumulative, rng.random() * total), len(spans) - 1)
        start, end, _ = spans[index]
        arrivals.append(rng.uniform(start, end))
    arrivals.sort()
    names = sorted(services)
    levels = sorted(crowd.ratings)
    plans = []
    for number, arrives in enumerate(arrivals, 1):
        service = rng.choices(names, weights=[services[n] for n in names])[0]
        rating = rng.choices(levels, weights=[crowd.ratings[lv] for lv in levels])[0]
        plans.append(
            CitizenPlan(
                number=number,
                arrives=round(arrives, 3),
                service=service,
                kiosk=rng.choice(kiosks),
                patience=round(
                    rng.uniform(crowd.patience_minutes.min, crowd.patience_minutes.max), 3
                ),
                rating=None if rng.random() < crowd.no_rating else rating,
            )
        )
    return plans


@dataclass(eq=False)
class Citizen:
    plan: CitizenPlan
    code: str | None = None
    called: bool = False
    gone: bool = False
    _waiting: asyncio.Task[None] | None = field(default=None, repr=False)


class Crowd:
    """The citizens in the hall, by the ticket they hold."""

    def __init__(
        self,
        io: HallIO,
        clock: DayClock,
        ledger: Ledger,
        kiosks: dict[str, str],
    ) -> None:
        self.io = io
        self.clock = clock
        self.ledger = ledger
        self.kiosks = kiosks  # kiosk -> printer
        self._locks = {kiosk: asyncio.Lock() for kiosk in kiosks}
        self._holding: dict[str, Citizen] = {}

    async def live(self, plan: CitizenPlan) -> None:
        """One citizen's day: arrive, take a ticket, wait to be called."""
        await self.clock.until(plan.arrives)
        citizen = Citizen(plan)
        code = await self._take_ticket(citizen)
        if code is None:
            return
        citizen.code = code
        self._holding[code] = citizen
        self.wait(citizen)

    def wait(self, citizen: Citizen) -> None:
        """The citizen waits for their number, until their patience is up."""
        citizen.called = False
        citizen._waiting = asyncio.get_running_loop().create_task(self._patience(citizen))

    async def _patience(self, citizen: Citizen) -> None:
        await self.clock.sleep(citizen.plan.patience)
        if not citizen.called:
            citizen.gone = True
            self.ledger.counts["left before being called"] += 1

    def answer(self, code: str) -> Citizen | None:
        """The citizen holding `code` steps up to the window that called it; None
        if nobody holding it is still in the hall."""
        citizen = self._holding.get(code)
        if citizen is None or citizen.gone or citizen.called:
            return None
        citizen.called = True
        if citizen._waiting is not None:
            citizen._waiting.cancel()
        return citizen

    def leave(self, citizen: Citizen) -> None:
        citizen.gone = True

    def waiting(self) -> int:
        """Citizens still waiting for their number."""
        return sum(not c.gone and not c.called for c in self._holding.values())

    async def _take_ticket(self, citizen: Citizen) -> str | None:
        plan = citizen.plan
        order = [plan.kiosk, *sorted(k for k in self.kiosks if k != plan.kiosk)]
        reason = "printers unavailable"
        for kiosk in order:
            async with self._locks[kiosk]:
                outcome = await self._at_kiosk(citizen, kiosk)
            if isinstance(outcome, Received):
                self.ledger.received.append(outcome)
                return outcome.code
            reason = outcome
            if outcome == "hall down":
                break
        self.ledger.no_ticket[reason] += 1
        return None

    async def _at_kiosk(self, citizen: Citizen, kiosk: str) -> Received | str:
        """The ticket taken at `kiosk`, or why there was none."""
        body = {"service": citizen.plan.service, "kiosk": kiosk}
        for _ in range(KIOSK_TRIES):
            status, answer = await self.io.api("POST", "/tickets", body, token=self.io.kiosk)
            if status != 0:
                break
            await asyncio.sleep(KIOSK_RETRY_SECONDS)
        else:
            return "hall down"
        if status == 503:
            return "printers unavailable"
        if status != 201 or not isinstance(answer, dict):
            return f"kiosk answered {status}"
        code = str(answer["code"])
        if await self._printed(kiosk, code):
            return Received(code, citizen.plan.number, kiosk)
        return "ticket not printed"

    async def _printed(self, kiosk: str, code: str) -> bool:
        """Whether the kiosk's printer has just put out the ticket `code`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PRINT_WAIT_SECONDS
        while True:
            ticket = (await self.io.show(self.kiosks[kiosk])).get("ticket") or {}
            if ticket.get("cut") and code in ticket.get("lines", []):
                return True
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.05)
