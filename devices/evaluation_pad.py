"""The citizen's evaluation pad (评价器) on the FF68 bus.

The hall prompts it when a ticket is completed at its window, or when the
clerk presses the rate key. A key gives a rating on the national five-level
scale through the pad's key map; no key before the timeout is recorded as
unrated, never as satisfied.

The pad shows the citizen a key as delivered when the host echoes it, and the
citizen then walks away: so the key is echoed once its rating is stored, not
when it arrives. A daemon killed in between leaves the key unechoed: the pad
resends it, and shows it as not sent if nobody answers.
"""

from __future__ import annotations

import asyncio
import logging

from devices.bus_device import BusDevice, DeviceContext
from devices.config import PadConfig
from devices.events import RatingEntered
from drivers.bus import BusMaster, Command, Priority
from drivers.codec import FrameError
from drivers.ff68 import codec as ff68

log = logging.getLogger(__name__)

STARS_FOR_LEVEL = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}  # 非常满意 lights five stars
# A prompt the pad did not echo (lost to a collision on the bus, say) is sent
# again while it is open: otherwise the citizen faces a pad that never asks.
PROMPT_SENDS = 3


class EvaluationPad(BusDevice):
    kind = "evaluation-pad"
    answers = True
    holds_acknowledgement = True

    def __init__(self, config: PadConfig, bus: BusMaster, context: DeviceContext) -> None:
        super().__init__(config, bus, context)
        self.pad = config
        self.prompted_for: str | None = None
        self._timeout: asyncio.TimerHandle | None = None
        self._prompt_sends = 0
        self.unknown_keys = 0
        self._show_stars(5)

    def prompt(self, ticket: str | None) -> None:
        """Ask the citizen to rate `ticket`; a prompt still open is replaced."""
        self._end_prompt()
        self.prompted_for = ticket
        self._prompt_sends = 0
        self._send_prompt()
        self._timeout = self.context.loop.call_later(self.pad.timeout_seconds, self._timed_out)

    def _send_prompt(self) -> None:
        self._prompt_sends += 1
        data = ff68.encode(ff68.start_rating(self.pad.address))
        self.bus.submit(Command(self.id, "prompt", data, Priority.DISPLAY, expect=data))

    def on_done(self, command: Command, answered: bool | None) -> None:
        lost = command.slot == "prompt" and answered is False and bool(self.bus.up)
        prompt_open = self._timeout is not None
        if lost and prompt_open and self._prompt_sends < PROMPT_SENDS:
            self._send_prompt()

    def is_event(self, frame: ff68.Frame) -> bool:
        return frame.func == ff68.FUNC_PAD_KEY

    def acknowledge(self, frame: ff68.Frame) -> ff68.Frame:
        return ff68.pad_ack(frame)

    def on_frame(self, frame: ff68.Frame) -> None:
        key = ff68.parse_pad_key(frame)
        if isinstance(key, FrameError) or key.key >= self.pad.keys:
            self.unknown_keys += 1
            log.warning("pad %s: a key it does not have: %s", self.id, key)
            if not isinstance(key, FrameError):  # nothing to store: stop the resends
                self.bus.acknowledge(self.id, frame)
            return
        level = self.pad.key_levels[key.key]
        ticket = self.prompted_for
        self._end_prompt()
        self._show_stars(STARS_FOR_LEVEL[level])
        self.context.emit(
            RatingEntered(
                self.id,
                self.pad.window,
                ticket,
                level,
                settled=lambda: self.bus.acknowledge(self.id, frame),
            )
        )

    def _timed_out(self) -> None:
        ticket = self.prompted_for
        self._timeout = None
        self.prompted_for = None
        self.context.emit(RatingEntered(self.id, self.pad.window, ticket, None))

    def _end_prompt(self) -> None:
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None
        self.prompted_for = None

    def _show_stars(self, stars: int) -> None:
        data = ff68.encode(ff68.show_stars(self.pad.address, stars))
        self.bus.submit(
            Command(
                self.id,
                "stars",
                data,
                Priority.DISPLAY,
                expect=data,
                refresh=self.pad.probe_seconds,
            )
        )

    def details(self) -> dict[str, object]:
        return {
            "window": self.pad.window,
            "prompted_for": self.prompted_for,
            "unknown_keys": self.unknown_keys,
        }
