"""A process's CPU time and peak memory, read from /proc (Linux), for the
benchmarks that hold a daemon process to a CPU and memory budget."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: utime and stime (fields 14 and 15 of /proc/PID/stat, in clock ticks), counted
#: in what follows the command name, which starts at field 3.
_UTIME, _STIME = 11, 12


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mb: float

    @property
    def cpu_percent(self) -> float:
        """Average share of one core over the wall time, in percent."""
        return 100.0 * self.cpu_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


class ProcessUsage:
    """CPU used by process `pid` since `start()`, and its peak resident memory."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu = 0.0
        self._wall = 0.0

    def start(self) -> ProcessUsage:
        self._cpu, self._wall = self.cpu_seconds(), time.monotonic()
        return self

    def read(self) -> Usage:
        return Usage(
            cpu_seconds=self.cpu_seconds() - self._cpu,
            wall_seconds=time.monotonic() - self._wall,
            peak_rss_mb=self.peak_rss_mb(),
        )

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process (its threads included)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # the command name is in parentheses and may hold spaces
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[_UTIME]) + int(fields[_STIME])
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had since it started."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"/proc/{self.pid}/status has no VmHWM line")
