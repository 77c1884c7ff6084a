"""Saying a number on the hall's speakers by hand: how a hall tests them."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from daemon.api.auth import allow
from daemon.api.errors import ApiError
from daemon.api.routes.common import errors, hall_of
from daemon.api.schemas import AnnounceOut, AnnounceRequest, SpokenOut
from daemon.tokens import Role, TokenEntry
from daemon.voice.announcer import Announcer
from devices.announcements import Result

router = APIRouter(prefix="/api/v1/announcements", tags=["hall"])
Admin = Annotated[TokenEntry, Depends(allow(Role.ADMIN))]
SAY_WAIT = 120.0  # seconds: the speakers may be saying other calls first


@router.post(
    "",
    summary="Say a number on the speakers (测试语音播报)",
    responses=errors(401, 403, 422),
)
async def announce(request: Request, body: AnnounceRequest, who: Admin) -> AnnounceOut:
    """Queue the call of `ticket` to `window` on the window's speakers (or on
    `speaker`) as a test, and answer once each has said it, dropped it or
    failed (`queued` if still waiting after two minutes). It goes on record as
    an `announcement` event of kind `test`; no ticket changes."""
    hall = hall_of(request)
    if body.window not in hall.config.windows_by_number:
        raise ApiError(
            422, "unknown_window", f"没有{body.window}号窗口", f"there is no window {body.window}"
        )
    announcer: Announcer | None = getattr(request.app.state, "announcer", None)
    if announcer is None or not announcer.speakers_for(body.window, body.speaker):
        who_says = f"speaker {body.speaker!r}" if body.speaker else f"window {body.window}"
        raise ApiError(
            422,
            "no_speaker",
            f"没有扬声器可播报（{who_says}）",
            f"no speaker says {who_says}",
        )
    futures = announcer.announce(body.ticket, body.window, "test", speaker=body.speaker)
    done, _ = await asyncio.wait(futures.values(), timeout=SAY_WAIT)
    return AnnounceOut(
        results=[
            _spoken(speaker, future.result() if future in done else None)
            for speaker, future in futures.items()
        ]
    )


def _spoken(speaker: str, result: Result | None) -> SpokenOut:
    if result is None:
        return SpokenOut(speaker=speaker, outcome="queued", rounds=0, seconds=0.0)
    return SpokenOut(
        speaker=speaker,
        outcome=result.outcome.value,
        rounds=result.rounds,
        seconds=result.seconds,
        reason=result.reason,
    )
