"""Request and response bodies of the HTTP API, with the examples in OpenAPI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from daemon.queue.model import PrintState, Priority, TicketState, WindowStatus
from devices.health import DeviceHealth


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ------------------------------------------------------------------------


class IssueRequest(Body):
    service: str = Field(description="Service id from the hall config.", max_length=64)
    priority: Priority | None = Field(
        default=None, description="Green-channel reason; priority tickets are called first."
    )
    kiosk: str | None = Field(
        default=None, max_length=64, description="Kiosk whose printer prints the ticket."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"service": "social-security"}, {"service": "tax", "priority": "elderly"}]
        },
    )


class ReprintRequest(Body):
    kiosk: str | None = Field(
        default=None, max_length=64, description="Kiosk to print on; the ticket's own if omitted."
    )
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"kiosk": "kiosk-2"}]}
    )


class CallTicketRequest(Body):
    ticket: str = Field(description="Code of the ticket to call (指呼), e.g. A012.", max_length=16)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"ticket": "A012"}]})


class CallbackRequest(Body):
    ticket: str | None = Field(
        default=None, max_length=16, description="Held ticket to call back; the oldest if omitted."
    )
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"ticket": "A012"}]}
    )


class TransferRequest(Body):
    service: str | None = Field(default=None, max_length=64, description="Target service id.")
    window: int | None = Field(default=None, ge=1, description="Target window number.")
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"service": "tax"}, {"window": 5}]}
    )


class CompleteRequest(Body):
    case_number: str | None = Field(
        default=None, max_length=64, description="Case number (办件编号) of the finished case."
    )
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"case_number": "2026-SB-00123"}]}
    )


class PauseRequest(Body):
    reason: str | None = Field(default=None, max_length=64, description="Shown with 暂停服务.")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "午休"}]})


class SignInRequest(Body):
    staff: str | None = Field(
        default=None, max_length=64, description="Staff id; a clerk token signs in its own clerk."
    )
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"staff": "s001"}]})


class RatingRequest(Body):
    level: int | None = Field(
        ge=1, le=5, description="1 非常满意 … 5 非常不满意; null records 'unrated'."
    )
    reason: str | None = Field(default=None, max_length=200, description="Why, if dissatisfied.")
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"level": 1}, {"level": 4, "reason": "等候时间太长"}]},
    )


# -- responses -----------------------------------------------------------------------


class ErrorOut(BaseModel):
    code: str = Field(description="Stable machine-readable reason.")
    message: str = Field(description="In the request's Accept-Language; Chinese by default.")
    messages: dict[str, str] = Field(description="The message in every language it has.")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid requests: each field ('where') and its problem."
    )
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "window_not_open",
                    "message": "3号窗口已暂停（午休）",
                    "messages": {"zh": "3号窗口已暂停（午休）", "en": "window 3 is paused (午休)"},
                }
            ]
        }
    )


class TicketOut(BaseModel):
    code: str
    day: dt.date
    number: int
    service: str
    service_names: dict[str, str]
    issued_service: str
    priority: Priority | None
    state: TicketState
    issued_at: dt.datetime
    state_since: dt.datetime
    waiting_ahead: int = Field(description="Tickets ahead of it when it was issued.")
    kiosk: str | None
    window: int | None
    target_window: int | None
    clerk: str | None
    calls: int
    recalls: int
    case_number: str | None
    rated: bool
    print_state: PrintState | None = Field(
        description="For a kiosk's ticket: queued (still printing), printed, or failed "
        "(the ticket is valid; an admin can reprint it)."
    )
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "A001",
                    "day": "2026-11-26",
                    "number": 1,
                    "service": "social-security",
                    "service_names": {"zh": "社保业务", "en": "Social Security"},
                    "issued_service": "social-security",
                    "priority": None,
                    "state": "waiting",
                    "issued_at": "2026-11-26T09:01:12.345+08:00",
                    "state_since": "2026-11-26T09:01:12.345+08:00",
                    "waiting_ahead": 3,
                    "kiosk": "kiosk-1",
                    "window": None,
                    "target_window": None,
                    "clerk": None,
                    "calls": 0,
                    "recalls": 0,
                    "case_number": None,
                    "rated": False,
                    "print_state": "printed",
                }
            ]
        }
    )


class CallOut(BaseModel):
    called: TicketOut | None = Field(description="The ticket now called; null if none waits.")
    completed: TicketOut | None = Field(description="The ticket this call completed, if any.")
    message: str | None = Field(default=None, description="Why nothing was called.")


class WindowOut(BaseModel):
    number: int
    names: dict[str, str]
    services: list[str]
    status: WindowStatus
    reason: str | None
    since: dt.datetime
    clerk: str | None
    clerk_name: str | None
    current: str | None
    held: list[str]
    waiting: list[str] = Field(description="Tickets transferred to this window, oldest first.")
    last_done: str | None


class ServiceQueueOut(BaseModel):
    id: str
    names: dict[str, str]
    prefix: str
    waiting: int
    waiting_priority: int
    issued: int = Field(description="Tickets issued today.")
    next: list[str] = Field(description="Codes waiting: priority ones, then by arrival.")


class QueueOut(BaseModel):
    day: dt.date | None
    services: list[ServiceQueueOut]
    windows: list[WindowOut]


class RatingOut(BaseModel):
    window: int
    ticket: str | None
    clerk: str | None
    case_number: str | None
    level: int | None
    label: dict[str, str] | None
    at: dt.datetime


class EventsOut(BaseModel):
    events: list[dict[str, Any]]
    last_seq: int = Field(description="The newest event's seq in the store.")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "type": "ticket.issued",
                            "hall": "demo-hall",
                            "seq": 42,
                            "at": "2026-11-26T09:01:12.345+08:00",
                            "ticket": "A001",
                            "service": "social-security",
                            "number": 1,
                            "priority": None,
                            "waiting_ahead": 0,
                            "kiosk": None,
                        }
                    ],
                    "last_seq": 42,
                }
            ]
        }
    )


class HealthOut(BaseModel):
    state: str = Field(description="running, degraded (the store failed a write) or stopping.")
    hall: str
    version: str
    started_at: dt.datetime
    uptime_seconds: float
    loop_lag_ms: float = Field(description="How late the event loop woke up last.")
    store: dict[str, Any]
    event_feed: dict[str, Any]
    devices: list[DeviceHealth] = Field(description="Each device's health (DESIGN.md Health).")


class SpreadOut(BaseModel):
    count: int
    mean_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None


class SatisfactionOut(BaseModel):
    rated: int
    unrated: int = Field(description="Prompts that timed out; never counted as satisfied.")
    levels: dict[str, int] = Field(description="Count per level, '1' 非常满意 … '5' 非常不满意.")
    rate: float | None = Field(description="Levels 1-3 over rated; null until a rating exists.")


class TicketFiguresOut(BaseModel):
    issued: int
    served: int
    no_show: int
    cancelled: int
    expired: int
    completion_rate: float | None = Field(description="Served over tickets not cancelled.")
    waiting_time: SpreadOut
    service_time: SpreadOut
    satisfaction: SatisfactionOut


class ServiceStatsOut(TicketFiguresOut):
    id: str
    names: dict[str, str]


class CallFiguresOut(BaseModel):
    calls: int
    served: int
    no_show: int
    transferred: int
    completion_rate: float | None = Field(description="Served over calls that ended.")
    waiting_time: SpreadOut
    service_time: SpreadOut
    satisfaction: SatisfactionOut


class WindowStatsOut(CallFiguresOut):
    number: int


class ClerkStatsOut(CallFiguresOut):
    id: str
    name: str | None


class StatsOut(BaseModel):
    day: dt.date
    hall: TicketFiguresOut
    services: list[ServiceStatsOut]
    windows: list[WindowStatsOut]
    clerks: list[ClerkStatsOut]


class StaffDayOut(BaseModel):
    staff: str
    name: str
    staff_no: str | None
    punches: int
    first_in: dt.datetime | None
    last_out: dt.datetime | None = Field(description="The last punch that is an out.")
    late: bool
    early_leave: bool
    absent: bool = Field(description="A workday without a punch.")


class AttendanceOut(BaseModel):
    day: dt.date
    staff: list[StaffDayOut]
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "day": "2026-11-26",
                    "staff": [
                        {
                            "staff": "s01",
                            "name": "张伟",
                            "staff_no": "0101",
                            "punches": 2,
                            "first_in": "2026-11-26T08:52:10+08:00",
                            "last_out": "2026-11-26T17:34:02+08:00",
                            "late": False,
                            "early_leave": False,
                            "absent": False,
                        }
                    ],
                }
            ]
        }
    )


class EnrolRequest(Body):
    reader: str = Field(max_length=64, description="The reader the staff member touches.")
    page: int | None = Field(
        default=None, ge=0, le=65535, description="Template page; the first free one if omitted."
    )
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reader": "reader-1"}]}
    )


class FingerprintOut(BaseModel):
    staff: str
    reader: str
    page: int
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"staff": "s01", "reader": "reader-1", "page": 0}]}
    )


class AnnounceRequest(Body):
    ticket: str = Field(
        pattern=r"^[A-Z]{1,3}[0-9]{1,5}$", description="The number to say; it need not exist."
    )
    window: int = Field(ge=1, le=9999, description="The window to send it to.")
    speaker: str | None = Field(
        default=None, max_length=64, description="Only this speaker; else every one of the window."
    )
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ticket": "A001", "window": 3}]}
    )


class SpokenOut(BaseModel):
    speaker: str
    outcome: str = Field(description="said, cut, superseded, expired, failed, or queued.")
    rounds: int = Field(description="Times the phrases were said.")
    seconds: float = Field(description="Sound played, chime included.")
    reason: str | None = None


class AnnounceOut(BaseModel):
    results: list[SpokenOut]
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "speaker": "speaker-hall",
                            "outcome": "said",
                            "rounds": 2,
                            "seconds": 11.4,
                            "reason": None,
                        }
                    ]
                }
            ]
        }
    )
