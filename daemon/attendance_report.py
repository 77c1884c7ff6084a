"""The attendance of a day, per staff member: first in, last out, late, early
leave, absent (考勤日报), from the punches and the hall's attendance rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from daemon.config.model import HallConfig
from daemon.queue.model import Punch


@dataclass(frozen=True)
class StaffDay:
    staff: str
    name: str
    staff_no: str | None
    punches: int
    first_in: dt.datetime | None
    last_out: dt.datetime | None  # the last punch that is an "out" by its order
    late: bool
    early_leave: bool
    absent: bool


def day_report(config: HallConfig, day: dt.date, punches: Sequence[Punch]) -> list[StaffDay]:
    rules = config.attendance
    workday = day.isoweekday() in rules.workdays
    grace = dt.timedelta(minutes=rules.grace_minutes)
    zone = config.hall.zone
    due_in = dt.datetime.combine(day, rules.work_starts, zone) + grace
    due_out = dt.datetime.combine(day, rules.work_ends, zone) - grace
    rows = []
    for member in config.staff:
        own = sorted(p.at for p in punches if p.staff == member.id)
        first_in = own[0] if own else None
        outs = own[1::2]  # in, out, in, out ... by order
        last_out = outs[-1] if outs else None
        rows.append(
            StaffDay(
                staff=member.id,
                name=member.name,
                staff_no=member.staff_no,
                punches=len(own),
                first_in=first_in,
                last_out=last_out,
                late=workday and first_in is not None and first_in > due_in,
                early_leave=workday and last_out is not None and last_out < due_out,
                absent=workday and not own,
            )
        )
    return rows


CSV_HEADER = ["工号 staff_no", "姓名 name", "id", "打卡次数 punches", "签到 first_in",
              "签退 last_out", "迟到 late", "早退 early_leave", "缺勤 absent"]  # fmt: skip


def to_csv(rows: Sequence[StaffDay]) -> str:
    """The report as CSV with a bilingual header; times as local HH:MM:SS."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.staff_no or "",
                row.name,
                row.staff,
                row.punches,
                row.first_in.strftime("%H:%M:%S") if row.first_in else "",
                row.last_out.strftime("%H:%M:%S") if row.last_out else "",
                int(row.late),
                int(row.early_leave),
                int(row.absent),
            ]
        )
    return out.getvalue()
