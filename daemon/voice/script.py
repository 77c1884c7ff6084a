"""What an announcement says, as tokens of each language's clip pack: the
template's text as written, the ticket and window numbers as number words."""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence

from daemon.voice.numbers import number_words, say_number, say_ticket
from devices.announcements import Phrase
from devices.speaker_config import Voice

# Cut off the ends of a token; inside a token (a phrase of several words) it stays.
PUNCTUATION = " \t\r\n,.;:!?，。；：！？、།"
LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def phrase(voice: Voice, language: str, kind: str, ticket: str, window: int) -> Phrase:
    """The `kind` template (call or recall) of `language` with the numbers read out."""
    template = getattr(voice.templates, kind)[language]
    speech = voice.speech_of(language)
    tokens: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        tokens += literal_tokens(literal)
        if field == "ticket":
            tokens += say_ticket(ticket, language, speech.tickets)
        elif field == "window":
            tokens += say_number(str(window), language, speech.windows)
    return Phrase(language, tuple(tokens))


def phrases(
    voice: Voice, languages: Sequence[str], kind: str, ticket: str, window: int
) -> tuple[Phrase, ...]:
    """One round of an announcement: each language's phrase, in order."""
    return tuple(phrase(voice, language, kind, ticket, window) for language in languages)


def literal_tokens(text: str) -> list[str]:
    """The tokens of a template's literal text: each run cut at `|`, trimmed
    of spaces and punctuation at its ends."""
    return [token for part in text.split("|") if (token := part.strip(PUNCTUATION))]


def pack_tokens(voice: Voice, language: str) -> list[str]:
    """Every token announcements in `language` can use: the templates' words,
    the number words, and the letters."""
    return list(
        dict.fromkeys([*_template_tokens(voice, language), *number_words(language), *LETTERS])
    )


def _template_tokens(voice: Voice, language: str) -> Iterator[str]:
    for key in ("call", "recall"):
        template = getattr(voice.templates, key).get(language)
        if template is None:
            continue
        for literal, _, _, _ in string.Formatter().parse(template):
            yield from literal_tokens(literal)
