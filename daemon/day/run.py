"""`hallkeeper day`: play a compressed day of the hall and check the records.

The hall config is copied into the run's folder with its store, tokens, API
port and event feed moved there (and its speakers left out unless the day
file keeps them); the simulated hall and the daemon start as processes; the
crowd, the clerks and the fault schedule play on the compressed clock; then
the checks run and are printed, Chinese first with English. Exit code: 0 all
checks passed, 1 a check failed, 2 a bad config or day file, 3 the hall did
not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import yaml

from daemon.config.loader import ConfigError, load_config
from daemon.config.model import HallConfig, entries_of
from daemon.day.checks import CheckResult, Records, all_checks
from daemon.day.clerks import Clerk, Floor
from daemon.day.clock import DayClock
from daemon.day.crowd import Crowd, plan_crowd
from daemon.day.faults import FaultPlayer, plan_faults
from daemon.day.hall_io import HallIO
from daemon.day.layout import (
    BROKER,
    Layout,
    citizen_services,
    day_problems,
    kiosks_of,
    layout_of,
)
from daemon.day.ledger import Ledger
from daemon.day.processes import HallProcesses
from daemon.day.screens import expected_hall_waiting, expected_window_text
from daemon.day.settings import DayFileError, DaySettings, load_day
from daemon.tokens import Role, TokenFile
from devices.config import HallScreenConfig, WindowScreenConfig

EXIT_PASSED, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NO_HALL = 0, 1, 2, 3
#: Real seconds beyond the screens' own refresh that they get to catch up at the end.
SCREENS_MARGIN = 5.0
#: Real seconds without a new event that count as the hall at rest, and at most
#: how long to wait for that.
QUIET_SECONDS = 2.0
SETTLE_SECONDS = 20.0
STORE = "hall.sqlite3"


class _Quoted(yaml.SafeDumper):
    """Every string quoted, so '0108' stays a string under the config's YAML 1.2."""


_Quoted.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
)


def run_config(config: HallConfig, folder: Path, speakers: bool) -> Path:
    """The hall config for the run, in `folder`: store, tokens, API on a free
    port, no ZeroMQ feed; paths were made absolute when it was loaded."""
    devices = [d for d in config.devices if speakers or d.model != "speaker"]
    moved = config.model_copy(
        update={
            "storage": config.storage.model_copy(update={"path": folder / STORE}),
            "secrets": folder / "secrets.yaml",
            "api": config.api.model_copy(update={"host": "127.0.0.1", "port": 0}),
            "events": config.events.model_copy(update={"zmq_pub": None}),
            "devices": devices,
        }
    )
    document = moved.model_dump(mode="json", exclude_unset=True)
    path = folder / "hall.yaml"
    path.write_text(
        yaml.dump(document, Dumper=_Quoted, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


class Day:
    """One simulated day on running processes."""

    def __init__(
        self,
        settings: DaySettings,
        config: HallConfig,
        layout: Layout,
        processes: HallProcesses,
        tokens: tuple[str, str],
    ) -> None:
        self.settings = settings
        self.config = config
        self.layout = layout
        self.processes = processes
        self.tokens = tokens
        self.ledger = Ledger()
        #: Each simulated bus's counters at the end (frames, collisions).
        self.buses: dict[str, dict[str, int]] = {}

    async def play(self) -> Records:
        admin, kiosk = self.tokens
        io = HallIO(self.processes.control, self.processes.base_url, admin, kiosk)
        try:
            await self._enrol(io)
            clock = DayClock(self.settings.opens, self.settings.speed)  # the hall opens now
            crowd = Crowd(
                io, clock, self.ledger, {k: self.layout.kiosks[k] for k in self._kiosks()}
            )
            floor = Floor()
            clerks = [
                Clerk(post, io, clock, crowd, self.ledger, self.settings, self.layout, floor)
                for post in self.layout.posts
            ]
            broker = await self._has_broker(io)
            player = FaultPlayer(
                clock,
                self.ledger,
                lambda target, kind: self._sim_fault(io, target, kind),
                self._kill,
                lambda: self._restart(io),
                broker=broker,
            )
            faults = plan_faults(self.settings, self.layout, broker=broker, daemon=True)
            citizens = plan_crowd(
                self.settings, citizen_services(self.settings, self.config), self._kiosks()
            )
            working = [asyncio.create_task(c.work()) for c in clerks]
            faulting = asyncio.create_task(player.play(faults))
            await asyncio.gather(*(crowd.live(plan) for plan in citizens))
            await clock.until(self.settings.day_minutes)
            floor.arrivals_over = True
            await faulting
            await asyncio.gather(*working)
            self.ledger.counts["citizens"] = len(citizens)
            return await self._records(io)
        finally:
            await io.close()

    async def _enrol(self, io: HallIO) -> None:
        """The clerks' fingers on the readers they use (`hallkeeper simulate` starts
        with empty readers)."""
        pairs = [(post.reader, post.clerk) for post in self.layout.posts if post.reader]
        pairs += [
            (door, post.clerk)
            for door in self.layout.doors
            if door not in self.layout.terminals
            for post in self.layout.posts
        ]
        enrolled = await asyncio.gather(*(io.enrol(reader, staff) for reader, staff in pairs))
        for (reader, staff), ok in zip(pairs, enrolled, strict=True):
            if not ok:
                self.ledger.counts[f"{staff} could not be enrolled on {reader}"] += 1

    def _kiosks(self) -> tuple[str, ...]:
        return kiosks_of(self.settings, self.layout)

    async def _has_broker(self, io: HallIO) -> bool:
        """Whether `hallkeeper simulate` runs the hall's MQTT broker (a fault can stop it)."""
        listed = await io.sim("list")
        return any(d.get("id") == BROKER for d in listed.get("devices", []))

    async def _sim_fault(self, io: HallIO, target: str, kind: str) -> str:
        answer = await io.fault(target, kind)
        return "" if answer.get("ok") else f"failed: {answer.get('error')}"

    async def _kill(self) -> str:
        await asyncio.to_thread(self.processes.kill_daemon)
        return ""

    async def _restart(self, io: HallIO) -> str:
        try:
            io.base_url = await asyncio.to_thread(self.processes.start_daemon)
        except RuntimeError as error:
            return f"restart failed: {error}"
        self.ledger.daemon_restarts += 1
        return ""

    # --- what the hall recorded ----------------------------------------------------

    async def _records(self, io: HallIO) -> Records:
        await self._settled(io)
        records = Records()
        self._read_store(records)
        await self._read_events(io, records)
        await self._read_screens(io, records)
        for link in self.layout.links:
            self.buses[link] = (await io.show(link)).get("counters", {})
        return records

    async def _settled(self, io: HallIO) -> None:
        """Wait until no event has been added for `QUIET_SECONDS` (the last finger
        or key may still be on its way to the store), at most `SETTLE_SECONDS`."""
        deadline = time.monotonic() + SETTLE_SECONDS
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            status, answer = await io.api("GET", "/events?after=0&limit=1")
            seq = answer["last_seq"] if status == 200 else None
            if seq != last:
                last, since = seq, time.monotonic()
            elif time.monotonic() - since >= QUIET_SECONDS:
                return
            await asyncio.sleep(0.2)

    def _read_store(self, records: Records) -> None:
        path = self.config.storage.path
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT day, code, state FROM tickets ORDER BY day").fetchall()
            seen: Counter[tuple[str, str]] = Counter()
            for day, code, state in rows:
                seen[(day, code)] += 1
                records.tickets[code] = state
            records.duplicates = [f"{day} {code}" for (day, code), n in seen.items() if n > 1]
            records.called = {code for (code,) in db.execute("SELECT DISTINCT code FROM calls")}
            records.ratings = list(db.execute("SELECT ticket, level FROM ratings"))
            for staff, source, count in db.execute(
                "SELECT staff, source, count(*) FROM punches GROUP BY staff, source"
            ):
                records.punches[(staff, source)] = count

    async def _read_events(self, io: HallIO, records: Records) -> None:
        after = 0
        while True:
            status, answer = await io.api("GET", f"/events?after={after}&limit=1000")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/events answered {status}")
            records.last_seq = answer["last_seq"]
            seqs = [event["seq"] for event in answer["events"]]
            if not seqs:
                return
            records.seqs += seqs
            after = seqs[-1]

    async def _read_screens(self, io: HallIO, records: Records) -> None:
        """Each screen against the engine's state, once they agree, or after the
        screens' refresh: an IMM screen never answers, so a frame it lost (a
        collision on the bus, a frame during its 100 ms of digesting) is only
        made good when the daemon re-sends its text every `refresh_seconds`."""
        started = time.monotonic()
        deadline = started + screens_catch_up(self.config) + SCREENS_MARGIN
        while True:
            screens = await self._screens(io)
            late = [screen for screen, shown, wanted in screens if shown != wanted]
            if not late:
                break
            if not records.screens_late:
                records.screens_late = [await self._frames(io, screen) for screen in late]
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        records.screens = screens
        records.screens_waited = time.monotonic() - started

    async def _frames(self, io: HallIO, screen: str) -> str:
        """A screen that disagreed, with what it did with the frames it was sent."""
        device = screen.split(" ")[0]
        counts = (await io.show(device)).get("frames", {})
        return f"{screen} ({', '.join(f'{k} {v}' for k, v in counts.items())})"

    async def _screens(self, io: HallIO) -> list[tuple[str, str | None, str]]:
        screens = []
        for screen, number in sorted(self.layout.window_screens.items()):
            window = await io.window(number)
            shown = (await io.show(screen)).get("text")
            wanted = expected_window_text(self.config, screen, window) if window else "?"
            screens.append((screen, shown, wanted))
        if self.layout.hall_screens:
            status, queue = await io.api("GET", "/queue")
            for screen in self.layout.hall_screens:
                shown = (await io.show(screen)).get("text")
                wanted = expected_hall_waiting(self.config, screen, queue) if status == 200 else "?"
                # the latest calls on the left are the screen's own history; the
                # waiting counts on the right are the engine's state
                tail = shown[len(shown) - len(wanted) :] if shown else shown
                screens.append((f"{screen} (waiting counts)", tail, wanted))
        return screens


def screens_catch_up(config: HallConfig) -> float:
    """The longest a screen can show a text it missed: its refresh period, and
    for a hall screen the wait for a change of the counts alone."""
    periods = [s.refresh_seconds for s in entries_of(config, WindowScreenConfig)]
    periods += [
        max(s.refresh_seconds, s.count_every_seconds) for s in entries_of(config, HallScreenConfig)
    ]
    return max(periods, default=0.0)


def run_day(
    config_path: Path,
    day_path: Path | None,
    folder: Path | None,
    overrides: dict[str, Any],
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    """`hallkeeper day`; the exit code."""
    out = out or sys.stdout
    try:
        settings = load_day(day_path, overrides)
        config = load_config(config_path)
    except (DayFileError, ConfigError) as error:
        print(f"hallkeeper day: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    layout = layout_of(config, settings)
    problems = day_problems(settings, config, layout)
    if problems:
        where = str(day_path or "(day defaults)")
        for problem in problems:
            print(f"hallkeeper day: {problem.render(where)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="hallkeeper-day-"))
            )
        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / STORE).exists():
            print(
                f"hallkeeper day: {folder} has a hall store already; give an empty folder "
                f"/ 文件夹中已有数据，请换一个空文件夹",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        path = run_config(config, folder, settings.speakers)
        config = load_config(path)
        secrets = TokenFile(config.secrets)
        tokens = (secrets.add(Role.ADMIN, label="day")[1], secrets.add(Role.KIOSK, label="day")[1])
        processes = HallProcesses(path, folder)
        try:
            processes.start()
        except (RuntimeError, OSError) as error:
            processes.stop()
            print(
                f"hallkeeper day: the hall did not start / 大厅未能启动: {error}", file=sys.stderr
            )
            return EXIT_NO_HALL
        started = time.monotonic()
        day = Day(settings, config, layout, processes, tokens)
        try:
            records = asyncio.run(day.play())
        finally:
            processes.stop()
        seconds = time.monotonic() - started
        results = all_checks(day.ledger, records)
        report = summary(settings, config, day.ledger, results, seconds)
        report["buses"] = day.buses
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
        else:
            print_report(report, out)
    return EXIT_PASSED if all(r.ok for r in results) else EXIT_FAILED


def summary(
    settings: DaySettings,
    config: HallConfig,
    ledger: Ledger,
    results: list[CheckResult],
    seconds: float,
) -> dict[str, Any]:
    return {
        "hall": config.hall.id,
        "opens": settings.opens.strftime("%H:%M"),
        "closes": settings.closes.strftime("%H:%M"),
        "speed": settings.speed,
        "seed": settings.seed,
        "real_seconds": round(seconds, 1),
        "citizens": ledger.counts["citizens"],
        "tickets_received": len(ledger.received),
        "no_ticket": dict(ledger.no_ticket),
        "counts": {k: v for k, v in ledger.counts.items() if k != "citizens"},
        "ratings": {
            "given": len(ledger.ratings),
            "delivered": sum(r.delivered for r in ledger.ratings),
        },
        "fingers": {"given": len(ledger.fingers), "taken": sum(f.taken for f in ledger.fingers)},
        "daemon_restarts": ledger.daemon_restarts,
        "faults": [vars(f) for f in ledger.faults],
        "checks": [
            {
                "id": r.id,
                "zh": r.zh,
                "en": r.en,
                "ok": r.ok,
                "detail": r.detail,
                "problems": list(r.problems),
            }
            for r in results
        ],
        "passed": all(r.ok for r in results),
    }


def print_report(report: dict[str, Any], out: TextIO) -> None:
    line = lambda text="": print(text, file=out)  # noqa: E731
    line(
        f"模拟一天 / a simulated day: {report['hall']} {report['opens']}–{report['closes']}, "
        f"{report['speed']:g}× (seed {report['seed']}), {report['real_seconds']:g} s"
    )
    no_ticket = ", ".join(f"{k} {v}" for k, v in report["no_ticket"].items()) or "none"
    line(
        f"市民 / citizens: {report['citizens']} came, {report['tickets_received']} received a "
        f"ticket; without one: {no_ticket}"
    )
    for name, count in sorted(report["counts"].items()):
        line(f"  {name}: {count}")
    line(
        f"评价 / ratings: {report['ratings']['given']} given, "
        f"{report['ratings']['delivered']} delivered; "
        f"打卡 / fingers: {report['fingers']['given']} given, {report['fingers']['taken']} taken"
    )
    line(f"故障 / faults ({len(report['faults'])}, daemon restarts {report['daemon_restarts']}):")
    for fault in sorted(report["faults"], key=lambda f: f["at"]):
        note = f"  [{fault['note']}]" if fault["note"] else ""
        line(f"  {fault['at']} {fault['kind']} {fault['target']} {fault['minutes']:g} min{note}")
    for bus, counters in report.get("buses", {}).items():
        line(f"总线 / bus {bus}: " + ", ".join(f"{k} {v}" for k, v in counters.items()))
    line("检查 / checks:")
    for check in report["checks"]:
        mark = "通过 PASS" if check["ok"] else "失败 FAIL"
        line(f"  [{mark}] {check['zh']} / {check['en']} ({check['detail']})")
        for problem in check["problems"]:
            line(f"      {problem}")
    if report["passed"]:
        line("结果 / result: 全部通过 / all checks passed")
    else:
        line("结果 / result: 有检查未通过 / a check failed")
