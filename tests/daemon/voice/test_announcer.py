"""Calls heard on the speakers of their zone: the hall, its speakers writing
WAV files, and the HTTP API, in one loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.api.app import create_app
from daemon.config.model import HallConfig
from daemon.hall import Hall
from daemon.hardware import Hardware
from daemon.router import Router
from daemon.runtime import DaemonInfo
from daemon.store.store import Store
from daemon.tokens import Role, TokenFile
from daemon.voice.announcer import Announcer
from daemon.voice.script import pack_tokens
from devices.bus_device import DeviceContext
from devices.speaker_config import Voice
from drivers.audio.pcm import wav_bytes
from drivers.audio.sinks import PLAYED_LOG
from tests.audio import heard, read, sounds, tone, tone_pack

pytestmark = pytest.mark.anyio


@dataclass
class Voiced:
    hall: Hall
    api: httpx.AsyncClient
    folder: Path
    pitches: dict[str, dict[str, float]]

    def played(self, speaker: str) -> list[str]:
        log = self.folder / speaker / PLAYED_LOG
        return [line for line in log.read_text().splitlines()] if log.exists() else []

    def heard(self, speaker: str, index: int = -1) -> list[str]:
        """The tokens of the first round of the speaker's `index`th announcement:
        its Chinese words, then its English ones."""
        wav = sorted((self.folder / speaker).glob("*.wav"))[index]
        found = sounds(read(wav))[1:16]  # after the chime: 8 Chinese and 7 English words
        return heard(found[:8], self.pitches["zh"]) + heard(found[8:], self.pitches["en"])

    async def announcements(self, count: int) -> list[dict[str, Any]]:
        """The first `count` announcement events, once there are as many."""
        found: list[dict[str, Any]] = []

        async def enough() -> bool:
            reply = await self.api.get("/api/v1/events", params={"after": 0, "limit": 1000})
            found[:] = [e for e in reply.json()["events"] if e["type"] == "announcement"]
            return len(found) >= count

        for _ in range(500):
            if await enough():
                return found[:count]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(found)} announcement events, not {count}: {found}")


def facts(event: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(event[k] for k in ("speaker", "ticket", "window", "kind", "outcome", "rounds"))


@pytest.fixture
async def voiced(make_config: Callable[..., HallConfig], tmp_path: Path) -> AsyncIterator[Voiced]:
    default = Voice()
    pitches = {
        "zh": tone_pack(tmp_path / "zh", "zh", pack_tokens(default, "zh")),
        "en": tone_pack(tmp_path / "en", "en", pack_tokens(default, "en"), first_hz=3000),
    }
    (tmp_path / "chime.wav").write_bytes(wav_bytes(tone(600, 0.1, 16000)))
    out = tmp_path / "out"
    config = make_config(
        voice={
            "languages": ["zh", "en"],
            "chime": str(tmp_path / "chime.wav"),
            "token_gap_ms": 30,
            "phrase_gap_ms": 200,
            "speech": {"zh": {"pack": str(tmp_path / "zh")}, "en": {"pack": str(tmp_path / "en")}},
        },
        devices=[
            {"id": "speaker-a", "model": "speaker", "zone": "一楼", "windows": [1, 2],
             "file": {"folder": str(out / "speaker-a"), "realtime": False}},
            {"id": "speaker-b", "model": "speaker", "zone": "二楼", "windows": [3, 4],
             "file": {"folder": str(out / "speaker-b"), "realtime": False}},
        ],
    )  # fmt: skip
    store = Store(config.storage.path, config.hall.id)
    hall = Hall(config, store)
    router = Router(hall)
    context = DeviceContext(asyncio.get_running_loop(), hall.now, router.handle, config.texts, "zh")
    hardware = Hardware(config, context)
    announcer = Announcer(hall, hardware.speakers)
    await hall.start(day_timer=False)
    hardware.start()
    router.start(hardware)
    announcer.start()
    tokens = TokenFile(config.secrets)
    _, token = tokens.add(Role.ADMIN)
    info = DaemonInfo(started_at=hall.now(), devices=hardware.health)
    app = create_app(hall, tokens, info, announcer=announcer)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://hall",
        headers={"Authorization": f"Bearer {token}"},
    ) as api:
        try:
            yield Voiced(hall, api, out, pitches)
        finally:
            await hardware.stop()
            await hall.stop()
            store.close()


async def call_next(voiced: Voiced, window: int, clerk: str, service: str = "social") -> str:
    await voiced.api.post(f"/api/v1/windows/{window}/sign-in", json={"staff": clerk})
    code = (await voiced.api.post("/api/v1/tickets", json={"service": service})).json()["code"]
    called = await voiced.api.post(f"/api/v1/windows/{window}/call-next")
    assert called.json()["called"]["code"] == code
    return code


async def test_a_call_is_said_on_its_zone_in_chinese_then_english(voiced: Voiced) -> None:
    code = await call_next(voiced, 1, "s1")

    (event,) = await voiced.announcements(1)

    assert facts(event) == ("speaker-a", code, 1, "call", "said", 2)
    assert len(voiced.played("speaker-a")) == 1
    assert voiced.heard("speaker-a") == [
        "请", "A", "零", "零", "一", "号到", "一", "号窗口办理",
        "Number", "A", "zero", "zero", "one", "please go to window", "one",
    ]  # fmt: skip
    assert voiced.played("speaker-b") == []  # window 1 is not in its zone


async def test_a_recall_is_said_again(voiced: Voiced) -> None:
    code = await call_next(voiced, 3, "s3", service="fund")
    await voiced.announcements(1)

    assert (await voiced.api.post("/api/v1/windows/3/recall")).status_code == 200
    call, recall = await voiced.announcements(2)

    assert facts(call) == ("speaker-b", code, 3, "call", "said", 2)
    assert facts(recall) == ("speaker-b", code, 3, "recall", "said", 2)
    assert len(voiced.played("speaker-b")) == 2
    assert code == "C01"  # the fund's numbers go to 20: two digits
    assert voiced.heard("speaker-b")[:5] == ["请", "C", "零", "一", "号到"]


async def test_a_hall_tests_its_speakers_through_the_api(voiced: Voiced) -> None:
    reply = await voiced.api.post("/api/v1/announcements", json={"ticket": "B012", "window": 4})

    assert reply.status_code == 200, reply.text
    (result,) = reply.json()["results"]
    assert (result["speaker"], result["outcome"], result["rounds"]) == ("speaker-b", "said", 2)
    assert result["seconds"] > 1
    assert voiced.heard("speaker-b")[:5] == ["请", "B", "零", "一", "二"]
    (event,) = await voiced.announcements(1)
    assert facts(event) == ("speaker-b", "B012", 4, "test", "said", 2)
    assert (await voiced.api.get("/api/v1/tickets/B012")).status_code == 404  # none was made


@pytest.mark.parametrize(
    ("body", "code", "zh"),
    [
        ({"ticket": "A001", "window": 9}, "unknown_window", "没有9号窗口"),
        ({"ticket": "A001", "window": 1, "speaker": "speaker-x"}, "no_speaker", "扬声器"),
        ({"ticket": "a-1", "window": 1}, None, None),
    ],
)
async def test_a_test_call_names_what_is_wrong(
    voiced: Voiced, body: dict[str, Any], code: str | None, zh: str | None
) -> None:
    reply = await voiced.api.post("/api/v1/announcements", json=body)

    assert reply.status_code == 422
    if code is not None:
        assert reply.json()["code"] == code
        assert zh in reply.json()["messages"]["zh"]
