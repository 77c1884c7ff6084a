"""IMM LED screens: one per window, and the main hall screen.

IMM screens never answer, so the bus master cannot tell a dark screen from
a working one: a screen is online while its bus is up, and it re-sends its
text periodically so a screen that lost power shows the right thing again.
"""

from __future__ import annotations

from devices.bus_device import BusDevice, DeviceContext
from devices.config import BusDeviceConfig, HallScreenConfig, WindowScreenConfig
from devices.events import HallView, WindowView
from drivers.bus import BusMaster, Command, Priority
from drivers.imm import codec as imm


def gbk_safe(text: str) -> str:
    """`text` with what GBK cannot encode (say, a Tibetan name) shown as '?'."""
    return text.encode("gbk", errors="replace").decode("gbk")


class Screen(BusDevice):
    answers = False
    gap = 0.1  # an IMM controller needs 100 ms to take in a frame
    selector: imm.Selector
    refresh_seconds: float

    def __init__(self, config: BusDeviceConfig, bus: BusMaster, context: DeviceContext) -> None:
        super().__init__(config, bus, context)
        self.text: str | None = None

    def show_text(
        self, text: str, priority: Priority, force: bool = False, within: float | None = None
    ) -> None:
        """Put `text` on the screen; unchanged text is not sent again unless `force`.
        With `within`, the text may wait that long for the screen's next frame."""
        text = gbk_safe(text)
        if text == self.text and not force:
            return
        self.text = text
        data = imm.encode(imm.ScreenText(self.config.address, self.selector, text))
        command = Command(
            self.id, "text", data, priority, refresh=self.refresh_seconds, within=within
        )
        self.bus.submit(command)

    def details(self) -> dict[str, object]:
        return {"text": self.text, "answers": False}


class WindowDisplay(Screen):
    kind = "window-display"
    selector = imm.Selector.WINDOW

    def __init__(self, config: WindowScreenConfig, bus: BusMaster, context: DeviceContext) -> None:
        super().__init__(config, bus, context)
        self.screen = config
        self.refresh_seconds = config.refresh_seconds
        self.language = config.language or context.language
        self._ticket: str | None = None

    def show(self, view: WindowView, recall: bool = False) -> None:
        """Show the window: its call, idle, paused or closed text. A new call,
        or a recall, goes ahead of everything else on the bus."""
        urgent = recall or (view.ticket is not None and view.ticket != self._ticket)
        self._ticket = view.ticket
        self.show_text(self.render(view), Priority.CALL if urgent else Priority.DISPLAY, recall)

    def render(self, view: WindowView) -> str:
        texts, language = self.context.texts, self.language
        if view.status == "closed":
            return texts.render("closed", language, window=view.number)
        if view.status == "paused":
            return texts.render("paused", language, window=view.number, reason=view.reason or "")
        if view.ticket is not None:
            text = texts.render("call", language, ticket=view.ticket, window=view.number)
        else:
            text = texts.render("idle", language, window=view.number)
        if self.screen.show_clerk and view.clerk_name:
            clerk = texts.render(
                "clerk", language, name=view.clerk_name, staff_no=view.staff_no or ""
            )
            text = f"{text} {clerk}"
        return text


class HallDisplay(Screen):
    kind = "hall-display"
    selector = imm.Selector.HALL

    def __init__(self, config: HallScreenConfig, bus: BusMaster, context: DeviceContext) -> None:
        super().__init__(config, bus, context)
        self.screen = config
        self.refresh_seconds = config.refresh_seconds
        self.language = config.language or context.language
        self._calls: tuple[tuple[str, int], ...] | None = None

    def show(self, view: HallView) -> None:
        """Show the latest calls at once; a change of the waiting counts alone
        rides with the screen's next frame, at most `count_every_seconds` later:
        the hall screen's frame is the longest on its bus, and every ticket
        changes a count."""
        new_calls = view.calls != self._calls
        self._calls = view.calls
        within = None if new_calls else self.screen.count_every_seconds
        self.show_text(self.render(view), Priority.DISPLAY, within=within)

    def render(self, view: HallView) -> str:
        texts, language = self.context.texts, self.language
        calls = [
            texts.render("hall_call", language, ticket=ticket, window=window)
            for ticket, window in view.calls[: self.screen.calls]
        ]
        waiting = [
            texts.render("hall_waiting", language, service=names.get(language, ""), count=count)
            for names, count in view.waiting
        ]
        return "  ".join(calls + waiting)
