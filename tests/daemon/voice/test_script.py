"""Templates to tokens: what a pack must hold, and what a call says."""

from __future__ import annotations

import pytest

from daemon.voice.script import LETTERS, literal_tokens, pack_tokens, phrase, phrases
from devices.speaker_config import Reading, Speech, Voice, VoiceTemplates


def test_the_default_mandarin_call() -> None:
    said = phrase(Voice(), "zh", "call", "A001", 3)

    assert said.language == "zh"
    assert said.tokens == ("请", "A", "零", "零", "一", "号到", "三", "号窗口办理")


def test_the_default_english_call_drops_the_punctuation() -> None:
    said = phrase(Voice(), "en", "call", "B012", 12)

    assert said.tokens == (
        "Number", "B", "zero", "one", "two", "please go to window", "twelve",
    )  # fmt: skip


def test_number_readings_follow_the_config() -> None:
    voice = Voice(speech={"zh": Speech(tickets=Reading.WHOLE, windows=Reading.DIGITS)})

    assert phrase(voice, "zh", "call", "A101", 12).tokens == (
        "请", "A", "一", "百", "零", "一", "号到", "一", "二", "号窗口办理",
    )  # fmt: skip


def test_a_bar_cuts_a_run_into_tokens_a_recorded_pack_can_share() -> None:
    voice = Voice(templates=VoiceTemplates(call={"zh": "请{ticket}号|到{window}号窗口|办理"}))

    assert phrase(voice, "zh", "call", "A1", 3).tokens == (
        "请", "A", "一", "号", "到", "三", "号窗口", "办理",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", []),
        (" , ", []),
        ("，请到", ["请到"]),
        (", please go to window ", ["please go to window"]),
        ("号|到", ["号", "到"]),
        ("ལ་ཕེབས་རོགས།", ["ལ་ཕེབས་རོགས"]),  # the shad ends a sentence; the tsheg stays
    ],
)
def test_literal_text_as_tokens(text: str, tokens: list[str]) -> None:
    assert literal_tokens(text) == tokens


def test_one_round_says_each_language_in_order() -> None:
    said = phrases(Voice(), ["en", "zh"], "recall", "A001", 3)

    assert [p.language for p in said] == ["en", "zh"]


def test_a_pack_holds_the_template_words_the_number_words_and_the_letters() -> None:
    tokens = pack_tokens(Voice(), "zh")

    assert tokens[:3] == ["请", "号到", "号窗口办理"]
    assert {"零", "九", "十", "百", "千", "万"} <= set(tokens)
    assert set(LETTERS) <= set(tokens)
    assert len(tokens) == len(set(tokens))
