"""Hardware built again from a changed config keeps running what the change
did not touch: a bus with its devices is one part, every other device one
part of its own; `hand_over` stops only the parts replaced or removed and
starts only the new ones."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest

from daemon.config.model import HallConfig
from daemon.hardware import Hardware
from devices.bus_device import DeviceContext
from drivers.bus import REFRESH_SPACING

pytestmark = pytest.mark.anyio


def sections() -> dict[str, Any]:
    return {
        "links": [{"id": "bus-1", "url": "/nonexistent/hallkeeper-bus-1", "baud": 9600}],
        "devices": [
            {"id": "screen-1", "model": "imm-window-screen", "link": "bus-1", "address": 1,
             "window": 1},
            {"id": "printer-1", "model": "escpos-printer", "kiosk": "kiosk-1",
             "tcp": {"host": "192.0.2.1", "port": 9100}},
            {"id": "reader-1", "model": "r30x-reader",
             "serial": {"device": "/nonexistent/hallkeeper-reader-1"}},
        ],
    }  # fmt: skip


def context(config: HallConfig) -> DeviceContext:
    loop = asyncio.get_running_loop()
    return DeviceContext(loop, lambda: None, lambda event: None, config.texts, "zh")  # type: ignore[arg-type, return-value]


def alive(owner: Any) -> bool:
    return bool(owner._thread.is_alive())


async def test_unchanged_parts_keep_running_and_changed_ones_are_replaced(
    make_config: Callable[..., HallConfig],
) -> None:
    before = sections()
    config = make_config(**before)
    running = Hardware(config, context(config))
    running.start()
    after = copy.deepcopy(before)
    after["devices"][1]["tcp"]["port"] = 9101  # the printer moved
    after["devices"].append(
        {"id": "printer-2", "model": "escpos-printer", "kiosk": "kiosk-2",
         "tcp": {"host": "192.0.2.2"}}
    )  # fmt: skip
    after["devices"].remove(before["devices"][2])  # the reader went
    changed = make_config(**after)
    rebuilt = running.rebuilt(changed, context(changed))
    try:
        assert rebuilt.buses["bus-1"] is running.buses["bus-1"]
        assert rebuilt.devices == running.devices
        assert rebuilt.printers[0] is not running.printers[0]
        assert [p.id for p in rebuilt.printers] == ["printer-1", "printer-2"]
        assert rebuilt.readers == []

        await running.hand_over(rebuilt)
        assert alive(rebuilt.buses["bus-1"])
        assert not alive(running.printers[0])
        assert not alive(running.readers[0])
        assert all(alive(printer) for printer in rebuilt.printers)
        assert [h.id for h in rebuilt.health()] == ["screen-1", "printer-1", "printer-2"]
    finally:
        await rebuilt.stop()


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc["devices"].insert(
            1,
            {"id": "keypad-1", "model": "ff68-keypad", "link": "bus-1", "address": 1, "window": 1},
        ),
        lambda doc: doc["links"][0].update(baud=19200),
        lambda doc: doc.update(texts={"idle": {"zh": "{window}号窗口 欢迎", "en": "Welcome"}}),
    ],
    ids=["a device joins the bus", "the link changes", "the screen texts change"],
)
async def test_a_bus_is_rebuilt_with_all_its_devices(
    make_config: Callable[..., HallConfig], change: Callable[[dict[str, Any]], None]
) -> None:
    before = sections()
    config = make_config(**before)
    running = Hardware(config, context(config))
    after = copy.deepcopy(before)
    change(after)
    changed = make_config(**after)
    rebuilt = running.rebuilt(changed, context(changed))
    assert rebuilt.buses["bus-1"] is not running.buses["bus-1"]
    assert all(new is not old for new in rebuilt.devices for old in running.devices)
    assert rebuilt.printers == running.printers  # not on the bus: kept


async def test_a_speaker_is_kept_unless_it_or_the_voice_section_changes(
    make_config: Callable[..., HallConfig],
) -> None:
    speaker = {"id": "speaker-1", "model": "speaker", "mute": {"realtime": False}}
    config = make_config(devices=[speaker])
    running = Hardware(config, context(config))

    same = make_config(devices=[copy.deepcopy(speaker)])
    louder = make_config(devices=[speaker], voice={"repeats": 3})
    zoned = make_config(devices=[{**speaker, "windows": [1, 2]}])

    assert running.rebuilt(same, context(same)).speakers == running.speakers
    assert running.rebuilt(louder, context(louder)).speakers[0] is not running.speakers[0]
    assert running.rebuilt(zoned, context(zoned)).speakers[0] is not running.speakers[0]


async def test_a_bus_spaces_its_periodic_frames_as_its_link_says(
    make_config: Callable[..., HallConfig],
) -> None:
    default = make_config(**sections())
    assert Hardware(default, context(default)).buses["bus-1"].refresh_spacing == REFRESH_SPACING
    spaced = sections()
    spaced["links"][0]["refresh_spacing_seconds"] = 0
    config = make_config(**spaced)
    assert Hardware(config, context(config)).buses["bus-1"].refresh_spacing == 0
