"""What dashboards, screens and the city read: events, queue, health, statistics."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.daemon.api.conftest import V1, Api

pytestmark = pytest.mark.anyio


async def busy_morning(api: Api) -> None:
    """A few tickets through windows 1 and 3, each kind of operation once."""
    await api.sign_in(1, "s1")
    await api.sign_in(3, "s3")
    for service in ("social", "tax", "fund", "social"):
        await api.issue(service)
        api.clock.advance(7)
    await api.call_next(1)
    await api.window_op(1, "recall")
    await api.window_op(1, "start")
    await api.call_next(3)
    await api.window_op(3, "skip")
    await api.window_op(1, "transfer", {"service": "tax"})
    await api.call_next(1)
    await api.window_op(1, "hold")
    await api.window_op(1, "callback")
    await api.window_op(1, "complete", {"case_number": "C-1"})
    await api.admin.post(f"{V1}/windows/1/rating", json={"level": 5})
    await api.window_op(1, "pause", {"reason": "午休"})


# -- events -----------------------------------------------------------------------------


async def test_events_are_gap_free_and_documented(api: Api) -> None:
    await busy_morning(api)

    response = await api.display.get(f"{V1}/events", params={"after": 0, "limit": 1000})

    assert response.status_code == 200
    body = response.json()
    events = body["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert body["last_seq"] == events[-1]["seq"]
    for event in events:
        assert event["hall"] == "test-hall"
        at = dt.datetime.fromisoformat(event["at"])
        assert at.utcoffset() == dt.timedelta(hours=8), event
        assert event["at"].endswith("+08:00"), event
    types = {e["type"] for e in events}
    assert {
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.skipped",
        "ticket.transferred",
        "ticket.held",
        "ticket.done",
        "rating.given",
        "rating.alert",
        "window.state",
    } <= types
    issued = [e for e in events if e["type"] == "ticket.issued"]
    assert [e["ticket"] for e in issued] == ["A001", "B001", "C01", "A002"]


async def test_events_after_a_seq_page_through_without_loss(api: Api) -> None:
    await busy_morning(api)
    everything = await api.events()

    pages: list[dict] = []
    after = 0
    while True:
        response = await api.monitor.get(f"{V1}/events", params={"after": after, "limit": 3})
        assert response.status_code == 200
        page = response.json()["events"]
        assert len(page) <= 3
        if not page:
            break
        pages.extend(page)
        after = page[-1]["seq"]

    assert pages == everything


async def test_events_after_the_last_seq_is_empty_then_sees_the_next(api: Api) -> None:
    last = await api.last_seq()
    empty = await api.admin.get(f"{V1}/events", params={"after": last})

    await api.issue()
    new = await api.admin.get(f"{V1}/events", params={"after": last})

    assert empty.status_code == 200
    assert empty.json()["events"] == []
    assert [e["seq"] for e in new.json()["events"]] == [last + 1]
    event = new.json()["events"][0]
    assert event["type"] == "ticket.issued"
    assert event["ticket"] == "A001"
    assert event["service"] == "social"
    assert event["waiting_ahead"] == 0
    assert event["at"] == "2026-11-25T09:00:00.000+08:00"


async def test_events_after_a_very_large_seq_is_not_a_server_error(api: Api) -> None:
    # a consumer whose store was reset may hold any seq; 2**63 does not fit SQLite.
    # Either answer is fine: nothing after it, or a 422 naming the parameter.
    response = await api.admin.get(f"{V1}/events", params={"after": 2**63})

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["events"] == []
    else:
        assert [e["where"] for e in response.json()["errors"]] == ["query.after"]


# -- queue ------------------------------------------------------------------------------


async def test_queue_shows_waiting_per_service_and_window_states(api: Api) -> None:
    await api.issue("social")
    await api.issue("social", priority="elderly")
    await api.issue("tax")
    await api.issue("social")
    await api.sign_in(1, "s1")
    await api.sign_in(3, "s3")
    await api.window_op(3, "pause", {"reason": "开会"})
    await api.call_next(1)  # the priority ticket A002

    response = await api.display.get(f"{V1}/queue")

    assert response.status_code == 200
    queue = response.json()
    assert queue["day"] == "2026-11-25"
    services = {s["id"]: s for s in queue["services"]}
    assert list(services) == ["social", "tax", "fund"]
    assert services["social"]["waiting"] == 2
    assert services["social"]["waiting_priority"] == 0
    assert services["social"]["issued"] == 3
    assert services["social"]["next"] == ["A001", "A003"]
    assert services["tax"]["waiting"] == 1 and services["tax"]["next"] == ["B001"]
    assert services["fund"]["waiting"] == 0 and services["fund"]["issued"] == 0
    windows = {w["number"]: w for w in queue["windows"]}
    assert windows[1]["status"] == "open"
    assert windows[1]["clerk"] == "s1"
    assert windows[1]["current"] == "A002"
    assert windows[3]["status"] == "paused"
    assert windows[3]["reason"] == "开会"
    assert windows[2]["status"] == windows[4]["status"] == "closed"


async def test_queue_lists_priority_tickets_first_and_respects_the_limit(api: Api) -> None:
    await api.issue("social")
    await api.issue("social")
    await api.issue("social", priority="pregnant")

    response = await api.monitor.get(f"{V1}/queue", params={"limit": 2})

    social = response.json()["services"][0]
    assert social["waiting"] == 3
    assert social["waiting_priority"] == 1
    assert social["next"] == ["A003", "A001"]


# -- health -----------------------------------------------------------------------------


async def test_health_reports_state_store_and_no_devices(api: Api) -> None:
    await api.issue()

    response = await api.monitor.get(f"{V1}/health")

    assert response.status_code == 200
    health = response.json()
    assert health["hall"] == "test-hall"
    assert health["state"] in {"starting", "running"}
    assert health["store"]["state"] == "ok"
    assert health["store"]["error"] is None
    assert health["store"]["last_seq"] == await api.last_seq()
    assert health["store"]["pending_events"] == 0
    assert health["devices"] == []
    assert health["uptime_seconds"] >= 0


# -- statistics -------------------------------------------------------------------------


async def served_and_skipped(api: Api) -> None:
    """A001 waits 120 s and is served 90 s; A002 waits 180 s and is skipped."""
    await api.sign_in(1, "s1")
    await api.issue("social")  # 09:00:00
    api.clock.advance(60)
    await api.issue("social")  # 09:01:00
    api.clock.advance(60)
    await api.call_next(1)  # A001 called at 09:02:00
    api.clock.advance(30)
    await api.window_op(1, "start")
    api.clock.advance(90)
    await api.window_op(1, "complete", {"case_number": "SB-9"})  # 09:04:00
    await api.call_next(1)  # A002 called at 09:04:00, waited 180 s
    api.clock.advance(10)
    await api.window_op(1, "skip")


async def test_stats_of_the_day_per_service_window_and_clerk(api: Api) -> None:
    await served_and_skipped(api)

    response = await api.monitor.get(f"{V1}/stats", params={"date": "2026-11-25"})

    assert response.status_code == 200
    stats = response.json()
    assert stats["day"] == "2026-11-25"
    hall = stats["hall"]
    assert (hall["issued"], hall["served"], hall["no_show"]) == (2, 1, 1)
    assert hall["completion_rate"] == 0.5
    social = next(s for s in stats["services"] if s["id"] == "social")
    assert (social["issued"], social["served"], social["no_show"]) == (2, 1, 1)
    assert social["completion_rate"] == 0.5
    assert social["waiting_time"]["count"] == 2
    assert social["waiting_time"]["mean_seconds"] == 150.0
    assert social["waiting_time"]["max_seconds"] == 180.0
    assert social["service_time"]["count"] == 1
    assert social["service_time"]["mean_seconds"] == 90.0
    tax = next(s for s in stats["services"] if s["id"] == "tax")
    assert tax["issued"] == 0 and tax["completion_rate"] is None
    window = next(w for w in stats["windows"] if w["number"] == 1)
    assert (window["calls"], window["served"], window["no_show"]) == (2, 1, 1)
    assert window["completion_rate"] == 0.5
    assert window["service_time"]["mean_seconds"] == 90.0
    assert next(w for w in stats["windows"] if w["number"] == 2)["calls"] == 0
    assert [c["id"] for c in stats["clerks"]] == ["s1"]
    clerk = stats["clerks"][0]
    assert clerk["name"] == "张伟"
    assert (clerk["calls"], clerk["served"], clerk["no_show"]) == (2, 1, 1)
    for figures in (hall, social, window, clerk):
        assert figures["satisfaction"]["rate"] is None
        assert figures["satisfaction"]["rated"] == 0


async def test_satisfaction_is_filled_once_ratings_exist(api: Api) -> None:
    await served_and_skipped(api)
    # the skipped A002 is not rateable; the pad rates A001, just done at window 1
    rated = await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 2})
    await api.issue("social")
    await api.call_next(1)
    await api.window_op(1, "complete")
    await api.kiosk.post(f"{V1}/windows/1/rating", json={"level": 4})

    stats = (await api.admin.get(f"{V1}/stats")).json()

    assert rated.status_code == 201
    assert rated.json()["ticket"] == "A001"
    social = next(s for s in stats["services"] if s["id"] == "social")
    window = next(w for w in stats["windows"] if w["number"] == 1)
    clerk = stats["clerks"][0]
    for figures in (stats["hall"], social, window, clerk):
        satisfaction = figures["satisfaction"]
        assert satisfaction["rated"] == 2
        assert satisfaction["levels"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
        assert satisfaction["rate"] == 0.5
    tax = next(s for s in stats["services"] if s["id"] == "tax")
    assert tax["satisfaction"]["rate"] is None


async def test_held_time_is_not_service_time(api: Api) -> None:
    await api.sign_in(1, "s1")
    await api.issue()
    await api.call_next(1)
    await api.window_op(1, "start")
    api.clock.advance(60)
    await api.window_op(1, "hold")
    api.clock.advance(600)  # fetching papers
    await api.window_op(1, "callback")
    api.clock.advance(40)
    await api.window_op(1, "complete")

    stats = (await api.admin.get(f"{V1}/stats")).json()

    assert stats["hall"]["service_time"]["mean_seconds"] == 100.0


async def test_stats_default_to_today_and_other_days_are_empty(api: Api) -> None:
    await served_and_skipped(api)

    today = (await api.admin.get(f"{V1}/stats")).json()
    other = (await api.admin.get(f"{V1}/stats", params={"date": "2026-11-24"})).json()

    assert today["day"] == "2026-11-25"
    assert today["hall"]["issued"] == 2
    assert other["day"] == "2026-11-24"
    assert other["hall"]["issued"] == 0
    assert other["clerks"] == []


@pytest.mark.parametrize("date", ["2026-13-01", "25/11/2026", "today", ""])
async def test_stats_with_a_bad_date_is_422(api: Api, date: str) -> None:
    response = await api.admin.get(f"{V1}/stats", params={"date": date})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert response.json()["errors"][0]["where"] == "query.date"
