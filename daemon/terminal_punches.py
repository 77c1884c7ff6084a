"""Punches from attendance terminals (live, from their logs, or pushed over
ADMS) into the store, each once: a punch is named by its terminal, user and
time, and names already stored are skipped, since a log read after a
reconnect repeats what came live before."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence

from daemon.hall import Hall
from daemon.queue.attendance import DuplicatePunch
from daemon.queue.model import PunchMethod

log = logging.getLogger(__name__)


async def store_punches(
    hall: Hall,
    terminal: str,
    punches: Sequence[tuple[str, dt.datetime]],
    method: PunchMethod = PunchMethod.TERMINAL,
) -> int:
    """Store the punches (user id, naive local time) not stored yet; how many were new.
    A user id that is no staff member's `terminal_user` is logged and skipped."""
    staff_of = {m.terminal_user: m.id for m in hall.config.staff if m.terminal_user}
    zone = hall.config.hall.zone
    named = {
        f"{terminal}:{user}:{at.isoformat()}": (user, at.replace(tzinfo=zone))
        for user, at in punches
    }
    known = await asyncio.to_thread(hall.store.known_punches, list(named))
    stored = 0
    for key, (user, at) in sorted(named.items(), key=lambda item: item[1][1]):
        staff = staff_of.get(user)
        if staff is None:
            log.warning("terminal %s: user %s is nobody's terminal_user", terminal, user)
        elif key not in known:
            with contextlib.suppress(DuplicatePunch):  # a live event and the log crossed
                await hall.perform(hall.attendance.punch, staff, terminal, method, at, key)
                stored += 1
    return stored
