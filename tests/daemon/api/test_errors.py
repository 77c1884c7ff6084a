"""Every refusal in one shape: code, message in the asked language, messages in both."""

from __future__ import annotations

import re

import pytest

from tests.daemon.api.conftest import V1, Api

pytestmark = pytest.mark.anyio

HAN = re.compile(r"[\u4e00-\u9fff]")


def assert_error_shape(body: dict, code: str) -> None:
    assert body["code"] == code
    assert set(body["messages"]) == {"zh", "en"}
    assert HAN.search(body["messages"]["zh"]), body
    assert body["messages"]["en"] and not HAN.search(body["messages"]["en"].split("(")[0]), body


async def test_message_is_chinese_by_default(api: Api) -> None:
    response = await api.admin.post(f"{V1}/tickets", json={"service": "visa"})

    body = response.json()
    assert_error_shape(body, "unknown_service")
    assert body["message"] == body["messages"]["zh"]


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "EN-gb"])
async def test_message_is_english_when_asked(api: Api, accept: str) -> None:
    response = await api.admin.post(
        f"{V1}/tickets", json={"service": "visa"}, headers={"Accept-Language": accept}
    )

    body = response.json()
    assert_error_shape(body, "unknown_service")
    assert body["message"] == body["messages"]["en"]
    assert "visa" in body["message"]


async def test_chinese_preferred_over_english_stays_chinese(api: Api) -> None:
    response = await api.admin.post(
        f"{V1}/tickets", json={"service": "visa"}, headers={"Accept-Language": "zh-CN,en;q=0.8"}
    )

    assert response.json()["message"] == response.json()["messages"]["zh"]


async def test_refused_window_operation_in_both_languages(api: Api) -> None:
    await api.sign_in(1, "s1")
    await api.window_op(1, "pause", {"reason": "午休"})

    zh = await api.admin.post(f"{V1}/windows/1/call-next")
    en = await api.admin.post(f"{V1}/windows/1/call-next", headers={"Accept-Language": "en"})

    assert zh.status_code == en.status_code == 409
    assert_error_shape(zh.json(), "window_not_open")
    assert zh.json()["message"] == "1号窗口已暂停（午休）"
    assert en.json()["message"] == "window 1 is paused (午休)"


async def test_auth_errors_have_the_same_shape(api: Api) -> None:
    missing = await api.anonymous.get(f"{V1}/queue", headers={"Accept-Language": "en"})
    forbidden = await api.display.post(f"{V1}/windows/1/open")
    not_yours = await api.clerk("s1").post(f"{V1}/windows/1/open")

    assert_error_shape(missing.json(), "missing_token")
    assert missing.json()["message"] == missing.json()["messages"]["en"]
    assert_error_shape(forbidden.json(), "forbidden")
    assert_error_shape(not_yours.json(), "not_your_window")


async def test_unknown_path_and_wrong_method_have_the_same_shape(api: Api) -> None:
    missing = await api.admin.get(f"{V1}/nowhere")
    wrong_method = await api.admin.delete(f"{V1}/queue")

    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")
    assert wrong_method.status_code == 405
    assert_error_shape(wrong_method.json(), "method_not_allowed")


@pytest.mark.parametrize(
    "raw",
    [b'{"service": "social"', b"{service: social}", b"not json", b'{"service": "social",}'],
)
async def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    response = await api.admin.post(
        f"{V1}/tickets", content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "malformed_json")
    assert body["errors"][0]["where"].startswith("body")
    # nothing was issued
    assert (await api.issue())["code"] == "A001"


async def test_body_that_is_not_utf8_is_400_malformed_json(api: Api) -> None:
    # JSON text is UTF-8 (RFC 8259); these bytes are not.
    response = await api.admin.post(
        f"{V1}/tickets",
        content=b'{"service": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert_error_shape(response.json(), "malformed_json")


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        (f"{V1}/tickets", {"service": 7}, "body.service"),
        (f"{V1}/tickets", {"service": ["social"]}, "body.service"),
        (f"{V1}/tickets", {}, "body.service"),
        (f"{V1}/tickets", {"service": "social", "colour": "red"}, "body.colour"),
        (f"{V1}/windows/1/call", {"ticket": 12}, "body.ticket"),
        (f"{V1}/windows/1/call", {"ticket": "A001", "window": 2}, "body.window"),
        (f"{V1}/windows/1/transfer", {"window": "two"}, "body.window"),
        (f"{V1}/windows/1/transfer", {"window": 0}, "body.window"),
        (f"{V1}/windows/1/complete", {"case_number": 123}, "body.case_number"),
        (f"{V1}/windows/1/complete", {"case": "x"}, "body.case"),
        (f"{V1}/windows/1/pause", {"reason": "x" * 65}, "body.reason"),
        (f"{V1}/windows/1/rating", {"level": "good"}, "body.level"),
        (f"{V1}/windows/1/rating", {"level": 2, "stars": 5}, "body.stars"),
        (f"{V1}/windows/1/sign-in", {"staff": True}, "body.staff"),
        (f"{V1}/windows/1/callback", {"code": "A001"}, "body.code"),
    ],
)
async def test_wrong_types_and_unknown_fields_are_422_naming_the_field(
    api: Api, path: str, body: dict, where: str
) -> None:
    response = await api.admin.post(path, json=body)

    assert response.status_code == 422
    answer = response.json()
    assert_error_shape(answer, "invalid_request")
    assert where in [e["where"] for e in answer["errors"]]
    assert where in answer["messages"]["en"]
    assert all(e["problem"] for e in answer["errors"])


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (f"{V1}/windows/abc", "path.window"),
        (f"{V1}/windows/0", "path.window"),
        (f"{V1}/windows/-3", "path.window"),
        (f"{V1}/queue?limit=-1", "query.limit"),
        (f"{V1}/events?after=x", "query.after"),
        (f"{V1}/events?limit=0", "query.limit"),
        (f"{V1}/stats?date=yesterday", "query.date"),
        (f"{V1}/tickets/A001?day=2026-02-30", "query.day"),
    ],
)
async def test_bad_path_and_query_values_are_422_naming_them(
    api: Api, path: str, where: str
) -> None:
    response = await api.admin.get(path)

    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_request")
    assert [e["where"] for e in response.json()["errors"]] == [where]


async def test_required_body_missing_is_422(api: Api) -> None:
    response = await api.admin.post(f"{V1}/tickets")

    assert response.status_code == 422
    assert [e["where"] for e in response.json()["errors"]] == ["body"]


@pytest.mark.parametrize(
    ("op", "raw"),
    [
        ("complete", b'{"case_number": "\\ud800"}'),
        ("pause", b'{"reason": "\\udfff"}'),
    ],
)
async def test_lone_surrogate_in_a_string_is_422_and_the_store_keeps_working(
    api: Api, op: str, raw: bytes
) -> None:
    # valid JSON, but not text that can be stored (it cannot be encoded as UTF-8)
    await api.issue()
    await api.sign_in(1, "s1")
    await api.call_next(1)

    response = await api.admin.post(
        f"{V1}/windows/1/{op}", content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    health = (await api.admin.get(f"{V1}/health")).json()
    assert health["store"]["state"] == "ok"
    assert (await api.issue())["code"] == "A002"
