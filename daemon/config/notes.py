"""Settings a valid hall config holds that take no effect: said, not refused.

On an RS-485 bus crowded with devices the bus master spaces their periodic
re-sends and probes (`drivers.bus.refresh_period`), so a device's
`refresh_seconds`, `probe_seconds` or `count_every_seconds` shorter than that
spaced period changes nothing. An admin who sets `probe_seconds: 30` to hear
sooner of a dead keypad would otherwise learn it only when it does not work.
"""

from __future__ import annotations

from collections import defaultdict

from daemon.config.model import HallConfig, bus_devices, bus_link
from daemon.config.problems import Problem
from drivers.bus import refresh_period

#: Device keys whose period a crowded bus stretches.
PERIODS = ("refresh_seconds", "probe_seconds", "count_every_seconds")
#: Settings named in a note; the rest are counted.
EXAMPLES = 3


def config_notes(cfg: HallConfig) -> list[Problem]:
    """One note for each bus where some device asks for a period the bus stretches."""
    devices = bus_devices(cfg)
    spaced = {
        link.id: refresh_period(0.0, devices[link.id], link.refresh_spacing_seconds)
        for link in cfg.links
    }
    shorter: dict[str, list[str]] = defaultdict(list)
    for index, entry in enumerate(cfg.devices):
        link = bus_link(entry)
        for key, seconds in entry.model_dump().items():
            if link in spaced and key in PERIODS and seconds < spaced[link]:
                shorter[link].append(f"devices[{index}].{key} {seconds:g}")
    return [
        Problem(
            ("links", index, "refresh_spacing_seconds"),
            f"note: {link.id} carries {_devices(devices[link.id])}, whose re-sends and "
            f"probes go {link.refresh_spacing_seconds:g} s apart, so each at most every "
            f"{spaced[link.id]:g} s: {_named(shorter[link.id])} take no effect (a smaller "
            "refresh_spacing_seconds, or 0, lets them)",
        )
        for index, link in enumerate(cfg.links)
        if shorter[link.id]
    ]


def _named(settings: list[str]) -> str:
    """The first EXAMPLES settings, and how many more."""
    more = len(settings) - EXAMPLES
    return ", ".join(settings[:EXAMPLES]) + (f" and {more} more" if more > 0 else "")


def _devices(count: int) -> str:
    return f"{count} device" if count == 1 else f"{count} devices"
