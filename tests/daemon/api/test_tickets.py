"""Taking tickets at the kiosk and looking them up."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.config.model import HallConfig
from tests.conftest import small_hall
from tests.daemon.api.conftest import V1, Api

pytestmark = pytest.mark.anyio


async def test_first_ticket_of_the_day_is_a001_with_nobody_ahead(api: Api) -> None:
    response = await api.kiosk.post(f"{V1}/tickets", json={"service": "social"})

    assert response.status_code == 201
    ticket = response.json()
    assert ticket["code"] == "A001"
    assert ticket["number"] == 1
    assert ticket["service"] == "social"
    assert ticket["issued_service"] == "social"
    assert ticket["service_names"] == {"zh": "社保", "en": "Social Security"}
    assert ticket["state"] == "waiting"
    assert ticket["waiting_ahead"] == 0
    assert ticket["priority"] is None
    assert ticket["day"] == "2026-11-25"
    assert dt.datetime.fromisoformat(ticket["issued_at"]) == api.clock()
    assert ticket["calls"] == 0 and ticket["recalls"] == 0 and ticket["rated"] is False


async def test_numbers_count_up_per_service_and_waiting_ahead_counts_the_queue(api: Api) -> None:
    codes = []
    for expected_ahead in range(3):
        api.clock.advance(5)
        ticket = await api.issue("social")
        codes.append(ticket["code"])
        assert ticket["waiting_ahead"] == expected_ahead
    tax = await api.issue("tax")

    assert codes == ["A001", "A002", "A003"]
    assert tax["code"] == "B001"
    assert tax["waiting_ahead"] == 0  # other services' queues are not ahead of it


async def test_number_width_follows_the_service_range(api: Api) -> None:
    # fund numbers run 1-20, so its codes have two digits
    ticket = await api.issue("fund")

    assert ticket["code"] == "C01"


async def test_priority_ticket_counts_only_priority_tickets_ahead(api: Api) -> None:
    await api.issue("social")
    await api.issue("social")
    first = await api.issue("social", priority="elderly")
    second = await api.issue("social", priority="disabled")

    assert first["priority"] == "elderly"
    assert first["waiting_ahead"] == 0
    assert second["priority"] == "disabled"
    assert second["waiting_ahead"] == 1


async def test_normal_ticket_counts_priority_tickets_ahead_of_it(api: Api) -> None:
    await api.issue("social", priority="military")
    normal = await api.issue("social")

    assert normal["waiting_ahead"] == 1


async def test_unknown_service_is_422_unknown_service(api: Api) -> None:
    response = await api.kiosk.post(f"{V1}/tickets", json={"service": "passports"})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_service"
    assert "passports" in body["messages"]["en"]
    assert "passports" in body["messages"]["zh"]


async def test_unknown_priority_reason_is_422_naming_the_field(api: Api) -> None:
    response = await api.kiosk.post(f"{V1}/tickets", json={"service": "social", "priority": "vip"})

    assert response.status_code == 422
    assert [e["where"] for e in response.json()["errors"]] == ["body.priority"]


async def test_daily_limit_reached_is_409_and_issues_nothing(api: Api) -> None:
    for n in range(1, 6):
        assert (await api.issue("fund"))["code"] == f"C{n:02d}"

    response = await api.kiosk.post(f"{V1}/tickets", json={"service": "fund"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "daily_limit_reached"
    assert "5" in body["messages"]["en"]
    queue = (await api.admin.get(f"{V1}/queue")).json()
    fund = next(s for s in queue["services"] if s["id"] == "fund")
    assert fund["issued"] == 5
    assert fund["waiting"] == 5


async def test_unknown_kiosk_is_422_and_issues_nothing(api: Api) -> None:
    response = await api.kiosk.post(
        f"{V1}/tickets", json={"service": "social", "kiosk": "kiosk-99"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_kiosk"
    assert "kiosk-99" in response.json()["messages"]["en"]
    # the number was not used up
    assert (await api.issue("social"))["code"] == "A001"


async def test_get_ticket_returns_its_current_state(api: Api) -> None:
    await api.issue("social")
    await api.sign_in(1, "s1")
    api.clock.advance(60)
    await api.call_next(1)

    response = await api.display.get(f"{V1}/tickets/A001")

    assert response.status_code == 200
    ticket = response.json()
    assert ticket["code"] == "A001"
    assert ticket["state"] == "called"
    assert ticket["window"] == 1
    assert ticket["clerk"] == "s1"
    assert ticket["calls"] == 1
    assert dt.datetime.fromisoformat(ticket["state_since"]) == api.clock()


async def test_unknown_ticket_code_is_404(api: Api) -> None:
    await api.issue("social")

    response = await api.admin.get(f"{V1}/tickets/A002")

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_ticket"
    assert "A002" in body["messages"]["en"]
    assert "2026-11-25" in body["messages"]["en"]


async def test_ticket_of_another_day_is_looked_up_in_the_store(api: Api) -> None:
    await api.issue("social")
    api.clock.advance(24 * 3600)  # the next business day

    today = await api.issue("social")
    earlier = await api.admin.get(f"{V1}/tickets/A001", params={"day": "2026-11-25"})

    assert today["code"] == "A001" and today["day"] == "2026-11-26"
    assert earlier.status_code == 200
    assert earlier.json()["day"] == "2026-11-25"
    assert earlier.json()["state"] == "expired"


async def test_cancel_removes_a_waiting_ticket_from_the_queue(api: Api) -> None:
    await api.issue("social")
    await api.issue("social")

    response = await api.admin.post(f"{V1}/tickets/A001/cancel")

    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    await api.sign_in(1, "s1")
    assert (await api.call_next(1))["called"]["code"] == "A002"
    again = await api.admin.post(f"{V1}/tickets/A001/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "ticket_state"


async def test_kiosks_issuing_at_once_never_get_the_same_number(api: Api) -> None:
    async def take(service: str) -> str:
        response = await api.kiosk.post(f"{V1}/tickets", json={"service": service})
        assert response.status_code == 201, response.text
        return response.json()["code"]

    codes = await asyncio.gather(*(take("social" if n % 3 else "tax") for n in range(30)))

    social = sorted(c for c in codes if c.startswith("A"))
    tax = sorted(c for c in codes if c.startswith("B"))
    assert social == [f"A{n:03d}" for n in range(1, 21)]
    assert tax == [f"B{n:03d}" for n in range(1, 11)]


class TestOpeningHours:
    """social issues tickets on weekdays 08:30-12:00 only."""

    @pytest.fixture
    def config(self, make_config: Callable[..., HallConfig], tmp_path: Path) -> HallConfig:
        services = small_hall(tmp_path)["services"]
        services[0]["opening_hours"] = [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "12:00"}
        ]
        return make_config(services=services)

    async def test_issuing_outside_the_hours_is_409_service_closed(self, api: Api) -> None:
        inside = await api.kiosk.post(f"{V1}/tickets", json={"service": "social"})
        api.clock.advance(3 * 3600 + 60)  # 12:01
        outside = await api.kiosk.post(
            f"{V1}/tickets", json={"service": "social"}, headers={"Accept-Language": "en"}
        )
        other = await api.kiosk.post(f"{V1}/tickets", json={"service": "tax"})

        assert inside.status_code == 201
        assert outside.status_code == 409
        assert outside.json()["code"] == "service_closed"
        assert "08:30-12:00" in outside.json()["message"]
        assert other.status_code == 201
