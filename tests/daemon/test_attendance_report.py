from __future__ import annotations

import datetime as dt

from daemon.attendance_report import day_report, to_csv
from daemon.config.model import HallConfig
from daemon.queue.model import Punch, PunchMethod
from tests.conftest import ZONE

DAY = dt.date(2026, 11, 25)  # a Wednesday


def punch(staff: str, hh: int, mm: int) -> Punch:
    at = dt.datetime(2026, 11, 25, hh, mm, tzinfo=ZONE)
    return Punch(f"zk:{staff}:{hh}{mm}", DAY, at, staff, "zk-1", PunchMethod.TERMINAL)


def test_first_in_last_out_late_early_and_absent(config: HallConfig) -> None:
    punches = [
        punch("s1", 8, 50),
        punch("s1", 12, 0),  # out for lunch
        punch("s1", 13, 30),
        punch("s1", 17, 40),
        punch("s2", 9, 6),  # late: beyond 09:00 and 5 minutes of grace
        punch("s2", 16, 0),  # left early
        punch("s3", 9, 4),  # within the grace; no out yet
    ]
    rows = {row.staff: row for row in day_report(config, DAY, punches)}
    s1, s2, s3, s4 = rows["s1"], rows["s2"], rows["s3"], rows["s4"]
    assert (s1.punches, s1.first_in.time(), s1.last_out.time()) == (
        4,
        dt.time(8, 50),
        dt.time(17, 40),
    )
    assert not (s1.late or s1.early_leave or s1.absent)
    assert (s2.late, s2.early_leave) == (True, True)
    assert (s3.late, s3.last_out, s3.absent) == (False, None, False)
    assert s4.absent and s4.first_in is None


def test_nobody_is_absent_on_a_day_off(config: HallConfig) -> None:
    saturday = dt.date(2026, 11, 28)
    assert not any(row.absent for row in day_report(config, saturday, []))


def test_csv_has_a_bilingual_header_and_a_row_per_staff_member(config: HallConfig) -> None:
    text = to_csv(day_report(config, DAY, [punch("s2", 9, 6), punch("s2", 16, 0)]))
    lines = text.splitlines()
    assert lines[0].startswith("工号 staff_no,姓名 name,id,")
    assert lines[2] == "0102,王芳,s2,2,09:06:00,16:00:00,1,1,0"
    assert len(lines) == 1 + len(config.staff)
