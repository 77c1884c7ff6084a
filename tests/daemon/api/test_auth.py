"""Who may do what: tokens, roles, and clerks acting only on their own window."""

from __future__ import annotations

import httpx
import pytest

from daemon.tokens import Role
from tests.daemon.api.conftest import V1, Api

pytestmark = pytest.mark.anyio

READS = [
    f"{V1}/queue",
    f"{V1}/health",
    f"{V1}/events",
    f"{V1}/stats",
    f"{V1}/windows",
    f"{V1}/windows/1",
    f"{V1}/tickets/A001",
]
WRITES = [
    (f"{V1}/tickets", {"service": "social"}),
    (f"{V1}/tickets/A001/cancel", None),
    (f"{V1}/windows/1/open", None),
    (f"{V1}/windows/1/call-next", None),
    (f"{V1}/windows/1/call", {"ticket": "A001"}),
    (f"{V1}/windows/1/pause", {"reason": "x"}),
    (f"{V1}/windows/1/rating", {"level": 1}),
]


async def test_healthz_needs_no_token(api: Api) -> None:
    response = await api.anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", READS)
async def test_no_token_is_401_with_www_authenticate(api: Api, path: str) -> None:
    await api.issue()

    response = await api.anonymous.get(path)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "missing_token"


async def test_no_token_on_a_write_is_401_and_changes_nothing(api: Api) -> None:
    response = await api.anonymous.post(f"{V1}/tickets", json={"service": "social"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await api.issue())["code"] == "A001"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer hk_deadbeef_notarealsecret", "invalid_token"),
        ("Bearer nonsense", "invalid_token"),
        ("Bearer hk__", "invalid_token"),
        ("Basic YWRtaW46YWRtaW4=", "missing_token"),  # not a bearer token at all
    ],
)
async def test_bad_token_is_401(api: Api, authorization: str, code: str) -> None:
    api.admin  # noqa: B018 -- a real token exists, so the file is not empty
    client = api.client({"Authorization": authorization})

    response = await client.get(f"{V1}/queue")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == code


async def test_right_id_with_a_wrong_secret_is_401(api: Api) -> None:
    entry, token = api.tokens.add(Role.ADMIN)
    forged = f"hk_{entry.id}_{'x' * 43}"

    good = await api.client({"Authorization": f"Bearer {token}"}).get(f"{V1}/queue")
    bad = await api.client({"Authorization": f"Bearer {forged}"}).get(f"{V1}/queue")

    assert good.status_code == 200
    assert bad.status_code == 401
    assert bad.json()["code"] == "invalid_token"


async def test_revoked_token_is_401(api: Api) -> None:
    entry, token = api.tokens.add(Role.MONITOR)
    client = api.client({"Authorization": f"Bearer {token}"})
    assert (await client.get(f"{V1}/queue")).status_code == 200

    assert api.tokens.revoke(entry.id)
    response = await client.get(f"{V1}/queue")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("role", ["monitor", "display"])
@pytest.mark.parametrize(("path", "body"), WRITES)
async def test_read_only_roles_cannot_post(api: Api, role: str, path: str, body: dict) -> None:
    await api.issue()
    await api.sign_in(1, "s1")
    client: httpx.AsyncClient = getattr(api, role)

    response = await client.post(path, json=body)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert role in response.json()["messages"]["en"]


async def test_monitor_reads_everything(api: Api) -> None:
    await api.issue()
    for path in READS:
        response = await api.monitor.get(path)
        assert response.status_code == 200, path


async def test_display_reads_queue_and_events_but_not_statistics(api: Api) -> None:
    assert (await api.display.get(f"{V1}/queue")).status_code == 200
    assert (await api.display.get(f"{V1}/events")).status_code == 200
    assert (await api.display.get(f"{V1}/stats")).status_code == 403


async def test_kiosk_issues_tickets_but_cannot_call(api: Api) -> None:
    issued = await api.kiosk.post(f"{V1}/tickets", json={"service": "social"})
    await api.sign_in(1, "s1")

    call = await api.kiosk.post(f"{V1}/windows/1/call-next")
    by_number = await api.kiosk.post(f"{V1}/windows/1/call", json={"ticket": "A001"})
    pause = await api.kiosk.post(f"{V1}/windows/1/pause")
    cancel = await api.kiosk.post(f"{V1}/tickets/A001/cancel")

    assert issued.status_code == 201
    assert [call.status_code, by_number.status_code, pause.status_code] == [403, 403, 403]
    assert cancel.status_code == 403
    assert (await api.ticket("A001"))["state"] == "waiting"


async def test_clerk_cannot_issue_tickets(api: Api) -> None:
    response = await api.clerk("s1").post(f"{V1}/tickets", json={"service": "social"})

    assert response.status_code == 403


async def test_clerk_cannot_act_before_signing_in(api: Api) -> None:
    await api.issue()
    await api.window_op(1, "open")  # open, but nobody is signed in

    response = await api.clerk("s1").post(f"{V1}/windows/1/call-next")

    assert response.status_code == 403
    assert response.json()["code"] == "not_your_window"
    assert (await api.ticket("A001"))["state"] == "waiting"


async def test_clerk_acts_only_on_the_window_where_they_are_signed_in(api: Api) -> None:
    await api.issue("social")
    await api.issue("tax")
    await api.sign_in(1, "s1")
    await api.sign_in(2, "s2")

    mine = await api.clerk("s1").post(f"{V1}/windows/1/call-next")
    theirs = await api.clerk("s1").post(f"{V1}/windows/2/call-next")
    pause_theirs = await api.clerk("s1").post(f"{V1}/windows/2/pause", json={"reason": "x"})
    closed = await api.clerk("s1").post(f"{V1}/windows/3/open")

    assert mine.status_code == 200
    assert mine.json()["called"]["code"] == "A001"
    for refused in (theirs, pause_theirs, closed):
        assert refused.status_code == 403
        assert refused.json()["code"] == "not_your_window"
    assert (await api.ticket("B001"))["state"] == "waiting"
    assert (await api.admin.get(f"{V1}/windows/2")).json()["status"] == "open"


async def test_clerk_loses_the_window_after_signing_out(api: Api) -> None:
    await api.sign_in(1, "s1")
    out = await api.clerk("s1").post(f"{V1}/windows/1/sign-out")

    response = await api.clerk("s1").post(f"{V1}/windows/1/open")

    assert out.status_code == 200
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_window"


async def test_clerk_cannot_sign_in_someone_else(api: Api) -> None:
    response = await api.clerk("s1").post(f"{V1}/windows/1/sign-in", json={"staff": "s2"})

    assert response.status_code == 403
    assert response.json()["code"] == "not_yourself"
    assert (await api.admin.get(f"{V1}/windows/1")).json()["clerk"] is None


async def test_clerk_may_name_themself_when_signing_in(api: Api) -> None:
    response = await api.clerk("s3").post(f"{V1}/windows/3/sign-in", json={"staff": "s3"})

    assert response.status_code == 200
    assert response.json()["clerk"] == "s3"


async def test_admin_does_everything_on_any_window(api: Api) -> None:
    await api.issue()
    await api.issue("fund")
    await api.sign_in(1, "s1")
    await api.sign_in(3, "s3")

    # on windows where a clerk is signed in, and on one with nobody
    assert (await api.call_next(1))["called"]["code"] == "A001"
    assert (await api.call_next(3))["called"]["code"] == "C01"
    assert (await api.window_op(3, "skip")).status_code == 200
    assert (await api.window_op(1, "complete")).status_code == 200
    assert (await api.window_op(4, "open")).status_code == 200
    assert (await api.window_op(4, "pause", {"reason": "维护"})).status_code == 200
    assert (await api.window_op(1, "sign-out")).status_code == 200
    assert (await api.admin.post(f"{V1}/windows/1/rating", json={"level": 3})).status_code == 201
    assert (await api.admin.get(f"{V1}/stats")).status_code == 200
