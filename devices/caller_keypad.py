"""The clerk's caller keypad (呼叫器) on the FF68 bus."""

from __future__ import annotations

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
        self.unknown_keys = 0

    def show(self, view: WindowView) -> None:
        """Show the window's waiting count and current ticket number. A new
        number goes at once, with the count, and so does a count that becomes
        or stops being zero (the clerk waits for citizens, or has none left);
        any other change of the count rides with the keypad's next frame,
        at most `count_every_seconds` later."""
        wanted = (view.waiting, view.number_of_ticket)
        if wanted == self.shown:
            return
        urgent = (
            self.shown is None
            or wanted[1] != self.shown[1]
            or (wanted[0] == 0) != (self.shown[0] == 0)
        )
        self.shown = wanted
        data = ff68.encode(ff68.show(self.keypad.address, *wanted))
        self.bus.submit(
            Command(
                self.id,
                "display",
                data,
                Priority.DISPLAY,
                expect=data,
                refresh=self.keypad.probe_seconds,
                within=None if urgent else self.keypad.count_every_seconds,
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
