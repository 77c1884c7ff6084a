"""Windows: calling, serving, pausing, clerks signing in, ratings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Request

from daemon.api.auth import READERS, allow, check_window_actor
from daemon.api.errors import ApiError, language
from daemon.api.routes.common import errors, hall_of
from daemon.api.schemas import (
    CallbackRequest,
    CallOut,
    CallTicketRequest,
    CompleteRequest,
    PauseRequest,
    RatingOut,
    RatingRequest,
    SignInRequest,
    TicketOut,
    TransferRequest,
    WindowOut,
)
from daemon.api.views import rating_out, ticket_out, window_out
from daemon.hall import Hall
from daemon.queue.engine import CallResult
from daemon.queue.errors import UnknownWindow
from daemon.queue.model import Ticket, WindowState
from daemon.tokens import Role, TokenEntry

router = APIRouter(prefix="/api/v1/windows", tags=["windows"])
WindowNo = Annotated[int, Path(ge=1, description="The window's number.")]
Actor = Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.CLERK))]
ACT = errors(400, 401, 403, 404, 409, 422, 503)
T = TypeVar("T")


async def _act(
    request: Request, who: TokenEntry, window: int, operation: Callable[..., Any], *args: Any
) -> Any:
    hall = hall_of(request)
    check_window_actor(hall, who, window)
    return await hall.perform(operation, window, *args)


def _call_out(request: Request, result: CallResult) -> CallOut:
    config = hall_of(request).config

    def out(ticket: Ticket | None) -> TicketOut | None:
        return ticket_out(config, ticket) if ticket else None

    message = None
    if result.called is None:
        message = "no ticket is waiting" if language(request) == "en" else "没有等候的号"
    return CallOut(called=out(result.called), completed=out(result.completed), message=message)


def _window(hall: Hall, state: WindowState) -> WindowOut:
    return window_out(hall.config, hall.committed, state)


@router.get("", summary="All windows", responses=errors(401, 403))
async def list_windows(
    request: Request, who: Annotated[TokenEntry, Depends(allow(*READERS))]
) -> list[WindowOut]:
    hall = hall_of(request)
    return [_window(hall, hall.committed.windows[w.number]) for w in hall.config.windows]


@router.get("/{window}", summary="One window", responses=errors(401, 403, 404, 422))
async def get_window(
    request: Request, window: WindowNo, who: Annotated[TokenEntry, Depends(allow(*READERS))]
) -> WindowOut:
    hall = hall_of(request)
    if window not in hall.config.windows_by_number:
        raise UnknownWindow(window)
    return _window(hall, hall.committed.windows[window])


@router.post("/{window}/call-next", summary="Call the next ticket (呼叫)", responses=ACT)
async def call_next(request: Request, window: WindowNo, who: Actor) -> CallOut:
    """Completes the ticket at the window, if any, and calls the next one:
    priority tickets first, never more than `queue.priority_max_in_row` in a
    row while a normal ticket waits; otherwise the window's services in
    preference order, oldest ticket first. `called` is null when nothing waits."""
    hall = hall_of(request)
    return _call_out(request, await _act(request, who, window, hall.engine.call_next))


@router.post("/{window}/call", summary="Call a ticket by number (指呼)", responses=ACT)
async def call_ticket(
    request: Request, window: WindowNo, body: CallTicketRequest, who: Actor
) -> CallOut:
    """Calls a waiting ticket out of turn, or a skipped one within the no-show tolerance."""
    hall = hall_of(request)
    return _call_out(
        request, await _act(request, who, window, hall.engine.call_ticket, body.ticket)
    )


@router.post("/{window}/callback", summary="Call back a held ticket (回呼)", responses=ACT)
async def callback(
    request: Request,
    window: WindowNo,
    who: Actor,
    body: Annotated[CallbackRequest | None, Body()] = None,
) -> CallOut:
    hall = hall_of(request)
    code = body.ticket if body else None
    return _call_out(request, await _act(request, who, window, hall.engine.callback, code))


@router.post("/{window}/recall", summary="Announce the current ticket again (重呼)", responses=ACT)
async def recall(request: Request, window: WindowNo, who: Actor) -> TicketOut:
    hall = hall_of(request)
    return ticket_out(hall.config, await _act(request, who, window, hall.engine.recall))


@router.post("/{window}/start", summary="The citizen has arrived (开始办理)", responses=ACT)
async def start(request: Request, window: WindowNo, who: Actor) -> TicketOut:
    hall = hall_of(request)
    return ticket_out(hall.config, await _act(request, who, window, hall.engine.start_service))


@router.post("/{window}/complete", summary="Complete the current ticket (办结)", responses=ACT)
async def complete(
    request: Request,
    window: WindowNo,
    who: Actor,
    body: Annotated[CompleteRequest | None, Body()] = None,
) -> TicketOut:
    hall = hall_of(request)
    case = body.case_number if body else None
    return ticket_out(hall.config, await _act(request, who, window, hall.engine.complete, case))


@router.post("/{window}/skip", summary="The citizen did not come (过号)", responses=ACT)
async def skip(request: Request, window: WindowNo, who: Actor) -> TicketOut:
    hall = hall_of(request)
    return ticket_out(hall.config, await _act(request, who, window, hall.engine.skip))


@router.post("/{window}/hold", summary="Set the current ticket aside (挂起)", responses=ACT)
async def hold(request: Request, window: WindowNo, who: Actor) -> TicketOut:
    """For a citizen who must fetch papers: the window is free, the ticket
    keeps its place here and is called back with /callback; held time is not
    service time."""
    hall = hall_of(request)
    return ticket_out(hall.config, await _act(request, who, window, hall.engine.hold))


@router.post("/{window}/transfer", summary="Transfer the current ticket (转移)", responses=ACT)
async def transfer(
    request: Request, window: WindowNo, body: TransferRequest, who: Actor
) -> TicketOut:
    """To another service or window; the ticket keeps its number and goes
    ahead of everyone who arrived after it there."""
    hall = hall_of(request)
    ticket = await _act(request, who, window, hall.engine.transfer, body.service, body.window)
    return ticket_out(hall.config, ticket)


@router.post("/{window}/open", summary="Open the window", responses=ACT)
async def open_window(request: Request, window: WindowNo, who: Actor) -> WindowOut:
    hall = hall_of(request)
    return _window(hall, await _act(request, who, window, hall.engine.open_window))


@router.post("/{window}/pause", summary="Pause the window (暂停服务)", responses=ACT)
async def pause(
    request: Request,
    window: WindowNo,
    who: Actor,
    body: Annotated[PauseRequest | None, Body()] = None,
) -> WindowOut:
    hall = hall_of(request)
    reason = body.reason if body else None
    return _window(hall, await _act(request, who, window, hall.engine.pause, reason))


@router.post("/{window}/resume", summary="Resume after a pause", responses=ACT)
async def resume(request: Request, window: WindowNo, who: Actor) -> WindowOut:
    hall = hall_of(request)
    return _window(hall, await _act(request, who, window, hall.engine.resume))


@router.post("/{window}/close", summary="Close the window", responses=ACT)
async def close(request: Request, window: WindowNo, who: Actor) -> WindowOut:
    """Signs out its clerk. Refused while a ticket is at the window."""
    hall = hall_of(request)
    return _window(hall, await _act(request, who, window, hall.engine.close))


@router.post("/{window}/sign-in", summary="A clerk signs in at the window", responses=ACT)
async def sign_in(
    request: Request,
    window: WindowNo,
    who: Actor,
    body: Annotated[SignInRequest | None, Body()] = None,
) -> WindowOut:
    """Opens a closed window. Where the window has A and B clerks, only they
    may sign in; a clerk token signs in its own clerk only."""
    hall = hall_of(request)
    staff = (body.staff if body else None) or who.staff
    if staff is None:
        raise ApiError(
            422, "invalid_request", "请指定工作人员 staff", "name the staff member (staff)"
        )
    if who.role is Role.CLERK and staff != who.staff:
        raise ApiError(
            403,
            "not_yourself",
            f"令牌属于 {who.staff}，不能为 {staff} 签到",
            f"this token belongs to {who.staff} and cannot sign in {staff}",
        )
    if window not in hall.config.windows_by_number:
        raise UnknownWindow(window)
    return _window(hall, await hall.perform(hall.engine.sign_in, window, staff))


@router.post("/{window}/sign-out", summary="The clerk signs out", responses=ACT)
async def sign_out(request: Request, window: WindowNo, who: Actor) -> WindowOut:
    hall = hall_of(request)
    return _window(hall, await _act(request, who, window, hall.engine.sign_out))


@router.post(
    "/{window}/rating",
    status_code=201,
    summary="A citizen rates the service (评价)",
    responses=errors(400, 401, 403, 404, 409, 422, 503),
)
async def rate(
    request: Request,
    window: WindowNo,
    body: RatingRequest,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.KIOSK))],
) -> RatingOut:
    """For evaluation pads that are tablets. Rates the ticket being served at
    the window, or the one just completed there; a ticket is rated once.
    Levels 4 and 5 also raise a `rating.alert` event."""
    hall = hall_of(request)
    if window not in hall.config.windows_by_number:
        raise UnknownWindow(window)
    source = f"api:{who.id}"
    rating = await hall.perform(hall.engine.rate, window, body.level, source, body.reason)
    return rating_out(rating)
