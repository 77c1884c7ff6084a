"""The OpenAPI document IT staff and integrators read: every endpoint, with examples."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Clock
from tests.daemon.api.conftest import V1, Api

pytestmark = pytest.mark.anyio

# DESIGN.md "Interfaces"
DESIGNED = [
    ("post", f"{V1}/tickets"),
    ("post", f"{V1}/windows/{{window}}/call-next"),
    ("post", f"{V1}/windows/{{window}}/recall"),
    ("post", f"{V1}/windows/{{window}}/skip"),
    ("post", f"{V1}/windows/{{window}}/hold"),
    ("post", f"{V1}/windows/{{window}}/transfer"),
    ("post", f"{V1}/windows/{{window}}/complete"),
    ("post", f"{V1}/windows/{{window}}/pause"),
    ("post", f"{V1}/windows/{{window}}/resume"),
    ("post", f"{V1}/windows/{{window}}/call"),
    ("get", f"{V1}/queue"),
    ("get", f"{V1}/tickets/{{code}}"),
    ("get", f"{V1}/health"),
    ("get", f"{V1}/events"),
    ("get", f"{V1}/stats"),
    ("get", "/healthz"),
    ("get", "/metrics"),
]


@pytest.fixture
async def document(api: Api) -> dict[str, Any]:
    response = await api.anonymous.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a body schema stands for, through $ref and anyOf."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [document["components"]["schemas"][name]]
    if "anyOf" in schema:
        return [s for part in schema["anyOf"] for s in resolve(document, part)]
    if schema.get("type") == "null":
        return []
    return [schema]


@pytest.mark.parametrize(("method", "path"), DESIGNED, ids=[f"{m} {p}" for m, p in DESIGNED])
async def test_designed_endpoint_is_in_the_document(
    document: dict[str, Any], method: str, path: str
) -> None:
    assert method in document["paths"].get(path, {}), f"{method.upper()} {path} is missing"


# POSTs that change none of the hall's state, so nothing can conflict with them
STATELESS = {f"{V1}/announcements"}


async def test_documented_endpoints_declare_their_error_answers(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        if not path.startswith(V1):
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            assert "401" in responses, f"{method} {path}"
            if method == "post":
                assert "403" in responses, f"{method} {path}"
                assert "409" in responses or path in STATELESS, f"{method} {path}"


def body_operations() -> list[tuple[str, str]]:
    # every POST with a JSON body, as the app defines them today
    return [
        ("post", f"{V1}/tickets"),
        ("post", f"{V1}/tickets/{{code}}/reprint"),
        ("post", f"{V1}/staff/{{staff}}/fingerprints"),
        ("post", f"{V1}/windows/{{window}}/call"),
        ("post", f"{V1}/windows/{{window}}/callback"),
        ("post", f"{V1}/windows/{{window}}/complete"),
        ("post", f"{V1}/windows/{{window}}/transfer"),
        ("post", f"{V1}/windows/{{window}}/pause"),
        ("post", f"{V1}/windows/{{window}}/sign-in"),
        ("post", f"{V1}/windows/{{window}}/rating"),
        ("post", f"{V1}/announcements"),
    ]


async def test_every_request_body_is_listed(document: dict[str, Any]) -> None:
    with_body = {
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }

    assert with_body == set(body_operations())


@pytest.mark.parametrize(
    ("method", "path"), body_operations(), ids=[p for _, p in body_operations()]
)
async def test_request_body_carries_examples(
    document: dict[str, Any], method: str, path: str
) -> None:
    operation = document["paths"][path][method]
    content = operation["requestBody"]["content"]["application/json"]
    schemas = resolve(document, content["schema"])

    assert schemas
    for schema in schemas:
        examples = schema.get("examples") or content.get("examples")
        assert examples, f"no examples for {method.upper()} {path}"
        for example in examples:
            assert set(example) <= set(schema["properties"]), example


async def test_the_document_states_how_to_authenticate(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]

    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    assert "healthz" in document["info"]["description"]


async def test_metrics_answer_in_prometheus_text(api: Api, clock: Clock) -> None:
    await api.issue()
    await api.issue()
    await api.sign_in(1, "s1")
    clock.advance(90)
    await api.call_next(1)

    response = await api.monitor.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in response.text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['hallkeeper_waiting{service="social"}'] == 1
    assert samples['hallkeeper_issued_today{service="social"}'] == 2
    assert samples['hallkeeper_events_total{type="ticket.issued"}'] == 2
    assert samples['hallkeeper_window_status{status="open",window="1"}'] == 1
    assert samples['hallkeeper_waiting_seconds_count{service="social"}'] == 1
    assert samples['hallkeeper_waiting_seconds_bucket{le="60.0",service="social"}'] == 0
    assert samples['hallkeeper_waiting_seconds_bucket{le="300.0",service="social"}'] == 1
    assert (await api.kiosk.get("/metrics")).status_code == 403
