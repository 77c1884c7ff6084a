"""Typed errors for operations the queue refuses, worded for people in zh and en.

`status` is the HTTP status the API answers with: 409 when the hall's state
forbids the operation now, 422 when the request names something invalid,
404 when it names something that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar


class QueueError(Exception):
    status: ClassVar[int] = 409
    code: ClassVar[str] = "queue_error"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def message(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class InvalidRequest(QueueError):
    status = 422
    code = "invalid_request"


class UnknownWindow(QueueError):
    status = 404
    code = "unknown_window"

    def __init__(self, number: int) -> None:
        super().__init__(f"没有{number}号窗口", f"there is no window {number}")


class UnknownService(QueueError):
    status = 422
    code = "unknown_service"

    def __init__(self, service: str) -> None:
        super().__init__(f"没有编号为 {service} 的业务", f"there is no service with id {service!r}")


class UnknownStaff(QueueError):
    status = 422
    code = "unknown_staff"

    def __init__(self, staff: str) -> None:
        super().__init__(f"没有工作人员 {staff}", f"there is no staff member {staff!r}")


class UnknownTicket(QueueError):
    status = 404
    code = "unknown_ticket"

    def __init__(self, code: str, day: dt.date) -> None:
        super().__init__(
            f"{day:%Y-%m-%d} 没有 {code} 号", f"no ticket {code} was issued on {day:%Y-%m-%d}"
        )


class ServiceClosed(QueueError):
    code = "service_closed"

    def __init__(self, zh_name: str, en_name: str, hours: str) -> None:
        super().__init__(
            f"{zh_name}现在不取号（取号时间 {hours}）",
            f"{en_name} is not issuing tickets now (hours {hours})",
        )


class DailyLimitReached(QueueError):
    code = "daily_limit_reached"

    def __init__(self, zh_name: str, en_name: str, limit: int) -> None:
        super().__init__(
            f"{zh_name}今日 {limit} 个号已取完",
            f"{en_name} has issued all {limit} tickets for today",
        )


class WindowNotOpen(QueueError):
    code = "window_not_open"

    def __init__(self, number: int, status: str, reason: str | None) -> None:
        zh_state = {"paused": "已暂停", "closed": "已关闭"}.get(status, status)
        suffix_zh = f"（{reason}）" if reason else ""
        suffix_en = f" ({reason})" if reason else ""
        super().__init__(
            f"{number}号窗口{zh_state}{suffix_zh}", f"window {number} is {status}{suffix_en}"
        )


class WindowStateConflict(QueueError):
    code = "window_state"


class NoCurrentTicket(QueueError):
    code = "no_current_ticket"

    def __init__(self, number: int) -> None:
        super().__init__(
            f"{number}号窗口当前没有正在呼叫或办理的号",
            f"window {number} has no ticket called or being served",
        )


class CurrentTicketOpen(QueueError):
    code = "current_ticket_open"

    def __init__(self, number: int, ticket: str) -> None:
        super().__init__(
            f"{number}号窗口的 {ticket} 号尚未办结，请先办结、过号或转移",
            f"window {number} still has {ticket}: complete, skip or transfer it first",
        )


class TicketStateConflict(QueueError):
    code = "ticket_state"

    def __init__(self, ticket: str, state: str, wanted: str) -> None:
        super().__init__(
            f"{ticket} 号当前状态为 {state}，不能{wanted}",
            f"ticket {ticket} is {state}, so it cannot be {wanted}",
        )


class ToleranceExceeded(QueueError):
    code = "no_show_tolerance_exceeded"

    def __init__(self, ticket: str, skipped_at: dt.datetime, minutes: int) -> None:
        super().__init__(
            f"{ticket} 号于 {skipped_at:%H:%M} 过号，已超过 {minutes} 分钟，请重新取号",
            f"ticket {ticket} was skipped at {skipped_at:%H:%M}, more than {minutes} minutes ago;"
            " please take a new ticket",
        )


class ClerkConflict(QueueError):
    code = "clerk_conflict"


class NothingToRate(QueueError):
    code = "nothing_to_rate"

    def __init__(self, number: int) -> None:
        super().__init__(f"{number}号窗口没有可评价的号", f"window {number} has no ticket to rate")


class AlreadyRated(QueueError):
    code = "already_rated"

    def __init__(self, ticket: str) -> None:
        super().__init__(f"{ticket} 号已评价", f"ticket {ticket} has already been rated")
