"""Numbers as an announcement says them."""

from __future__ import annotations

import pytest

from daemon.voice.numbers import number_words, readings, say_number, say_ticket
from devices.speaker_config import Reading


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "零"), (1, "一"), (3, "三"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五"),
        (100, "一百"), (101, "一百零一"), (110, "一百一十"), (999, "九百九十九"),
        (1001, "一千零一"), (1010, "一千零一十"), (1100, "一千一百"), (2024, "二千零二十四"),
        (10000, "一万"), (10001, "一万零一"), (10010, "一万零一十"), (10100, "一万零一百"),
        (12345, "一万二千三百四十五"), (99999, "九万九千九百九十九"),
    ],
)  # fmt: skip
def test_mandarin_whole_numbers(number: int, words: str) -> None:
    assert "".join(say_number(str(number), "zh", Reading.WHOLE)) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (42, "forty two"),
        (100, "one hundred"), (101, "one hundred one"), (1000, "one thousand"),
        (12345, "twelve thousand three hundred forty five"),
    ],
)  # fmt: skip
def test_english_whole_numbers(number: int, words: str) -> None:
    assert " ".join(say_number(str(number), "en", Reading.WHOLE)) == words


def test_a_ticket_is_its_letters_then_its_digits_or_its_number() -> None:
    assert say_ticket("A001", "zh", Reading.DIGITS) == ["A", "零", "零", "一"]
    assert say_ticket("A001", "zh", Reading.WHOLE) == ["A", "一"]
    assert say_ticket("BC120", "en", Reading.WHOLE) == ["B", "C", "one", "hundred", "twenty"]
    assert say_ticket("A090", "bo", Reading.DIGITS) == ["A", "ཀླད་ཀོར", "དགུ", "ཀླད་ཀོར"]


def test_numbers_too_large_for_a_ticket_are_refused() -> None:
    with pytest.raises(ValueError, match="100000 is not a ticket or window number"):
        say_number("100000", "zh", Reading.WHOLE)


def test_what_each_language_can_say() -> None:
    assert readings("zh") == readings("en") == {Reading.DIGITS, Reading.WHOLE}
    assert readings("bo") == {Reading.DIGITS}
    assert readings("ug") == set()


@pytest.mark.parametrize("language", ["zh", "en", "bo"])
def test_every_word_a_number_can_take_is_a_pack_word(language: str) -> None:
    words = set(number_words(language))
    for number in range(0, 100000, 7):
        for reading in readings(language):
            assert set(say_number(f"{number:05d}", language, reading)) <= words
