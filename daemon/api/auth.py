"""Who may call what: bearer tokens and their roles."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from daemon.api.errors import ApiError
from daemon.hall import Hall
from daemon.queue.errors import UnknownWindow
from daemon.tokens import Role, TokenEntry, TokenFile

_bearer = HTTPBearer(auto_error=False, description="A token from `hallkeeper token add`.")

READERS = (Role.ADMIN, Role.MONITOR, Role.CLERK, Role.KIOSK, Role.DISPLAY)


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenEntry:
    tokens: TokenFile = request.app.state.tokens
    if credentials is None:
        raise ApiError(
            401,
            "missing_token",
            "需要令牌（Authorization: Bearer …）",
            "a bearer token is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    entry = tokens.verify(credentials.credentials)
    if entry is None:
        raise ApiError(
            401,
            "invalid_token",
            "令牌无效或已撤销",
            "the token is not valid or was revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return entry


def allow(*roles: Role) -> Callable[..., Coroutine[Any, Any, TokenEntry]]:
    """A dependency admitting tokens of the given roles."""
    names = ", ".join(roles)

    async def check(who: Annotated[TokenEntry, Depends(principal)]) -> TokenEntry:
        if who.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"{who.role} 角色无权执行此操作（需要 {names}）",
                f"the {who.role} role may not do this (needs {names})",
            )
        return who

    return check


def check_window_actor(hall: Hall, who: TokenEntry, window: int) -> None:
    """Admins act on any window; a clerk only where their clerk is signed in."""
    if window not in hall.config.windows_by_number:
        raise UnknownWindow(window)
    if who.role is Role.ADMIN:
        return
    state = hall.committed.windows.get(window)
    if state is None or state.clerk is None or state.clerk != who.staff:
        raise ApiError(
            403,
            "not_your_window",
            f"工作人员 {who.staff} 未在{window}号窗口签到，不能操作该窗口",
            f"staff {who.staff} is not signed in at window {window} and cannot act on it",
        )
