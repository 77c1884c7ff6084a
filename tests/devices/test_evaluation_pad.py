from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from devices.config import PadConfig
from devices.evaluation_pad import EvaluationPad
from devices.events import RatingEntered
from drivers.ff68 import codec as ff68
from tests.devices.conftest import Hall, settle

pytestmark = pytest.mark.anyio


def pad(hall: Hall, **config: object) -> EvaluationPad:
    settings = {"id": "pad-4", "model": "ff68-pad", "link": "bus-1", "address": 104, "window": 4}
    return EvaluationPad(PadConfig(**(settings | config)), hall.bus, hall.context)  # type: ignore[arg-type]


async def key(device: EvaluationPad, number: int) -> None:
    device.frame_received(ff68.pad_key(104, number))
    await settle()


@pytest.mark.parametrize(
    ("config", "levels"),
    [
        ({}, [1, 2, 3, 4]),
        ({"keys": 5}, [1, 2, 3, 4, 5]),
        ({"levels": [1, 2, 4, 5]}, [1, 2, 4, 5]),
    ],
)
async def test_keys_map_onto_the_five_level_scale(
    hall: Hall, config: dict[str, object], levels: list[int]
) -> None:
    device = pad(hall, **config)
    for number in range(len(levels)):
        device.prompt(f"A00{number}")
        await key(device, number)
    assert [e.level for e in hall.events if isinstance(e, RatingEntered)] == levels


def test_a_level_map_must_fit_the_keys() -> None:
    settings = {"id": "pad-4", "model": "ff68-pad", "link": "bus-1", "address": 104, "window": 4}
    with pytest.raises(ValidationError, match="levels has 3 entries for 4 keys"):
        PadConfig(**settings, levels=[1, 2, 3])
    with pytest.raises(ValidationError, match="1 \\(非常满意\\) to 5"):
        PadConfig(**settings, levels=[1, 2, 3, 6])


async def test_a_prompt_the_pad_did_not_echo_is_sent_again_while_it_is_open(
    hall: Hall,
) -> None:
    device = pad(hall)
    device.prompt("A007")
    for _ in range(4):  # lost on the bus each time
        device.command_done(hall.bus.slot("prompt")[-1], False)
        await settle()
    assert len(hall.bus.slot("prompt")) == 3, "sent three times in all, then left"

    device.prompt("A008")
    device.command_done(hall.bus.slot("prompt")[-1], True)
    await key(device, 0)
    device.command_done(hall.bus.slot("prompt")[-1], False)  # a late failure: no prompt open
    await settle()
    assert len(hall.bus.slot("prompt")) == 4


async def test_a_rating_names_the_ticket_it_was_prompted_for(hall: Hall) -> None:
    device = pad(hall)
    device.prompt("A007")
    assert [c.data for c in hall.bus.slot("prompt")] == [ff68.encode(ff68.start_rating(104))]
    await key(device, 3)
    assert hall.events == [RatingEntered("pad-4", 4, "A007", 4)]
    assert hall.bus.slot("stars")[-1].data == ff68.encode(ff68.show_stars(104, 2))


async def test_no_key_before_the_timeout_is_unrated_once(hall: Hall) -> None:
    device = pad(hall, timeout_seconds=0.1)
    device.prompt("A007")
    await asyncio.sleep(0.25)
    assert hall.events == [RatingEntered("pad-4", 4, "A007", None)]
    assert device.prompted_for is None


async def test_a_key_ends_the_prompt_so_no_timeout_follows(hall: Hall) -> None:
    device = pad(hall, timeout_seconds=0.1)
    device.prompt("A007")
    await key(device, 0)
    await asyncio.sleep(0.25)
    assert hall.events == [RatingEntered("pad-4", 4, "A007", 1)]


async def test_a_key_the_pad_does_not_have_is_counted(hall: Hall) -> None:
    device = pad(hall)
    device.prompt("A007")
    await key(device, 4)  # a five-key pad's key on a pad configured with four
    assert hall.events == []
    assert device.details()["unknown_keys"] == 1
    assert device.prompted_for == "A007"
    assert hall.bus.acknowledged == [("pad-4", ff68.pad_key(104, 4))]  # no resends of it


async def test_a_frame_no_pad_sends_is_counted_and_left_unechoed(hall: Hall) -> None:
    device = pad(hall)
    device.frame_received(ff68.Frame(104, ff68.FUNC_PAD_KEY, bytes([1, 2])))
    await settle()
    assert hall.events == [] and hall.bus.acknowledged == []
    assert device.details()["unknown_keys"] == 1


async def test_a_key_is_acknowledged_once_its_rating_is_settled_not_before(hall: Hall) -> None:
    device = pad(hall)
    assert hall.bus.endpoints["pad-4"].holds_acknowledgement
    device.prompt("A007")
    await key(device, 0)
    [rating] = hall.events
    assert hall.bus.acknowledged == [], "the pad would show the key as delivered"
    assert isinstance(rating, RatingEntered)
    rating.settled()
    assert hall.bus.acknowledged == [("pad-4", ff68.pad_key(104, 0))]


async def test_pad_keys_get_the_pads_acknowledgement(hall: Hall) -> None:
    device = pad(hall)
    frame = ff68.Decoder(from_device=True).feed(bytes.fromhex("ff 68 03 03 68 05 11 01 17 16"))[0]
    assert isinstance(frame, ff68.Frame) and device.is_event(frame)
    assert ff68.encode(device.acknowledge(frame)) == bytes.fromhex("ff 68 03 03 68 05 01 01 07 16")
