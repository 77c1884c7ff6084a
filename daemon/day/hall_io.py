"""What citizens and clerks touch: the hall's HTTP API and the simulated devices
(through the simulator control endpoint), with what each touch achieved.

A key or a rating pressed on a simulated FF68 device is resent until the
daemon acknowledges it or the device gives up (PROTOCOLS.md §1); `press` and
`rate` wait for that and say which it was. A finger on a simulated reader
stays until the reader images it or for a few seconds; `finger` says which.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from simulators.control import ControlError, request

#: Real seconds a device gets to deliver a press (5 sends 0.25 s apart, with room).
SETTLE_SECONDS = 6.0
#: A finger lifted with at least this much of its time left was imaged by the reader.
TAKEN_MARGIN = 0.5
POLL = 0.05


class HallIO:
    """The API at `base_url` (changed by the runner when the daemon restarts) and
    the simulators at `control`."""

    def __init__(self, control: str, base_url: str, admin: str, kiosk: str) -> None:
        self.control = control
        self.base_url = base_url
        self.admin = admin
        self.kiosk = kiosk
        self._client = httpx.AsyncClient(timeout=10.0)
        #: One person at a time at a reader: a second finger would replace the first.
        self._readers: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self._client.aclose()

    # --- the API ---------------------------------------------------------------

    async def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, Any]:
        """(status, JSON answer); status 0 when the daemon did not answer."""
        headers = {"Authorization": f"Bearer {token or self.admin}"}
        try:
            reply = await self._client.request(
                method,
                f"{self.base_url}/api/v1{path}",
                json=body,
                headers=headers,
                timeout=timeout,
            )
        except httpx.HTTPError:
            return 0, None
        try:
            return reply.status_code, reply.json()
        except ValueError:
            return reply.status_code, None

    async def metrics(self) -> str | None:
        """The daemon's Prometheus metrics, as text; None if it did not answer."""
        try:
            reply = await self._client.get(
                f"{self.base_url}/metrics", headers={"Authorization": f"Bearer {self.admin}"}
            )
        except httpx.HTTPError:
            return None
        return reply.text if reply.status_code == 200 else None

    async def window(self, number: int) -> dict[str, Any] | None:
        status, answer = await self.api("GET", f"/windows/{number}")
        return answer if status == 200 else None

    # --- the simulators ----------------------------------------------------------

    async def sim(self, verb: str, **args: Any) -> dict[str, Any]:
        """The control endpoint's answer; ``{"ok": False}`` if nothing answered."""
        try:
            return await asyncio.to_thread(request, self.control, verb, **args)
        except ControlError as error:
            return {"ok": False, "error": str(error)}

    async def show(self, target: str) -> dict[str, Any]:
        answer = await self.sim("show", target=target)
        return answer.get("state", {}) if answer.get("ok") else {}

    async def press(self, keypad: str, key: str, digits: str | None = None) -> bool:
        """Press a keypad key; True once the daemon acknowledged it."""
        args: dict[str, Any] = {"keypad": keypad, "key": key}
        if digits:
            args["digits"] = digits
        return await self._delivered(keypad, "press", args)

    async def rate(self, pad: str, level: int) -> bool:
        """Press a pad's key for `level`; True once the daemon acknowledged it."""
        return await self._delivered(pad, "rate", {"pad": pad, "level": level})

    async def _delivered(self, device: str, verb: str, args: dict[str, Any]) -> bool:
        before = await self.acknowledged(device)
        answer = await self.sim(verb, **args)
        if not answer.get("ok") or not answer.get("sent"):
            return False
        return await self.settled(device, before)

    async def acknowledged(self, device: str) -> int:
        """How many of `device`'s key presses the daemon has acknowledged so far."""
        return int((await self.show(device)).get("presses", {}).get("acknowledged", 0))

    async def settled(self, device: str, before: int) -> bool:
        """Wait until `device` has no press left to send; True if one more was
        acknowledged than `before` (the device stops resending then)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            presses = (await self.show(device)).get("presses", {})
            if presses.get("pending", 1) == 0:
                return presses.get("acknowledged", 0) > before
            await asyncio.sleep(POLL)
        return False

    async def finger(self, reader: str, staff: str) -> bool:
        """Put `staff`'s finger on `reader`; True if the reader imaged it (it was
        lifted before its time was up), False if it was lifted unread."""
        async with self._readers.setdefault(reader, asyncio.Lock()):
            return await self._finger(reader, staff)

    async def _finger(self, reader: str, staff: str) -> bool:
        answer = await self.sim("finger", reader=reader, staff=staff)
        if not answer.get("ok"):
            return False
        left = float(answer.get("seconds", 5.0))
        deadline = time.monotonic() + left + 2.0
        while time.monotonic() < deadline:
            finger = (await self.show(reader)).get("finger")
            if finger is None:
                return left >= TAKEN_MARGIN
            left = float(finger.get("seconds_left", 0.0))
            await asyncio.sleep(POLL)
        return False

    async def enrol(self, reader: str, staff: str) -> bool:
        """Enrol `staff`'s finger on `reader` as a hall admin does: the API call,
        and two touches of the finger while it waits."""
        async with self._readers.setdefault(reader, asyncio.Lock()):
            body = {"reader": reader}
            asking = asyncio.create_task(
                self.api("POST", f"/staff/{staff}/fingerprints", body, timeout=60.0)
            )
            while not asking.done():
                await self._finger(reader, staff)
                await asyncio.sleep(0.2)
            status, _ = await asking
            return status in (200, 201)

    async def punch(self, terminal: str, user: str) -> bool:
        """A punch on an attendance terminal, kept in its log until the daemon reads it."""
        return bool((await self.sim("finger", reader=terminal, staff=user)).get("ok"))

    async def fault(self, target: str, kind: str) -> dict[str, Any]:
        return await self.sim("fault", target=target, kind=kind)
