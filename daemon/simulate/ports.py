"""The TCP ports a simulated hall listens on, kept in its folder between runs.

A `hallkeeper simulate` started again in the same folder listens on them
again where it can, so a daemon still running on the earlier overlay finds its
TCP printers and attendance terminals where they were, without a reload. The
pty symlinks, the USB socket and the broker's port stay the same by
themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

from daemon.simulate.overlay import replace_file

__all__ = ["PORTS_NAME", "earlier_ports", "remember_ports"]

PORTS_NAME = "tcp-ports.json"


def earlier_ports(folder: Path) -> dict[str, int]:
    """The ports of the last run in `folder`, by device id. None kept, or a file
    that is not ours: none (the simulators take free ports, as on a first run)."""
    try:
        document = json.loads((folder / PORTS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {
        str(device): port
        for device, port in document.items()
        if isinstance(port, int) and 0 < port < 65536
    }


def remember_ports(folder: Path, ports: dict[str, int]) -> None:
    """Keep `ports` for the next run."""
    replace_file(folder / PORTS_NAME, json.dumps(ports, indent=2, sort_keys=True) + "\n")
