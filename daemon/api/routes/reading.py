"""Reading the hall: queue, health, events, statistics."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from daemon.api.auth import READERS, allow
from daemon.api.routes.common import errors, hall_of
from daemon.api.schemas import EventsOut, HealthOut, QueueOut, StatsOut
from daemon.api.views import health_out, queue_out
from daemon.stats import day_stats
from daemon.tokens import Role, TokenEntry

router = APIRouter(tags=["hall"])
SQLITE_MAX_INT = 2**63 - 1
Reader = Annotated[TokenEntry, Depends(allow(*READERS))]


@router.get("/healthz", summary="Liveness; no token needed")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **errors(401, 403)},
)
async def metrics(
    request: Request,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.MONITOR))],
) -> PlainTextResponse:
    """Queues, windows, events, waiting and service time histograms, the store
    and the event loop, for a Prometheus scraper with a monitor token."""
    body = request.app.state.metrics.render()
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/queue", summary="Waiting tickets and windows", responses=errors(401, 403, 422))
async def queue(
    request: Request,
    who: Reader,
    limit: Annotated[int, Query(ge=0, le=1000, description="Codes listed per service.")] = 20,
) -> QueueOut:
    return queue_out(hall_of(request), limit)


@router.get("/api/v1/health", summary="The daemon and every device", responses=errors(401, 403))
async def health(request: Request, who: Reader) -> HealthOut:
    return health_out(hall_of(request), request.app.state.info)


@router.get(
    "/api/v1/events", summary="Events after a seq, from the store", responses=errors(401, 403, 422)
)
async def events(
    request: Request,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.MONITOR, Role.DISPLAY))],
    after: Annotated[
        int, Query(ge=0, le=SQLITE_MAX_INT, description="Return events with a greater seq.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventsOut:
    """Consumers that missed events (restart, network) catch up here: seq is
    gap-free, so `after` = the last seq seen loses nothing."""
    hall = hall_of(request)
    found = await asyncio.to_thread(hall.store.events_after, after, limit)
    return EventsOut(events=found, last_seq=hall.committed_seq)


@router.get("/api/v1/stats", summary="Statistics of one day", responses=errors(401, 403, 422))
async def stats(
    request: Request,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.MONITOR))],
    date: Annotated[
        dt.date | None, Query(description="Business day, YYYY-MM-DD; today if omitted.")
    ] = None,
) -> StatsOut:
    hall = hall_of(request)
    day = date or hall.committed.day or hall.engine.business_day(hall.now())
    store = hall.store

    def read() -> dict:
        return day_stats(
            hall.config, store.tickets_of(day), store.calls_of(day), store.ratings_of(day)
        )

    return StatsOut(day=day, **await asyncio.to_thread(read))
