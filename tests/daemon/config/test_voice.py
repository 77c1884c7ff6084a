"""The voice section and speaker devices of a hall config: what check-config says."""

from __future__ import annotations

from pathlib import Path

from daemon.config.loader import check_config, load_config
from daemon.config.model import speakers

HALL = """\
hall:
  id: t-hall
  names: {zh: 测试大厅, bo: ཚོད་ལྟའི་ཚོམས་ཆེན།, en: Test Hall}
  languages: [zh, bo, en]
services:
  - {id: social, names: {zh: 社保, bo: སྤྱི་ཚོགས་འགན་སྲུང་།, en: Social}, prefix: A}
windows:
  - {number: 1, services: [social]}
  - {number: 2, services: [social]}
storage: {path: state/hall.sqlite3}
secrets: state/secrets.yaml
"""


def problems(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "hall.yaml"
    path.write_text(text, encoding="utf-8")
    return [(p.where, p.message) for p in check_config(path)]


def with_speaker(speaker: str, voice: str = "") -> str:
    return HALL + f"devices:\n  - {speaker}\n" + voice


def test_a_speaker_saying_the_hall_language_needs_nothing_more(tmp_path: Path) -> None:
    assert problems(tmp_path, with_speaker("{id: sp, model: speaker, mute: {}}")) == []


def test_a_speaker_has_exactly_one_output(tmp_path: Path) -> None:
    found = problems(
        tmp_path, with_speaker("{id: sp, model: speaker, mute: {}, alsa: {device: default}}")
    )
    assert found == [
        ("devices[0]", "give exactly one of alsa, file, mute (given: ['alsa', 'mute'])")
    ]
    found = problems(tmp_path, with_speaker("{id: sp, model: speaker}"))
    assert found == [("devices[0]", "give exactly one of alsa, file, mute (given: none)")]


def test_a_speaker_names_windows_and_languages_the_hall_has(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        with_speaker("{id: sp, model: speaker, mute: {}, windows: [1, 7], languages: [zh, fr]}"),
    )
    assert ("devices[0].windows[1]", "there is no window 7") in found
    assert ("devices[0].languages[1]", "'fr' is not one of hall.languages") in found


def test_tibetan_needs_its_template_digits_and_a_recorded_pack(tmp_path: Path) -> None:
    found = problems(
        tmp_path, with_speaker("{id: sp, model: speaker, mute: {}, languages: [zh, bo]}")
    )

    assert found == [
        ("voice.templates.call", "no 'bo' template, and a speaker (devices.0) says bo"),
        ("voice.templates.recall", "no 'bo' template, and a speaker (devices.0) says bo"),
        ("voice.speech.bo.windows", "whole numbers cannot be said in 'bo' yet; use digits"),
        (
            "voice.speech.bo.pack",
            "give a clip pack for 'bo': espeak-ng has no voice for it (or name one in synthesis)",
        ),
    ]


def test_a_tibetan_voice_with_all_it_needs_is_accepted(tmp_path: Path) -> None:
    voice = """\
voice:
  languages: [zh, bo]
  templates:
    call: {zh: "请{ticket}号到{window}号窗口办理", bo: "ཨང་{ticket} སྒེའུ་ཁུང་{window}ལ་ཕེབས་རོགས།"}
    recall: {zh: "请{ticket}号到{window}号窗口办理", bo: "ཨང་{ticket} སྒེའུ་ཁུང་{window}ལ་ཕེབས་རོགས།"}
  speech:
    bo: {pack: voice/bo, windows: digits}
"""
    assert problems(tmp_path, with_speaker("{id: sp, model: speaker, mute: {}}", voice)) == []


def test_a_template_may_use_only_ticket_and_window(tmp_path: Path) -> None:
    voice = 'voice:\n  templates:\n    call: {zh: "请{ticket}号到{counter}"}\n'

    (found,) = problems(tmp_path, HALL + voice)

    assert found[0] == "voice.templates"
    assert "call.zh uses {counter}; it may use {ticket}, {window}" in found[1]


def test_voice_languages_are_hall_languages(tmp_path: Path) -> None:
    found = problems(tmp_path, HALL + "voice:\n  languages: [zh, ug]\n")

    assert found == [("voice.languages[1]", "'ug' is not one of hall.languages")]


def test_relative_voice_paths_are_taken_from_the_config_file(tmp_path: Path) -> None:
    voice = "voice:\n  chime: sounds/ding.wav\n  speech:\n    zh: {pack: voice/zh}\n"
    text = with_speaker("{id: sp, model: speaker, file: {folder: played}}", voice)
    (tmp_path / "hall.yaml").write_text(text, encoding="utf-8")

    config = load_config(tmp_path / "hall.yaml")

    assert config.voice.chime == tmp_path / "sounds" / "ding.wav"
    assert config.voice.speech_of("zh").pack == tmp_path / "voice" / "zh"
    (speaker,) = speakers(config)
    assert speaker.file is not None and speaker.file.folder == tmp_path / "played"
