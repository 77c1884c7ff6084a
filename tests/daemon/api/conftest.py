"""The API under test: a real hall on a real store, reached through HTTP only.

`api` is a running app with a client per role (admin, monitor, kiosk,
display, and `clerk("s1")` for a clerk token of s1; tokens are made on first
use), plus shortcuts for the steps most tests share. Requests go through
httpx's ASGI transport, in the test's event loop; nothing listens on a port.
Unexpected exceptions are answered 500 (not raised into the test), so a test
sees a server error exactly as a hall's kiosk or dashboard would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from daemon.api.app import create_app
from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.runtime import DaemonInfo
from daemon.store.store import Store
from daemon.tokens import Role, TokenFile
from tests.conftest import Clock

BASE = "http://hall"
V1 = "/api/v1"


@dataclass
class Api:
    """Clients per role on one running hall, and shortcuts for common steps."""

    hall: Hall
    store: Store
    clock: Clock
    tokens: TokenFile
    transport: httpx.ASGITransport
    scratch: dict[str, Any] = field(default_factory=dict)  # for tests to keep things in
    _clients: list[httpx.AsyncClient] = field(default_factory=list)
    _by_role: dict[tuple[Role, str | None], httpx.AsyncClient] = field(default_factory=dict)

    def client(self, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        """A client with the given headers only (no token unless given)."""
        made = httpx.AsyncClient(transport=self.transport, base_url=BASE, headers=headers)
        self._clients.append(made)
        return made

    def _role(self, role: Role, staff: str | None = None) -> httpx.AsyncClient:
        # tokens are made on first use: each one rewrites the secrets file
        if (role, staff) not in self._by_role:
            _, token = self.tokens.add(role, staff=staff)
            self._by_role[role, staff] = self.client({"Authorization": f"Bearer {token}"})
        return self._by_role[role, staff]

    @property
    def admin(self) -> httpx.AsyncClient:
        return self._role(Role.ADMIN)

    @property
    def monitor(self) -> httpx.AsyncClient:
        return self._role(Role.MONITOR)

    @property
    def kiosk(self) -> httpx.AsyncClient:
        return self._role(Role.KIOSK)

    @property
    def display(self) -> httpx.AsyncClient:
        return self._role(Role.DISPLAY)

    @property
    def anonymous(self) -> httpx.AsyncClient:
        if "anonymous" not in self.scratch:
            self.scratch["anonymous"] = self.client()
        return self.scratch["anonymous"]

    def clerk(self, staff: str) -> httpx.AsyncClient:
        """A clerk token of staff member `staff` (s1-s4)."""
        return self._role(Role.CLERK, staff)

    async def issue(self, service: str = "social", **fields: Any) -> dict[str, Any]:
        response = await self.admin.post(f"{V1}/tickets", json={"service": service, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    async def sign_in(self, window: int, staff: str) -> dict[str, Any]:
        response = await self.clerk(staff).post(f"{V1}/windows/{window}/sign-in")
        assert response.status_code == 200, response.text
        return response.json()

    async def window_op(
        self, window: int, op: str, json: Any = None, client: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        return await (client or self.admin).post(f"{V1}/windows/{window}/{op}", json=json)

    async def call_next(self, window: int, client: httpx.AsyncClient | None = None) -> dict:
        response = await self.window_op(window, "call-next", client=client)
        assert response.status_code == 200, response.text
        return response.json()

    async def ticket(self, code: str) -> dict[str, Any]:
        response = await self.admin.get(f"{V1}/tickets/{code}")
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, after: int = 0, types: set[str] | None = None) -> list[dict]:
        response = await self.admin.get(f"{V1}/events", params={"after": after, "limit": 1000})
        assert response.status_code == 200, response.text
        found = response.json()["events"]
        return [e for e in found if types is None or e["type"] in types]

    async def last_seq(self) -> int:
        response = await self.admin.get(f"{V1}/events", params={"after": 0, "limit": 1})
        assert response.status_code == 200, response.text
        return response.json()["last_seq"]


async def start_api(config: HallConfig, clock: Clock) -> Api:
    """A started hall and its app, with a token and a client for every role."""
    store = Store(config.storage.path, config.hall.id)
    hall = Hall(config, store, clock=clock)
    await hall.start(day_timer=False)
    tokens = TokenFile(config.secrets)
    tokens.ensure_exists()
    info = DaemonInfo(started_at=clock())
    app = create_app(hall, tokens, info)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return Api(hall=hall, store=store, clock=clock, tokens=tokens, transport=transport)


async def stop_api(api: Api) -> None:
    for client in api._clients:
        await client.aclose()
    await api.hall.stop()
    api.store.close()


@pytest.fixture
async def api(config: HallConfig, clock: Clock) -> AsyncIterator[Api]:
    """For tests marked anyio."""
    running = await start_api(config, clock)
    try:
        yield running
    finally:
        await stop_api(running)


@pytest.fixture
def blocking_api(config: HallConfig, clock: Clock) -> Iterator[tuple[BlockingPortal, Api]]:
    """The same app on an event loop in its own thread, for plain (sync) tests such
    as hypothesis ones: run coroutines with `portal.call(fn, *args)`."""
    with start_blocking_portal("asyncio") as portal:
        running = portal.call(start_api, config, clock)
        try:
            yield portal, running
        finally:
            portal.call(stop_api, running)
