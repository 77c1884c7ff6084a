"""Numbers as the words an announcement says, per language: digit by digit
(A001: 零 零 一) or as a whole number (一), and a ticket's letters by name.

Each word is a token of the language's clip pack, so a recorded pack needs
only the words listed in `NUMBER_WORDS`.
"""

from __future__ import annotations

from devices.speaker_config import Reading

DIGIT_WORDS: dict[str, tuple[str, ...]] = {
    "zh": ("零", "一", "二", "三", "四", "五", "六", "七", "八", "九"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    # Tibetan: 0 ཀླད་ཀོར། ... 9 དགུ། (a recorded pack says them; espeak-ng has no Tibetan)
    "bo": ("ཀླད་ཀོར", "གཅིག", "གཉིས", "གསུམ", "བཞི", "ལྔ", "དྲུག", "བདུན", "བརྒྱད", "དགུ"),
}

_ZH_UNITS = ("", "十", "百", "千")
_EN_TEENS = (
    "ten", "eleven", "twelve", "thirteen", "fourteen",
    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

LARGEST = 99999  # ticket numbers have at most five digits


def readings(language: str) -> set[Reading]:
    """How numbers can be said in `language`: digit by digit wherever its
    digit words are known, whole numbers where the rules are written here."""
    if language not in DIGIT_WORDS:
        return set()
    return {Reading.DIGITS, Reading.WHOLE} if language in _WHOLE else {Reading.DIGITS}


def say_number(digits: str, language: str, reading: Reading) -> list[str]:
    """The words for a string of digits ("001"), read as `reading`."""
    if reading is Reading.DIGITS:
        return [DIGIT_WORDS[language][int(d)] for d in digits]
    return _WHOLE[language](int(digits))


def say_ticket(code: str, language: str, reading: Reading) -> list[str]:
    """A ticket code (A001, BC12) as words: its letters by name, then its number."""
    letters = code.rstrip("0123456789")
    number = code[len(letters) :]
    return [*letters, *(say_number(number, language, reading) if number else [])]


def number_words(language: str) -> list[str]:
    """Every word a number can be said with in `language`: what a pack holds."""
    words = list(DIGIT_WORDS.get(language, ()))
    if language == "zh":
        words += ["十", "百", "千", "万"]
    elif language == "en":
        words += [*_EN_TEENS, *_EN_TENS[2:], "hundred", "thousand"]
    return words


def _zh_whole(n: int) -> list[str]:
    """Mandarin: 10 十, 11 十一, 101 一百零一, 1010 一千零一十, 10001 一万零一."""
    _check(n)
    if n == 0:
        return ["零"]
    high, low = divmod(n, 10000)
    words = [*_zh_below_10000(high), "万"] if high else []
    if low:
        if high and low < 1000:
            words.append("零")
        words += _zh_below_10000(low, leading=not high)
    return words


def _zh_below_10000(n: int, leading: bool = True) -> list[str]:
    digits = DIGIT_WORDS["zh"]
    words: list[str] = []
    zero_pending = False
    for power in (3, 2, 1, 0):
        digit = n // 10**power % 10
        if digit == 0:
            zero_pending = bool(words)
            continue
        if zero_pending:
            words.append("零")
            zero_pending = False
        if not (power == 1 and digit == 1 and not words and leading):  # 十二, not 一十二
            words.append(digits[digit])
        if power:
            words.append(_ZH_UNITS[power])
    return words


def _en_whole(n: int) -> list[str]:
    """English: 101 one hundred one, 12345 twelve thousand three hundred forty five."""
    _check(n)
    if n == 0:
        return ["zero"]
    high, low = divmod(n, 1000)
    words = [*_en_below_1000(high), "thousand"] if high else []
    return words + (_en_below_1000(low) if low else [])


def _en_below_1000(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = [DIGIT_WORDS["en"][hundreds], "hundred"] if hundreds else []
    tens, ones = divmod(rest, 10)
    if tens == 1:
        words.append(_EN_TEENS[ones])
    else:
        if tens:
            words.append(_EN_TENS[tens])
        if ones:
            words.append(DIGIT_WORDS["en"][ones])
    return words


def _check(n: int) -> None:
    if not 0 <= n <= LARGEST:
        raise ValueError(f"{n} is not a ticket or window number (0 to {LARGEST})")


_WHOLE = {"zh": _zh_whole, "en": _en_whole}
