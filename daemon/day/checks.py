"""After a simulated day: the hall's records held against what the people did.

Each check is a function of what the citizens and clerks saw (the `Ledger`)
and what the hall recorded (`Records`: store rows, the event list, what the
simulated screens show and what the engine says they should), and names each
ticket, device or event at fault.

Where the hall could not act, nothing is owed: a citizen at a printer out of
paper got no ticket; a pad key the daemon never acknowledged (it was down,
or the bus was) was given up by the pad after its resends, as PROTOCOLS.md
§1 has it (the pad keeps no rating it could not deliver), so only
acknowledged ratings must be stored; a finger lifted from a reader unread
is no punch. An attendance terminal keeps its punches in its log until the
daemon reads them, so every terminal punch must be stored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from daemon.day.ledger import Ledger
from daemon.queue.model import QUEUED


@dataclass(frozen=True)
class CheckResult:
    id: str
    zh: str
    en: str
    problems: tuple[str, ...]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Records:
    """What the hall recorded, read at the end of the day."""

    #: (day, code) -> state, for every ticket row; duplicates lists (day, code) seen twice.
    tickets: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    called: set[str] = field(default_factory=set)
    ratings: list[tuple[str | None, int | None]] = field(default_factory=list)
    punches: Counter[tuple[str, str]] = field(default_factory=Counter)
    seqs: list[int] = field(default_factory=list)
    last_seq: int = 0
    #: (screen, what it shows, what the engine's state says it should show)
    screens: list[tuple[str, str | None, str]] = field(default_factory=list)
    #: Real seconds the screens took to agree with the engine (or were given).
    screens_waited: float = 0.0
    #: The screens that disagreed at first, with their frame counters.
    screens_late: list[str] = field(default_factory=list)


def check_tickets(ledger: Ledger, records: Records, hall_open: bool = False) -> CheckResult:
    """Every ticket a citizen received was called or expired (or, with the hall
    still open, still waits in its queue); none issued twice."""
    problems = []
    holders: dict[str, list[int]] = defaultdict(list)
    for received in ledger.received:
        holders[received.code].append(received.citizen)
    for code, citizens in sorted(holders.items()):
        if len(citizens) > 1:
            who = ", ".join(str(c) for c in citizens)
            problems.append(f"{code}: handed to citizens {who} / 发给了多位市民")
        state = records.tickets.get(code)
        if state is None:
            problems.append(f"{code}: received but not in the store / 市民取到但未存储")
        elif (
            code not in records.called
            and state != "expired"
            and not (hall_open and state in QUEUED)
        ):
            problems.append(f"{code}: never called, still {state} / 未叫号，仍为 {state}")
    problems += [f"{key}: issued twice in the store / 存储中重号" for key in records.duplicates]
    detail = f"{len(holders)} tickets received, {len(records.tickets)} in the store"
    if hall_open:
        waiting = sum(records.tickets.get(code) in QUEUED for code in holders)
        detail += f", {waiting} still waiting"
    return CheckResult(
        "tickets",
        "每张取到的号都已叫号、过期或仍在排队，没有重号"
        if hall_open
        else "每张取到的号都已叫号或过期，没有重号",
        "every ticket received was called, expired or still waits, none issued twice"
        if hall_open
        else "every ticket received was called or expired, none issued twice",
        tuple(problems),
        detail,
    )


def check_ratings(ledger: Ledger, records: Records) -> CheckResult:
    """Every rating a pad delivered is stored for its ticket with its level."""
    stored = Counter(records.ratings)
    problems = []
    delivered = [r for r in ledger.ratings if r.delivered]
    for rating in delivered:
        key = (rating.ticket, rating.level)
        if stored[key] > 0:
            stored[key] -= 1
            continue
        found = [lv for code, lv in records.ratings if code == rating.ticket]
        problems.append(
            f"{rating.ticket}: level {rating.level} on {rating.pad} was acknowledged but "
            f"{'stored as ' + str(found) if found else 'not stored'} / 评价已确认但未按此存储"
        )
    lost = len(ledger.ratings) - len(delivered)
    detail = f"{len(delivered)} ratings delivered and stored"
    if lost:
        detail += f"; {lost} pressed while the pad could not deliver (not owed)"
    return CheckResult(
        "ratings", "每个送达的评价都已存储", "every rating given is stored", tuple(problems), detail
    )


def check_punches(ledger: Ledger, records: Records) -> CheckResult:
    """Every finger a reader took, and every terminal punch, is a stored punch."""
    taken = Counter((f.staff, f.source) for f in ledger.fingers if f.taken)
    problems = [
        f"{staff} at {source}: {count} punch(es) given, {records.punches[(staff, source)]} "
        f"stored / 打卡未全部记录"
        for (staff, source), count in sorted(taken.items())
        if records.punches[(staff, source)] < count
    ]
    unread = sum(not f.taken for f in ledger.fingers)
    detail = f"{sum(taken.values())} punches given"
    if unread:
        detail += f"; {unread} fingers lifted unread (not owed)"
    return CheckResult(
        "punches", "每次打卡都已记录", "every punch is recorded", tuple(problems), detail
    )


def check_screens(records: Records) -> CheckResult:
    """Every screen shows what the engine's state says."""
    problems = [
        f"{screen}: shows {shown!r}, the engine says {wanted!r} / 屏幕内容与叫号状态不符"
        for screen, shown, wanted in records.screens
        if shown != wanted
    ]
    return CheckResult(
        "screens",
        "每块屏幕显示的与叫号系统一致",
        "every screen ends showing the engine's state",
        tuple(problems),
        f"{len(records.screens)} screens, compared for {records.screens_waited:.1f} s"
        + (f"; late at first: {'; '.join(records.screens_late)}" if records.screens_late else ""),
    )


def check_events(records: Records) -> CheckResult:
    """Event sequence numbers run 1, 2, ... up to the last one, with no gap."""
    problems = []
    expected = 1
    for seq in records.seqs:
        if seq != expected:
            problems.append(
                f"event seq {seq} follows {expected - 1}: "
                + (f"{expected}..{seq - 1} missing" if seq > expected else "out of order")
                + " / 事件序号不连续"
            )
        expected = seq + 1
    if records.seqs and records.seqs[-1] != records.last_seq:
        problems.append(
            f"the list ends at {records.seqs[-1]}, the store's last is {records.last_seq}"
        )
    return CheckResult(
        "events",
        "事件序号连续无缺",
        "events are gap-free",
        tuple(problems[:20]),
        f"{len(records.seqs)} events",
    )


def all_checks(ledger: Ledger, records: Records) -> list[CheckResult]:
    return [
        check_tickets(ledger, records),
        check_ratings(ledger, records),
        check_punches(ledger, records),
        check_screens(records),
        check_events(records),
    ]
