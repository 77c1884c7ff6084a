"""Attendance (考勤): the day report, as JSON or CSV."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from daemon.api.auth import allow
from daemon.api.routes.common import errors, hall_of
from daemon.api.schemas import AttendanceOut, StaffDayOut
from daemon.attendance_report import day_report, to_csv
from daemon.tokens import Role, TokenEntry

router = APIRouter(tags=["attendance"])


@router.get(
    "/api/v1/attendance",
    summary="Attendance of one day (考勤日报)",
    responses={200: {"content": {"text/csv": {}}}, **errors(401, 403, 422)},
)
async def attendance(
    request: Request,
    who: Annotated[TokenEntry, Depends(allow(Role.ADMIN, Role.MONITOR))],
    date: Annotated[
        dt.date | None, Query(description="Business day, YYYY-MM-DD; today if omitted.")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv for a spreadsheet.")] = "json",
) -> Response:
    """Per staff member: punches, first in, last out (punches alternate in
    and out by their order), late and early leave by `attendance` rules with
    their grace minutes, and absent on a workday without a punch."""
    hall = hall_of(request)
    day = date or hall.committed.day or hall.engine.business_day(hall.now())
    punches = await asyncio.to_thread(hall.store.punches_of, day)
    rows = day_report(hall.config, day, punches)
    if format == "csv":
        filename = f"attendance-{day.isoformat()}.csv"
        return PlainTextResponse(
            "\ufeff" + to_csv(rows),  # a BOM, so spreadsheet programs read it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    body = AttendanceOut(day=day, staff=[StaffDayOut(**row.__dict__) for row in rows])
    return Response(body.model_dump_json(), media_type="application/json")
