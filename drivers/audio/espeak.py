"""Offline speech from espeak-ng, one word or phrase at a time.

Mandarin goes through the `cmn-latn-pinyin` voice: the plain `cmn` voice of
espeak-ng 1.51 (Debian 12) reads many characters as a syllable followed by an
English tone digit (请 comes out as "king three"), while `cmn-latn-pinyin`
reads the same characters right. A word that espeak-ng could only read by
switching voices is reported, since that is how such misreadings show.
"""

from __future__ import annotations

import shutil
import subprocess

from drivers.audio.pcm import Audio, WavError, read_wav, trimmed

EXECUTABLE = "espeak-ng"
TIMEOUT = 10.0

#: espeak-ng voices for the hall languages it can speak; others need a recorded pack.
VOICES = {"zh": "cmn-latn-pinyin", "en": "en"}


class SynthesisError(Exception):
    """espeak-ng is missing or could not say a text; the message says which."""


def available() -> bool:
    return shutil.which(EXECUTABLE) is not None


class Espeak:
    """One espeak-ng voice at one speed (words per minute)."""

    def __init__(self, voice: str, speed: int = 150) -> None:
        self.voice = voice
        self.speed = speed

    def say(self, text: str) -> Audio:
        """`text` spoken, without the silence espeak-ng puts around it."""
        wav = self._run(["--stdout"], text)
        try:
            return trimmed(read_wav(wav, f"espeak-ng -v {self.voice} {text!r}"))
        except WavError as exc:
            raise SynthesisError(str(exc)) from exc

    def switches_language(self, text: str) -> bool:
        """Does espeak-ng leave this voice to read `text`? Its phoneme output
        marks a switch as `(en)`: the word will not sound as the hall means."""
        phonemes = self._run(["-q", "-x"], text).decode("utf-8", errors="replace")
        return "(" in phonemes

    def _run(self, flags: list[str], text: str) -> bytes:
        """espeak-ng with `flags`, reading `text` from its standard input (so a
        text is never taken for an option)."""
        executable = shutil.which(EXECUTABLE)
        if executable is None:
            raise SynthesisError("espeak-ng is not installed (Debian package espeak-ng)")
        command = [executable, "-v", self.voice, "-s", str(self.speed), *flags, "--stdin"]
        try:
            done = subprocess.run(
                command, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SynthesisError(f"espeak-ng -v {self.voice} failed: {exc}") from exc
        if done.returncode != 0 or (not done.stdout and done.stderr):
            error = done.stderr.decode("utf-8", errors="replace").strip()
            raise SynthesisError(f"espeak-ng -v {self.voice}: {error or done.returncode}")
        return done.stdout
