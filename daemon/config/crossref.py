"""Checks that span sections of a hall config: references, uniqueness, languages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from daemon.config.model import HallConfig, spoken_languages
from daemon.config.problems import Problem, problems_from_validation
from daemon.voice.numbers import readings
from devices.attendance_config import AdmsConfig, ReaderConfig, TerminalConfig
from devices.models import DEVICE_MODELS
from devices.mqtt_devices import MqttDeviceConfig
from devices.printer_config import PrinterConfig
from devices.speaker_config import SpeakerConfig


def cross_check(cfg: HallConfig) -> list[Problem]:
    """Every problem pydantic cannot see on one key alone."""
    return [
        *_unique(cfg.services, "services", "id", lambda s: s.id),
        *_unique(cfg.services, "services", "prefix", lambda s: s.prefix),
        *_unique(cfg.windows, "windows", "number", lambda w: w.number),
        *_unique(cfg.staff, "staff", "id", lambda s: s.id),
        *_unique(cfg.links, "links", "id", lambda link: link.id),
        *_unique(cfg.devices, "devices", "id", lambda d: d.id),
        *_languages(cfg),
        *_ticket_languages(cfg),
        *_window_references(cfg),
        *_devices(cfg),
        *_voice(cfg),
    ]


def _unique(
    items: Iterable[Any], section: str, key: str, value: Callable[[Any], object]
) -> Iterator[Problem]:
    first_seen: dict[object, int] = {}
    for index, item in enumerate(items):
        v = value(item)
        if v in first_seen:
            yield Problem(
                (section, index, key),
                f"{v!r} is already used by {section}[{first_seen[v]}]",
            )
        else:
            first_seen[v] = index


def _languages(cfg: HallConfig) -> Iterator[Problem]:
    wanted = cfg.hall.languages
    named: list[tuple[tuple[str | int, ...], dict[str, str] | None]] = [
        (("hall", "names"), cfg.hall.names),
        *((("services", i, "names"), s.names) for i, s in enumerate(cfg.services)),
        *((("windows", i, "names"), w.names) for i, w in enumerate(cfg.windows)),
    ]
    for path, names in named:
        if names is None:
            continue
        missing = [lang for lang in wanted if lang not in names]
        if missing:
            yield Problem(
                path,
                f"no text for {', '.join(missing)} (hall.languages is {', '.join(wanted)})",
            )


def _window_references(cfg: HallConfig) -> Iterator[Problem]:
    a_posts: dict[str, int] = {}
    for i, window in enumerate(cfg.windows):
        for j, service in enumerate(window.services):
            if service not in cfg.services_by_id:
                yield Problem(("windows", i, "services", j), f"no service has id {service!r}")
        if len(set(window.services)) != len(window.services):
            yield Problem(("windows", i, "services"), "a service is listed twice")
        if window.clerks is None:
            continue
        for post in ("a", "b"):
            staff_id = getattr(window.clerks, post)
            if staff_id is not None and staff_id not in cfg.staff_by_id:
                yield Problem(
                    ("windows", i, "clerks", post), f"no staff member has id {staff_id!r}"
                )
        if window.clerks.a == window.clerks.b:
            yield Problem(("windows", i, "clerks", "b"), "the B clerk must differ from the A clerk")
        holder = window.clerks.a
        if holder in a_posts:
            yield Problem(
                ("windows", i, "clerks", "a"),
                f"{holder!r} already holds the A post of window {a_posts[holder]}",
            )
        a_posts[window.clerks.a] = window.number


def _devices(cfg: HallConfig) -> Iterator[Problem]:
    links = {link.id for link in cfg.links}
    addresses: dict[tuple[str, str, int], int] = {}
    kiosks: dict[str, int] = {}
    for i, entry in enumerate(cfg.devices):
        model = DEVICE_MODELS.get(entry.model)
        if model is None:
            known = ", ".join(sorted(DEVICE_MODELS))
            yield Problem(
                ("devices", i, "model"), f"unknown model {entry.model!r} (known: {known})"
            )
            continue
        try:
            device = model.config_type.model_validate(entry.model_dump())
        except ValidationError as exc:
            yield from problems_from_validation(exc, prefix=("devices", i))
            continue
        if isinstance(device, TerminalConfig | AdmsConfig | SpeakerConfig):
            continue  # speakers: see _voice
        if isinstance(device, MqttDeviceConfig):
            if device.window not in cfg.windows_by_number:
                yield Problem(("devices", i, "window"), f"there is no window {device.window}")
            continue
        if isinstance(device, ReaderConfig):
            if device.window is not None and device.window not in cfg.windows_by_number:
                yield Problem(("devices", i, "window"), f"there is no window {device.window}")
            continue
        if isinstance(device, PrinterConfig):
            if device.kiosk in kiosks:
                yield Problem(
                    ("devices", i, "kiosk"),
                    f"kiosk {device.kiosk} already has a printer: devices[{kiosks[device.kiosk]}]",
                )
            kiosks.setdefault(device.kiosk, i)
            continue
        if device.link not in links:
            yield Problem(("devices", i, "link"), f"no link has id {device.link!r}")
        place = (device.link, model.protocol, device.address)
        if place in addresses:
            yield Problem(
                ("devices", i, "address"),
                f"address {device.address} on link {device.link} is already used by "
                f"devices[{addresses[place]}] ({model.protocol})",
            )
        addresses.setdefault(place, i)
        window = getattr(device, "window", None)
        if window is not None and window not in cfg.windows_by_number:
            yield Problem(("devices", i, "window"), f"there is no window {window}")
        if model.protocol == "imm":
            yield from _screen_language(cfg, i, getattr(device, "language", None))


def _ticket_languages(cfg: HallConfig) -> Iterator[Problem]:
    for i, language in enumerate(cfg.ticket.languages or ()):
        if language not in cfg.hall.languages:
            yield Problem(("ticket", "languages", i), f"{language!r} is not one of hall.languages")


def _screen_language(cfg: HallConfig, index: int, language: str | None) -> Iterator[Problem]:
    """An IMM screen shows GBK text: its language's texts and names must fit."""
    language = language or cfg.hall.languages[0]
    where = ("devices", index, "language")
    if language not in cfg.hall.languages:
        yield Problem(where, f"{language!r} is not one of hall.languages")
        return
    texts = cfg.texts.model_dump()
    missing = [key for key, by_language in texts.items() if language not in by_language]
    if missing:
        yield Problem(where, f"texts has no {language!r} text for {', '.join(missing)}")
        return
    samples = [by_language[language] for by_language in texts.values()]
    samples += [s.names[language] for s in cfg.services]
    for sample in samples:
        try:
            sample.encode("gbk")
        except UnicodeEncodeError:
            yield Problem(
                where,
                f"IMM screens show GBK text, and {sample!r} ({language}) cannot be written "
                "in GBK; give this screen another language",
            )
            return


def _voice(cfg: HallConfig) -> Iterator[Problem]:
    """Each language a speaker says needs its templates, its number words and
    a way to say its words: a clip pack or an espeak-ng voice."""
    hall_languages = cfg.hall.languages
    for i, language in enumerate(cfg.voice.languages or ()):
        if language not in hall_languages:
            yield Problem(("voice", "languages", i), f"{language!r} is not one of hall.languages")
    spoken: dict[str, tuple[str | int, ...]] = {}
    for index, speaker in _valid_speakers(cfg):
        where = ("devices", index)
        for j, window in enumerate(speaker.windows or ()):
            if window not in cfg.windows_by_number:
                yield Problem((*where, "windows", j), f"there is no window {window}")
        for j, language in enumerate(speaker.languages or ()):
            if language not in hall_languages:
                yield Problem(
                    (*where, "languages", j), f"{language!r} is not one of hall.languages"
                )
        for language in spoken_languages(cfg, speaker):
            spoken.setdefault(language, where)
    for language, where in spoken.items():
        yield from _spoken_language(cfg, language, where)


def _valid_speakers(cfg: HallConfig) -> Iterator[tuple[int, SpeakerConfig]]:
    """The speaker entries with their index; an invalid one is reported by _devices."""
    for index, entry in enumerate(cfg.devices):
        if entry.model == "speaker":
            try:
                yield index, SpeakerConfig.model_validate(entry.model_dump())
            except ValidationError:
                continue


def _spoken_language(
    cfg: HallConfig, language: str, speaker: tuple[str | int, ...]
) -> Iterator[Problem]:
    voice = cfg.voice
    for key in ("call", "recall"):
        if language not in getattr(voice.templates, key):
            yield Problem(
                ("voice", "templates", key),
                f"no {language!r} template, and a speaker ({'.'.join(map(str, speaker))}) "
                f"says {language}",
            )
    speech = voice.speech_of(language)
    can = readings(language)
    if not can:
        yield Problem(
            ("voice", "speech", language),
            f"numbers cannot be said in {language!r} yet (known: zh, en, bo)",
        )
    for key in ("tickets", "windows"):
        reading = getattr(speech, key)
        if can and reading not in can:
            yield Problem(
                ("voice", "speech", language, key),
                f"{reading} numbers cannot be said in {language!r} yet; use digits",
            )
    if speech.pack is None and speech.synthesis_voice(language) is None:
        yield Problem(
            ("voice", "speech", language, "pack"),
            f"give a clip pack for {language!r}: espeak-ng has no voice for it "
            "(or name one in synthesis)",
        )
