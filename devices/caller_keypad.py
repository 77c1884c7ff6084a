"""The clerk's caller keypad (呼叫器) on the FF68 bus."""

from __future__ import annotations

import asyncio
import logging

from devices.bus_device import BusDevice, DeviceContext
from devices.config import KeypadConfig
from devices.events import KeypadAction, KeyPressed, WindowView
from drivers.bus import BusMaster, Command, Priority
from drivers.codec import FrameError
from drivers.ff68 import codec as ff68

log = logging.getLogger(__name__)

KEYS = {
    ff68.KEY_CALL: KeypadAction.CALL,
    ff68.KEY_RECALL: KeypadAction.RECALL,
    ff68.KEY_RATE: KeypadAction.RATE,
    ff68.KEY_PAUSE: KeypadAction.PAUSE,
    ff68.KEY_TRANSFER: KeypadAction.TRANSFER,
}
CONFIRMS = {
    ff68.CONFIRM_SKIP: KeypadAction.SKIP,
    ff68.CONFIRM_HOLD: KeypadAction.HOLD,
    ff68.CONFIRM_CALLBACK: KeypadAction.CALLBACK,
}


class CallerKeypad(BusDevice):
    kind = "caller-keypad"
    answers = True

    def __init__(self, config: KeypadConfig, bus: BusMaster, context: DeviceContext) -> None:
        super().__init__(config, bus, context)
        self.keypad = config
        self.shown: tuple[int | None, int | None] | None = None
        self.wanted: tuple[int | None, int | None] | None = None
        self.unknown_keys = 0
        self._sent_at = -float("inf")
        self._later: asyncio.TimerHandle | None = None

    def show(self, view: WindowView) -> None:
        """Show the window's waiting count and current ticket number: a new
        number at once, a new count alone at most every `count_every_seconds`."""
        self.wanted = (view.waiting, view.number_of_ticket)
        if self.wanted == self.shown:
            return
        if self.shown is None or self.wanted[1] != self.shown[1]:
            self._send(Priority.DISPLAY)  # a new number: the clerk is looking for it
            return
        if self._later is not None:
            return  # the new count goes with the send already planned
        wait = self._sent_at + self.keypad.count_every_seconds - self.context.loop.time()
        if wait <= 0:
            self._send(Priority.REFRESH)
        else:
            self._later = self.context.loop.call_later(wait, self._send, Priority.REFRESH)

    def _send(self, priority: Priority) -> None:
        """Send what the keypad should show; a count alone goes as a re-send does,
        behind other traffic."""
        if self._later is not None:
            self._later.cancel()
            self._later = None
        if self.wanted is None or self.wanted == self.shown:
            return
        self.shown = self.wanted
        self._sent_at = self.context.loop.time()
        data = ff68.encode(ff68.show(self.keypad.address, *self.shown))
        self.bus.submit(
            Command(
                self.id,
                "display",
                data,
                priority,
                expect=data,
                refresh=self.keypad.probe_seconds,
            )
        )

    def beep(self) -> None:
        """A ticket has arrived for this idle window."""
        data = ff68.encode(ff68.beep(self.keypad.address))
        self.bus.submit(Command(self.id, "beep", data, Priority.DISPLAY, expect=data))

    def is_event(self, frame: ff68.Frame) -> bool:
        return frame.func not in (ff68.FUNC_SHOW, ff68.FUNC_BEEP)

    def acknowledge(self, frame: ff68.Frame) -> ff68.Frame:
        return ff68.echo(frame)

    def on_frame(self, frame: ff68.Frame) -> None:
        press = ff68.parse_key_press(frame)
        action = None if isinstance(press, FrameError) else self._action(press)
        if action is None:
            self.unknown_keys += 1
            log.warning("keypad %s: a key it does not know: %s", self.id, press)
            return
        target = press.number if action is KeypadAction.TRANSFER else None
        self.context.emit(KeyPressed(self.id, self.keypad.window, action, target))

    def _action(self, press: ff68.KeyPress) -> KeypadAction | None:
        if press.key == ff68.KEY_CONFIRM:
            return CONFIRMS.get(press.digits[-1]) if len(press.digits) == 1 else None
        return KEYS.get(press.key)

    def details(self) -> dict[str, object]:
        waiting, number = self.shown or (None, None)
        return {
            "window": self.keypad.window,
            "waiting": waiting,
            "number": number,
            "unknown_keys": self.unknown_keys,
        }
