"""The parts of a hall config a simulated day needs: who works where, which device
is whose, what can fail; and the day file checked against them."""

from __future__ import annotations

from dataclasses import dataclass, field

from daemon.config.model import HallConfig, entries_of, printers
from daemon.config.problems import Problem
from daemon.day.settings import DaySettings, FaultKind
from devices.attendance_config import ReaderConfig, TerminalConfig
from devices.config import HallScreenConfig, KeypadConfig, PadConfig, WindowScreenConfig

BROKER = "broker"
DAEMON = "daemon"


@dataclass(frozen=True)
class Post:
    """A staffed window: its clerk and the devices at it."""

    window: int
    clerk: str
    services: tuple[str, ...]
    keypad: str
    pad: str | None
    pad_levels: tuple[int, ...]
    screens: tuple[str, ...]
    reader: str | None


@dataclass(frozen=True)
class Layout:
    posts: tuple[Post, ...]
    kiosks: dict[str, str]  # kiosk -> its printer
    hall_screens: tuple[str, ...]
    doors: tuple[str, ...]  # readers without a window, and attendance terminals
    terminal_users: dict[str, str]  # staff id -> user id on the terminals
    terminals: frozenset[str]
    bus_devices: tuple[str, ...]
    links: tuple[str, ...]
    window_screens: dict[str, int] = field(default_factory=dict)

    def targets(self, kind: FaultKind, broker: bool, daemon: bool) -> tuple[str, ...]:
        """What a fault of `kind` can strike in this hall (and with these processes)."""
        return {
            "device-silent": self.bus_devices,
            "bus-unplug": self.links,
            "bus-echo": self.links,
            "paper-out": tuple(self.kiosks.values()),
            "cover-open": tuple(self.kiosks.values()),
            "broker-down": (BROKER,) if broker else (),
            "daemon-kill": (DAEMON,) if daemon else (),
        }[kind]


def layout_of(config: HallConfig, settings: DaySettings) -> Layout:
    keypads = {k.window: k.id for k in entries_of(config, KeypadConfig)}
    pads = {p.window: p for p in entries_of(config, PadConfig)}
    screens = entries_of(config, WindowScreenConfig)
    readers = entries_of(config, ReaderConfig)
    at_window = {r.window: r.id for r in readers if r.window is not None}
    staffed = set(settings.clerks.windows) or {w.number for w in config.windows}
    posts = []
    for window in config.windows:
        clerk = window.clerks.a if window.clerks else None
        if window.number not in staffed or clerk is None or window.number not in keypads:
            continue
        pad = pads.get(window.number)
        posts.append(
            Post(
                window=window.number,
                clerk=clerk,
                services=tuple(window.services),
                keypad=keypads[window.number],
                pad=pad.id if pad else None,
                pad_levels=tuple(pad.key_levels) if pad else (),
                screens=tuple(s.id for s in screens if s.window == window.number),
                reader=at_window.get(window.number),
            )
        )
    terminals = [t.id for t in entries_of(config, TerminalConfig)]
    bus = [
        *(s.id for s in screens),
        *keypads.values(),
        *(p.id for p in pads.values()),
        *(h.id for h in entries_of(config, HallScreenConfig)),
    ]
    return Layout(
        posts=tuple(posts),
        kiosks={p.kiosk: p.id for p in printers(config)},
        hall_screens=tuple(h.id for h in entries_of(config, HallScreenConfig)),
        doors=tuple([r.id for r in readers if r.window is None] + terminals),
        terminal_users={m.id: m.terminal_user for m in config.staff if m.terminal_user},
        terminals=frozenset(terminals),
        bus_devices=tuple(bus),
        links=tuple(link.id for link in config.links),
        window_screens={s.id: s.window for s in screens},
    )


def day_problems(settings: DaySettings, config: HallConfig, layout: Layout) -> list[Problem]:
    """What in the day file does not fit the hall: unknown services, kiosks,
    windows and fault targets, services no staffed window serves."""
    problems = []
    services = {s.id for s in config.services}
    windows = {w.number for w in config.windows}
    for sid in settings.crowd.services:
        if sid not in services:
            problems.append(Problem(("crowd", "services", sid), "the hall has no such service"))
    for sid in settings.clerks.service_minutes:
        if sid not in services:
            problems.append(
                Problem(("clerks", "service_minutes", sid), "the hall has no such service")
            )
    for index, kiosk in enumerate(settings.crowd.kiosks):
        if kiosk not in layout.kiosks:
            known = ", ".join(layout.kiosks) or "none"
            problems.append(
                Problem(("crowd", "kiosks", index), f"no printer prints for {kiosk!r} ({known})")
            )
    for index, number in enumerate(settings.clerks.windows):
        if number not in windows:
            problems.append(Problem(("clerks", "windows", index), f"no window {number}"))
    served = {s for post in layout.posts for s in post.services}
    for sid in citizen_services(settings, config):
        if sid in services and sid not in served:
            problems.append(
                Problem(
                    ("crowd", "services", sid),
                    "no staffed window with a keypad and an A clerk serves it",
                )
            )
    if not layout.posts:
        problems.append(Problem(("clerks", "windows"), "no window has a keypad and an A clerk"))
    if settings.crowd.citizens and not kiosks_of(settings, layout):
        problems.append(Problem(("crowd", "kiosks"), "the hall has no kiosk printer"))
    for index, fault in enumerate(settings.faults.fixed):
        candidates = layout.targets(fault.kind, broker=True, daemon=True)
        if fault.target is not None and fault.target not in candidates:
            problems.append(
                Problem(
                    ("faults", "fixed", index, "target"),
                    f"{fault.kind} cannot strike {fault.target!r} "
                    f"(candidates: {', '.join(candidates) or 'none'})",
                )
            )
    return problems


def citizen_services(settings: DaySettings, config: HallConfig) -> dict[str, float]:
    """The services citizens come for, by weight."""
    return dict(settings.crowd.services) or {s.id: 1.0 for s in config.services}


def kiosks_of(settings: DaySettings, layout: Layout) -> tuple[str, ...]:
    return tuple(settings.crowd.kiosks) or tuple(layout.kiosks)
