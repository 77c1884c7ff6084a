"""`hallkeeper doctor`: what on this PC keeps the hall's devices from working
(port permissions and groups, brltty, ModemManager, usblp or CUPS holding a
printer, USB autosuspend, the config, the MQTT broker), and how to fix it.

Exit code 0 when nothing is a problem (warnings and notes may remain), 1
when something is.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from daemon.doctor.checks import Finding, Level, all_findings
from daemon.doctor.machine import Machine
from daemon.tables import console, table

LEVELS = {
    Level.OK: ("正常 ok", "green"),
    Level.NOTE: ("提示 note", "cyan"),
    Level.WARNING: ("注意 warning", "yellow"),
    Level.PROBLEM: ("问题 problem", "bold red"),
}


def doctor_command(config: Path, user: str, root: Path = Path("/")) -> int:
    findings = list(all_findings(Machine(root), config, user))
    out = console()
    out.print(
        table(
            "hallkeeper doctor",
            ["检查 Check", "结果 Result", "说明 Details", "处理办法 Fix"],
            [_row(finding) for finding in findings],
        )
    )
    problems = sum(f.level is Level.PROBLEM for f in findings)
    if problems:
        out.print(Text(f"{problems} 个问题需要处理 problem(s) to fix", style="bold red"))
        return 1
    out.print(Text("没有发现问题 no problems found", style="green"))
    return 0


def _row(finding: Finding) -> list[str | Text]:
    label, style = LEVELS[finding.level]
    return [finding.check, Text(label, style=style), finding.detail, finding.fix]
