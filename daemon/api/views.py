"""Queue records as API response bodies."""

from __future__ import annotations

import time

from daemon.api.schemas import (
    HealthOut,
    QueueOut,
    RatingOut,
    ServiceQueueOut,
    TicketOut,
    WindowOut,
)
from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.queue.model import RATING_LABELS, Rating, Ticket, WindowState
from daemon.queue.state import QueueState
from daemon.runtime import DaemonInfo


def ticket_out(config: HallConfig, ticket: Ticket) -> TicketOut:
    service = config.services_by_id.get(ticket.service)
    return TicketOut(
        code=ticket.code,
        day=ticket.day,
        number=ticket.number,
        service=ticket.service,
        service_names=service.names if service else {},
        issued_service=ticket.issued_service,
        priority=ticket.priority,
        state=ticket.state,
        issued_at=ticket.issued_at,
        state_since=ticket.state_since,
        waiting_ahead=ticket.waiting_ahead,
        kiosk=ticket.kiosk,
        window=ticket.window,
        target_window=ticket.target_window,
        clerk=ticket.clerk,
        calls=ticket.calls,
        recalls=ticket.recalls,
        case_number=ticket.case_number,
        rated=ticket.rated,
        print_state=ticket.print_state,
    )


def window_names(config: HallConfig, number: int) -> dict[str, str]:
    configured = config.windows_by_number[number].names
    if configured:
        return configured
    return {
        lang: f"{number}号窗口" if lang.startswith("zh") else f"Window {number}"
        for lang in config.hall.languages
    }


def window_out(config: HallConfig, state: QueueState, window: WindowState) -> WindowOut:
    member = config.staff_by_id.get(window.clerk) if window.clerk else None
    return WindowOut(
        number=window.number,
        names=window_names(config, window.number),
        services=config.windows_by_number[window.number].services,
        status=window.status,
        reason=window.pause_reason,
        since=window.since,
        clerk=window.clerk,
        clerk_name=member.name if member else None,
        current=window.current,
        held=[t.code for t in state.held_at(window.number)],
        waiting=[
            t.code
            for priority in (True, False)
            for t in state.members(("window", window.number, priority))
        ],
        last_done=window.last_done,
    )


def service_queues(config: HallConfig, state: QueueState, limit: int) -> list[ServiceQueueOut]:
    out = []
    for service in config.services:
        priority = state.members(("service", service.id, True))
        normal = state.members(("service", service.id, False))
        out.append(
            ServiceQueueOut(
                id=service.id,
                names=service.names,
                prefix=service.prefix,
                waiting=len(priority) + len(normal),
                waiting_priority=len(priority),
                issued=state.issued_today(service.id),
                next=[t.code for t in (priority + normal)[:limit]],
            )
        )
    return out


def rating_out(rating: Rating) -> RatingOut:
    return RatingOut(
        window=rating.window,
        ticket=rating.ticket,
        clerk=rating.clerk,
        case_number=rating.case_number,
        level=rating.level,
        label=RATING_LABELS[rating.level] if rating.level else None,
        at=rating.at,
    )


def queue_out(hall: Hall, limit: int) -> QueueOut:
    state = hall.committed
    return QueueOut(
        day=state.day,
        services=service_queues(hall.config, state, limit),
        windows=[
            window_out(hall.config, state, state.windows[w.number]) for w in hall.config.windows
        ],
    )


def health_out(hall: Hall, info: DaemonInfo) -> HealthOut:
    feed = info.feed
    return HealthOut(
        state=info.state if hall.store_error is None else "degraded",
        hall=hall.config.hall.id,
        version=info.version,
        started_at=info.started_at,
        uptime_seconds=round(time.monotonic() - info.started_monotonic, 3),
        loop_lag_ms=round(info.loop_lag_ms, 3),
        store=hall.health(),
        event_feed=feed.health() if feed else {"endpoint": None},
        devices=info.devices(),
    )
