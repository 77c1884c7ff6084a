"""`hallkeeper enroll`: enrol a staff member's finger through a reader of the
running daemon, by its API (an admin token from --token or $HALLKEEPER_TOKEN)."""

from __future__ import annotations

import os
import sys

import httpx

from daemon.config.model import HallConfig

TIMEOUT = 60.0  # the daemon waits up to 40 s for the two touches


def api_base(config: HallConfig) -> str:
    host = config.api.host if config.api.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{config.api.port}"


def enroll(config: HallConfig, staff: str, reader: str, page: int | None, token: str | None) -> int:
    token = token or os.environ.get("HALLKEEPER_TOKEN")
    if not token:
        print(
            "hallkeeper enroll: give an admin token (--token or $HALLKEEPER_TOKEN)", file=sys.stderr
        )
        return 2
    body: dict[str, object] = {"reader": reader}
    if page is not None:
        body["page"] = page
    print(f"{staff}: touch reader {reader} with one finger, lift it, and touch it again")
    try:
        reply = httpx.post(
            f"{api_base(config)}/api/v1/staff/{staff}/fingerprints",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh"},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        print(f"hallkeeper enroll: the daemon at {api_base(config)} does not answer: {exc}",
              file=sys.stderr)  # fmt: skip
        return 3
    answer = reply.json()
    if reply.status_code != 201:
        messages = answer.get("messages", {})
        print(f"hallkeeper enroll: {messages.get('zh', '')} / {messages.get('en', answer)}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"{staff}: enrolled on {answer['reader']} at page {answer['page']}")
    return 0
