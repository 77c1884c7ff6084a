"""ADMS ("PUSH SDK"): terminals that push punches over HTTP.

Terminals cannot send bearer tokens; they are known by their serial number
(`SN`), which must be a configured `zk-adms` device. A batch of punches is
answered `OK: n` only once stored, so a terminal whose push failed sends it
again, and a punch sent twice is stored once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from daemon.api.errors import ApiError
from daemon.api.routes.common import hall_of
from daemon.queue.model import PunchMethod
from daemon.terminal_punches import store_punches
from devices.adms_terminal import AdmsTerminal

log = logging.getLogger(__name__)
router = APIRouter(prefix="/iclock", tags=["attendance"], include_in_schema=True)
Serial = Annotated[str, Query(alias="SN", max_length=64, description="Terminal serial number.")]
HEARTBEAT_SECONDS = 10
RETRY_SECONDS = 30


def _terminal(request: Request, serial: str) -> AdmsTerminal:
    """The configured terminal with this serial number; 403 for any other."""
    terminals: dict[str, AdmsTerminal] = getattr(request.app.state, "adms", None) or {}
    terminal = terminals.get(serial)
    if terminal is None:
        raise ApiError(
            403,
            "unknown_terminal",
            f"未登记的考勤机 {serial}",
            f"no zk-adms device in the config has serial number {serial!r}",
        )
    terminal.heard()
    return terminal


@router.get("/cdata", summary="ADMS handshake", response_class=PlainTextResponse)
async def handshake(request: Request, serial: Serial) -> PlainTextResponse:
    _terminal(request, serial)
    options = [
        f"GET OPTION FROM: {serial}",
        "ATTLOGStamp=0",
        f"ErrorDelay={RETRY_SECONDS}",
        f"Delay={HEARTBEAT_SECONDS}",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=1000000000",
        "Realtime=1",
        "Encrypt=0",
    ]
    return PlainTextResponse("\n".join(options) + "\n")


@router.post("/cdata", summary="ADMS punches (table=ATTLOG)", response_class=PlainTextResponse)
async def push(
    request: Request,
    serial: Serial,
    table: Annotated[str, Query(max_length=32)] = "",
) -> PlainTextResponse:
    terminal = _terminal(request, serial)
    body = (await request.body()).decode("utf-8", errors="replace")
    if table != "ATTLOG":
        return PlainTextResponse("OK")  # other tables (OPERLOG, ...) are not kept
    punches, bad = parse_attlog_lines(body)
    for line in bad:
        log.warning("ADMS %s: a line that is not a punch: %r", serial, line)
    stored = await store_punches(hall_of(request), terminal.id, punches, PunchMethod.ADMS)
    terminal.punches += stored
    return PlainTextResponse(f"OK: {len(punches)}")


@router.get("/getrequest", summary="ADMS heartbeat", response_class=PlainTextResponse)
async def heartbeat(request: Request, serial: Serial) -> PlainTextResponse:
    _terminal(request, serial)
    return PlainTextResponse("OK")


def parse_attlog_lines(body: str) -> tuple[list[tuple[str, dt.datetime]], list[str]]:
    """`user_id<TAB>YYYY-MM-DD hh:mm:ss<TAB>status...` lines: the punches, and the
    lines that are not punches (answered OK all the same: sending them again
    would not mend them)."""
    punches, bad = [], []
    for line in body.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            user, when = fields[0].strip(), dt.datetime.fromisoformat(fields[1].strip())
        except (IndexError, ValueError):
            bad.append(line)
            continue
        if not user or when.tzinfo is not None:
            bad.append(line)
            continue
        punches.append((user, when))
    return punches, bad
