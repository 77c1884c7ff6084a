"""Statistics of one business day per service, window and clerk.

Definitions (the API documents them too):
- issued: tickets taken for the service that day;
- served / no_show: tickets whose final state is done / no_show, by the
  service they ended in; per window and clerk, calls ending so there;
- waiting time: from joining the queue to being called, per call;
- service time: from the call (or the start of service) to its end, held time
  excluded, for calls that ended done;
- completion rate (办结率): served / tickets that were not cancelled, per
  service; served / calls that ended, per window and clerk;
- satisfaction (满意率): ratings 1-3 (非常满意, 满意, 基本满意) over rated
  ones; "unrated" never counts as satisfied. Null until a rating exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from daemon.config.model import HallConfig
from daemon.queue.engine import service_seconds
from daemon.queue.model import Call, CallOutcome, Rating, Ticket, TicketState


def day_stats(
    config: HallConfig, tickets: list[Ticket], calls: list[Call], ratings: list[Rating]
) -> dict[str, Any]:
    staff_names = {s.id: s.name for s in config.staff}
    service_of = {t.code: t.service for t in tickets}
    services = [
        {
            "id": s.id,
            "names": s.names,
            **_ticket_figures([t for t in tickets if t.service == s.id], s.id, tickets),
            **_call_figures([c for c in calls if c.service == s.id]),
            "satisfaction": _satisfaction(r for r in ratings if service_of.get(r.ticket) == s.id),
        }
        for s in config.services
    ]
    windows = [
        {"number": w.number, **_group(calls, ratings, lambda x, n=w.number: x.window == n)}
        for w in config.windows
    ]
    clerk_ids = sorted({c.clerk for c in calls if c.clerk} | {r.clerk for r in ratings if r.clerk})
    clerks = [
        {"id": i, "name": staff_names.get(i), **_group(calls, ratings, lambda x, i=i: x.clerk == i)}
        for i in clerk_ids
    ]
    hall = {
        **_ticket_figures(tickets, None, tickets),
        **_call_figures(calls),
        "satisfaction": _satisfaction(ratings),
    }
    return {"hall": hall, "services": services, "windows": windows, "clerks": clerks}


def _ticket_figures(ended_here: list[Ticket], service: str | None, all_: list[Ticket]) -> dict:
    issued = [t for t in all_ if service is None or t.issued_service == service]
    served = sum(t.state is TicketState.DONE for t in ended_here)
    counted = sum(t.state is not TicketState.CANCELLED for t in ended_here)
    return {
        "issued": len(issued),
        "served": served,
        "no_show": sum(t.state is TicketState.NO_SHOW for t in ended_here),
        "cancelled": sum(t.state is TicketState.CANCELLED for t in ended_here),
        "expired": sum(t.state is TicketState.EXPIRED for t in ended_here),
        "completion_rate": _ratio(served, counted),
    }


def _call_figures(calls: list[Call]) -> dict:
    done = [c for c in calls if c.outcome is CallOutcome.DONE]
    return {
        "waiting_time": _spread((c.called_at - c.queued_at).total_seconds() for c in calls),
        "service_time": _spread(service_seconds(c) for c in done),
    }


def _group(calls: list[Call], ratings: list[Rating], member: Callable[[Any], bool]) -> dict:
    mine = [c for c in calls if member(c)]
    ended = [c for c in mine if c.outcome is not None]
    served = sum(c.outcome is CallOutcome.DONE for c in ended)
    return {
        "calls": len(mine),
        "served": served,
        "no_show": sum(c.outcome is CallOutcome.NO_SHOW for c in ended),
        "transferred": sum(c.outcome is CallOutcome.TRANSFERRED for c in ended),
        "completion_rate": _ratio(served, len(ended)),
        **_call_figures(mine),
        "satisfaction": _satisfaction(r for r in ratings if member(r)),
    }


def _satisfaction(ratings: Iterable[Rating]) -> dict[str, Any]:
    levels = {str(level): 0 for level in range(1, 6)}
    unrated = 0
    for rating in ratings:
        if rating.level is None:
            unrated += 1
        else:
            levels[str(rating.level)] += 1
    rated = sum(levels.values())
    satisfied = levels["1"] + levels["2"] + levels["3"]
    return {"rated": rated, "unrated": unrated, "levels": levels, "rate": _ratio(satisfied, rated)}


def _spread(values: Iterable[float]) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean_seconds": None, "p90_seconds": None, "max_seconds": None}
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return {
        "count": len(ordered),
        "mean_seconds": round(sum(ordered) / len(ordered), 1),
        "p90_seconds": round(p90, 1),
        "max_seconds": round(ordered[-1], 1),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
