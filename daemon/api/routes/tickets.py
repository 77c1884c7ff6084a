"""Tickets: issue, look up, cancel, reactivate."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from daemon.api.auth import READERS, allow
from daemon.api.errors import ApiError
from daemon.api.routes.common import errors, hall_of, spooler_of
from daemon.api.schemas import IssueRequest, ReprintRequest, TicketOut
from daemon.api.views import ticket_out
from daemon.hall import UnknownKiosk
from daemon.queue.model import PrintState
from daemon.tokens import Role, TokenEntry

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
PRINT_WAIT = 10.0  # seconds the answer waits for the printer
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
    issuing now (hours, daily limit).

    With `kiosk`, the kiosk's printer prints it and the answer waits for the
    print (`print_state` printed, or failed with the ticket still valid, or
    queued if the printer is slow). 503 `printer_unavailable`, and no ticket,
    when the printer is already out of paper, open or offline."""
    hall = hall_of(request)
    spooler = spooler_of(request)
    if body.kiosk is not None and spooler is not None:
        spooler.check(body.kiosk)
    ticket = await hall.issue(body.service, body.priority, body.kiosk)
    if spooler is not None and ticket.print_state is PrintState.QUEUED:
        state = await spooler.wait(ticket.code, PRINT_WAIT)
        ticket = replace(ticket, print_state=state)
    return ticket_out(hall.config, ticket)


@router.post(
    "/{code}/reprint",
    summary="Print a ticket again (补打)",
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def reprint(
    request: Request,
    code: Code,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN))],
    body: ReprintRequest | None = None,
) -> TicketOut:
    """Print an open ticket again, on its own kiosk or the one named, e.g.
    after its first print failed. Answers after the print, like issuing."""
    hall = hall_of(request)
    spooler = spooler_of(request)
    ticket = await hall.ticket(code)
    kiosk = (body.kiosk if body else None) or ticket.kiosk
    if kiosk is None:
        zh = f"{code} 号不是在取号机取的，请指定取号机"
        raise ApiError(422, "no_kiosk", zh, f"{code} was not issued at a kiosk: name one")
    if kiosk not in hall.kiosks or spooler is None:
        raise UnknownKiosk(kiosk)
    spooler.check(kiosk)
    ticket = await hall.perform(hall.engine.reprint, code, kiosk)
    state = await spooler.wait(code, PRINT_WAIT)
    return ticket_out(hall.config, replace(ticket, print_state=state))


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
