"""The HTTP API application."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from daemon.api import errors
from daemon.api.routes import (
    adms,
    announcements,
    attendance,
    reading,
    staff,
    tickets,
    windows,
)
from daemon.hall import Hall
from daemon.metrics import HallMetrics
from daemon.printing import Spooler
from daemon.runtime import DaemonInfo
from daemon.tokens import TokenFile
from daemon.voice.announcer import Announcer
from devices.adms_terminal import AdmsTerminal
from devices.fingerprint_reader import FingerprintReader

DESCRIPTION = """
The hall's queue and devices. Every call needs `Authorization: Bearer <token>`
(make one with `hallkeeper token add --role ROLE`), except `GET /healthz`.

Roles: **admin** (everything), **monitor** (reads), **clerk** (acts on the
window its clerk is signed in to), **kiosk** (issues tickets, takes ratings),
**display** (reads the queue and events).

Errors share one shape: `code`, `message` (Chinese unless `Accept-Language`
asks for English) and `messages` in both. 409 means the hall's state refuses
the operation now, 422 that the request names something invalid.
"""


def create_app(
    hall: Hall,
    tokens: TokenFile,
    info: DaemonInfo,
    spooler: Spooler | None = None,
    readers: Sequence[FingerprintReader] = (),
    pushers: Sequence[AdmsTerminal] = (),
    announcer: Announcer | None = None,
) -> FastAPI:
    app = FastAPIOffline(
        title="hallkeeper",
        version=info.version,
        description=DESCRIPTION,
        static_url="/docs-assets",
        openapi_tags=[
            {"name": "tickets", "description": "取号, look-up, cancel, reactivate"},
            {"name": "windows", "description": "叫号 and the clerk's other keys"},
            {"name": "hall", "description": "Queue, health, events, statistics"},
            {"name": "attendance", "description": "考勤: punches, fingerprints, the day report"},
        ],
    )
    app.state.hall = hall
    app.state.spooler = spooler
    use_devices(app, readers, pushers)
    app.state.announcer = announcer
    app.state.tokens = tokens
    app.state.info = info
    app.state.metrics = HallMetrics(hall, info)
    errors.install(app)
    for module in (tickets, windows, reading, attendance, staff, adms, announcements):
        app.include_router(module.router)
    return app


def use_devices(
    app: FastAPI, readers: Sequence[FingerprintReader], pushers: Sequence[AdmsTerminal]
) -> None:
    """The readers (enrolment) and ADMS terminals (push endpoints) the API serves."""
    app.state.readers = {reader.id: reader for reader in readers}
    app.state.adms = {pusher.config.serial_number: pusher for pusher in pushers}
