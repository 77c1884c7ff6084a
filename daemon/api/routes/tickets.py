"""Tickets: issue, look up, cancel, reactivate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from daemon.api.auth import READERS, allow
from daemon.api.routes.common import errors, hall_of
from daemon.api.schemas import IssueRequest, TicketOut
from daemon.api.views import ticket_out
from daemon.tokens import Role, TokenEntry

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
Code = Annotated[str, Path(max_length=16, description="Ticket code, e.g. A001.")]


@router.post(
    "",
    status_code=201,
    summary="Issue a ticket (取号)",
    responses=errors(400, 401, 403, 409, 422, 503),
)
async def issue(
    request: Request,
    body: IssueRequest,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.KIOSK))],
) -> TicketOut:
    """Take the next number of a service. Answers once the ticket is stored;
    `waiting_ahead` is the count to print on it. 409 when the service is not
    issuing now (hours, daily limit)."""
    hall = hall_of(request)
    ticket = await hall.issue(body.service, body.priority, body.kiosk)
    return ticket_out(hall.config, ticket)


@router.get("/{code}", summary="Look up a ticket", responses=errors(401, 403, 404, 422))
async def get_ticket(
    request: Request,
    code: Code,
    who: Annotated[TokenEntry, Depends(allow(*READERS))],
    day: Annotated[dt.date | None, Query(description="Business day; today if omitted.")] = None,
) -> TicketOut:
    hall = hall_of(request)
    return ticket_out(hall.config, await hall.ticket(code, day))


@router.post(
    "/{code}/cancel",
    summary="Cancel a waiting ticket",
    responses=errors(401, 403, 404, 409, 503),
)
async def cancel(
    request: Request, code: Code, who: Annotated[TokenEntry, Depends(allow(Role.ADMIN))]
) -> TicketOut:
    hall = hall_of(request)
    return ticket_out(hall.config, await hall.perform(hall.engine.cancel, code))


@router.post(
    "/{code}/reactivate",
    summary="Put a skipped ticket back in its queue",
    responses=errors(401, 403, 404, 409, 503),
)
async def reactivate(
    request: Request,
    code: Code,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.KIOSK))],
) -> TicketOut:
    """A citizen who missed their call (过号) and comes back within
    `queue.no_show_tolerance_minutes` rejoins the end of the queue."""
    hall = hall_of(request)
    return ticket_out(hall.config, await hall.perform(hall.engine.reactivate, code))
