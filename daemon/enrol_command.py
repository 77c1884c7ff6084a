"""`hallkeeper enroll`: enrol a staff member's finger through a reader of the
running daemon, by its API (an admin token from --token or $HALLKEEPER_TOKEN)."""

from __future__ import annotations

import sys

from daemon.admin_client import CommandFailed, admin_post, admin_token
from daemon.config.model import HallConfig

TIMEOUT = 60.0  # the daemon waits up to 40 s for the two touches


def enroll(config: HallConfig, staff: str, reader: str, page: int | None, token: str | None) -> int:
    body: dict[str, object] = {"reader": reader}
    if page is not None:
        body["page"] = page
    try:
        token = admin_token(token)
        print(f"{staff}: touch reader {reader} with one finger, lift it, and touch it again")
        answer = admin_post(config, f"/api/v1/staff/{staff}/fingerprints", body, token, TIMEOUT)
    except CommandFailed as exc:
        print(f"hallkeeper enroll: {exc}", file=sys.stderr)
        return exc.code
    print(f"{staff}: enrolled on {answer['reader']} at page {answer['page']}")
    return 0
