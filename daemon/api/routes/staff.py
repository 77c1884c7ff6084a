"""Staff fingerprints: enrolment through a reader, and deletion (admin)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from daemon.api.auth import allow
from daemon.api.errors import ApiError
from daemon.api.routes.common import errors, hall_of
from daemon.api.schemas import EnrolRequest, FingerprintOut
from daemon.queue.errors import UnknownStaff
from daemon.tokens import Role, TokenEntry
from devices.fingerprint_reader import EnrolFailed, FingerprintReader
from devices.health import DeviceState

router = APIRouter(prefix="/api/v1/staff", tags=["attendance"])
Admin = Annotated[TokenEntry, Depends(allow(Role.ADMIN))]
StaffId = Annotated[str, Path(max_length=64, description="Staff id from the hall config.")]
ENROL_WAIT = 40.0  # seconds: two touches, and the lift between them


def _reader(request: Request, reader_id: str) -> FingerprintReader:
    readers: dict[str, FingerprintReader] = getattr(request.app.state, "readers", None) or {}
    reader = readers.get(reader_id)
    if reader is None:
        raise ApiError(
            422, "unknown_reader", f"没有指纹仪 {reader_id}", f"there is no reader {reader_id!r}"
        )
    if reader.tracker.state is not DeviceState.ONLINE:
        reason = reader.tracker.health.reason or reader.tracker.state
        raise ApiError(
            503,
            "reader_unavailable",
            f"指纹仪 {reader_id} 不可用（{reason}）",
            f"reader {reader_id} is not available ({reason})",
        )
    return reader


@router.post(
    "/{staff}/fingerprints",
    status_code=201,
    summary="Enrol a finger through a reader (录入指纹)",
    responses=errors(401, 403, 409, 422, 503),
)
async def enrol(request: Request, staff: StaffId, body: EnrolRequest, who: Admin) -> FingerprintOut:
    """The staff member touches the reader twice with one finger; answers once
    the template is stored in the reader and in the hall's records (409 with
    the reason if the touches did not make a template, e.g. no finger in time)."""
    hall = hall_of(request)
    if staff not in hall.config.staff_by_id:
        raise UnknownStaff(staff)
    reader = _reader(request, body.reader)
    taken = {page for (rid, page) in hall.committed.fingerprints if rid == reader.id}
    page = body.page if body.page is not None else _free_page(taken, reader.config.capacity)
    if page in taken:
        raise ApiError(
            409,
            "page_taken",
            f"第 {page} 页已有指纹",
            f"page {page} of {reader.id} holds a template",
        )
    try:
        await asyncio.wait_for(asyncio.wrap_future(reader.enroll(page)), ENROL_WAIT)
    except (EnrolFailed, TimeoutError) as exc:
        reason = str(exc) or "no touches in time"
        zh, en = f"录入失败：{reason}", f"enrolment failed: {reason}"
        raise ApiError(409, "enrol_failed", zh, en) from exc
    await hall.perform(hall.attendance.enroll, reader.id, page, staff)
    return FingerprintOut(staff=staff, reader=reader.id, page=page)


@router.delete(
    "/{staff}/fingerprints/{reader}/{page}",
    summary="Delete a finger's template",
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def delete(
    request: Request,
    staff: StaffId,
    reader: Annotated[str, Path(max_length=64)],
    page: Annotated[int, Path(ge=0, le=65535)],
    who: Admin,
) -> FingerprintOut:
    hall = hall_of(request)
    if hall.committed.fingerprints.get((reader, page)) != staff:
        raise ApiError(
            404,
            "no_fingerprint",
            f"{staff} 在指纹仪 {reader} 第 {page} 页没有指纹",
            f"{staff} has no template at page {page} of {reader}",
        )
    device = _reader(request, reader)
    try:
        await asyncio.wait_for(asyncio.wrap_future(device.delete(page)), ENROL_WAIT)
    except (EnrolFailed, TimeoutError) as exc:
        zh, en = f"删除失败：{exc}", f"deletion failed: {exc}"
        raise ApiError(409, "delete_failed", zh, en) from exc
    await hall.perform(hall.attendance.forget, reader, page)
    return FingerprintOut(staff=staff, reader=reader, page=page)


def _free_page(taken: set[int], capacity: int) -> int:
    page = next((p for p in range(capacity) if p not in taken), None)
    if page is None:
        raise ApiError(409, "reader_full", "指纹库已满", "the reader's template library is full")
    return page
