"""What every route module shares: the hall from the app, error responses."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from daemon.api.schemas import ErrorOut
from daemon.hall import Hall
from daemon.printing import Spooler


def hall_of(request: Request) -> Hall:
    return request.app.state.hall


def spooler_of(request: Request) -> Spooler | None:
    """The kiosk printers' spool; None when the daemon runs without devices."""
    return getattr(request.app.state, "spooler", None)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give."""
    words = {
        400: "Malformed JSON body.",
        401: "No token, or one that is not valid.",
        403: "The token's role may not do this, or a clerk acts on another window.",
        404: "No such ticket or window.",
        409: "The hall's state does not allow it now; the message says why.",
        422: "A field is missing, of the wrong type, or names something unknown.",
        503: "The store failed to write, or the kiosk's printer cannot print; nothing was done.",
    }
    return {s: {"model": ErrorOut, "description": words[s]} for s in statuses}
