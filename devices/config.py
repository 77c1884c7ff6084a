"""Config schemas: the primitives every hall config uses, and one schema per
device model. Each model forbids unknown keys, like the rest of the file."""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Names = dict[LanguageTag, Text]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusDeviceConfig(Strict):
    """A device on an RS-485 link, at an address of its protocol."""

    id: Slug
    model: str
    link: Slug = Field(description="The id of the link (bus) it is on.")
    address: int = Field(ge=0, le=255)


class WindowScreenConfig(BusDeviceConfig):
    window: int = Field(ge=1, description="The window whose calls it shows.")
    language: LanguageTag | None = Field(
        default=None, description="Language of its texts; the hall's first if unset."
    )
    show_clerk: bool = Field(default=False, description="Add the signed-in clerk to the text.")
    refresh_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Re-send the text this often (screens do not answer), or less often on "
        "a bus crowded with devices: see the link's refresh_spacing_seconds.",
    )


class HallScreenConfig(BusDeviceConfig):
    language: LanguageTag | None = None
    calls: int = Field(default=4, ge=1, le=20, description="Latest calls shown.")
    refresh_seconds: float = Field(default=60.0, gt=0)
    count_every_seconds: float = Field(
        default=10.0,
        ge=0,
        description="A change of the waiting counts alone waits up to this long for the "
        "screen's next frame (a new call goes at once): the hall screen's frame is the "
        "longest on its bus.",
    )


class KeypadConfig(BusDeviceConfig):
    window: int = Field(ge=1)
    probe_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Re-send its display this often, to see it answers (less often on a bus "
        "crowded with devices: see the link's refresh_spacing_seconds).",
    )
    count_every_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A change of the waiting count alone waits up to this long for the "
        "keypad's next frame (a new number goes at once, with the count, and so does a "
        "count becoming or leaving zero): every ticket changes the counts of all windows "
        "of its service, and each frame the host starts on a quiet bus risks colliding "
        "with a key press, which then waits for the keypad's resend. Equal to "
        "probe_seconds, a keypad whose count keeps changing costs one frame a minute.",
    )


class PadConfig(BusDeviceConfig):
    window: int = Field(ge=1)
    keys: Literal[4, 5] = Field(default=4, description="Keys on the pad.")
    levels: list[int] | None = Field(
        default=None,
        description="Rating level (1 非常满意 … 5 非常不满意) of each key, from key 0; "
        "four-key pads default to 1-4, five-key pads to 1-5.",
    )
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="After a prompt; no key in time is stored as unrated."
    )
    probe_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Re-send its stars this often, to see it answers (less often on a bus "
        "crowded with devices: see the link's refresh_spacing_seconds).",
    )

    @model_validator(mode="after")
    def _levels_fit_keys(self) -> PadConfig:
        if self.levels is None:
            return self
        if len(self.levels) != self.keys:
            raise ValueError(f"levels has {len(self.levels)} entries for {self.keys} keys")
        if any(not 1 <= level <= 5 for level in self.levels):
            raise ValueError("each level is 1 (非常满意) to 5 (非常不满意)")
        return self

    @property
    def key_levels(self) -> list[int]:
        return self.levels or list(range(1, self.keys + 1))


_PLACEHOLDERS = {
    "call": {"ticket", "window"},
    "idle": {"window"},
    "paused": {"window", "reason"},
    "closed": {"window"},
    "clerk": {"name", "staff_no"},
    "hall_call": {"ticket", "window"},
    "hall_waiting": {"service", "count"},
}


class Texts(Strict):
    """What screens show, per language; `{placeholders}` are filled in."""

    call: Names = {"zh": "请{ticket}号到{window}号窗口", "en": "Number {ticket} to window {window}"}
    idle: Names = {"zh": "{window}号窗口 欢迎您", "en": "Window {window} welcome"}
    paused: Names = {"zh": "暂停服务", "en": "Service paused"}
    closed: Names = {"zh": "暂停服务", "en": "Window closed"}
    clerk: Names = {"zh": "{name} 工号{staff_no}", "en": "{name} No. {staff_no}"}
    hall_call: Names = {"zh": "{ticket}请到{window}号", "en": "{ticket} to {window}"}
    hall_waiting: Names = {"zh": "{service}等候{count}人", "en": "{service}: {count} waiting"}

    @model_validator(mode="after")
    def _known_placeholders(self) -> Texts:
        for key, allowed in _PLACEHOLDERS.items():
            for language, template in getattr(self, key).items():
                used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
                unknown = used - allowed
                if unknown:
                    raise ValueError(
                        f"{key}.{language} uses {{{', '.join(sorted(unknown))}}}; "
                        f"it may use {', '.join('{' + a + '}' for a in sorted(allowed))}"
                    )
        return self

    def render(self, key: str, language: str, **values: object) -> str:
        return getattr(self, key)[language].format(**values)
