"""What a screen should show, from the engine's state as the API gives it, in the
screens' own words (the config's `texts`), for the end-of-day screen check."""

from __future__ import annotations

from typing import Any

from daemon.config.model import HallConfig, entries_of
from devices.config import HallScreenConfig, WindowScreenConfig
from devices.screens import gbk_safe


def expected_window_text(config: HallConfig, screen_id: str, window: dict[str, Any]) -> str:
    """The text of window screen `screen_id` for `window` (GET /api/v1/windows/N)."""
    screen = next(s for s in entries_of(config, WindowScreenConfig) if s.id == screen_id)
    texts, language = config.texts, screen.language or config.hall.languages[0]
    number, status = window["number"], window["status"]
    if status == "closed":
        return gbk_safe(texts.render("closed", language, window=number))
    if status == "paused":
        return gbk_safe(
            texts.render("paused", language, window=number, reason=window["reason"] or "")
        )
    if window["current"] is not None:
        text = texts.render("call", language, ticket=window["current"], window=number)
    else:
        text = texts.render("idle", language, window=number)
    clerk = config.staff_by_id.get(window["clerk"]) if window["clerk"] else None
    if screen.show_clerk and clerk is not None:
        line = texts.render("clerk", language, name=clerk.name, staff_no=clerk.staff_no or "")
        text = f"{text} {line}"
    return gbk_safe(text)


def expected_hall_waiting(config: HallConfig, screen_id: str, queue: dict[str, Any]) -> str:
    """The waiting counts part of hall screen `screen_id` for `queue` (GET /api/v1/queue)."""
    screen = next(s for s in entries_of(config, HallScreenConfig) if s.id == screen_id)
    texts, language = config.texts, screen.language or config.hall.languages[0]
    waiting = {s["id"]: s["waiting"] for s in queue["services"]}
    return gbk_safe(
        "  ".join(
            texts.render(
                "hall_waiting", language, service=s.names.get(language, ""), count=waiting[s.id]
            )
            for s in config.services
        )
    )
