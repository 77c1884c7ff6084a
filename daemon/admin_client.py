"""Commands that act through the running daemon's API with an admin token
(`hallkeeper enroll`, `hallkeeper say`)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from daemon.config.model import HallConfig


class CommandFailed(Exception):
    """The command could not be done; `code` is its exit status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def api_base(config: HallConfig) -> str:
    host = config.api.host if config.api.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{config.api.port}"


def admin_token(token: str | None) -> str:
    """`token`, else $HALLKEEPER_TOKEN, else CommandFailed saying how to give one."""
    token = token or os.environ.get("HALLKEEPER_TOKEN")
    if not token:
        raise CommandFailed(2, "give an admin token (--token or $HALLKEEPER_TOKEN)")
    return token


def admin_post(
    config: HallConfig, path: str, body: dict[str, Any], token: str | None, timeout: float
) -> dict[str, Any]:
    """POST `body` to the daemon's `path` with an admin token (`token` or
    $HALLKEEPER_TOKEN); its answer, or CommandFailed saying why not."""
    token = admin_token(token)
    try:
        reply = httpx.post(
            f"{api_base(config)}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise CommandFailed(3, f"the daemon at {api_base(config)} does not answer: {exc}") from exc
    answer: dict[str, Any] = reply.json()
    if not reply.is_success:
        messages = answer.get("messages", {})
        raise CommandFailed(1, f"{messages.get('zh', '')} / {messages.get('en', answer)}")
    return answer
