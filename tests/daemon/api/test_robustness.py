"""Arbitrary input to every route never makes the API answer a server error.

A kiosk with a bad firmware, a script with a typo or a scanner probing the
gateway PC must get a 4xx in the documented shape, never a 500 (which also
means an exception in the daemon's log and, for a store write, a hall that
stops accepting operations for a while). The routes come from the app's own
OpenAPI document, so a route added later is driven too.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote

import pytest
from anyio.from_thread import BlockingPortal
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.daemon.api.conftest import V1, Api

SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    # lone surrogates, which json.dumps sends as \udXXX escapes
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.sampled_from(["social", "tax", "fund", "A001", "B001", "C01", "s1", "s3", "elderly", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
window_segments = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.integers(min_value=0, max_value=6).map(str),
    st.text(min_size=1, max_size=30),
    st.sampled_from(["1e3", "0x1", "1.0", " 1", "١", "NaN", "%", "..", "-0"]),
)
code_segments = st.one_of(
    st.sampled_from(["A001", "A002", "B001", "C01", "a001", "A0001", "A-1"]),
    st.text(min_size=1, max_size=40),
    st.text(alphabet=string.punctuation + "\x00\t 号票", min_size=1, max_size=20),
)
integer_texts = st.one_of(
    st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -1]).map(str),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)
query_values = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(max_size=40),
    st.dates().map(str),
    st.sampled_from(["2026-11-25", "9999-12-31", "0001-01-01", "2026-02-30", "1e9", "", "1"]),
)


def valid_query(schema: dict[str, Any]) -> str:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("format") == "date":
            return "2026-11-25"
        if option.get("type") == "integer":
            return str(option.get("minimum", 1))
    return "x"


async def routes(api: Api) -> list[dict[str, Any]]:
    document = (await api.admin.get("/openapi.json")).json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            body = operation.get("requestBody")
            properties: list[str] = []
            if body:
                schema = body["content"]["application/json"]["schema"]
                refs = [schema, *schema.get("anyOf", [])]
                for ref in refs:
                    if "$ref" in ref:
                        name = ref["$ref"].rsplit("/", 1)[-1]
                        properties += list(document["components"]["schemas"][name]["properties"])
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "query": {p["name"]: p["schema"] for p in parameters if p["in"] == "query"},
                    "properties": properties,
                    "has_body": body is not None,
                }
            )
    assert len(found) >= 25, found
    return found


async def prepare(api: Api) -> None:
    """A hall with something going on, so operations reach past 'nothing here'."""
    await api.sign_in(1, "s1")
    await api.sign_in(3, "s3")
    for service in ("social", "social", "tax", "fund"):
        await api.issue(service)
    await api.call_next(1)


def ready(blocking_api: tuple[BlockingPortal, Api]) -> list[dict[str, Any]]:
    """Prepare the hall once per test (hypothesis reuses the fixture across examples)."""
    portal, api = blocking_api
    if "routes" not in api.scratch:
        portal.call(prepare, api)
        api.scratch["routes"] = portal.call(routes, api)
    return api.scratch["routes"]


def fill_path(path: str, draw: Any) -> str:
    if "{window}" in path:
        path = path.replace("{window}", quote(draw(window_segments), safe=""))
    if "{code}" in path:
        path = path.replace("{code}", quote(draw(code_segments), safe=""))
    return path


def body_for(route: dict[str, Any], draw: Any) -> bytes | None:
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return None
    if choice == 1:
        return draw(st.binary(max_size=60))
    if choice == 2 and route["properties"]:
        # the right field names with values of any shape
        fields = draw(
            st.fixed_dictionaries({}, optional={p: json_values for p in route["properties"]})
        )
        return json.dumps(fields).encode()
    return json.dumps(draw(json_values)).encode()


async def send(api: Api, method: str, url: str, content: bytes | None, **kw: Any) -> None:
    headers = {"Content-Type": "application/json"} if content is not None else {}
    headers.update(kw.pop("headers", {}))
    response = await api.admin.request(method, url, content=content, headers=headers, **kw)
    assert response.status_code < 500, (method, url, content, kw, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert {"code", "message", "messages"} <= set(body), body


Portal = tuple[BlockingPortal, Api]


@settings(SETTINGS, max_examples=80)
@given(data=st.data())
def test_arbitrary_bodies_never_make_a_server_error(
    blocking_api: Portal, data: st.DataObject
) -> None:
    portal, api = blocking_api
    posts = [r for r in ready(blocking_api) if r["method"] == "POST"]
    route = data.draw(st.sampled_from(posts))
    window = data.draw(st.integers(1, 5))
    path = route["path"].replace("{window}", str(window)).replace("{code}", "A002")
    content = body_for(route, data.draw)
    api.clock.advance(data.draw(st.integers(0, 900)))

    portal.call(send, api, route["method"], path, content)


@settings(SETTINGS, max_examples=50)
@given(data=st.data())
def test_arbitrary_path_segments_never_make_a_server_error(
    blocking_api: Portal, data: st.DataObject
) -> None:
    portal, api = blocking_api
    templated = [r for r in ready(blocking_api) if "{" in r["path"]]
    route = data.draw(st.sampled_from(templated))
    path = fill_path(route["path"], data.draw)
    content = body_for(route, data.draw) if route["method"] == "POST" else None

    portal.call(send, api, route["method"], path, content)


# every query parameter of the API; the test below checks the list is complete
QUERY_PARAMETERS = [
    (f"{V1}/attendance", "date"),
    (f"{V1}/attendance", "format"),
    (f"{V1}/events", "after"),
    (f"{V1}/events", "limit"),
    (f"{V1}/queue", "limit"),
    (f"{V1}/stats", "date"),
    (f"{V1}/tickets/{{code}}", "day"),
    ("/iclock/cdata", "SN"),
    ("/iclock/cdata", "table"),
    ("/iclock/getrequest", "SN"),
]


def test_every_query_parameter_is_fuzzed(blocking_api: Portal) -> None:
    declared = {(route["path"], name) for route in ready(blocking_api) for name in route["query"]}

    assert declared == set(QUERY_PARAMETERS)


@pytest.mark.parametrize(("path", "fuzzed"), QUERY_PARAMETERS)
@settings(SETTINGS, max_examples=12)
@given(
    value=st.one_of(integer_texts, query_values),
    extra=st.dictionaries(st.text(min_size=1, max_size=8), query_values, max_size=2),
    language=st.sampled_from(["en", "zh", "", "*", "en;q=x"]),
)
# the edges of SQLite's 64-bit INTEGER, tried every run
@example(value=str(2**63), extra={}, language="en")
@example(value=str(-(2**63) - 1), extra={}, language="zh")
def test_arbitrary_query_values_never_make_a_server_error(
    blocking_api: Portal, path: str, fuzzed: str, value: str, extra: dict, language: str
) -> None:
    portal, api = blocking_api
    route = next(r for r in ready(blocking_api) if r["path"] == path and r["method"] == "GET")
    # the fuzzed parameter gets an arbitrary value, the others a valid one, so that
    # the arbitrary one is what the route has to cope with
    params = {name: valid_query(schema) for name, schema in route["query"].items()}
    params = {**extra, **params, fuzzed: value}
    url = path.replace("{code}", "A001")

    portal.call(
        lambda: send(api, "GET", url, None, params=params, headers={"Accept-Language": language})
    )
